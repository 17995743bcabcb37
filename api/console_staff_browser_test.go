package api

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
	"github.com/stretchr/testify/require"

	"github.com/volcard/volcard/issuance"
	"github.com/volcard/volcard/issuance/roster/rostertest"
	"github.com/volcard/volcard/pii"
)

// awaitPromise makes chromedp.Evaluate wait for the promise the script
// returns.
func awaitPromise(p *runtime.EvaluateParams) *runtime.EvaluateParams { return p.WithAwaitPromise(true) }

// TestConsoleStaffPagesInBrowser drives the pages of the staff routes
// (issue 19) in headless Chromium over the real stack (PostgreSQL, the bank
// simulator over TCP), one tab per role, each step checked through the API:
//
//   - the province admin edits Meizhou's figures, contacts and its
//     instant-issuance policy (then reads the edit in the organisation's
//     audit trail), sets a target rule of 2019, edits a product, edits a
//     branch's contact and creates a branch, issues a terminal token (the
//     secret shown once and working), revokes it (then it is refused) and
//     finds the revocation in the audit log; tokens page at 800 px;
//   - the organisation admin edits its liaison (figures not offered),
//     corrects a volunteer's phone with the keyboard only and name with a
//     reason, fetches the roster template and uploads a second roster to a
//     session, choosing append, and reads both uploads' counts;
//   - the branch clerk is told why a walk-in waits while Meizhou has no
//     instant-issuance policy, then, with it, approves the next walk-in at
//     the counter and the bank opens the account;
//   - the hotline sees only its page and looks a caller's application up
//     (audited); a wrong ID number is "not found".
func TestConsoleStaffPagesInBrowser(t *testing.T) {
	b := newBrowser(t, 1366, 768)
	h := newCardHarness(t)
	ctx := context.Background()
	sys := issuance.SystemActor()
	url := h.ts.URL
	mz := strconv.FormatInt(h.meizhou.ID, 10)

	branch := &issuance.Branch{BankCode: "BOC", OrgID: h.meizhou.ID, Name: "中国银行梅州分行",
		Contact: issuance.Contact{Name: "李经理", Phone: pii.Phone("13800001234")}}
	require.NoError(t, h.svc.PutBranch(ctx, sys, branch))
	clerk, _, err := h.svc.CreateToken(ctx, sys, issuance.NewToken{Name: "boc meizhou clerk", Role: issuance.RoleBankStaff,
		BankCode: "BOC", BranchID: branch.ID})
	require.NoError(t, err)
	hotline, _, err := h.svc.CreateToken(ctx, sys, issuance.NewToken{Name: "12355 坐席", Role: issuance.RoleHotline})
	require.NoError(t, err)
	// A person the org admin edits, and an application the hotline is asked about.
	idn := residentID("441402", "19970811", 733)
	vol, err := h.svc.RegisterVolunteer(ctx, sys, issuance.NewVolunteer{OrgID: h.meizhou.ID, Name: "张晓明",
		IDNumber: idn, Phone: "13812340000"})
	require.NoError(t, err)
	app, err := h.svc.Apply(ctx, sys, vol.ID, "GD-RV-BOC", issuance.ChannelOnline)
	require.NoError(t, err)

	getJSON := func(path string, v any) {
		t.Helper()
		r := h.do(http.MethodGet, path, "admin", nil)
		require.Equal(t, http.StatusOK, r.status, "%s: %s", path, r.body)
		r.json(t, v)
	}
	saved := chromedp.Poll(`document.querySelector('#toast').textContent.includes('已保存')`, nil, every)
	clearToast := chromedp.Evaluate(`document.querySelector('#toast').textContent = ''`, nil)

	// The branch clerk, before Meizhou has the instant-issuance policy: the
	// walk-in waits for review, and the page says why.
	bs := b.tab()
	bs.signIn(url, clerk)
	walkIn := func(idn, name string) {
		t.Helper()
		bs.run("walk-in "+name, chromedp.Click(`nav button[data-page="walkin"]`, chromedp.ByQuery),
			chromedp.WaitVisible("#walkin-idn", chromedp.ByQuery),
			chromedp.Evaluate(`document.querySelector('#walkin-idn').value = ''`, nil), chromedp.SendKeys("#walkin-idn", idn+kb.Enter, chromedp.ByQuery),
			chromedp.WaitVisible("#walkin-register", chromedp.ByQuery),
			chromedp.SetValue("#walkin-name", name, chromedp.ByQuery), chromedp.SetValue("#walkin-phone", "13966667777", chromedp.ByQuery),
			pickOrg("#walkin-orgpick", h.meizhou.ID),
			chromedp.Click(`#walkin-register button[type="submit"]`, chromedp.ByQuery),
			chromedp.WaitVisible("#walkin-apply", chromedp.ByQuery), pick("#walkin-product", "GD-RV-BOC"),
			chromedp.Click(`#walkin-apply button[type="submit"]`, chromedp.ByQuery))
	}
	walkIn(residentID("441402", "19990101", 743), "钟立")
	bs.run("policy off", chromedp.WaitVisible("#walkin-instant-off", chromedp.ByQuery), bs.shot("b00-instant-off"))
	require.Contains(t, bs.text("#walkin-instant-off"), "本组织未开通即时发卡")
	var offered bool
	bs.run("no button", chromedp.Evaluate(`!document.querySelector('#walkin-instant').hidden`, &offered))
	require.False(t, offered, "no instant approval without the policy")

	// Province admin: Meizhou's figures, contacts and policy, and the audit trail.
	b.signIn(url, h.tokens["admin"])
	b.run("org edit", chromedp.Click(`nav button[data-page="orgs"]`, chromedp.ByQuery),
		pickOrg("#orgs-orgpick", h.province.ID, h.meizhou.ID),
		chromedp.WaitVisible("#org-edit-instant", chromedp.ByQuery),
		chromedp.SetValue("#org-edit-population", "3900000", chromedp.ByQuery),
		chromedp.SetValue("#org-edit-pop-year", "2025", chromedp.ByQuery),
		chromedp.SetValue("#org-edit-league", "52000", chromedp.ByQuery),
		chromedp.SetValue("#org-edit-resp", "陈书记", chromedp.ByQuery),
		chromedp.SetValue("#org-edit-resp-pos", "团市委书记", chromedp.ByQuery),
		chromedp.SetValue("#org-edit-resp-phone", "13711112222", chromedp.ByQuery),
		chromedp.Click("#org-edit-instant", chromedp.ByQuery), clearToast,
		chromedp.Click(`#org-edit button[type="submit"]`, chromedp.ByQuery), saved,
		chromedp.WaitVisible(`#org-audit-table tr[data-kind="org.updated"]`, chromedp.ByQuery), b.shot("s01-org-edit"))
	var org struct {
		Population  int64 `json:"resident_population"`
		Year        int   `json:"population_year"`
		League      int64 `json:"league_members"`
		Instant     bool  `json:"instant_issuance"`
		Responsible struct {
			Name, Position string
		} `json:"responsible"`
	}
	getJSON("/v1/orgs/"+mz, &org)
	require.Equal(t, int64(3900000), org.Population)
	require.Equal(t, 2025, org.Year)
	require.Equal(t, int64(52000), org.League)
	require.True(t, org.Instant)
	require.Equal(t, "陈书记", org.Responsible.Name)
	require.Equal(t, "团市委书记", org.Responsible.Position)
	require.Contains(t, b.text("#org-audit-table"), "org.updated")
	require.NotContains(t, b.text("#org-audit-table"), "13711112222", "no phone in the audit trail")

	// A target rule of a past year for the province's cities.
	b.run("target rule", chromedp.Click(`nav button[data-page="targets"]`, chromedp.ByQuery),
		pick("#targets-year", "2019"), chromedp.Poll(`document.querySelector('#kpis').dataset.key === '2019:`+strconv.FormatInt(h.province.ID, 10)+`'`, nil, every),
		pick("#target-ind", "card_rate"), pick("#target-kind", "city"),
		chromedp.SetValue("#target-pct", "55.5", chromedp.ByQuery), chromedp.SetValue("#target-note", "2019 年度考核", chromedp.ByQuery),
		clearToast, chromedp.Click(`#target-put button[type="submit"]`, chromedp.ByQuery), saved,
		chromedp.WaitVisible(`#rules-table tr[data-indicator="card_rate"]`, chromedp.ByQuery), b.shot("s02-target-rule"))
	var rules struct {
		Items []struct {
			Year, TargetBP int
			Indicator      string `json:"indicator"`
			OrgKind        string `json:"org_kind"`
			Scope          int64  `json:"scope_org_id"`
		} `json:"items"`
	}
	getJSON("/v1/targets?year=2019", &rules)
	require.Len(t, rules.Items, 1)
	require.Equal(t, "card_rate", rules.Items[0].Indicator)
	require.Equal(t, "city", rules.Items[0].OrgKind)
	require.Equal(t, h.province.ID, rules.Items[0].Scope)
	require.Contains(t, b.text(`#rules-table tr[data-indicator="card_rate"]`), "55.50")

	// A product renamed.
	b.run("product", chromedp.Click(`nav button[data-page="products"]`, chromedp.ByQuery),
		chromedp.Click(`#products-table button[data-edit-product="GD-RV-BOC"]`, chromedp.ByQuery),
		chromedp.Poll(`document.querySelector('#product-bin').value === '621785'`, nil, every),
		chromedp.SetValue("#product-name", "广东省注册志愿者证（中国银行·新版）", chromedp.ByQuery),
		clearToast, chromedp.Click(`#product-put button[type="submit"]`, chromedp.ByQuery), saved,
		chromedp.Poll(`document.querySelector('#products-table tr[data-product="GD-RV-BOC"]').textContent.includes('新版')`, nil, every))
	var prods struct {
		Items []struct{ Code, Name, BIN string } `json:"items"`
	}
	getJSON("/v1/products", &prods)
	require.Equal(t, "广东省注册志愿者证（中国银行·新版）", prods.Items[0].Name)

	// Branches: the contact of one edited, another created.
	brow := fmt.Sprintf(`#branches-table tr[data-branch="%d"]`, branch.ID)
	b.run("branch edit", chromedp.Click(`nav button[data-page="branches"]`, chromedp.ByQuery),
		chromedp.Click(brow+" button[data-edit-branch]", chromedp.ByQuery),
		chromedp.Poll(`document.querySelector('#branch-contact').value === '李经理'`, nil, every),
		chromedp.SetValue("#branch-contact", "王主任", chromedp.ByQuery), chromedp.SetValue("#branch-phone", "13822223333", chromedp.ByQuery),
		clearToast, chromedp.Click(`#branch-form button[type="submit"]`, chromedp.ByQuery), saved,
		chromedp.Poll(`document.querySelector('`+brow+`').textContent.includes('王主任')`, nil, every))
	b.run("branch new", chromedp.Click("#branch-new", chromedp.ByQuery),
		chromedp.SetValue("#branch-bank", "BOC", chromedp.ByQuery), chromedp.SetValue("#branch-name", "中国银行梅州江南支行", chromedp.ByQuery),
		pickOrg("#branch-orgpick", h.province.ID, h.meizhou.ID),
		chromedp.SetValue("#branch-contact", "刘行长", chromedp.ByQuery), chromedp.SetValue("#branch-phone", "13833334444", chromedp.ByQuery),
		clearToast, chromedp.Click(`#branch-form button[type="submit"]`, chromedp.ByQuery), saved,
		chromedp.Poll(`document.querySelector('#branches-table tbody').dataset.loaded === '2'`, nil, every), b.shot("s03-branches"))
	var brs struct {
		Items []struct {
			ID      int64  `json:"id"`
			Name    string `json:"name"`
			OrgID   int64  `json:"org_id"`
			Contact struct{ Name string }
		} `json:"items"`
	}
	getJSON("/v1/branches", &brs)
	require.Len(t, brs.Items, 2)
	names := map[string]string{}
	for _, x := range brs.Items {
		names[x.Name] = x.Contact.Name
		require.Equal(t, h.meizhou.ID, x.OrgID)
	}
	require.Equal(t, map[string]string{"中国银行梅州分行": "王主任", "中国银行梅州江南支行": "刘行长"}, names)

	// A terminal token: issued (the secret shown once, and it works), then revoked.
	expires := time.Now().AddDate(0, 0, 30).Format("2006-01-02")
	var secret string
	b.run("token new", chromedp.Click(`nav button[data-page="tokens"]`, chromedp.ByQuery),
		chromedp.SetValue("#token-name", "梅州 闸机 2", chromedp.ByQuery), pick("#token-role", "terminal"),
		pickOrg("#token-orgpick", h.province.ID, h.meizhou.ID),
		chromedp.SetValue("#token-expires", expires, chromedp.ByQuery),
		chromedp.Click(`#token-new button[type="submit"]`, chromedp.ByQuery),
		chromedp.WaitVisible("#token-secret-value", chromedp.ByQuery),
		chromedp.Evaluate(`document.querySelector('#token-secret-value').textContent`, &secret), b.shot("s04-token-secret"))
	require.True(t, strings.HasPrefix(secret, "vc_"), "the secret is shown: %q", secret)
	h.tokens["new terminal"] = secret
	r := h.do(http.MethodGet, "/v1/me", "new terminal", nil)
	require.Equal(t, http.StatusOK, r.status, "%s", r.body)
	var meT Me
	r.json(t, &meT)
	require.Equal(t, "terminal", meT.Role)
	require.Equal(t, h.meizhou.ID, meT.OrgID)
	trow := fmt.Sprintf(`#tokens-table tr[data-token="%d"]`, meT.TokenID)
	require.Contains(t, b.text(trow), "梅州 闸机 2")
	require.NotContains(t, b.text("#tokens-table"), secret, "the list never shows a secret")
	b.run("800 px", chromedp.EmulateViewport(800, 1000), chromedp.Sleep(200*time.Millisecond), b.shot("s05-tokens-800px"))
	b.noHorizontalScroll("tokens at 800 px")
	b.run("1366 px", chromedp.EmulateViewport(1366, 768))
	b.run("revoke", chromedp.Click(trow+` button[data-act="revoke"]`, chromedp.ByQuery),
		chromedp.WaitVisible("#reason-input", chromedp.ByQuery),
		chromedp.SendKeys("#reason-input", "闸机报废"+kb.Enter, chromedp.ByQuery),
		chromedp.WaitNotPresent(trow, chromedp.ByQuery))
	require.Equal(t, http.StatusUnauthorized, h.do(http.MethodGet, "/v1/me", "new terminal", nil).status, "revoked")
	b.run("audit log", chromedp.Click(`nav button[data-page="audit"]`, chromedp.ByQuery),
		pick("#audit-subject", "token"), chromedp.Click(`#audit-form button[type="submit"]`, chromedp.ByQuery),
		chromedp.WaitVisible(`#audit-table tr[data-kind="token.revoked"]`, chromedp.ByQuery), b.shot("s06-audit"))
	require.Contains(t, b.text(`#audit-table tr[data-kind="token.revoked"]`), strconv.FormatInt(meT.TokenID, 10))

	// The organisation admin: its contacts, not its figures.
	oa := b.tab()
	oa.signIn(url, h.tokens["mz"])
	oa.run("org admin's org", chromedp.Click(`nav button[data-page="orgs"]`, chromedp.ByQuery),
		chromedp.WaitVisible("#org-edit-liaison", chromedp.ByQuery))
	var figuresShown bool
	oa.run("figures hidden", chromedp.Evaluate(`!!document.querySelector('#org-edit-population').offsetParent`, &figuresShown))
	require.False(t, figuresShown, "an org admin does not edit the figures")
	oa.run("liaison", chromedp.SetValue("#org-edit-liaison", "黄干事", chromedp.ByQuery),
		chromedp.SetValue("#org-edit-liaison-phone", "13944445555", chromedp.ByQuery),
		clearToast, chromedp.Click(`#org-edit button[type="submit"]`, chromedp.ByQuery), saved, oa.shot("o01-org-contacts"))
	var org2 struct {
		Liaison struct{ Name string } `json:"liaison"`
		Pop     int64                 `json:"resident_population"`
	}
	getJSON("/v1/orgs/"+mz, &org2)
	require.Equal(t, "黄干事", org2.Liaison.Name)
	require.Equal(t, int64(3900000), org2.Pop, "figures kept")

	// A volunteer's phone corrected with the keyboard only (Tab to the
	// field, type, Enter submits), then the name with a reason.
	oa.run("find", chromedp.Click(`nav button[data-page="volunteers"]`, chromedp.ByQuery),
		chromedp.SendKeys("#vol-id", idn+kb.Enter, chromedp.ByQuery),
		chromedp.WaitVisible("#vol-edit", chromedp.ByQuery))
	oa.run("phone by keyboard", chromedp.Focus("#vol-id", chromedp.ByQuery), chromedp.KeyEvent(kb.Tab), chromedp.KeyEvent(kb.Tab),
		chromedp.Poll(`document.activeElement.id === 'vol-edit-phone'`, nil, every),
		chromedp.KeyEvent("13955556666"), clearToast, chromedp.KeyEvent(kb.Enter), saved)
	oa.run("name", chromedp.SetValue("#vol-edit-name", "张晓鸣", chromedp.ByQuery),
		chromedp.SetValue("#vol-edit-reason", "身份证姓名为“鸣”", chromedp.ByQuery),
		clearToast, chromedp.Click(`#vol-edit button[type="submit"]`, chromedp.ByQuery), saved, oa.shot("o02-volunteer-edit"))
	got, err := h.svc.GetVolunteer(ctx, sys, vol.ID)
	require.NoError(t, err)
	require.Equal(t, "张晓鸣", got.Name)
	require.Equal(t, "13955556666", got.Phone.Reveal())
	require.Contains(t, oa.text("#vol-result"), "张晓鸣")

	// The roster template, and a second upload appended.
	var tmpl string
	oa.run("template", chromedp.Click(`nav button[data-page="onsite"]`, chromedp.ByQuery),
		chromedp.WaitVisible(`#onsite-template button[data-template="xlsx"]`, chromedp.ByQuery),
		chromedp.Evaluate(`api('/v1/onsite-sessions/roster-template.csv', {raw: true}).then((r) => r.text())`, &tmpl, awaitPromise))
	require.Contains(t, tmpl, "姓名,身份证号,手机号,是否团员,服装尺码")
	tomorrow := time.Now().AddDate(0, 0, 7).Format("2006-01-02")
	dir := t.TempDir()
	first, second := filepath.Join(dir, "roster.csv"), filepath.Join(dir, "roster-more.csv")
	require.NoError(t, os.WriteFile(first, rostertest.CSV(rostertest.People(30, 771000), false, true), 0o600))
	require.NoError(t, os.WriteFile(second, rostertest.CSV(rostertest.People(5, 772000), false, true), 0o600))
	oa.run("session", chromedp.Poll(`document.querySelector('#onsite-org').value === '`+mz+`'`, nil, every),
		chromedp.SetValue("#onsite-site", "嘉应学院图书馆", chromedp.ByQuery), chromedp.SetValue("#onsite-date", tomorrow, chromedp.ByQuery),
		pick("#onsite-product", "GD-RV-BOC"), chromedp.Click(`#onsite-new button[type="submit"]`, chromedp.ByQuery),
		chromedp.WaitVisible("#onsite-upload", chromedp.ByQuery),
		chromedp.SetUploadFiles("#onsite-file", []string{first}, chromedp.ByQuery),
		chromedp.Click(`#onsite-upload button[type="submit"]`, chromedp.ByQuery),
		chromedp.WaitVisible(`#uploads-table tr[data-mode="first"]`, chromedp.ByQuery),
		chromedp.WaitVisible("#onsite-mode-box", chromedp.ByQuery))
	oa.run("second upload", chromedp.SetUploadFiles("#onsite-file", []string{second}, chromedp.ByQuery),
		pick("#onsite-mode", "append"), chromedp.Click(`#onsite-upload button[type="submit"]`, chromedp.ByQuery),
		chromedp.WaitVisible(`#uploads-table tr[data-mode="append"]`, chromedp.ByQuery), oa.shot("o03-second-upload"))
	var line string
	oa.run("session line", chromedp.Evaluate(`document.querySelector('#onsite-session-line').textContent`, &line))
	var rep struct {
		Accepted     int `json:"accepted"`
		UploadedRows int `json:"uploaded_rows"`
		Uploads      []struct {
			Mode string `json:"mode"`
			Rows int    `json:"rows"`
		} `json:"uploads"`
	}
	getJSON(fmt.Sprintf("/v1/onsite-sessions/%d/report", onsiteSessionID(t, line)), &rep)
	require.Equal(t, 35, rep.UploadedRows)
	require.Equal(t, 35, rep.Accepted)
	require.Len(t, rep.Uploads, 2)
	require.Equal(t, "append", rep.Uploads[1].Mode)
	require.Contains(t, oa.text("#onsite-uploads h3"), "35")

	// The branch clerk: instant issuance of the next walk-in (Meizhou's policy is on now).
	widn := residentID("441402", "19990101", 744)
	walkIn(widn, "钟敏")
	bs.run("instant", chromedp.WaitVisible("#walkin-instant-btn", chromedp.ByQuery), bs.shot("b01-instant-offered"),
		chromedp.Click("#walkin-instant-btn", chromedp.ByQuery),
		chromedp.Poll(`document.querySelector('#walkin-status-status').dataset.code === 'bank_approved'`, nil, every, chromedp.WithPollingTimeout(40*time.Second)),
		bs.shot("b02-instant-bank-approved"))
	wv, err := h.svc.FindVolunteerByIDNumber(ctx, sys, widn)
	require.NoError(t, err)
	apps, err := h.svc.ListApplications(ctx, sys, issuance.ApplicationFilter{OrgID: h.meizhou.ID, Limit: 50})
	require.NoError(t, err)
	var wapp issuance.Application
	for _, a := range apps.Items {
		if a.VolunteerID == wv.ID {
			wapp = a
		}
	}
	require.Equal(t, issuance.StatusBankApproved, wapp.Status)
	var evs struct {
		Items []struct {
			To        string `json:"to"`
			ActorRole string `json:"actor_role"`
		} `json:"items"`
	}
	getJSON(fmt.Sprintf("/v1/applications/%d/events", wapp.ID), &evs)
	approvedBy := ""
	for _, e := range evs.Items {
		if e.To == "approved" {
			approvedBy = e.ActorRole
		}
	}
	require.Equal(t, "bank_staff", approvedBy, "approved at the counter")

	// The hotline: one page; a look-up found, audited; a wrong ID number not found.
	hl := b.tab()
	hl.signIn(url, hotline)
	require.Equal(t, []string{"hotline"}, hl.navShown())
	hl.run("lookup", chromedp.WaitVisible("#hotline-form", chromedp.ByQuery),
		chromedp.SendKeys("#hotline-number", app.Number, chromedp.ByQuery),
		chromedp.SendKeys("#hotline-idn", idn+kb.Enter, chromedp.ByQuery),
		chromedp.WaitVisible("#hotline-card", chromedp.ByQuery), hl.shot("h01-lookup"))
	require.Equal(t, "已提交（待审核）", hl.text(`#hotline-card dd[data-k="col.status"]`))
	require.NotContains(t, hl.text("#page-hotline"), idn, "no ID number on the page after the look-up")
	hl.run("wrong id", chromedp.SendKeys("#hotline-idn", residentID("441402", "19970811", 734)+kb.Enter, chromedp.ByQuery),
		chromedp.WaitVisible("#hotline-error", chromedp.ByQuery))
	require.Equal(t, "未查到：申请编号或证件号码不正确。", hl.text("#hotline-error"))
	var audit struct {
		Items []struct {
			Subject   string `json:"subject"`
			SubjectID string `json:"subject_id"`
		} `json:"items"`
	}
	getJSON("/v1/admin/audit?kind=hotline.lookup", &audit)
	require.Len(t, audit.Items, 2, "both look-ups audited")
	require.Equal(t, app.Number, audit.Items[0].SubjectID)
}
