package api

import (
	"context"
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

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"

	"github.com/volcard/volcard/issuance"
	"github.com/volcard/volcard/issuance/pii"
	"github.com/volcard/volcard/issuance/roster/rostertest"
	"github.com/volcard/volcard/issuance/seed"
	"github.com/volcard/volcard/issuance/store"
	"github.com/volcard/volcard/issuance/store/storetest"
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
	if os.Getenv("CI") == "true" {
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
// the targets, 5,000 generated volunteers and a province admin token.
type consoleEnv struct {
	st      *store.Store
	svc     *issuance.Service
	ts      *httptest.Server
	token   string
	meizhou issuance.Org
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
	_, err = seed.SeedTargets(ctx, svc, orgs)
	require.NoError(t, err)
	_, err = seed.Volunteers(ctx, svc, st, 5000, seed.VolunteersOptions{})
	require.NoError(t, err)
	idem, err := store.NewIdempotencyKeys(st, nil)
	require.NoError(t, err)
	srv, err := New(Options{Service: svc, Idempotency: idem, Ready: st.Ping, Logger: quiet})
	require.NoError(t, err)
	onsite := false
	for _, r := range srv.Routes() {
		onsite = onsite || r.Path == "/v1/onsite-sessions"
	}
	if !onsite { // until routes() wires the on-site API itself
		srv.onsiteRoutes(srv.e.Group("/v1"), srv.authenticate(), srv.idempotency())
	}
	ts := httptest.NewServer(srv)
	t.Cleanup(ts.Close)
	tok, _, err := svc.CreateToken(ctx, issuance.SystemActor(), issuance.NewToken{Name: "browser", Role: issuance.RoleProvinceAdmin})
	require.NoError(t, err)
	mz, err := svc.FindOrg(ctx, issuance.SystemActor(), orgs[0].ID, "梅州市")
	require.NoError(t, err)
	return &consoleEnv{st: st, svc: svc, ts: ts, token: tok, meizhou: mz}
}

// number reads a formatted integer ("1,234") from an element's text.
func number(t *testing.T, s string) int64 {
	t.Helper()
	n, err := strconv.ParseInt(strings.NewReplacer(",", "", " ", "").Replace(strings.TrimSpace(s)), 10, 64)
	require.NoError(t, err, "not a number: %q", s)
	return n
}

// TestConsoleInBrowser drives the console in headless Chromium: sign in,
// look at the province dashboard, request an on-site session for Meizhou,
// upload a 30-person roster, approve one application in the queue and the
// rest as a batch, have the bank issue a card, and watch the Meizhou
// dashboard numbers change. Screenshots go to artifactsDir.
func TestConsoleInBrowser(t *testing.T) {
	chrome := chromiumPath(t)
	env := newConsoleEnv(t)
	dir := artifactsDir(t)
	t.Logf("screenshots in %s", dir)

	// A fresh profile, removed after the browser has exited (t.TempDir
	// would race with Chromium still writing to it).
	profile, err := os.MkdirTemp("", "volcard-chromium-")
	require.NoError(t, err)
	t.Cleanup(func() { _ = os.RemoveAll(profile) })
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chrome), chromedp.NoSandbox, chromedp.Headless, chromedp.DisableGPU,
		chromedp.UserDataDir(profile), chromedp.NoFirstRun, chromedp.WindowSize(1280, 1000),
		chromedp.Flag("disable-background-networking", true), chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true), chromedp.Flag("lang", "zh-CN"))
	actx, cancelA := chromedp.NewExecAllocator(context.Background(), opts...)
	defer cancelA()
	ctx, cancelC := chromedp.NewContext(actx)
	defer cancelC()
	ctx, cancelT := context.WithTimeout(ctx, 3*time.Minute)
	defer cancelT()
	// Start the browser on ctx itself: the first Run's context owns it.
	require.NoError(t, chromedp.Run(ctx))
	chromedp.ListenTarget(ctx, func(ev any) {
		if r, ok := ev.(*network.EventResponseReceived); ok && r.Response.Status >= 400 {
			t.Logf("browser: HTTP %d %s %s", r.Response.Status, r.Type, r.Response.URL)
		}
	})

	shot := func(name string) chromedp.Action {
		return chromedp.ActionFunc(func(ctx context.Context) error {
			var buf []byte
			if err := chromedp.FullScreenshot(&buf, 100).Do(ctx); err != nil {
				return err
			}
			return os.WriteFile(filepath.Join(dir, name+".png"), buf, 0o644)
		})
	}
	run := func(step string, actions ...chromedp.Action) {
		t.Helper()
		sctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		defer cancel()
		if err := chromedp.Run(sctx, actions...); err != nil {
			var toast string
			_ = chromedp.Run(ctx, shot("failed"), chromedp.Text("#toast", &toast, chromedp.ByQuery))
			t.Fatalf("%s: %v (last message on the page: %q; see failed.png)", step, err, toast)
		}
	}
	text := func(sel string) string {
		t.Helper()
		var s string
		run("read "+sel, chromedp.Text(sel, &s, chromedp.ByQuery))
		return s
	}
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
		run("dashboard "+y+" "+org,
			chromedp.Click(`nav button[data-page="targets"]`, chromedp.ByQuery),
			chromedp.SetValue("#targets-year", y, chromedp.ByQuery),
			chromedp.SetValue("#targets-org", org, chromedp.ByQuery),
			chromedp.Evaluate(`delete document.querySelector('#kpis').dataset.key`, nil),
			chromedp.Click("#targets-refresh", chromedp.ByQuery),
			chromedp.Poll(fmt.Sprintf(`document.querySelector('#kpis').dataset.key === %q`, y+":"+org), nil),
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
		chromedp.SetValue("#onsite-org", mzID, chromedp.ByQuery),
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
		shot("05-queue"),
		chromedp.Click(`#queue-table button[data-act="approve"]`, chromedp.ByQuery),
		chromedp.Poll(`document.querySelector('#toast').textContent.includes('approved')`, nil))

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
}
