package api

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	cdpbrowser "github.com/chromedp/cdproto/browser"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
	"github.com/stretchr/testify/require"

	"github.com/volcard/volcard/bankgw"
	"github.com/volcard/volcard/bankgw/banksim"
	"github.com/volcard/volcard/issuance"
	"github.com/volcard/volcard/issuance/platformlink"
	"github.com/volcard/volcard/issuance/store"
	"github.com/volcard/volcard/pii"
	"github.com/volcard/volcard/wire"
)

// issuedHolderCard has the bank simulator (over TCP) open the account of
// the Meizhou check-in holder and hands the card over: an issued card.
func issuedHolderCard(t *testing.T, h *cardHarness) Card {
	t.Helper()
	ctx, sys := context.Background(), issuance.SystemActor()
	app, err := h.svc.Apply(ctx, sys, h.holder.ID, "GD-RV-BOC", issuance.ChannelOnline)
	require.NoError(t, err)
	_, err = h.svc.Approve(ctx, sys, app.ID)
	require.NoError(t, err)
	require.Eventually(t, func() bool {
		a, err := h.svc.GetApplication(ctx, sys, app.ID)
		require.NoError(t, err)
		return a.Status == issuance.StatusBankApproved
	}, 30*time.Second, 10*time.Millisecond)
	for _, to := range []issuance.Status{issuance.StatusPersonalized, issuance.StatusIssued} {
		_, err = h.svc.Transition(ctx, sys, app.ID, to, "handed over")
		require.NoError(t, err)
	}
	c, err := h.svc.CardOf(ctx, app.ID)
	require.NoError(t, err)
	return h.card(t, c.ID, "admin")
}

// downloads has the browser save downloads into a directory and returns
// a function waiting for the file name there and returning its bytes.
func (b *browser) downloads() func(name string) []byte {
	dir := b.t.TempDir()
	b.run("downloads", cdpbrowser.SetDownloadBehavior(cdpbrowser.SetDownloadBehaviorBehaviorAllow).WithDownloadPath(dir))
	return func(name string) []byte {
		b.t.Helper()
		var data []byte
		require.Eventually(b.t, func() bool {
			d, err := os.ReadFile(filepath.Join(dir, name))
			if err != nil || len(d) == 0 {
				return false
			}
			data = d
			return true
		}, 30*time.Second, 50*time.Millisecond, "no download %s", name)
		return data
	}
}

// switchTestBank is the embedded bank of `volcard serve` for a test: the
// simulator pushes the advice over its TCP link; until a simulator is set
// it answers as a real bank does (ErrNoTestBank).
type switchTestBank struct {
	mu  sync.Mutex
	sim *banksim.Sim
}

var _ issuance.TestBank = (*switchTestBank)(nil)

func (s *switchTestBank) set(sim *banksim.Sim) { s.mu.Lock(); s.sim = sim; s.mu.Unlock() }

func (s *switchTestBank) SendAdvice(ctx context.Context, bank string, a issuance.TestAdvice) (issuance.TestAdviceResult, error) {
	s.mu.Lock()
	sim := s.sim
	s.mu.Unlock()
	if sim == nil {
		return issuance.TestAdviceResult{}, fmt.Errorf("bank %s: %w", bank, issuance.ErrNoTestBank)
	}
	r := banksim.AdviceRequest{Kind: bankgw.AdviceActivation, PAN: a.PAN.Reveal()}
	if !a.Activation {
		r.Kind, r.Amount, r.MerchantName, r.Spending = bankgw.AdviceSpending, a.Amount, a.Merchant, bankgw.SpendingPurchase
	}
	rc, tr, err := sim.PushAdvice(ctx, r)
	if err != nil {
		return issuance.TestAdviceResult{}, err
	}
	return issuance.TestAdviceResult{RRN: tr.RRN, ResponseCode: rc}, nil
}

// withTestBank serves the API with a Service that has tb as its test bank
// (same store, so the harness's own Service sees everything it writes).
func withTestBank(t *testing.T, tb issuance.TestBank) func(*store.Store, *Options) {
	return func(st *store.Store, o *Options) {
		keys, err := pii.New(testDataKey)
		require.NoError(t, err)
		svc, err := issuance.NewService(st, keys, issuance.WithBankOutbox(st), issuance.WithTestBank(tb),
			issuance.WithLogger(slog.New(slog.DiscardHandler)))
		require.NoError(t, err)
		o.Service = svc
	}
}

// clickWhenThere clicks sel in one evaluation in the page, retrying until it
// is there: a list the page rebuilds after a menu click would otherwise
// lose the node between chromedp's query and its click.
func clickWhenThere(sel string) chromedp.Action {
	return chromedp.Poll(fmt.Sprintf(`(() => { const e = document.querySelector(%q); if (!e) return false; e.click(); return true; })()`, sel), nil, every)
}

// yuanText formats fen as the console shows CNY in Chinese (two decimals).
func yuanText(fen int64) string { return fmt.Sprintf("%d.%02d", fen/100, fen%100) }

func lastMonth() string {
	now := time.Now().In(issuance.ChinaTime)
	return time.Date(now.Year(), now.Month()-1, 1, 0, 0, 0, 0, issuance.ChinaTime).Format("2006-01")
}

// TestConsoleMoneyOrgAdminInBrowser drives the pages of the card's life and
// its money as Meizhou's org admin: an offer created, changed, withdrawn and
// its redemptions; the insurance report; the month's rebate statements and
// their CSV; a renewal batch started and followed; a card renewed from the
// People page. Each step is checked through the API.
func TestConsoleMoneyOrgAdminInBrowser(t *testing.T) {
	b := newBrowser(t, 1366, 768)
	h := newCardHarness(t)
	card := issuedHolderCard(t, h)
	saved := b.downloads()
	mz := strconv.FormatInt(h.meizhou.ID, 10)
	b.signIn(h.ts.URL, h.tokens["mz"])

	// Offers: create (the org picker holds Meizhou, the admin's root).
	offers := func() []wire.Offer {
		res := h.do(http.MethodGet, "/v1/offers?withdrawn=true", "mz", nil)
		require.Equal(t, http.StatusOK, res.status, "%s", res.body)
		var l struct{ Items []wire.Offer }
		res.json(t, &l)
		return l.Items
	}
	b.run("offers", chromedp.Click(`nav button[data-page="offers"]`, chromedp.ByQuery),
		chromedp.Poll(`document.querySelector('.orgpick[data-target="offer-org"]').dataset.ready === "`+mz+`"`, nil, every),
		chromedp.SetValue("#offer-title", "凭卡九折", chromedp.ByQuery), pick("#offer-tier", "star"),
		chromedp.Click(`#offer-form button[type="submit"]`, chromedp.ByQuery),
		chromedp.WaitVisible(`#offers-table tr[data-offer]`, chromedp.ByQuery))
	require.Eventually(t, func() bool { l := offers(); return len(l) == 1 && l[0].Title == "凭卡九折" }, 10*time.Second, 50*time.Millisecond)
	o := offers()[0]
	require.Equal(t, h.meizhou.ID, o.OrgID)
	require.Equal(t, "star", o.Tier)
	row := fmt.Sprintf(`#offers-table tr[data-offer="%d"]`, o.ID)
	require.Equal(t, "星级志愿者", b.text(row+" td[data-code]"))
	require.Equal(t, "梅州市", b.text(row+" td:nth-child(2)"), "the organisation by name")

	// Change it (the form filled from the row), then withdraw it.
	b.run("change", chromedp.Click(row+` button[data-act="change"]`, chromedp.ByQuery),
		chromedp.Poll(`document.querySelector('#offer-title').value === '凭卡九折'`, nil, every),
		chromedp.SetValue("#offer-title", "凭卡八折", chromedp.ByQuery), chromedp.Click(`#offer-form button[type="submit"]`, chromedp.ByQuery))
	require.Eventually(t, func() bool { return offers()[0].Title == "凭卡八折" }, 10*time.Second, 50*time.Millisecond)
	b.run("withdraw", chromedp.Poll(`(document.querySelector('`+row+` td:first-child') || {}).textContent === '凭卡八折'`, nil, every),
		chromedp.Click(row+` button[data-act="withdraw"]`, chromedp.ByQuery),
		chromedp.WaitVisible("#reason-input", chromedp.ByQuery), chromedp.SendKeys("#reason-input", "商家停业"+kb.Enter, chromedp.ByQuery))
	require.Eventually(t, func() bool { return offers()[0].WithdrawnAt != nil }, 10*time.Second, 50*time.Millisecond)
	require.Equal(t, "商家停业", offers()[0].WithdrawReason)
	b.run("redemptions", chromedp.Click("#offers-withdrawn", chromedp.ByQuery), chromedp.WaitVisible(row+` button[data-act="redemptions"]`, chromedp.ByQuery),
		chromedp.Click(row+` button[data-act="redemptions"]`, chromedp.ByQuery), chromedp.WaitVisible("#offer-redemptions p", chromedp.ByQuery),
		b.shot("m01-offers"))
	require.Equal(t, "还没有使用记录。", b.text("#offer-redemptions p"))
	require.Contains(t, b.text(row+" td.state-cell"), "已撤下")
	b.run("800 px", chromedp.EmulateViewport(800, 1000), chromedp.Sleep(200*time.Millisecond), b.shot("m02-offers-800px"))
	b.noHorizontalScroll("offers at 800 px")
	b.run("back to 1366", chromedp.EmulateViewport(1366, 768))

	// Insurance: the report of Meizhou; no policies for an org admin.
	res := h.do(http.MethodGet, "/v1/orgs/"+mz+"/insurance", "mz", nil)
	require.Equal(t, http.StatusOK, res.status, "%s", res.body)
	var rep struct {
		Insured int64
		Items   []struct {
			OrgID   int64 `json:"org_id"`
			Insured int64
		}
	}
	res.json(t, &rep)
	b.run("insurance", chromedp.Click(`nav button[data-page="insurance"]`, chromedp.ByQuery),
		chromedp.Poll(`document.querySelector('#ins-report').dataset.loaded === "`+mz+`"`, nil, every), b.shot("m03-insurance"))
	require.Equal(t, rep.Insured, number(t, b.text(`#ins-table tr.total th.insured`)))
	var orgRows int
	b.run("insurance rows", chromedp.Evaluate(`document.querySelectorAll('#ins-table tr[data-org]').length`, &orgRows))
	require.Equal(t, len(rep.Items), orgRows, "a row per organisation of the report")
	var hidden bool
	b.run("no policies", chromedp.Evaluate(`document.querySelector('#policy-form').getClientRects().length === 0`, &hidden))
	require.True(t, hidden, "policies are the province admin's")

	// Rebates: last month generated by the province; the org admin reads
	// it and exports it as CSV.
	month := lastMonth()
	res = h.do(http.MethodPost, "/v1/admin/rebates/statements", "admin", map[string]any{"month": month})
	require.Contains(t, []int{http.StatusOK, http.StatusCreated}, res.status, "%s", res.body)
	b.run("rebates", chromedp.Click(`nav button[data-page="rebates"]`, chromedp.ByQuery),
		chromedp.Poll(`document.querySelector('#reb-statements').dataset.loaded === '`+month+`'`, nil, every),
		chromedp.WaitVisible("#reb-summary", chromedp.ByQuery), b.shot("m04-rebates"))
	b.run("generate hidden", chromedp.Evaluate(`document.querySelector('#reb-generate').getClientRects().length === 0`, &hidden))
	require.True(t, hidden, "generating is the province admin's")
	b.run("export csv", chromedp.Click(`#reb-export button[data-fmt="csv"]`, chromedp.ByQuery))
	csv := saved("rebates-" + month + ".csv")
	api := h.do(http.MethodGet, "/v1/rebates/statements/export?month="+month+"&format=csv", "mz", nil)
	require.Equal(t, http.StatusOK, api.status)
	require.Equal(t, api.body, csv, "the file saved is the API's export")
	require.True(t, bytes.HasPrefix(csv, []byte("\uFEFFmonth")), "%q", csv)

	// Renewals: a batch of Meizhou's expired cards, followed.
	b.run("renewals", chromedp.Click(`nav button[data-page="renewals"]`, chromedp.ByQuery),
		chromedp.Poll(`document.querySelector('.orgpick[data-target="ren-org"]').dataset.ready === "`+mz+`"`, nil, every),
		chromedp.Click("#ren-expired", chromedp.ByQuery), chromedp.SetValue("#ren-note", "年度换卡", chromedp.ByQuery),
		chromedp.Click(`#ren-form button[type="submit"]`, chromedp.ByQuery), chromedp.WaitVisible("#ren-progress", chromedp.ByQuery), b.shot("m05-renewals"))
	var batchID string
	b.run("batch id", chromedp.Value("#ren-id", &batchID, chromedp.ByQuery))
	res = h.do(http.MethodGet, "/v1/renewals/"+batchID, "mz", nil)
	require.Equal(t, http.StatusOK, res.status, "%s", res.body)
	var batch wire.RenewalBatch
	res.json(t, &batch)
	require.Equal(t, h.meizhou.ID, batch.OrgID)
	require.True(t, batch.ExpiredOnly)
	require.Contains(t, b.text("#ren-batch h3"), "梅州市")

	// One card renewed from the People page; no test helpers for an org admin.
	b.run("people", chromedp.Click(`nav button[data-page="volunteers"]`, chromedp.ByQuery),
		chromedp.SetValue("#vol-id", checkinCardID, chromedp.ByQuery), chromedp.Click(`#vol-form button[type="submit"]`, chromedp.ByQuery),
		chromedp.WaitVisible(fmt.Sprintf(`#vol-cards button[data-card="%d"][data-card-act="renew"]`, card.ID), chromedp.ByQuery))
	var helpers int
	b.run("no helpers", chromedp.Evaluate(`document.querySelectorAll('#vol-cards button[data-card-act="activate"]').length`, &helpers))
	require.Zero(t, helpers)
	b.run("renew", chromedp.Click(fmt.Sprintf(`#vol-cards button[data-card="%d"][data-card-act="renew"]`, card.ID), chromedp.ByQuery),
		chromedp.WaitVisible("#reason-input", chromedp.ByQuery), chromedp.SendKeys("#reason-input", "到期换发"+kb.Enter, chromedp.ByQuery))
	require.Eventually(t, func() bool {
		res := h.do(http.MethodGet, fmt.Sprintf("/v1/cards/%d/events", card.ID), "mz", nil)
		return res.status == http.StatusOK && strings.Contains(string(res.body), `"change":"renew"`) && strings.Contains(string(res.body), "到期换发")
	}, 10*time.Second, 50*time.Millisecond, "the renewal was requested")
	b.run("renew shown", chromedp.WaitVisible("#vol-history", chromedp.ByQuery), b.shot("m06-renewed"))
}

// TestConsoleMoneyProvinceAdminInBrowser drives the province admin's pages:
// an insurance policy set and the insurer's daily file; a rebate rate, a
// month generated and its XLSX; a webhook endpoint created (secret shown
// once), changed, its delivery redelivered and deleted; the event feed; a
// failed platform request retried and a platform number set by hand; the
// embedded bank's test helper refused clearly (the harness's bank is a
// real link) and a card closed with its reason.
func TestConsoleMoneyProvinceAdminInBrowser(t *testing.T) {
	b := newBrowser(t, 1366, 768)
	tb := &switchTestBank{}
	h := newCardHarness(t, withTestBank(t, tb))
	ctx, sys := context.Background(), issuance.SystemActor()
	card := issuedHolderCard(t, h)
	// A person registered at a branch whose registration request to the
	// platform failed.
	v, err := h.svc.RegisterVolunteer(ctx, sys, issuance.NewVolunteer{OrgID: h.meizhou.ID, Name: "李晓红",
		IDNumber: residentID("441402", "19980101", 77), Phone: "13912345678", Source: issuance.ChannelBranch})
	require.NoError(t, err)
	claimed, err := h.st.ClaimPlatformRequests(ctx, platformlink.Claim{Owner: "test", Now: time.Now(), Lease: time.Minute, Limit: 10})
	require.NoError(t, err)
	require.Len(t, claimed, 1)
	preq := claimed[0]
	preq.State, preq.LastError, preq.UpdatedAt = platformlink.StateFailed, "platform answered 500", time.Now()
	require.NoError(t, h.st.SavePlatformRequest(ctx, &preq, "test"))
	saved := b.downloads()
	b.signIn(h.ts.URL, h.tokens["admin"])

	// Insurance: a policy from tomorrow, and today's insurer file.
	today := time.Now().In(issuance.ChinaTime)
	b.run("policy", chromedp.Click(`nav button[data-page="insurance"]`, chromedp.ByQuery),
		chromedp.SetValue("#pol-insurer", "中国人寿广东分公司", chromedp.ByQuery), chromedp.SetValue("#pol-number", "GDVOL-2027/01", chromedp.ByQuery),
		chromedp.SetValue("#pol-from", today.AddDate(0, 0, 1).Format(time.DateOnly), chromedp.ByQuery),
		chromedp.Click(`#policy-form button[type="submit"]`, chromedp.ByQuery),
		chromedp.WaitVisible(`#ins-policies tr[data-policy="GDVOL-2027/01"]`, chromedp.ByQuery), b.shot("p11-insurance"))
	res := h.do(http.MethodGet, "/v1/admin/insurance/policies", "admin", nil)
	require.Equal(t, http.StatusOK, res.status)
	require.Contains(t, string(res.body), `"cover_fen":10000000`)
	require.Contains(t, string(res.body), `"policy_number":"GDVOL-2027/01"`)
	date := today.Format(time.DateOnly)
	b.run("insurer file", chromedp.SetValue("#ins-file-date", date, chromedp.ByQuery), chromedp.Click(`#ins-file-form button[type="submit"]`, chromedp.ByQuery))
	file := saved("insurance-" + date + ".txt")
	require.Equal(t, h.do(http.MethodGet, "/v1/admin/insurance/files/"+date, "admin", nil).body, file)
	require.True(t, bytes.HasPrefix(file, []byte("H|")), "%q", file)

	// Webhooks: create, the secret shown once; change.
	b.run("webhook", chromedp.Click(`nav button[data-page="webhooks"]`, chromedp.ByQuery),
		chromedp.SetValue("#hook-url", "https://hooks.example.org/volcard", chromedp.ByQuery), chromedp.SetValue("#hook-desc", "团省委", chromedp.ByQuery),
		chromedp.Click(`#hook-form button[type="submit"]`, chromedp.ByQuery), chromedp.WaitVisible("#hook-secret", chromedp.ByQuery),
		chromedp.WaitVisible(`#hooks-table tr[data-hook]`, chromedp.ByQuery), b.shot("p13-webhook-secret"))
	require.True(t, strings.HasPrefix(b.text("#hook-secret-value"), "whsec_"))
	hooks := func() []wire.WebhookEndpoint {
		res := h.do(http.MethodGet, "/v1/webhooks", "admin", nil)
		require.Equal(t, http.StatusOK, res.status, "%s", res.body)
		require.NotContains(t, string(res.body), "whsec_", "the list never carries the secret")
		var l struct{ Items []wire.WebhookEndpoint }
		res.json(t, &l)
		return l.Items
	}
	require.Len(t, hooks(), 1)
	hook := hooks()[0]
	hrow := fmt.Sprintf(`#hooks-table tr[data-hook="%d"]`, hook.ID)
	b.run("edit webhook", clickWhenThere(hrow+` button[data-act="edit"]`),
		chromedp.Poll(`document.querySelector('#hook-url').value === 'https://hooks.example.org/volcard'`, nil, every),
		chromedp.SetValue("#hook-desc", "团省委志愿者部", chromedp.ByQuery), chromedp.Click(`#hook-form button[type="submit"]`, chromedp.ByQuery))
	require.Eventually(t, func() bool { return hooks()[0].Description == "团省委志愿者部" }, 10*time.Second, 50*time.Millisecond)

	// The card: the test helper refused with its problem shown, then the
	// card closed with a reason from the list.
	crow := fmt.Sprintf(`#vol-cards button[data-card="%d"]`, card.ID)
	b.run("people", chromedp.Click(`nav button[data-page="volunteers"]`, chromedp.ByQuery),
		chromedp.SetValue("#vol-id", checkinCardID, chromedp.ByQuery), chromedp.Click(`#vol-form button[type="submit"]`, chromedp.ByQuery),
		chromedp.WaitVisible(crow+`[data-card-act="activate"]`, chromedp.ByQuery),
		chromedp.Click(crow+`[data-card-act="activate"]`, chromedp.ByQuery), chromedp.WaitVisible("#card-test-result.error", chromedp.ByQuery),
		b.shot("p14-test-bank-refused"))
	require.Contains(t, b.text("#card-test-result"), "409")
	require.Contains(t, b.text("#card-test-result"), "embedded bank simulator")
	require.Equal(t, "issued", h.card(t, card.ID, "admin").State, "nothing sent")
	// With the embedded simulator: the card activated by its advice, then
	// a purchase recorded.
	tb.set(h.sim)
	b.run("activate", chromedp.Click(crow+`[data-card-act="activate"]`, chromedp.ByQuery),
		chromedp.WaitVisible("#card-test-result.notice", chromedp.ByQuery))
	require.Contains(t, b.text("#card-test-result"), "应答码 00")
	h.waitState(t, card.ID, "active")
	b.run("spend", chromedp.WaitVisible(crow+`[data-card-act="spend"]`, chromedp.ByQuery), chromedp.Click(crow+`[data-card-act="spend"]`, chromedp.ByQuery),
		chromedp.WaitVisible(`#spend-dialog input[name="amount"]`, chromedp.ByQuery),
		chromedp.SendKeys(`#spend-dialog input[name="amount"]`, "12.34"+kb.Enter, chromedp.ByQuery),
		chromedp.Poll(`(document.querySelector('#card-test-result.notice') || {textContent: ''}).textContent.startsWith('消费')`, nil, every),
		b.shot("p14b-test-bank-spending"))
	note := b.text("#card-test-result")
	require.Contains(t, note, "应答码 00")
	_, after, ok := strings.Cut(note, "RRN ")
	require.True(t, ok, "%q", note)
	rrn, _, _ := strings.Cut(after, " ")
	var advices int64
	require.NoError(t, h.st.DB(ctx).Table("card_spending").Where("rrn = ? AND card_id = ? AND amount = 1234", rrn, card.ID).Count(&advices).Error)
	require.Equal(t, int64(1), advices, "the purchase advice %s of the card (12.34 CNY = 1234 fen) was recorded", rrn)
	b.run("close", chromedp.Click(crow+`[data-card-act="close"]`, chromedp.ByQuery), chromedp.WaitVisible("#close-dialog select", chromedp.ByQuery),
		pick(`#close-dialog select[name="reason"]`, "holder_left"), chromedp.SendKeys(`#close-dialog input[name="note"]`, "迁居外省"+kb.Enter, chromedp.ByQuery))
	h.waitState(t, card.ID, "closed")
	res = h.do(http.MethodGet, fmt.Sprintf("/v1/cards/%d/events", card.ID), "admin", nil)
	require.Contains(t, string(res.body), `"change":"close"`)

	// Rebates: the purchase dated back into last month (as if the bank had
	// sent it then), a rate from the first of last month, the month
	// generated, Meizhou's statement and its line, its XLSX.
	require.NoError(t, h.st.DB(ctx).Exec("UPDATE card_spending SET china_date = ? WHERE rrn = ?", lastMonth()+"-15", rrn).Error)
	month := lastMonth()
	b.run("rate", chromedp.Click(`nav button[data-page="rebates"]`, chromedp.ByQuery), pick("#rate-product", "GD-RV-BOC"),
		chromedp.SetValue("#rate-bp", "50", chromedp.ByQuery), chromedp.SetValue("#rate-fbp", "1000", chromedp.ByQuery),
		chromedp.SetValue("#rate-from", month+"-01", chromedp.ByQuery), chromedp.Click(`#rate-form button[type="submit"]`, chromedp.ByQuery),
		chromedp.WaitVisible(`#reb-rates tr[data-rate]`, chromedp.ByQuery))
	res = h.do(http.MethodGet, "/v1/admin/rebates/rates", "admin", nil)
	require.Contains(t, string(res.body), `"rate_bp":50`)
	require.Contains(t, string(res.body), `"bank_code":"BOC"`)
	b.run("generate", chromedp.Poll(`document.querySelector('#reb-month').value === '`+month+`'`, nil, every),
		chromedp.Click("#reb-generate", chromedp.ByQuery),
		chromedp.Poll(`document.querySelector('#reb-statements').dataset.loaded === '`+month+`'`, nil, every), b.shot("p12-rebates"))
	res = h.do(http.MethodGet, "/v1/rebates/statements?month="+month, "admin", nil)
	require.Equal(t, http.StatusOK, res.status, "the month is generated: %s", res.body)
	var rmonth struct {
		Items []struct {
			ID     int64
			OrgID  int64 `json:"org_id"`
			Totals struct {
				SpendingFen int64 `json:"spending_fen"`
				DonationFen int64 `json:"donation_fen"`
			}
		}
	}
	res.json(t, &rmonth)
	require.Len(t, rmonth.Items, 1, "Meizhou's statement")
	st := rmonth.Items[0]
	require.Equal(t, h.meizhou.ID, st.OrgID)
	require.Equal(t, int64(1234), st.Totals.SpendingFen)
	srow := fmt.Sprintf(`#reb-table tr[data-statement="%d"]`, st.ID)
	require.Equal(t, yuanText(st.Totals.DonationFen), b.text(srow+" td.donation"))
	b.run("lines", clickWhenThere(srow+" button"), chromedp.WaitVisible("#reb-lines-table tbody tr", chromedp.ByQuery), b.shot("p12b-rebate-lines"))
	require.Equal(t, "12.34", b.text("#reb-lines-table tbody tr td:nth-child(6)"), "the line's spending in CNY")
	b.run("export xlsx", chromedp.Click(`#reb-export button[data-fmt="xlsx"]`, chromedp.ByQuery))
	require.True(t, bytes.HasPrefix(saved("rebates-"+month+".xlsx"), []byte("PK")), "an XLSX (zip) file")

	// The endpoint got the card's events queued: redeliver one.
	var deliveries struct{ Items []wire.WebhookDelivery }
	require.Eventually(t, func() bool {
		res := h.do(http.MethodGet, fmt.Sprintf("/v1/webhooks/%d/deliveries", hook.ID), "admin", nil)
		res.json(t, &deliveries)
		return len(deliveries.Items) > 0
	}, 10*time.Second, 50*time.Millisecond, "events queued for the endpoint")
	n := len(deliveries.Items)
	b.run("deliveries", chromedp.Click(`nav button[data-page="webhooks"]`, chromedp.ByQuery), clickWhenThere(hrow+` button[data-act="deliveries"]`),
		chromedp.WaitVisible(fmt.Sprintf(`#deliveries-table tr[data-delivery="%d"]`, deliveries.Items[0].ID), chromedp.ByQuery),
		clickWhenThere(fmt.Sprintf(`#deliveries-table button[data-redeliver="%d"]`, deliveries.Items[0].ID)))
	require.Eventually(t, func() bool {
		res := h.do(http.MethodGet, fmt.Sprintf("/v1/webhooks/%d/deliveries", hook.ID), "admin", nil)
		res.json(t, &deliveries)
		return len(deliveries.Items) == n+1 && deliveries.Items[0].RedeliveryOf != 0
	}, 10*time.Second, 50*time.Millisecond, "redelivered")

	// The feed: the newest event first.
	res = h.do(http.MethodGet, "/v1/events?limit=1000", "admin", nil)
	var page struct{ Items []wire.Event }
	res.json(t, &page)
	require.NotEmpty(t, page.Items)
	newest := page.Items[len(page.Items)-1]
	b.run("feed", chromedp.Click(`#feed-form button[type="submit"]`, chromedp.ByQuery),
		chromedp.WaitVisible(fmt.Sprintf(`#feed-table tr[data-event="%d"]`, newest.ID), chromedp.ByQuery), b.shot("p15-webhooks-feed"))
	require.Equal(t, newest.Type, b.text("#feed-table tbody tr:first-child td:nth-child(2)"))
	b.run("800 px", chromedp.EmulateViewport(800, 1000), chromedp.Sleep(200*time.Millisecond), b.shot("p15b-webhooks-800px"))
	b.noHorizontalScroll("webhooks and the feed at 800 px")
	b.run("back to 1366", chromedp.EmulateViewport(1366, 768))

	// Delete the endpoint (confirmed with a reason).
	b.run("delete webhook", clickWhenThere(hrow+` button[data-act="delete"]`), chromedp.WaitVisible("#reason-input", chromedp.ByQuery),
		chromedp.SendKeys("#reason-input", "不再使用"+kb.Enter, chromedp.ByQuery))
	require.Eventually(t, func() bool { return len(hooks()) == 0 }, 10*time.Second, 50*time.Millisecond)

	// The platform link: the failed request by name, retried; then the
	// number set by hand.
	prow := fmt.Sprintf(`#plat-table tr[data-plat="%d"]`, preq.ID)
	b.run("platform", chromedp.Click(`nav button[data-page="platform"]`, chromedp.ByQuery), chromedp.WaitVisible(prow, chromedp.ByQuery), b.shot("p16-platform"))
	require.Equal(t, "李晓红", b.text(prow+" td:first-child"))
	require.Equal(t, "失败", b.text(prow+" td[data-code]"))
	b.run("retry", chromedp.Click(prow+` button[data-act="retry"]`, chromedp.ByQuery), chromedp.WaitVisible("#reason-input", chromedp.ByQuery),
		chromedp.SendKeys("#reason-input", "平台已恢复"+kb.Enter, chromedp.ByQuery))
	require.Eventually(t, func() bool {
		res := h.do(http.MethodGet, "/v1/admin/platform-requests?state=pending", "admin", nil)
		return strings.Contains(string(res.body), fmt.Sprintf(`"id":%d,`, preq.ID))
	}, 10*time.Second, 50*time.Millisecond, "retried")
	b.run("set number", pick("#plat-state", ""), chromedp.WaitVisible(prow+` button[data-act="number"]`, chromedp.ByQuery),
		chromedp.Click(prow+` button[data-act="number"]`, chromedp.ByQuery), chromedp.WaitVisible(`#number-dialog input[name="number"]`, chromedp.ByQuery),
		chromedp.SendKeys(`#number-dialog input[name="number"]`, "GD20270001", chromedp.ByQuery),
		chromedp.SendKeys(`#number-dialog input[name="reason"]`, "电话核实"+kb.Enter, chromedp.ByQuery))
	require.Eventually(t, func() bool {
		got, err := h.svc.GetVolunteer(ctx, sys, v.ID)
		require.NoError(t, err)
		return got.VolunteerNumber == "GD20270001"
	}, 10*time.Second, 50*time.Millisecond, "the number set by hand")
	b.run("english", chromedp.Click("#lang", chromedp.ByQuery),
		chromedp.Poll(`(document.querySelector('`+prow+` td[data-code]') || {}).textContent === 'Done'`, nil, every), b.shot("p17-platform-en"))
	b.noHorizontalScroll("platform at 1366 px")
}
