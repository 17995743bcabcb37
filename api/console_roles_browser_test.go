package api

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/chromedp/cdproto/input"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
	"github.com/stretchr/testify/require"

	"github.com/volcard/volcard/bankgw/outbox"
	"github.com/volcard/volcard/issuance"
	"github.com/volcard/volcard/issuance/reconcile"
	"github.com/volcard/volcard/issuance/roster/rostertest"
	"github.com/volcard/volcard/pii"
	"github.com/volcard/volcard/wire"
)

// The console per role, in headless Chromium over the real stack: the
// server on PostgreSQL, the durable outbox sending to the bank simulator
// over TCP. Each step is checked through the API afterwards; screenshots go
// to artifactsDir ($VOLCARD_ARTIFACTS/<test> when set).

// TestConsoleBranchStaffAndOrgAdminInBrowser: a branch clerk registers a
// walk-in applicant and applies; the organisation's admin approves in the
// review queue (another tab); the bank simulator opens the account; the
// card is personalized; the clerk blocks (with the keyboard only),
// unblocks and replaces it and reads its history. Then the organisation
// admin requests an on-site session, the bank schedules and starts it, the
// admin uploads the roster and approves the batch, and the bank reads the
// personalization queue. Both layouts (1366×768 and 800 px) are checked.
func TestConsoleBranchStaffAndOrgAdminInBrowser(t *testing.T) {
	b := newBrowser(t, 1366, 768)
	h := newCardHarness(t)
	ctx := context.Background()
	url := h.ts.URL
	var apps issuance.ApplicationPage

	// The Bank of China's Meizhou branch and its clerk's token.
	sys := issuance.SystemActor()
	branch := &issuance.Branch{BankCode: "BOC", OrgID: h.meizhou.ID, Name: "中国银行梅州分行",
		Contact: issuance.Contact{Name: "李经理", Phone: pii.Phone("13800001234")}}
	require.NoError(t, h.svc.PutBranch(ctx, sys, branch))
	clerk, _, err := h.svc.CreateToken(ctx, sys, issuance.NewToken{Name: "boc meizhou clerk", Role: issuance.RoleBankStaff,
		BankCode: "BOC", BranchID: branch.ID})
	require.NoError(t, err)

	// The branch clerk's pages.
	b.signIn(url, clerk)
	require.Equal(t, []string{"walkin", "queue", "volunteers", "onsite", "branches", "recon", "reports"}, b.navShown())
	require.Contains(t, b.text("#whoami"), "银行网点工作人员")
	b.run("walk-in first", chromedp.WaitVisible("#page-walkin", chromedp.ByQuery), b.shot("b01-walkin"))

	// Walk-in registration: unknown ID number → register → apply.
	idn := residentID("441402", "19980321", 321)
	b.run("unknown person",
		chromedp.SendKeys("#walkin-idn", idn+kb.Enter, chromedp.ByQuery),
		chromedp.WaitVisible("#walkin-register", chromedp.ByQuery))
	b.run("register",
		chromedp.SendKeys("#walkin-name", "陈志远", chromedp.ByQuery),
		chromedp.SendKeys("#walkin-phone", "13923456789", chromedp.ByQuery),
		pick("#walkin-size", "L"),
		chromedp.Click("#walkin-league", chromedp.ByQuery),
		// The branch serves Meizhou: its city is the picker's only root.
		pickOrg("#walkin-orgpick", h.meizhou.ID),
		b.shot("b02-walkin-register"),
		chromedp.EmulateViewport(800, 1000), b.shot("b02-walkin-register-800px"))
	b.noHorizontalScroll("registration at 800 px")
	b.run("register (1366)", chromedp.EmulateViewport(1366, 768),
		chromedp.Click(`#walkin-register button[type="submit"]`, chromedp.ByQuery),
		chromedp.WaitVisible("#walkin-apply", chromedp.ByQuery))
	require.Contains(t, b.text("#walkin-person"), "梅州市")
	b.run("apply",
		pick("#walkin-product", "GD-RV-BOC"),
		chromedp.Click(`#walkin-apply button[type="submit"]`, chromedp.ByQuery),
		chromedp.Poll(`(document.querySelector('#walkin-status-status') || {dataset: {}}).dataset.code === 'submitted'`, nil, every),
		b.shot("b03-walkin-submitted"))
	require.Equal(t, "已提交（待审核）", b.text("#walkin-status-status"))

	// Through the API: the person as registered, the application.
	res := h.do(http.MethodGet, "/v1/volunteers?id_number="+idn, "admin", nil)
	require.Equal(t, http.StatusOK, res.status, "%s", res.body)
	var vol struct {
		ID           int64  `json:"id"`
		Name         string `json:"name"`
		OrgID        int64  `json:"org_id"`
		Source       string `json:"source"`
		League       bool   `json:"league_member"`
		ClothingSize string `json:"clothing_size"`
	}
	res.json(t, &vol)
	require.Equal(t, "陈志远", vol.Name)
	require.Equal(t, h.meizhou.ID, vol.OrgID)
	require.Equal(t, "branch", vol.Source)
	require.True(t, vol.League)
	require.Equal(t, "L", vol.ClothingSize)
	apps, err = h.svc.ListApplications(ctx, issuance.SystemActor(), issuance.ApplicationFilter{OrgID: h.meizhou.ID, Limit: 10})
	require.NoError(t, err)
	var app issuance.Application
	for _, a := range apps.Items {
		if a.VolunteerID == vol.ID {
			app = a
		}
	}
	require.NotZero(t, app.ID, "the application is stored")
	require.Equal(t, issuance.ChannelBranch, app.Channel)
	require.Equal(t, issuance.StatusSubmitted, app.Status)
	require.Equal(t, "GD-RV-BOC", app.ProductCode)

	// The organisation admin, in another tab, approves it in the queue.
	oa := b.tab()
	oa.signIn(url, h.tokens["mz"])
	require.Equal(t, []string{"queue", "volunteers", "onsite", "orgs", "targets", "checkins", "expiring", "reports", "offers", "insurance", "rebates", "renewals"}, oa.navShown())
	row := fmt.Sprintf(`#queue-table tr[data-app="%d"]`, app.ID)
	oa.run("queue", chromedp.WaitVisible(row, chromedp.ByQuery))
	require.Equal(t, "陈志远", oa.text(row+" td.applicant"))
	require.Equal(t, "银行网点", oa.text(row+" td.channel"))
	require.Equal(t, "梅州市", oa.text(row+" td.org"))
	oa.run("approve", oa.shot("o01-queue"), chromedp.Click(row+` button[data-act="approve"]`, chromedp.ByQuery),
		chromedp.Poll(`document.querySelector('#toast').textContent.includes('已审核通过')`, nil, every))

	// The clerk's status follows: the bank simulator opens the account.
	b.run("bank approved",
		chromedp.Poll(`document.querySelector('#walkin-status-status').dataset.code === 'bank_approved'`, nil, every, chromedp.WithPollingTimeout(40*time.Second)),
		b.shot("b04-walkin-bank-approved"))
	require.Contains(t, b.text("#walkin-hint"), "volcard personalize --application "+strconv.FormatInt(app.ID, 10))
	got, err := h.svc.GetApplication(ctx, issuance.SystemActor(), app.ID)
	require.NoError(t, err)
	require.Equal(t, issuance.StatusBankApproved, got.Status)
	// Personalization is the personalize client's work at a reader (tested
	// end to end through pcscd in handlers_onsite_perso_e2e_test.go); here
	// its two steps are recorded as it records them.
	for _, to := range []issuance.Status{issuance.StatusPersonalized, issuance.StatusIssued} {
		_, err := h.svc.Transition(ctx, issuance.SystemActor(), app.ID, to, "")
		require.NoError(t, err)
	}
	b.run("issued", chromedp.Poll(`document.querySelector('#walkin-status-status').dataset.code === 'issued'`, nil, every, chromedp.WithPollingTimeout(20*time.Second)),
		chromedp.WaitVisible(`#walkin-status-events tr[data-to="issued"]`, chromedp.ByQuery), b.shot("b05-walkin-issued"))
	require.Equal(t, "已发卡", b.text("#walkin-status-status"))

	// The person's cards: block with the keyboard alone.
	res = h.do(http.MethodGet, fmt.Sprintf("/v1/volunteers/%d/cards", vol.ID), "admin", nil)
	require.Equal(t, http.StatusOK, res.status, "%s", res.body)
	var cards CardList
	res.json(t, &cards)
	require.Len(t, cards.Items, 1)
	card := cards.Items[0]
	cardRow := fmt.Sprintf(`#cards-table tr[data-card="%d"]`, card.ID)
	lookup := chromedp.Tasks{
		chromedp.Evaluate(`document.querySelector('#vol-cards').textContent = ''`, nil),
		chromedp.Click(`#vol-form button[type="submit"]`, chromedp.ByQuery),
		chromedp.WaitVisible(cardRow, chromedp.ByQuery),
	}
	b.run("cards", chromedp.Click(`nav button[data-page="volunteers"]`, chromedp.ByQuery),
		chromedp.SendKeys("#vol-id", idn+kb.Enter, chromedp.ByQuery), chromedp.WaitVisible(cardRow, chromedp.ByQuery))
	require.Equal(t, "已发卡（未激活）", b.text(cardRow+" td.state-cell"))
	require.Contains(t, b.text(cardRow), card.MaskedPAN)
	b.run("block by keyboard",
		chromedp.Focus(cardRow+` button[data-change="block"]`, chromedp.ByQuery),
		chromedp.KeyEvent(kb.Enter),
		chromedp.WaitVisible("#reason-input", chromedp.ByQuery),
		chromedp.Poll(`document.activeElement && document.activeElement.id === 'reason-input'`, nil, every),
		chromedp.KeyEvent("遗失"), b.shot("b06-block-reason"), chromedp.KeyEvent(kb.Enter),
		chromedp.Poll(`document.querySelector('#toast').textContent.includes('已提交银行处理')`, nil, every))
	h.waitState(t, card.ID, "blocked")
	b.run("blocked", lookup, chromedp.Poll(fmt.Sprintf(`document.querySelector('%s td.state-cell').dataset.code === 'blocked'`, cardRow), nil, every))
	require.Contains(t, b.text(cardRow+" td.state-cell"), "已冻结")
	require.Contains(t, b.text(cardRow+" td.state-cell"), "遗失")

	b.run("unblock", chromedp.Click(cardRow+` button[data-change="unblock"]`, chromedp.ByQuery),
		chromedp.Poll(`document.querySelector('#toast').textContent.includes('解冻处理中')`, nil, every))
	require.Eventually(t, func() bool { c := h.card(t, card.ID, "admin"); return c.PendingChange == "" && c.State != "blocked" },
		30*time.Second, 20*time.Millisecond, "the unblock is confirmed")
	b.run("replace", lookup, chromedp.Click(cardRow+` button[data-change="replace"]`, chromedp.ByQuery),
		chromedp.WaitVisible("#reason-input", chromedp.ByQuery), chromedp.SendKeys("#reason-input", "芯片损坏"+kb.Enter, chromedp.ByQuery),
		chromedp.Poll(`document.querySelector('#toast').textContent.includes('换卡处理中')`, nil, every))
	h.waitState(t, card.ID, "replaced")
	b.run("history", lookup, chromedp.WaitVisible(`#cards-table tbody tr:nth-child(2)`, chromedp.ByQuery),
		chromedp.Click(cardRow+` button[data-change="history"]`, chromedp.ByQuery),
		chromedp.WaitVisible(`#card-events tr[data-kind="confirmed"]`, chromedp.ByQuery), b.shot("b07-cards-history"))
	var kinds []string
	b.run("history rows", chromedp.Evaluate(`[...document.querySelectorAll('#card-events tbody tr')].map((r) => r.dataset.kind)`, &kinds))
	res = h.do(http.MethodGet, fmt.Sprintf("/v1/cards/%d/events", card.ID), "admin", nil)
	require.Equal(t, http.StatusOK, res.status)
	var events CardEventList
	res.json(t, &events)
	var want []string
	for _, e := range events.Items {
		want = append(want, e.Kind)
	}
	require.Equal(t, want, kinds, "the page shows the card's whole history")
	require.Contains(t, kinds, "requested")
	require.Contains(t, b.text("#card-events"), "芯片损坏")
	res = h.do(http.MethodGet, fmt.Sprintf("/v1/volunteers/%d/cards", vol.ID), "admin", nil)
	res.json(t, &cards)
	require.Len(t, cards.Items, 2, "the replacement card is there")

	// A tablet's width: the page fits, wide tables scroll in their box.
	b.run("800 px", chromedp.EmulateViewport(800, 1000), chromedp.Sleep(200*time.Millisecond), b.shot("b08-cards-800px"))
	b.noHorizontalScroll("cards at 800 px")
	b.run("1366 px", chromedp.EmulateViewport(1366, 768))
	b.noHorizontalScroll("cards at 1366 px")

	// On-site: the organisation admin requests a session (its own
	// organisation is the picker's only root).
	tomorrow := time.Now().Add(24 * time.Hour).Format("2006-01-02")
	oa.run("on-site request",
		chromedp.Click(`nav button[data-page="onsite"]`, chromedp.ByQuery),
		chromedp.Poll(fmt.Sprintf(`document.querySelector('#onsite-org').value === '%d'`, h.meizhou.ID), nil, every),
		chromedp.SetValue("#onsite-site", "嘉应学院体育馆", chromedp.ByQuery),
		chromedp.SetValue("#onsite-date", tomorrow, chromedp.ByQuery),
		pick("#onsite-product", "GD-RV-BOC"),
		chromedp.Click(`#onsite-new button[type="submit"]`, chromedp.ByQuery),
		chromedp.WaitVisible("#onsite-session-line", chromedp.ByQuery))
	var line string
	oa.run("session line", chromedp.Evaluate(`document.querySelector('#onsite-session-line').textContent`, &line))
	sid := onsiteSessionID(t, line)
	var hidden []bool
	oa.run("admin's actions", chromedp.Evaluate(`["schedule", "start", "complete", "cancel"].map((a) => document.querySelector('#onsite-actions button[data-session-act="' + a + '"]').hidden)`, &hidden))
	require.Equal(t, []bool{true, true, true, false}, hidden, "an org admin may only cancel")
	session := func() wire.OnsiteSession {
		t.Helper()
		res := h.do(http.MethodGet, fmt.Sprintf("/v1/onsite-sessions/%d", sid), "admin", nil)
		require.Equal(t, http.StatusOK, res.status, "%s", res.body)
		var s wire.OnsiteSession
		res.json(t, &s)
		return s
	}
	s := session()
	require.Equal(t, h.meizhou.ID, s.OrgID)
	require.Equal(t, "requested", s.Status)
	require.Equal(t, "GD-RV-BOC", s.Product)
	require.Equal(t, 30, s.ExpectedCount)

	// The bank schedules and starts it.
	srow := fmt.Sprintf(`#onsite-table tr[data-session="%d"]`, sid)
	b.run("bank opens the session", chromedp.Click(`nav button[data-page="onsite"]`, chromedp.ByQuery),
		chromedp.WaitVisible(srow, chromedp.ByQuery), chromedp.Click(srow+" button[data-open]", chromedp.ByQuery),
		chromedp.WaitVisible(`#onsite-actions button[data-session-act="schedule"]`, chromedp.ByQuery),
		chromedp.Click(`#onsite-actions button[data-session-act="schedule"]`, chromedp.ByQuery),
		chromedp.WaitVisible(`#onsite-session-line b[data-state="scheduled"]`, chromedp.ByQuery),
		chromedp.Click(`#onsite-actions button[data-session-act="start"]`, chromedp.ByQuery),
		chromedp.WaitVisible(`#onsite-session-line b[data-state="in_progress"]`, chromedp.ByQuery))
	require.Equal(t, "in_progress", session().Status)
	require.Equal(t, "进行中", b.text(`#onsite-session-line b[data-state="in_progress"]`))

	// The admin uploads the roster and approves the batch.
	rosterFile := filepath.Join(t.TempDir(), "roster.csv")
	require.NoError(t, os.WriteFile(rosterFile, rostertest.CSV(rostertest.People(30, 888000), false, true), 0o600))
	oa.run("roster", chromedp.Click(`#onsite-table tr[data-session="`+strconv.FormatInt(sid, 10)+`"] button[data-open]`, chromedp.ByQuery),
		chromedp.WaitVisible("#onsite-upload", chromedp.ByQuery),
		chromedp.SetUploadFiles("#onsite-file", []string{rosterFile}, chromedp.ByQuery),
		chromedp.Click(`#onsite-upload button[type="submit"]`, chromedp.ByQuery),
		chromedp.WaitVisible("#roster-summary", chromedp.ByQuery),
		chromedp.Click("#onsite-approve", chromedp.ByQuery),
		chromedp.Poll(`document.querySelector('#toast').textContent.includes('审核通过')`, nil, every),
		oa.shot("o02-onsite-approved"))
	require.Contains(t, oa.text("#roster-summary"), "有效: 30")

	// The bank reads the personalization queue in roster order.
	b.run("queue", chromedp.Click("#onsite-queue-load", chromedp.ByQuery),
		chromedp.WaitVisible(`#onsite-queue-table tbody tr:nth-child(30)`, chromedp.ByQuery), b.shot("b09-onsite-queue"))
	res = h.do(http.MethodGet, fmt.Sprintf("/v1/onsite-sessions/%d/queue", sid), "boc", nil)
	require.Equal(t, http.StatusOK, res.status, "%s", res.body)
	var queue wire.OnsiteQueue
	res.json(t, &queue)
	require.Len(t, queue.Items, 30)
	var names []string
	b.run("queue names", chromedp.Evaluate(`[...document.querySelectorAll('#onsite-queue-table tbody tr td:nth-child(3)')].map((td) => td.textContent)`, &names))
	for i, it := range queue.Items {
		require.Equal(t, it.Name, names[i], "row %d", i+1)
	}
	require.Equal(t, "待制卡", b.text(`#onsite-queue-table tbody tr:nth-child(1) td:nth-child(5)`))

	// The organisation admin's dashboard: any year, its own organisation.
	year := strconv.Itoa(time.Now().Year())
	var years []string
	oa.run("targets", chromedp.Click(`nav button[data-page="targets"]`, chromedp.ByQuery),
		chromedp.Poll(`(document.querySelector('#kpi-org .value') || {}).textContent === '梅州市'`, nil, every),
		chromedp.Evaluate(`[...document.querySelectorAll('#targets-year option')].map((o) => o.value)`, &years),
		oa.shot("o03-targets"))
	require.Equal(t, "2017", years[0])
	require.Equal(t, year, years[len(years)-1])
	var picked string
	oa.run("year", chromedp.Value("#targets-year", &picked, chromedp.ByQuery))
	require.Equal(t, year, picked, "the current year is shown first")
}

// TestConsoleProvinceAdminInBrowser: the province admin's own pages. Two
// bank requests failed: one is sent again from the page (the bank simulator
// then opens the account), the other given up with a reason; the bank
// links, a reconciliation, the products, the organisation tree and the
// expiring cards are shown as the API answers them; the status filter offers
// every state; the English switch relabels the codes.
func TestConsoleProvinceAdminInBrowser(t *testing.T) {
	b := newBrowser(t, 1366, 768)
	h := newCardHarness(t)
	ctx := context.Background()
	sys := issuance.SystemActor()

	// Two applications whose bank requests failed (the worker is stopped
	// while they are marked so).
	h.stopWorker()
	var failed []outbox.Request
	var failedApps []issuance.Application
	for i, name := range []string{"王小燕", "黄志强"} {
		v, err := h.svc.RegisterVolunteer(ctx, sys, issuance.NewVolunteer{OrgID: h.meizhou.ID, Name: name,
			IDNumber: residentID("441402", "19960512", 600+i), Phone: "13812345678"})
		require.NoError(t, err)
		a, err := h.svc.Apply(ctx, sys, v.ID, "GD-RV-BOC", issuance.ChannelOnline)
		require.NoError(t, err)
		_, err = h.svc.Approve(ctx, sys, a.ID)
		require.NoError(t, err)
		_, err = h.svc.SubmitApprovedToBank(ctx, 10)
		require.NoError(t, err)
		rows, err := h.st.BankRequests(ctx, a.ID)
		require.NoError(t, err)
		require.Len(t, rows, 1)
		r := rows[0]
		r.State, r.ResultCode, r.LastError = outbox.StateFailed, "30", "bank declined 30: format error"
		require.NoError(t, h.st.SaveBankRequest(ctx, &r, ""))
		failed = append(failed, r)
		failedApps = append(failedApps, a)
	}
	h.startWorker()
	// A reconciliation with the bank, as `volcard reconcile` leaves it.
	rec, err := reconcile.New(h.svc, h.st)
	require.NoError(t, err)
	rep, err := rec.Reconcile(ctx, sys, reconcile.Input{BankCode: "BOC", Date: time.Now().AddDate(0, 0, -1), Source: "BOC/yesterday.csv",
		PANMAC: func(string) string { return "" },
		Rows: func(yield func(reconcile.BankCard, error) bool) {
			yield(reconcile.BankCard{Line: 2, ApplicationNumber: "VC2026120600000001", ProductCode: "GDRVBOC", LastFour: "0013",
				PANMAC: "x", State: issuance.BankCardActive}, nil)
		}})
	require.NoError(t, err)

	b.signIn(h.ts.URL, h.tokens["admin"])
	require.Equal(t, []string{"queue", "volunteers", "onsite", "orgs", "targets", "checkins", "expiring", "products", "banks", "branches", "recon", "tokens", "audit", "reports", "offers", "insurance", "rebates", "renewals", "webhooks", "platform"}, b.navShown())

	// The status filter offers every state of the document, in Chinese.
	var doc struct {
		Components struct {
			Schemas map[string]struct {
				Enum []string `json:"enum"`
			} `json:"schemas"`
		} `json:"components"`
	}
	require.NoError(t, json.Unmarshal(h.srv.OpenAPI(), &doc))
	var options []string
	var labels []string
	b.run("status filter", chromedp.Evaluate(`[...document.querySelectorAll('#queue-status option')].map((o) => o.value)`, &options),
		chromedp.Evaluate(`[...document.querySelectorAll('#queue-status option')].map((o) => o.textContent)`, &labels))
	require.Equal(t, append([]string{""}, doc.Components.Schemas["Status"].Enum...), options)
	for i, l := range labels {
		require.NotEqual(t, options[i], l, "state %q shows its code", options[i])
	}

	// Bank links and the failed requests; the ninth page of the menu is
	// reached with Alt+9, and its heading takes the focus.
	var focused string
	b.run("alt+9", chromedp.KeyEvent("9", chromedp.KeyModifiers(input.ModifierAlt)),
		chromedp.WaitVisible("#page-banks", chromedp.ByQuery),
		chromedp.Poll(`document.activeElement && document.activeElement.dataset.i18n === 'banks.title'`, nil, every),
		chromedp.Evaluate(`document.activeElement.textContent`, &focused))
	require.Equal(t, "银行链路与失败的银行请求", focused)
	b.run("banks",
		chromedp.WaitVisible(`#banks-table tr[data-bank="BOC"]`, chromedp.ByQuery),
		chromedp.WaitVisible(fmt.Sprintf(`#breq-table tr[data-breq="%d"]`, failed[1].ID), chromedp.ByQuery),
		b.shot("p01-banks"))
	require.Equal(t, "2", b.text(`#banks-table tr[data-bank="BOC"] td.failed`))
	require.Equal(t, "失败", b.text(fmt.Sprintf(`#breq-table tr[data-breq="%d"] td[data-code]`, failed[0].ID)))
	require.Equal(t, failedApps[0].Number, b.text(fmt.Sprintf(`#breq-table tr[data-breq="%d"] td:nth-child(4)`, failed[0].ID)))

	// Send the first again: the bank simulator opens the account.
	b.run("retry", chromedp.Click(fmt.Sprintf(`#breq-table button[data-breq="%d"][data-act="retry"]`, failed[0].ID), chromedp.ByQuery),
		chromedp.WaitVisible("#reason-input", chromedp.ByQuery), chromedp.SendKeys("#reason-input", "格式已修正"+kb.Enter, chromedp.ByQuery),
		chromedp.Poll(`document.querySelector('#toast').textContent.includes('#`+strconv.FormatInt(failed[0].ID, 10)+`')`, nil, every))
	require.Eventually(t, func() bool {
		a, err := h.svc.GetApplication(ctx, sys, failedApps[0].ID)
		require.NoError(t, err)
		return a.Status == issuance.StatusBankApproved
	}, 30*time.Second, 20*time.Millisecond, "the retried request reached the bank")

	// Give the second up: a reason is required (Enter alone keeps the
	// dialog open), then the row is cancelled.
	var open bool
	b.run("cancel", chromedp.Click(fmt.Sprintf(`#breq-table button[data-breq="%d"][data-act="cancel"]`, failed[1].ID), chromedp.ByQuery),
		chromedp.WaitVisible("#reason-input", chromedp.ByQuery), chromedp.KeyEvent(kb.Enter),
		chromedp.Evaluate(`document.querySelector('#reason-dialog').open`, &open))
	require.True(t, open, "no reason, no cancel")
	b.run("cancel with a reason", chromedp.SendKeys("#reason-input", "申请人已撤回"+kb.Enter, chromedp.ByQuery),
		chromedp.Poll(`document.querySelector('#toast').textContent.includes('已放弃')`, nil, every))
	res := h.do(http.MethodGet, "/v1/admin/bank-requests?state=cancelled", "admin", nil)
	require.Equal(t, http.StatusOK, res.status, "%s", res.body)
	var list BankRequestList
	res.json(t, &list)
	require.Len(t, list.Items, 1)
	require.Equal(t, failed[1].ID, list.Items[0].ID)
	b.run("filter cancelled", pick("#breq-state", "cancelled"),
		chromedp.WaitVisible(fmt.Sprintf(`#breq-table tr[data-breq="%d"]`, failed[1].ID), chromedp.ByQuery), b.shot("p02-bank-request-cancelled"))

	// English: the codes relabelled.
	b.run("english", chromedp.Click("#lang", chromedp.ByQuery),
		chromedp.Poll(fmt.Sprintf(`(document.querySelector('#breq-table tr[data-breq="%d"] td[data-code]') || {}).textContent === 'Cancelled'`, failed[1].ID), nil, every),
		b.shot("p03-banks-en"))
	b.run("800 px", chromedp.EmulateViewport(800, 1000), chromedp.Sleep(200*time.Millisecond), b.shot("p04-banks-800px"))
	b.noHorizontalScroll("bank requests at 800 px")
	b.run("back", chromedp.EmulateViewport(1366, 768), chromedp.Click("#lang", chromedp.ByQuery))

	// Reconciliations.
	rrow := fmt.Sprintf(`#recon-table tr[data-recon="%d"]`, rep.ID)
	b.run("reconciliations", chromedp.Click(`nav button[data-page="recon"]`, chromedp.ByQuery), chromedp.WaitVisible(rrow, chromedp.ByQuery), b.shot("p05-recon"))
	require.Equal(t, strconv.Itoa(rep.Differences), b.text(rrow+" td.differences"))

	// Products by name.
	var ps struct {
		Items []productResponse `json:"items"`
	}
	h.do(http.MethodGet, "/v1/products", "admin", nil).json(t, &ps)
	var rows int
	b.run("products", chromedp.Click(`nav button[data-page="products"]`, chromedp.ByQuery),
		chromedp.WaitVisible(`#products-table tr[data-product="GD-RV-BOC"]`, chromedp.ByQuery),
		chromedp.Evaluate(`document.querySelectorAll('#products-table tbody tr').length`, &rows), b.shot("p06-products"))
	require.Equal(t, len(ps.Items), rows)
	require.Contains(t, b.text(`#products-table tr[data-product="GD-RV-BOC"]`), "广东省注册志愿者证（中国银行）")
	require.Contains(t, b.text(`#products-table tr[data-product="GD-RV-BOC"]`), "广东省")

	// The organisation tree: Meizhou and its children.
	var kids struct {
		Items []orgResponse `json:"items"`
	}
	h.do(http.MethodGet, "/v1/orgs?parent="+strconv.FormatInt(h.province.ID, 10), "admin", nil).json(t, &kids)
	b.run("orgs", chromedp.Click(`nav button[data-page="orgs"]`, chromedp.ByQuery),
		pickOrg("#orgs-orgpick", h.province.ID),
		chromedp.WaitVisible(`#org-card`, chromedp.ByQuery),
		chromedp.Evaluate(`document.querySelectorAll('#orgs-children tbody tr[data-org]').length`, &rows), b.shot("p07-orgs"))
	require.Equal(t, len(kids.Items), rows)
	require.Contains(t, b.text(`#org-card dd[data-k="orgs.name"]`), "广东省")
	b.run("meizhou", pickOrg("#orgs-orgpick", h.province.ID, h.meizhou.ID),
		chromedp.Poll(`(document.querySelector('#org-card dd[data-k="orgs.name"]') || {}).textContent === '梅州市'`, nil, every))
	require.Equal(t, "地市", b.text(`#org-card dd[data-k="orgs.kind"]`))
	year := time.Now().Year()
	var mh struct {
		Members int     `json:"members"`
		Met     int     `json:"met"`
		Hours   float64 `json:"expected_hours"`
	}
	res = h.do(http.MethodGet, fmt.Sprintf("/v1/orgs/%d/member-hours?year=%d", h.meizhou.ID, year), "admin", nil)
	require.Equal(t, http.StatusOK, res.status, "%s", res.body)
	res.json(t, &mh)
	require.Positive(t, mh.Members, "Meizhou has league members (the check-in holder)")
	require.Equal(t, fmt.Sprintf("年度要求（小时）: %d · 团员/党员人数: %d · 已达标: %d", int(mh.Hours), mh.Members, mh.Met),
		b.text("#members-summary"))

	// A university under Meizhou, created from the page.
	b.run("new organisation", chromedp.WaitVisible("#org-new", chromedp.ByQuery),
		chromedp.SendKeys("#org-new-name", "嘉应学院", chromedp.ByQuery), pick("#org-new-kind", "university"),
		chromedp.SendKeys("#org-new-league", "12000", chromedp.ByQuery),
		chromedp.SendKeys("#org-new-resp", "刘老师", chromedp.ByQuery), chromedp.SendKeys("#org-new-resp-phone", "13712345678", chromedp.ByQuery),
		chromedp.Click(`#org-new button[type="submit"]`, chromedp.ByQuery),
		chromedp.Poll(`[...document.querySelectorAll('#orgs-children tbody tr[data-org]')].some((r) => r.textContent.includes('嘉应学院'))`, nil, every),
		b.shot("p08b-org-created"))
	var mzKids struct {
		Items []orgResponse `json:"items"`
	}
	h.do(http.MethodGet, "/v1/orgs?parent="+strconv.FormatInt(h.meizhou.ID, 10), "admin", nil).json(t, &mzKids)
	var uni orgResponse
	for _, o := range mzKids.Items {
		if o.Name == "嘉应学院" {
			uni = o
		}
	}
	require.NotZero(t, uni.ID, "the university is stored under Meizhou")
	require.Equal(t, "university", uni.Kind)
	require.Equal(t, int64(12000), uni.LeagueMembers)
	require.Equal(t, "刘老师", uni.Responsible.Name)
	uniRow := fmt.Sprintf(`#orgs-children tr[data-org="%d"]`, uni.ID)
	require.Contains(t, b.text(uniRow), "高校")
	require.Contains(t, b.text(uniRow), uni.Responsible.Phone, "the phone as the API masks it")

	// A person's service record; hours added by hand show in it.
	idn := residentID("441402", "19960512", 600)
	b.run("service record", chromedp.Click(`nav button[data-page="volunteers"]`, chromedp.ByQuery),
		chromedp.SendKeys("#vol-id", idn+kb.Enter, chromedp.ByQuery), chromedp.WaitVisible("#service-card", chromedp.ByQuery),
		chromedp.WaitVisible("#hours-form", chromedp.ByQuery),
		chromedp.SendKeys("#hours-hours", "3.5", chromedp.ByQuery), chromedp.SendKeys("#hours-reason", "2026年植树活动补录"+kb.Enter, chromedp.ByQuery),
		chromedp.WaitVisible(fmt.Sprintf(`#service-years tr[data-year="%d"]`, year), chromedp.ByQuery), b.shot("p09-service-record"))
	res = h.do(http.MethodGet, fmt.Sprintf("/v1/volunteers/%d/service-record", failedApps[0].VolunteerID), "admin", nil)
	require.Equal(t, http.StatusOK, res.status, "%s", res.body)
	var record wire.ServiceRecord
	res.json(t, &record)
	require.Equal(t, 3.5, record.LifetimeHours)
	require.Equal(t, "3.5", b.text(fmt.Sprintf(`#service-years tr[data-year="%d"] td.num`, year)))
	require.Equal(t, "持卡志愿者", b.text(`#service-card dd[data-k="service.tier"]`), "the retried application's card is issued by the bank")

	// Cards expiring within 90 days in Meizhou: the retried application's
	// card, made to expire next month (as TestExpiredCardAPI does).
	c, err := h.st.GetCardByApplication(ctx, failedApps[0].ID)
	require.NoError(t, err)
	require.NoError(t, h.st.DB(ctx).Exec(`UPDATE cards SET expiry = ? WHERE id = ?`, time.Now().AddDate(0, 1, 0).Format("0601"), c.ID).Error)
	res = h.do(http.MethodGet, fmt.Sprintf("/v1/orgs/%d/cards/expiring?within=90d", h.meizhou.ID), "admin", nil)
	require.Equal(t, http.StatusOK, res.status, "%s", res.body)
	var exp ExpiringCardList
	res.json(t, &exp)
	require.Len(t, exp.Items, 1)
	require.Equal(t, c.ID, exp.Items[0].ID)
	b.run("expiring", chromedp.Click(`nav button[data-page="expiring"]`, chromedp.ByQuery),
		pickOrg("#expiring-orgpick", h.province.ID, h.meizhou.ID),
		chromedp.SetValue("#expiring-within", "90", chromedp.ByQuery),
		chromedp.Click(`#expiring-form button[type="submit"]`, chromedp.ByQuery),
		chromedp.WaitVisible("#expiring-table", chromedp.ByQuery),
		chromedp.Evaluate(`document.querySelectorAll('#expiring-table tbody tr').length`, &rows), b.shot("p08-expiring"))
	require.Equal(t, len(exp.Items), rows)
	require.Contains(t, b.text("#expiring-table"), exp.Items[0].MaskedPAN)
}
