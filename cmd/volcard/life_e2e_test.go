package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
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

// TestCardLife is one card's life on PostgreSQL, over the bank simulator's
// TCP link (banksim, bankgw, the outbox worker), the HTTP API and the real
// pcscd with vpcd: issued ("volcard personalize --application" on a blank
// software card in the vpcd reader) → activated by the advice the
// embedded bank sends through the test helper → spending advices (a
// purchase, a refund, a reversal) through the helper → expired by the
// expire-cards job's function → renewed through the bank in a renewal
// batch (the simulator's default rule: same PAN, new expiry, next PSN) →
// personalized again on a new chip and issued → closed through the bank
// (card closed, application cancelled), and the closed card refused at a
// check-in terminal as closed. Every step is a card event. It
// runs under both renewal rules of the bank: the same PAN with a new
// expiry and the next PSN, and a new PAN.
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

	// Expiry: three months on, the daily job's function marks the card.
	w.clock.add(92 * 24 * time.Hour)
	w.simClock.add(5*365*24*time.Hour - 60*24*time.Hour + 92*24*time.Hour) // the bank's clock is right again
	n, err := w.svc.ExpireCards(ctx, issuance.SystemActor())
	require.NoError(t, err)
	require.Equal(t, 1, n)
	require.Equal(t, "expired", currentCard()["state"])

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
		"bank_approved→personalized", "personalized→issued", "issued→cancelled"}, moves)

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

// outboxRows describes the bank requests, for failure messages.
func outboxRows(t *testing.T, w *issueWorld) string {
	var rows []struct {
		Kind, State, ResultCode, LastError string
		Payload                            string
	}
	_ = w.st.DB(context.Background()).Table("bank_requests").Select("kind, state, result_code, last_error, payload").Order("id").Scan(&rows)
	return fmt.Sprintf("%+v", rows)
}
