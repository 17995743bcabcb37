package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/volcard/volcard/bankgw"
	"github.com/volcard/volcard/bankgw/banksim"
	"github.com/volcard/volcard/cardio"
	"github.com/volcard/volcard/cardio/pcsc"
	"github.com/volcard/volcard/cardio/pcsc/pcsctest"
	"github.com/volcard/volcard/client"
	"github.com/volcard/volcard/client/terminal"
	"github.com/volcard/volcard/issuance"
	"github.com/volcard/volcard/issuance/checkin"
	"github.com/volcard/volcard/issuance/insurance"
	"github.com/volcard/volcard/wire"
)

// lifeCall makes one API request with token and decodes the answer into
// out when given; it returns the status code.
func lifeCall(t *testing.T, base, token, method, path string, body, out any) int {
	t.Helper()
	var rd *bytes.Reader
	if body != nil {
		j, err := json.Marshal(body)
		require.NoError(t, err)
		rd = bytes.NewReader(j)
	} else {
		rd = bytes.NewReader(nil)
	}
	req, err := http.NewRequest(method, base+path, rd)
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	res, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer res.Body.Close()
	if out != nil {
		require.NoError(t, json.NewDecoder(res.Body).Decode(out))
	}
	return res.StatusCode
}

// TestCardLife is issue #18's must-show: one card's whole life on
// PostgreSQL, over the bank simulator's TCP link (banksim, bankgw, the
// outbox worker), the HTTP API and the real pcscd with vpcd: issued
// ("volcard personalize --application" on a blank software card in the
// vpcd reader) → activated by the advice the embedded bank sends through
// the test helper → insured (the API's report, an addition in the
// insurer's daily file) → spending advices (a purchase, a refund, a
// reversal) through the helper → once the test's clock (the server's,
// injected) is past their month, that month's statement at the rate set
// through the API, exact to the fen and reconciled by the check function →
// expired by the expire-cards job's function (the cover ends) → renewed
// through the bank in a renewal batch → personalized again on a new chip,
// issued, activated (insured again) → closed through the bank (card
// closed, application cancelled, insurance ended: report and the day's
// file), and the closed card refused at a check-in terminal as closed.
// Every step is a card or application event, and every step is read back
// from GET /v1/events in order with its type (province, university and
// bank scopes), with no name, ID number, phone or PAN in it. It runs under
// both renewal rules of the bank: the same PAN with a new expiry and the
// next PSN, and a new PAN.
func TestCardLife(t *testing.T) {
	for _, rule := range []banksim.RenewalRule{banksim.RenewSamePAN, banksim.RenewNewPAN} {
		t.Run(string(rule), func(t *testing.T) { cardLife(t, rule) })
	}
}

func cardLife(t *testing.T, rule banksim.RenewalRule) {
	hand := &simReader{t: t, slot: pcsctest.Slot(t)}
	hand.readers = pcsctest.Start(t) // first: under CI=true a missing pcscd fails at once
	ctx := context.Background()
	w := newIssueWorld(t, func(c *banksim.Config) { c.Renewal = rule })
	samePAN := rule == banksim.RenewSamePAN
	// The bank issues the first card with an expiry two months away: its
	// clock runs five years behind, less two months.
	w.simClock.add(-(5*365*24*time.Hour - 60*24*time.Hour))
	uni, staff := w.tokens["uni"], w.tokens["staff"]

	idBody := "44140219900307123"
	var vol struct{ ID int64 }
	require.Equal(t, http.StatusCreated, lifeCall(t, w.url, uni, "POST", "/v1/volunteers", map[string]any{
		"name": "李生命", "id_number": idBody + string(issuance.ResidentIDCheckChar(idBody)), "phone": "13812345678",
		"org_id": w.university.ID, "clothing_size": "M"}, &vol))
	var app struct {
		ID     int64
		Status string
	}
	require.Equal(t, http.StatusCreated, lifeCall(t, w.url, uni, "POST", "/v1/applications",
		map[string]any{"volunteer_id": vol.ID, "product": e2eProduct, "channel": "online"}, &app))
	require.Equal(t, http.StatusOK, lifeCall(t, w.url, uni, "POST", fmt.Sprintf("/v1/applications/%d/approve", app.ID), nil, &app))
	status := func() string {
		lifeCall(t, w.url, uni, "GET", fmt.Sprintf("/v1/applications/%d", app.ID), nil, &app)
		return app.Status
	}
	require.Eventually(t, func() bool { return status() == "bank_approved" }, 30*time.Second, 20*time.Millisecond)

	// Two blank cards: the first card, and the renewed card's new chip.
	dir := t.TempDir()
	var blanksOut bytes.Buffer
	require.NoError(t, runCardSimBlanks(blanksOptions{count: 2, serial: "00C00001", out: dir, kmc: filepath.Join(e2eKeys, "kmc.json")}, &blanksOut))
	blank := func(i int) string { return filepath.Join(dir, fmt.Sprintf("blank-00C0000%d.json", i+1)) }
	saved := func(i int) string { return filepath.Join(dir, fmt.Sprintf("card-00C0000%d.json", i+1)) }
	pinFile := filepath.Join(dir, "pin")
	require.NoError(t, os.WriteFile(pinFile, []byte("2468\n"), 0o600))
	staffAPI, err := client.New(w.url, staff)
	require.NoError(t, err)
	// "volcard personalize --application ID" with blank card i in the reader.
	personalizeOn := func(i int) string {
		t.Helper()
		hand.put(blank(i), saved(i))
		defer hand.take()
		stderr := &lineWriter{ch: make(chan string, 1024)}
		var stdout lockedBuffer
		err := runPersonalize(ctx, personalizeOptions{server: w.url, token: staff, reader: hand.slot.Reader, pinFile: pinFile,
			application: app.ID}, strings.NewReader(""), &stdout, stderr)
		require.NoError(t, err, "stderr:\n%s", stderr.String())
		require.Equal(t, "issued", status())
		return stdout.String()
	}
	issuedOut := personalizeOn(0)
	require.Contains(t, issuedOut, "chip 4790516800C00001")

	var list struct{ Items []map[string]any }
	currentCard := func() map[string]any {
		t.Helper()
		require.Equal(t, http.StatusOK, lifeCall(t, w.url, uni, "GET", fmt.Sprintf("/v1/volunteers/%d/cards", vol.ID), nil, &list))
		var cur []map[string]any
		for _, c := range list.Items {
			if c["confirmed_state"] != "replaced" {
				cur = append(cur, c)
			}
		}
		require.Len(t, cur, 1, "one current card")
		return cur[0]
	}
	c := currentCard()
	cardID := int64(c["id"].(float64))
	firstExpiry, lastFour := c["expiry"].(string), c["last_four"].(string)
	require.Equal(t, "issued", c["state"])

	// Activated by the advice the embedded bank sends (test helper).
	staffAPIc := staffAPI
	res, err := staffAPIc.TestActivateCard(ctx, cardID)
	require.NoError(t, err)
	require.Equal(t, bankgw.CodeApproved, res.ResponseCode)
	require.Equal(t, "active", currentCard()["state"])
	require.Equal(t, "activated", status())

	// Insured from the activation: the API's report, and an addition in
	// the insurer's daily file of that day.
	prov := w.tokens["prov"]
	var report struct{ Insured, Ended int64 }
	insured := func() [2]int64 {
		t.Helper()
		require.Equal(t, http.StatusOK, lifeCall(t, w.url, uni, "GET", fmt.Sprintf("/v1/orgs/%d/insurance", w.university.ID), nil, &report))
		return [2]int64{report.Insured, report.Ended}
	}
	insFile := func(day string) insurance.File {
		t.Helper()
		req, err := http.NewRequest("GET", w.url+"/v1/admin/insurance/files/"+day, nil)
		require.NoError(t, err)
		req.Header.Set("Authorization", "Bearer "+prov)
		res, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		defer res.Body.Close()
		require.Equal(t, http.StatusOK, res.StatusCode)
		f, err := insurance.ParseFile(res.Body)
		require.NoError(t, err)
		return f
	}
	require.Equal(t, [2]int64{1, 0}, insured())
	f := insFile(insurance.Day(w.clock.Now()))
	require.Equal(t, 1, f.Additions)
	require.Equal(t, 0, f.Terminations)
	require.Equal(t, "李生命", f.Records[0].Name)
	require.Equal(t, int64(insurance.DefaultCoverFen), f.Records[0].CoverFen)

	// Spending advices through the helper: recorded by the advice path.
	for _, sp := range []wire.TestSpending{{AmountFen: 12345, Merchant: "爱心商户 梅州"}, {AmountFen: 2000, Kind: "refund"},
		{AmountFen: 345, Kind: "reversal"}} {
		res, err := staffAPIc.TestSpendCard(ctx, cardID, sp)
		require.NoError(t, err)
		require.Equal(t, bankgw.CodeApproved, res.ResponseCode)
	}
	// A bad amount is refused before anything is sent.
	_, err = staffAPIc.TestSpendCard(ctx, cardID, wire.TestSpending{AmountFen: 0})
	require.Error(t, err)
	var spent []struct {
		Kind   string
		Amount int64
		CardID *int64
	}
	require.NoError(t, w.st.DB(ctx).Table("card_spending").Select("kind, amount, card_id").Order("id").Scan(&spent).Error)
	require.Len(t, spent, 3)
	require.Equal(t, []string{"spending", "refund", "reversal"}, []string{spent[0].Kind, spent[1].Kind, spent[2].Kind})
	require.Equal(t, []int64{12345, 2000, 345}, []int64{spent[0].Amount, spent[1].Amount, spent[2].Amount})
	require.Equal(t, cardID, *spent[0].CardID)
	// Their month's statement exists once the month has ended: not yet.
	month := w.clock.Now().In(time.FixedZone("CST", 8*3600)).Format("2006-01")
	require.Equal(t, http.StatusBadRequest, lifeCall(t, w.url, prov, "POST", "/v1/admin/rebates/statements",
		map[string]any{"month": month}, nil), "the month has not ended")

	// Expiry: three months on, the daily job's function marks the card.
	w.clock.add(92 * 24 * time.Hour)
	w.simClock.add(5*365*24*time.Hour - 60*24*time.Hour + 92*24*time.Hour) // the bank's clock is right again
	n, err := w.svc.ExpireCards(ctx, issuance.SystemActor())
	require.NoError(t, err)
	require.Equal(t, 1, n)
	require.Equal(t, "expired", currentCard()["state"])
	require.Equal(t, [2]int64{0, 1}, insured(), "the expiry ends the cover")

	// The spending month has ended by the test's clock (the server's,
	// injected): its statement, at the rate set through the API. Net
	// 12345 − 2000 − 345 = 10000 fen; donation 0.5% = 50; foundation 20%
	// of it = 10; returned to the university 40.
	require.Equal(t, http.StatusCreated, lifeCall(t, w.url, prov, "POST", "/v1/admin/rebates/rates", map[string]any{
		"bank_code": "BOC", "product_code": e2eProduct, "rate_bp": 50, "foundation_bp": 2000, "effective_from": "2017-01-01"}, nil))
	type amounts struct {
		Advices       int64 `json:"advices"`
		SpendingFen   int64 `json:"spending_fen"`
		RefundFen     int64 `json:"refund_fen"`
		ReversalFen   int64 `json:"reversal_fen"`
		NetFen        int64 `json:"net_fen"`
		DonationFen   int64 `json:"donation_fen"`
		FoundationFen int64 `json:"foundation_fen"`
		ReturnedFen   int64 `json:"returned_fen"`
	}
	var gen struct {
		Advices, Unattributed int64
		Generated             bool
		Items                 []struct {
			ID     int64   `json:"id"`
			OrgID  int64   `json:"org_id"`
			Totals amounts `json:"totals"`
		}
	}
	require.Equal(t, http.StatusCreated, lifeCall(t, w.url, prov, "POST", "/v1/admin/rebates/statements",
		map[string]any{"month": month}, &gen))
	require.True(t, gen.Generated)
	require.Equal(t, int64(3), gen.Advices)
	require.Zero(t, gen.Unattributed)
	require.Len(t, gen.Items, 1)
	require.Equal(t, w.university.ID, gen.Items[0].OrgID)
	require.Equal(t, amounts{3, 12345, 2000, 345, 10000, 50, 10, 40}, gen.Items[0].Totals)
	mis, err := w.reb.CheckMonth(ctx, issuance.SystemActor(), month)
	require.NoError(t, err)
	require.Empty(t, mis, "the statement reconciles advice by advice")

	// Renewal batch of the university's expired cards, through the bank.
	uniAPI, err := client.New(w.url, uni)
	require.NoError(t, err)
	batch, err := uniAPI.RenewCards(ctx, w.university.ID, wire.RenewalRequest{Expired: true, Note: "到期换卡"})
	require.NoError(t, err)
	require.Len(t, batch.Items, 1)
	require.Equal(t, "pending", batch.Items[0].State)
	again, err := uniAPI.RenewCards(ctx, w.university.ID, wire.RenewalRequest{Expired: true})
	require.NoError(t, err)
	require.Len(t, again.Items, 1)
	require.Equal(t, "skipped", again.Items[0].State, "the renewal is on its way already: not sent twice")
	require.Eventually(t, func() bool {
		batch, err = uniAPI.RenewalBatch(ctx, batch.ID)
		return err == nil && batch.Progress["renewed"] == 1
	}, 30*time.Second, 20*time.Millisecond, "batch %+v, outbox %v", batch, outboxRows(t, w))
	c = currentCard()
	require.Equal(t, "issued", c["state"])
	require.NotEqual(t, firstExpiry, c["expiry"])
	oldCardID := cardID
	if samePAN {
		require.Equal(t, cardID, batch.Items[0].NewCardID, "same PAN: the card row is renewed in place")
		require.Len(t, list.Items, 1)
		require.Equal(t, lastFour, c["last_four"])
		require.Equal(t, "002", c["psn"])
	} else {
		cardID = int64(c["id"].(float64))
		require.Equal(t, cardID, batch.Items[0].NewCardID, "new PAN: the renewed card is a new card row")
		require.NotEqual(t, oldCardID, cardID)
		require.Len(t, list.Items, 2)
		require.Equal(t, "replaced", list.Items[0]["state"])
		require.EqualValues(t, cardID, list.Items[0]["replaced_by"])
		require.Equal(t, "001", c["psn"])
	}
	require.Equal(t, "bank_approved", status(), "the renewed card is personalized again")
	bankCards := w.sim.Ledger().CardsFor(c["application_number"].(string))
	bankCard := bankCards[len(bankCards)-1]
	require.Equal(t, c["expiry"], bankCard.Expiry)
	require.Equal(t, c["last_four"], bankCard.PAN[len(bankCard.PAN)-4:])
	if samePAN {
		require.Len(t, bankCards, 1)
	} else {
		require.Len(t, bankCards, 2)
		require.Equal(t, bankgw.CardReplaced, bankCards[0].State)
	}

	// Personalized again on a new chip: issued with the new expiry.
	reissued := personalizeOn(1)
	require.Contains(t, reissued, "chip 4790516800C00002")
	require.Contains(t, reissued, "expires "+c["expiry"].(string))
	rec, err := w.svc.PersonalizedCard(ctx, app.ID)
	require.NoError(t, err)
	require.Equal(t, c["expiry"], rec.Expiry)
	require.Equal(t, c["psn"], rec.PSN)
	require.EqualValues(t, cardID, rec.CardID)

	// The renewed card activated by the bank's advice: insured again.
	res, err = staffAPIc.TestActivateCard(ctx, cardID)
	require.NoError(t, err)
	require.Equal(t, bankgw.CodeApproved, res.ResponseCode)
	require.Equal(t, "active", currentCard()["state"])
	require.Equal(t, "activated", status())
	require.Equal(t, [2]int64{1, 1}, insured())

	// Closed through the bank: the card closed, the application cancelled.
	var closed map[string]any
	require.Equal(t, http.StatusBadRequest, lifeCall(t, w.url, uni, "POST", fmt.Sprintf("/v1/cards/%d/close", cardID),
		map[string]any{"reason": "moved"}, nil))
	require.Equal(t, http.StatusAccepted, lifeCall(t, w.url, uni, "POST", fmt.Sprintf("/v1/cards/%d/close", cardID),
		map[string]any{"reason": "holder_left", "note": "毕业离校"}, &closed))
	require.Equal(t, "close_pending", closed["state"])
	require.Eventually(t, func() bool { return currentCard()["state"] == "closed" }, 30*time.Second, 20*time.Millisecond)
	require.Equal(t, "cancelled", status())
	bankCards = w.sim.Ledger().CardsFor(c["application_number"].(string))
	require.Equal(t, bankgw.CardCancelled, bankCards[len(bankCards)-1].State)
	// Insurance ended: the report, and the day's file (the renewal's
	// addition, the expiry's and the closing's terminations).
	require.Equal(t, [2]int64{0, 2}, insured())
	f = insFile(insurance.Day(w.clock.Now()))
	require.Equal(t, 1, f.Additions)
	require.Equal(t, 2, f.Terminations)
	require.Equal(t, []string{"", "expired", "closed"}, []string{f.Records[0].Reason, f.Records[1].Reason, f.Records[2].Reason})

	// Every step an event.
	steps := func(id int64) []string {
		var ev struct {
			Items []struct{ Kind, Change, Reason string }
		}
		require.Equal(t, http.StatusOK, lifeCall(t, w.url, uni, "GET", fmt.Sprintf("/v1/cards/%d/events", id), nil, &ev))
		var out []string
		for _, e := range ev.Items {
			out = append(out, e.Kind+":"+e.Change)
		}
		return out
	}
	if samePAN {
		require.Equal(t, []string{"expired:", "requested:renew", "confirmed:renew", "requested:close", "confirmed:close"}, steps(cardID))
	} else {
		require.Equal(t, []string{"expired:", "requested:renew", "confirmed:renew"}, steps(oldCardID))
		require.Equal(t, []string{"issued:renew", "requested:close", "confirmed:close"}, steps(cardID))
	}
	var appEv []struct{ From, To string }
	require.Equal(t, http.StatusOK, lifeCall(t, w.url, uni, "GET", fmt.Sprintf("/v1/applications/%d/events", app.ID), nil,
		&struct{ Items *[]struct{ From, To string } }{&appEv}))
	var moves []string
	for _, e := range appEv {
		moves = append(moves, e.From+"→"+e.To)
	}
	require.Equal(t, []string{"→submitted", "submitted→approved", "approved→bank_pending", "bank_pending→bank_approved",
		"bank_approved→personalized", "personalized→issued", "issued→activated", "activated→bank_approved",
		"bank_approved→personalized", "personalized→issued", "issued→activated", "activated→cancelled"}, moves)

	// Every step in the feed (GET /v1/events), in order, with its type.
	// Each spending advice is a card.spending_recorded event without its
	// amount or merchant (docs/platform-interface.md §1); the money reaches
	// the feed summed in the month's statement.
	types, raw := lifeFeed(t, w.url, prov, "insurance.ended", 2)
	issued := []string{"application.bank_pending", "card.issued", "application.bank_approved",
		"application.personalized", "application.issued"}
	renewed := []string{"card.renewed", "application.bank_approved"}
	if !samePAN {
		renewed = []string{"card.replaced", "card.issued", "application.bank_approved", "card.renewed"}
	}
	want := slices.Concat([]string{"volunteer.created", "application.submitted", "application.approved"}, issued,
		[]string{"card.activated", "application.activated", "insurance.enrolled", // activated by the advice, insured
			"card.spending_recorded", "card.spending_recorded", "card.spending_recorded", // purchase, refund, reversal
			"card.expired", "insurance.ended", // the expiry job; the cover ends with the card
			"rebate_statement.generated",       // the month's statement
			"card.renewal_requested"}, renewed, // renewed through the bank
		[]string{"application.personalized", "application.issued", // the new chip
			"card.activated", "application.activated", "insurance.enrolled", // insured again
			"card.close_requested", "card.closed", "application.cancelled", "insurance.ended"}) // closed, insurance ended
	require.Equal(t, want, types)
	for _, secret := range []string{"李生命", idBody, "13812345678", bankCard.PAN} {
		require.NotContains(t, raw, secret, "no name, ID number, phone or PAN in the feed")
	}
	// The university's admin reads the same events (its subtree); the
	// bank's staff the card and application events only.
	uniTypes, _ := lifeFeed(t, w.url, uni, "insurance.ended", 2)
	require.Equal(t, want, uniTypes)
	bankTypes, _ := lifeFeed(t, w.url, staff, "application.cancelled", 1)
	require.Equal(t, slices.DeleteFunc(slices.Clone(want), func(s string) bool {
		return strings.HasPrefix(s, "volunteer.") || strings.HasPrefix(s, "insurance.") || strings.HasPrefix(s, "rebate_statement.")
	}), bankTypes)

	// The closed card at a check-in terminal: refused as closed.
	act, err := w.ck.CreateActivity(ctx, issuance.SystemActor(), checkin.NewActivity{OrgID: w.university.ID, Title: "毕业志愿服务",
		StartsAt: w.clock.Now().Add(-time.Hour), EndsAt: w.clock.Now().Add(6 * time.Hour)})
	require.NoError(t, err)
	gate, err := client.New(w.url, w.tokens["gate"])
	require.NoError(t, err)
	queue, err := terminal.OpenQueue(ctx, filepath.Join(dir, "queue.db"), []byte(w.tokens["gate"]))
	require.NoError(t, err)
	t.Cleanup(func() { queue.Close() })
	termReaders, err := pcsc.New(ctx)
	require.NoError(t, err)
	t.Cleanup(func() { termReaders.Close() })
	var shown bytes.Buffer
	term, err := terminal.New(terminal.Config{API: gate, Queue: queue, ActivityID: act.ID, Readers: termReaders,
		Reader: hand.slot.Reader, Out: &shown})
	require.NoError(t, err)
	hand.put(saved(1), saved(1))
	tc, err := termReaders.Connect(ctx, hand.slot.Reader, cardio.ShareExclusive)
	require.NoError(t, err)
	o, err := term.TapCard(ctx, tc)
	require.NoError(t, err)
	require.NoError(t, tc.Disconnect(ctx))
	hand.take()
	require.Equal(t, terminal.StatusRefused, o.Status, o.Message)
	require.Equal(t, "✗ 卡片已注销（closed card）", strings.TrimSpace(shown.String()))

	// The test helpers refuse a card of a bank without an embedded
	// simulator (a real bank) and change nothing.
	w2 := &simTestBank{}
	_, err = w2.SendAdvice(ctx, "BOC", issuance.TestAdvice{Activation: true})
	require.ErrorIs(t, err, issuance.ErrNoTestBank)
}

// lifeFeed reads GET /v1/events from the start, a page at a time, until
// n events of type last have come (the feed shows a PostgreSQL
// transaction once no older one is running), and returns the types and
// the events' JSON.
func lifeFeed(t *testing.T, base, token, last string, n int) ([]string, string) {
	t.Helper()
	var (
		types []string
		raw   strings.Builder
	)
	require.Eventually(t, func() bool {
		types = types[:0]
		raw.Reset()
		after := ""
		for {
			var page struct {
				Items []json.RawMessage
				Next  string
			}
			require.Equal(t, http.StatusOK, lifeCall(t, base, token, "GET", "/v1/events?limit=7&after="+after, nil, &page))
			for _, item := range page.Items {
				var e struct{ Type string }
				require.NoError(t, json.Unmarshal(item, &e))
				types = append(types, e.Type)
				raw.Write(item)
			}
			if len(page.Items) == 0 {
				break
			}
			after = page.Next
		}
		k := 0
		for _, ty := range types {
			if ty == last {
				k++
			}
		}
		return k >= n
	}, 30*time.Second, 50*time.Millisecond, "feed %v", types)
	return types, raw.String()
}

// outboxRows describes the bank requests, for failure messages.
func outboxRows(t *testing.T, w *issueWorld) string {
	var rows []struct {
		Kind, State, ResultCode, LastError string
		Payload                            string
	}
	_ = w.st.DB(context.Background()).Table("bank_requests").Select("kind, state, result_code, last_error, payload").Order("id").Scan(&rows)
	return fmt.Sprintf("%+v", rows)
}
