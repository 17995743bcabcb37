package api

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/volcard/volcard/issuance/checkin"
	"github.com/volcard/volcard/issuance/onsite"
	"github.com/volcard/volcard/issuance/reports"
	"github.com/volcard/volcard/wire"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"

	"github.com/volcard/volcard/cardio/emv"
	"github.com/volcard/volcard/client"
	"github.com/volcard/volcard/internal/ci"
	"github.com/volcard/volcard/issuance"
	"github.com/volcard/volcard/issuance/roster/rostertest"
	"github.com/volcard/volcard/issuance/seed"
	"github.com/volcard/volcard/issuance/store"
	"github.com/volcard/volcard/issuance/store/storetest"
	"github.com/volcard/volcard/pii"
)

// EnvChromium names the variable that may point at the Chromium binary;
// otherwise chromium, chromium-browser or google-chrome on PATH is used.
const EnvChromium = "VOLCARD_CHROMIUM"

// chromiumPath finds Chromium; without it the browser test skips, or fails
// when CI=true.
func chromiumPath(t *testing.T) string {
	t.Helper()
	if p := os.Getenv(EnvChromium); p != "" {
		return p
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if ci.Enabled() {
		t.Fatal("chromium not found (apt-get install chromium fonts-noto-cjk); the browser test cannot be skipped in CI")
	}
	t.Skip("chromium not found (apt-get install chromium fonts-noto-cjk); skipping the browser test")
	return ""
}

// artifactsDir is where screenshots go: $VOLCARD_ARTIFACTS/<test> when set
// (CI keeps it), else the test's temporary directory.
func artifactsDir(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	if a := os.Getenv("VOLCARD_ARTIFACTS"); a != "" {
		dir = filepath.Join(a, t.Name())
	}
	require.NoError(t, os.MkdirAll(dir, 0o755))
	return dir
}

// consoleEnv is a real server on PostgreSQL with the Guangdong demo data,
// the targets, 5,000 generated volunteers, check-in enabled, a province
// admin token and a terminal token of Meizhou.
type consoleEnv struct {
	st       *store.Store
	svc      *issuance.Service
	ts       *httptest.Server
	token    string
	terminal string
	province issuance.Org
	meizhou  issuance.Org
}

func newConsoleEnv(t *testing.T) *consoleEnv {
	t.Helper()
	ctx := context.Background()
	st := storetest.Postgres(t)
	quiet := slog.New(slog.DiscardHandler)
	keys, err := pii.New(testDataKey)
	require.NoError(t, err)
	svc, err := issuance.NewService(st, keys, issuance.WithLogger(quiet), issuance.WithBankOutbox(st))
	require.NoError(t, err)
	_, err = seed.Demo(ctx, svc)
	require.NoError(t, err)
	orgs, err := st.ListOrgs(ctx, "")
	require.NoError(t, err)
	rs, err := reports.New(svc, st)
	require.NoError(t, err)
	_, err = seed.SeedTargets(ctx, rs, orgs)
	require.NoError(t, err)
	_, err = seed.Volunteers(ctx, svc, st, 5000, seed.VolunteersOptions{})
	require.NoError(t, err)
	idem, err := store.NewIdempotencyKeys(st, nil)
	require.NoError(t, err)
	srv, err := New(Options{Service: svc, Idempotency: idem, Ready: st.Ping, Logger: quiet})
	require.NoError(t, err)
	on, err := onsite.New(svc, st)
	require.NoError(t, err)
	require.NoError(t, srv.EnableOnsite(on))
	require.NoError(t, srv.EnableReports(rs))
	cas, err := emv.LoadCAKeys(filepath.Join("..", "testdata", "keys", "ca-public.json"))
	require.NoError(t, err)
	ck, err := checkin.New(svc, st, checkin.Config{Verifier: emv.EvidenceVerifier{CAs: cas}})
	require.NoError(t, err)
	require.NoError(t, srv.EnableCheckin(ck))
	ts := httptest.NewServer(srv)
	t.Cleanup(ts.Close)
	tok, _, err := svc.CreateToken(ctx, issuance.SystemActor(), issuance.NewToken{Name: "browser", Role: issuance.RoleProvinceAdmin})
	require.NoError(t, err)
	mz, err := svc.FindOrg(ctx, issuance.SystemActor(), orgs[0].ID, "梅州市")
	require.NoError(t, err)
	term, _, err := svc.CreateToken(ctx, issuance.SystemActor(), issuance.NewToken{Name: "gate", Role: issuance.RoleTerminal, OrgID: mz.ID})
	require.NoError(t, err)
	return &consoleEnv{st: st, svc: svc, ts: ts, token: tok, terminal: term, province: orgs[0], meizhou: mz}
}

// number reads a formatted integer ("1,234") from an element's text.
func number(t *testing.T, s string) int64 {
	t.Helper()
	n, err := strconv.ParseInt(strings.NewReplacer(",", "", " ", "").Replace(strings.TrimSpace(s)), 10, 64)
	require.NoError(t, err, "not a number: %q", s)
	return n
}

// browser is headless Chromium with one tab, and the helpers the console
// tests use: run (steps with a screenshot on failure), shot (a screenshot
// into the artifacts directory) and text (an element's visible text).
type browser struct {
	t   *testing.T
	ctx context.Context
	dir string
}

// newBrowser starts Chromium with a window of w×h pixels (the console is
// laid out for 1366×768 and for a tablet's ~800 px) and a fresh profile.
func newBrowser(t *testing.T, w, h int) *browser {
	t.Helper()
	chrome := chromiumPath(t)
	dir := artifactsDir(t)
	t.Logf("screenshots in %s", dir)
	// A fresh profile, removed after the browser has exited (t.TempDir
	// would race with Chromium still writing to it).
	profile, err := os.MkdirTemp("", "volcard-chromium-")
	require.NoError(t, err)
	t.Cleanup(func() { _ = os.RemoveAll(profile) })
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chrome), chromedp.NoSandbox, chromedp.Headless, chromedp.DisableGPU,
		chromedp.UserDataDir(profile), chromedp.NoFirstRun, chromedp.WindowSize(w, h),
		chromedp.Flag("disable-background-networking", true), chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true), chromedp.Flag("lang", "zh-CN"))
	actx, cancelA := chromedp.NewExecAllocator(context.Background(), opts...)
	t.Cleanup(cancelA)
	// chromedp reports DOM events it does not model (the reason dialog's
	// top layer) as errors: into the test's log, not stderr.
	ctx, cancelC := chromedp.NewContext(actx, chromedp.WithErrorf(t.Logf))
	t.Cleanup(cancelC)
	ctx, cancelT := context.WithTimeout(ctx, 4*time.Minute)
	t.Cleanup(cancelT)
	// Start the browser on ctx itself: the first Run's context owns it.
	require.NoError(t, chromedp.Run(ctx))
	b := &browser{t: t, ctx: ctx, dir: dir}
	b.logErrors()
	return b
}

// tab opens another tab of the same browser (its own sessionStorage, so
// its own sign-in).
func (b *browser) tab() *browser {
	ctx, cancel := chromedp.NewContext(b.ctx)
	b.t.Cleanup(cancel)
	require.NoError(b.t, chromedp.Run(ctx))
	nb := &browser{t: b.t, ctx: ctx, dir: b.dir}
	nb.logErrors()
	return nb
}

func (b *browser) logErrors() {
	chromedp.ListenTarget(b.ctx, func(ev any) {
		if r, ok := ev.(*network.EventResponseReceived); ok && r.Response.Status >= 400 {
			b.t.Logf("browser: HTTP %d %s %s", r.Response.Status, r.Type, r.Response.URL)
		}
	})
}

func (b *browser) shot(name string) chromedp.Action {
	return chromedp.ActionFunc(func(ctx context.Context) error {
		var buf []byte
		if err := chromedp.FullScreenshot(&buf, 100).Do(ctx); err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(b.dir, name+".png"), buf, 0o644)
	})
}

func (b *browser) run(step string, actions ...chromedp.Action) {
	b.t.Helper()
	sctx, cancel := context.WithTimeout(b.ctx, 60*time.Second) // generous: CI machines are shared
	defer cancel()
	// The tab acted in comes to the front: a tab in the background draws
	// no frames (waits and screenshots would stall).
	if err := chromedp.Run(sctx, append([]chromedp.Action{page.BringToFront()}, actions...)...); err != nil {
		var toast string
		_ = chromedp.Run(b.ctx, b.shot("failed"), chromedp.Text("#toast", &toast, chromedp.ByQuery))
		b.t.Fatalf("%s: %v (last message on the page: %q; see failed.png)", step, err, toast)
	}
}

// text reads an element's visible text in one evaluation in the page,
// waiting until the element is there and rendered: a list the page
// rebuilds between a query and a read (chromedp.Text does both in two
// round trips) would otherwise read as "".
func (b *browser) text(sel string) string {
	b.t.Helper()
	q, err := json.Marshal(sel)
	require.NoError(b.t, err)
	var res struct {
		Text string `json:"text"`
	}
	b.run("read "+sel, chromedp.Poll(fmt.Sprintf(
		`(() => { const e = document.querySelector(%s); return e && e.getClientRects().length ? {text: e.innerText} : null })()`, q), &res, every))
	return res.Text
}

// every makes a poll check on a timer, not on animation frames: a tab in
// the background (another role's, in the same browser) draws no frames.
var every = chromedp.WithPollingInterval(50 * time.Millisecond)

// pick chooses value in a select as a user does (the page hears change).
func pick(sel, value string) chromedp.Action {
	return chromedp.Evaluate(fmt.Sprintf(`(() => { const s = document.querySelector(%q);
		if (!s || ![...s.options].some((o) => o.value === %q)) throw new Error(%q);
		s.value = %q; s.dispatchEvent(new Event("change", {bubbles: true})); })()`, sel, value, "no option "+value+" in "+sel, value), nil)
}

// pickOrg walks the organisation picker #box through ids, one level each,
// waiting for each level to load.
func pickOrg(box string, ids ...int64) chromedp.Action {
	var acts chromedp.Tasks
	for i, id := range ids {
		sel := fmt.Sprintf(`%s select[data-level="%d"]`, box, i)
		opt := fmt.Sprintf(`%s option[value="%d"]`, sel, id)
		acts = append(acts, chromedp.WaitReady(opt, chromedp.ByQuery), pick(sel, strconv.FormatInt(id, 10)),
			chromedp.Poll(fmt.Sprintf(`document.querySelector(%q).dataset.ready === "%d"`, box, id), nil, every))
	}
	return acts
}

// signIn opens the console and signs in with token.
func (b *browser) signIn(url, token string) {
	b.t.Helper()
	b.run("sign in", chromedp.Navigate(url+"/"), chromedp.WaitVisible("#signin-form", chromedp.ByQuery),
		chromedp.SetValue("#token", token, chromedp.ByQuery), chromedp.Click(`#signin-form button[type="submit"]`, chromedp.ByQuery),
		chromedp.WaitVisible("#nav", chromedp.ByQuery), chromedp.WaitVisible("#whoami", chromedp.ByQuery))
}

// navShown lists the pages the menu offers.
func (b *browser) navShown() []string {
	var pages []string
	b.run("menu", chromedp.Evaluate(`[...document.querySelectorAll("nav button")].filter((b) => !b.hidden).map((b) => b.dataset.page)`, &pages))
	return pages
}

// noHorizontalScroll checks that the page fits its window's width (wide
// tables scroll inside their own box).
func (b *browser) noHorizontalScroll(what string) {
	b.t.Helper()
	var fits bool
	b.run("width "+what, chromedp.Evaluate(`document.documentElement.scrollWidth <= window.innerWidth`, &fits))
	require.True(b.t, fits, "%s: the page is wider than the window", what)
}

// TestConsoleInBrowser drives the console in headless Chromium as a
// province admin: sign in, look at the province dashboard, request an
// on-site session for Meizhou, upload a 30-person roster, approve one
// application in the queue and the rest as a batch, have the bank issue a
// card, and watch the Meizhou dashboard numbers change. Screenshots go to
// artifactsDir.
func TestConsoleInBrowser(t *testing.T) {
	b := newBrowser(t, 1366, 768)
	env := newConsoleEnv(t)
	run, shot, text := b.run, b.shot, b.text
	year := strconv.Itoa(time.Now().In(time.FixedZone("CST", 8*3600)).Year())
	mzID := strconv.FormatInt(env.meizhou.ID, 10)
	// dashboard shows the targets of year y for org (empty: the province)
	// and returns its figures, read in one go once that report is shown.
	type figures struct {
		Org                            string
		Registered, Holders, Submitted string
	}
	dashboard := func(y, org string) figures {
		t.Helper()
		var f figures
		orgs := []int64{env.province.ID}
		if org != "" {
			orgs = append(orgs, env.meizhou.ID)
		}
		run("dashboard "+y+" "+org,
			chromedp.Click(`nav button[data-page="targets"]`, chromedp.ByQuery),
			chromedp.SetValue("#targets-year", y, chromedp.ByQuery),
			pickOrg("#targets-orgpick", orgs...),
			chromedp.Poll(fmt.Sprintf(`document.querySelector('#targets-org').value === %q`, strconv.FormatInt(orgs[len(orgs)-1], 10)), nil),
			chromedp.Evaluate(`delete document.querySelector('#kpis').dataset.key`, nil),
			chromedp.Click("#targets-refresh", chromedp.ByQuery),
			chromedp.Poll(fmt.Sprintf(`document.querySelector('#kpis').dataset.key === %q`, y+":"+strconv.FormatInt(orgs[len(orgs)-1], 10)), nil),
			chromedp.Evaluate(`(() => { const q = (s) => document.querySelector(s).textContent;
				return {Org: q('#kpi-org .value'), Registered: q('#kpi-registered .value'),
				        Holders: q('#kpi-holders .value'), Submitted: q('#funnel-submitted b')}; })()`, &f))
		return f
	}

	// Sign in.
	run("open", chromedp.Navigate(env.ts.URL+"/"), chromedp.WaitVisible("#signin-form", chromedp.ByQuery), shot("01-signin"))
	require.Equal(t, "使用令牌登录", text("#page-signin h2"))
	run("bad token", chromedp.SendKeys("#token", "vc_wrong", chromedp.ByQuery), chromedp.Click(`#signin-form button[type="submit"]`, chromedp.ByQuery),
		chromedp.Poll(`document.querySelector('#signin-error').textContent !== ''`, nil))
	run("sign in", chromedp.SetValue("#token", env.token, chromedp.ByQuery), chromedp.Click(`#signin-form button[type="submit"]`, chromedp.ByQuery),
		chromedp.WaitVisible("#nav", chromedp.ByQuery), chromedp.WaitVisible("#page-queue", chromedp.ByQuery))

	// The province dashboard of 2018 with charts against the target line.
	prov := dashboard("2018", "")
	run("charts", chromedp.WaitVisible(`svg[data-indicator="card_rate"] .target-line`, chromedp.ByQuery),
		chromedp.Sleep(200*time.Millisecond), shot("02-targets-province-2018"))
	require.Equal(t, "广东省", prov.Org)
	require.Positive(t, number(t, prov.Registered))
	var bars int
	run("count bars", chromedp.Evaluate(`document.querySelectorAll('svg[data-indicator="volunteer_rate"] rect').length`, &bars))
	require.Equal(t, 21, bars, "one bar per city")
	run("english", chromedp.Click("#lang", chromedp.ByQuery), chromedp.WaitVisible("#kpi-registered", chromedp.ByQuery),
		chromedp.Sleep(300*time.Millisecond), shot("03-targets-province-2018-en"))
	require.Equal(t, "Targets", text("#page-targets h2"))
	run("chinese", chromedp.Click("#lang", chromedp.ByQuery))

	// Meizhou this year, before the roster.
	before := dashboard(year, mzID)
	require.Equal(t, "梅州市", before.Org)
	regBefore, holdersBefore, submittedBefore := number(t, before.Registered), number(t, before.Holders), number(t, before.Submitted)

	// On-site session, roster upload, row report.
	people := rostertest.People(30, 777000)
	rosterFile := filepath.Join(t.TempDir(), "roster.csv")
	require.NoError(t, os.WriteFile(rosterFile, rostertest.CSV(people, false, true), 0o600))
	tomorrow := time.Now().Add(24 * time.Hour).Format("2006-01-02")
	run("on-site session",
		chromedp.Click(`nav button[data-page="onsite"]`, chromedp.ByQuery),
		chromedp.WaitVisible("#onsite-new", chromedp.ByQuery),
		pickOrg("#onsite-orgpick", env.province.ID, env.meizhou.ID),
		chromedp.SetValue("#onsite-site", "嘉应学院体育馆", chromedp.ByQuery),
		chromedp.SetValue("#onsite-date", tomorrow, chromedp.ByQuery),
		chromedp.SetValue("#onsite-count", "30", chromedp.ByQuery),
		chromedp.SetValue("#onsite-product", "GD-RV-BOC", chromedp.ByQuery),
		chromedp.Click(`#onsite-new button[type="submit"]`, chromedp.ByQuery),
		chromedp.WaitVisible("#onsite-session-line", chromedp.ByQuery),
		chromedp.WaitVisible("#onsite-upload", chromedp.ByQuery),
		chromedp.SetUploadFiles("#onsite-file", []string{rosterFile}, chromedp.ByQuery),
		chromedp.Click(`#onsite-upload button[type="submit"]`, chromedp.ByQuery),
		chromedp.WaitVisible("#roster-summary", chromedp.ByQuery),
		chromedp.WaitVisible("#onsite-counts", chromedp.ByQuery),
		shot("04-onsite-roster"))
	require.Contains(t, text("#roster-summary"), "有效: 30")

	// Review queue: approve one application by hand.
	run("queue",
		chromedp.Click(`nav button[data-page="queue"]`, chromedp.ByQuery),
		chromedp.WaitVisible(`#queue-table button[data-act="approve"]`, chromedp.ByQuery),
		chromedp.Poll(`document.querySelector('#queue-table tbody tr td.org').textContent === '梅州市'`, nil),
		shot("05-queue"),
		chromedp.Click(`#queue-table button[data-act="approve"]`, chromedp.ByQuery),
		chromedp.Poll(`document.querySelector('#toast').textContent.includes('已审核通过')`, nil))

	mid := dashboard(year, mzID)
	regAfter := number(t, mid.Registered)
	require.Greater(t, regAfter, regBefore, "roster registrations show on the dashboard")
	require.Equal(t, submittedBefore+29, number(t, mid.Submitted), "30 submitted, one approved")

	// The rest as a batch.
	run("batch approve",
		chromedp.Click(`nav button[data-page="onsite"]`, chromedp.ByQuery),
		chromedp.Click("#onsite-approve", chromedp.ByQuery),
		chromedp.Poll(`document.querySelector('#toast').textContent.includes('审核通过')`, nil),
		chromedp.Sleep(300*time.Millisecond), shot("06-onsite-approved"))
	// The toast of the single approval above may still be showing: wait
	// for the batch itself on the server (slow under -race).
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(200 * time.Millisecond) {
		if number(t, dashboard(year, mzID).Submitted) == submittedBefore {
			break
		}
	}

	// The bank issues one card (as the bank gateway would).
	apps, err := env.svc.ListApplications(context.Background(), issuance.SystemActor(),
		issuance.ApplicationFilter{OrgID: env.meizhou.ID, Limit: 200})
	require.NoError(t, err)
	var issued bool
	for _, a := range apps.Items {
		if a.Status != issuance.StatusApproved && a.Status != issuance.StatusBankPending {
			continue
		}
		path := []issuance.Status{issuance.StatusBankPending, issuance.StatusBankApproved, issuance.StatusPersonalized, issuance.StatusIssued}
		if a.Status == issuance.StatusBankPending {
			path = path[1:]
		}
		for _, st := range path {
			_, err := env.svc.Transition(context.Background(), issuance.SystemActor(), a.ID, st, "")
			require.NoError(t, err)
		}
		issued = true
		break
	}
	require.True(t, issued)

	after := dashboard(year, mzID)
	run("final", shot("07-targets-meizhou-after"))
	require.Equal(t, holdersBefore+1, number(t, after.Holders), "the issued card shows at once")
	require.Equal(t, submittedBefore, number(t, after.Submitted), "the batch left nothing submitted")
	t.Logf("Meizhou %s: registered %d → %d, holders %d → %d", year, regBefore, regAfter, holdersBefore, holdersBefore+1)

	// The on-site sessions list: the session above with its 30 rows.
	rowSel := func(id int64, cell string) string {
		return fmt.Sprintf(`#onsite-table tr[data-session="%d"] td.%s`, id, cell)
	}
	var line string
	run("session line", chromedp.Evaluate(`document.querySelector('#onsite-session-line').textContent`, &line))
	firstSession := onsiteSessionID(t, line)
	run("sessions list",
		chromedp.Click(`nav button[data-page="onsite"]`, chromedp.ByQuery),
		chromedp.WaitVisible(rowSel(firstSession, "accepted"), chromedp.ByQuery))
	require.Equal(t, "30", text(rowSel(firstSession, "accepted")))
	require.Equal(t, "0", text(rowSel(firstSession, "rejected")))
	require.Contains(t, text(fmt.Sprintf(`#onsite-table tr[data-session="%d"]`, firstSession)), "梅州市")

	// A second session, requested through the API, opened from the list;
	// the 45-row GB18030 roster with 5 bad rows: the row report explains
	// 行号 and the masking (a province admin sees masked ID numbers).
	api, err := client.New(env.ts.URL, env.token)
	require.NoError(t, err)
	second, err := api.RequestOnsiteSession(context.Background(), wire.NewOnsiteSession{OrgID: env.meizhou.ID,
		Site: "梅州市青年活动中心", Date: tomorrow, ExpectedCount: 45, Product: "GD-RV-BOC"})
	require.NoError(t, err)
	fixture, err := filepath.Abs(filepath.Join("..", "testdata", "rosters", "onsite-45-gb18030.csv"))
	require.NoError(t, err)
	run("open the second session",
		chromedp.Click("#onsite-refresh", chromedp.ByQuery),
		chromedp.WaitVisible(fmt.Sprintf(`#onsite-table button[data-open="%d"]`, second.ID), chromedp.ByQuery),
		chromedp.Sleep(200*time.Millisecond), shot("08-onsite-sessions"),
		chromedp.Click(fmt.Sprintf(`#onsite-table button[data-open="%d"]`, second.ID), chromedp.ByQuery),
		chromedp.Poll(fmt.Sprintf(`document.querySelector('#onsite-session-line').textContent.includes('#%d')`, second.ID), nil),
		chromedp.SetUploadFiles("#onsite-file", []string{fixture}, chromedp.ByQuery),
		chromedp.Click(`#onsite-upload button[type="submit"]`, chromedp.ByQuery),
		chromedp.WaitVisible("#roster-summary", chromedp.ByQuery),
		chromedp.WaitVisible("#onsite-rejected", chromedp.ByQuery),
		chromedp.WaitVisible("#onsite-masked-help", chromedp.ByQuery),
		chromedp.Poll(fmt.Sprintf(`(document.querySelector('%s') || {}).textContent === '5'`, rowSel(second.ID, "rejected")), nil),
		chromedp.Sleep(300*time.Millisecond), shot("09-onsite-rejected-rows"))
	require.Contains(t, text("#roster-summary"), "无效: 5")
	require.Contains(t, text("#onsite-line-help"), "行号")
	require.Contains(t, text("#onsite-line-help"), "原文件")
	require.Equal(t, "40", text(rowSel(second.ID, "accepted")))
	var lines []string
	run("rejected lines", chromedp.Evaluate(`[...document.querySelectorAll('#roster-rows tr.rejected')].map((r) => r.dataset.line)`, &lines))
	require.Len(t, lines, 5)

	// Live check-ins: the activity is picked from the list of today's and
	// upcoming activities (yesterday's is not offered); empty, then a tap
	// recorded through the API (a terminal reading the software card) shows
	// up by polling, and in the picker's count after a reload.
	ctx0 := context.Background()
	newActivity := func(title string, from, to time.Time) wire.Activity {
		t.Helper()
		a, err := api.CreateActivity(ctx0, wire.NewActivity{OrgID: env.meizhou.ID, Title: title, Site: "梅江区",
			StartsAt: from, EndsAt: to})
		require.NoError(t, err)
		return a
	}
	act := newActivity("梅州马拉松志愿服务", time.Now().Add(-time.Hour), time.Now().Add(5*time.Hour))
	upcoming := newActivity("客天下景区导览", time.Now().Add(30*time.Hour), time.Now().Add(33*time.Hour))
	past := newActivity("梅州读书会", time.Now().Add(-30*time.Hour), time.Now().Add(-26*time.Hour))
	_, err = env.svc.RegisterVolunteer(ctx0, issuance.SystemActor(), issuance.NewVolunteer{OrgID: env.meizhou.ID,
		Name: "张晓明", IDNumber: checkinCardID, Phone: "13812345678", LeagueMember: true})
	require.NoError(t, err)
	option := func(group string, id int64) string {
		return fmt.Sprintf(`#checkins-activity optgroup[data-group=%q] option[value="%d"]`, group, id)
	}
	exists := func(sel string) string { return fmt.Sprintf(`document.querySelector(%q) !== null`, sel) }
	var noPast bool
	run("live check-ins: the picker",
		chromedp.Click(`nav button[data-page="checkins"]`, chromedp.ByQuery),
		chromedp.Poll(exists(option("today", act.ID)), nil),
		chromedp.Poll(exists(option("upcoming", upcoming.ID)), nil),
		chromedp.Evaluate(fmt.Sprintf(`document.querySelector('#checkins-activity option[value="%d"]') === null`, past.ID), &noPast))
	require.True(t, noPast, "yesterday's activity is not offered")
	optionText := func(sel string) string {
		t.Helper()
		var s string
		run("read "+sel, chromedp.TextContent(sel, &s, chromedp.ByQuery))
		return s
	}
	require.Contains(t, optionText(option("today", act.ID)), "梅州马拉松志愿服务")
	require.Contains(t, optionText(option("today", act.ID)), "梅州市")
	require.Contains(t, optionText(option("upcoming", upcoming.ID)), "客天下景区导览")
	actID := strconv.FormatInt(act.ID, 10)
	run("live check-ins (empty)",
		chromedp.Sleep(200*time.Millisecond), shot("10-checkins-picker"),
		chromedp.Click(option("today", act.ID), chromedp.ByQuery),
		chromedp.WaitVisible("#checkins-total", chromedp.ByQuery))
	require.Equal(t, "0", text("#checkins-total"))
	gate, err := client.New(env.ts.URL, env.terminal)
	require.NoError(t, err)
	ch, err := gate.Challenge(ctx0)
	require.NoError(t, err)
	tap, err := gate.Tap(ctx0, act.ID, wire.TapRequest{Seq: 1, ChallengeID: ch.ID, Card: cardEvidence(t, "default.json", ch.UN)})
	require.NoError(t, err)
	require.Equal(t, wire.KindCheckIn, tap.Kind)
	run("live check-ins (after the tap)",
		chromedp.Poll(`document.querySelector('#checkins-total').textContent === '1'`, nil, chromedp.WithPollingTimeout(15*time.Second)),
		chromedp.Click("#checkins-reload", chromedp.ByQuery),
		chromedp.Poll(fmt.Sprintf(`(document.querySelector('%s') || {}).textContent.includes('签到人次 1 · 在场 1')`, option("today", act.ID)), nil),
		chromedp.Sleep(200*time.Millisecond), shot("11-checkins-live"))
	var picked string
	run("picked", chromedp.Value("#checkins-activity", &picked, chromedp.ByQuery))
	require.Equal(t, actID, picked, "the reload keeps the activity being watched")
	require.Equal(t, "1", text("#checkins-open"))
	require.Contains(t, text("#checkins-result"), "梅州马拉松志愿服务")
	require.Contains(t, text("#checkins-result table"), "张*明", "names are masked")
	require.NotContains(t, text("#checkins-result table"), "张晓明")
	require.Contains(t, text("#checkins-state"), "自动刷新")

	// The English switch relabels the picker and keeps watching.
	run("live check-ins in English",
		chromedp.Click("#lang", chromedp.ByQuery),
		chromedp.Poll(`document.querySelector('#checkins-activity optgroup[data-group="today"]').label === 'Today'`, nil),
		chromedp.Poll(fmt.Sprintf(`(document.querySelector('%s') || {}).textContent.includes('check-ins 1 · On site 1')`, option("today", act.ID)), nil),
		chromedp.Poll(`document.querySelector('#checkins-state').textContent.includes('refreshing')`, nil, chromedp.WithPollingTimeout(15*time.Second)),
		chromedp.Sleep(200*time.Millisecond), shot("12-checkins-live-en"))
	run("picked (English)", chromedp.Value("#checkins-activity", &picked, chromedp.ByQuery))
	require.Equal(t, actID, picked)
	require.Equal(t, "Live check-ins", text("#page-checkins h2"))
	run("chinese again", chromedp.Click("#lang", chromedp.ByQuery))
}

// onsiteSessionID reads the id from the session line ("场次 #12 · ...").
func onsiteSessionID(t *testing.T, line string) int64 {
	t.Helper()
	_, rest, ok := strings.Cut(line, "#")
	require.True(t, ok, "no session id in %q", line)
	digits, _, _ := strings.Cut(rest, " ")
	id, err := strconv.ParseInt(digits, 10, 64)
	require.NoError(t, err, "no session id in %q", line)
	return id
}
