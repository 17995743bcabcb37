package api

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"golang.org/x/time/rate"

	"github.com/volcard/volcard/bankgw"
	"github.com/volcard/volcard/bankgw/outbox"
	"github.com/volcard/volcard/issuance"
	"github.com/volcard/volcard/issuance/store"
	"github.com/volcard/volcard/issuance/store/storetest"
	"github.com/volcard/volcard/wire"
)

// manualClock is a clock the test moves by hand.
type manualClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *manualClock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *manualClock) add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// TestHolderLossReport: on PostgreSQL, the holder reports the card lost on
// the public route (no token, the application number and ID number as
// proof); the block goes to banksim over TCP through the outbox, check-in
// refuses the card from the moment of the report, a second report is not a
// second block, staff unblock it; wrong pairs and a right pair without a
// card get one answer and write nothing; the limit (in the database, its
// own buckets) answers 429 to the attempt over the burst.
func TestHolderLossReport(t *testing.T) {
	ctx := context.Background()
	clock := &manualClock{t: time.Date(2026, 12, 7, 9, 0, 0, 0, time.UTC)}
	h := newCardHarness(t, func(st *store.Store, o *Options) {
		l, err := store.NewRateLimits(st, rate.Limit(10.0/3600), 3, clock.now)
		require.NoError(t, err)
		o.LossReportLimiter = l
	})
	sys := issuance.SystemActor()
	report := func(number, idNumber string) response {
		t.Helper()
		return h.do(http.MethodPost, "/v1/progress/loss-report", "", map[string]any{"application_number": number, "id_number": idNumber})
	}
	// Each phase starts from a full bucket.
	fresh := func() { clock.add(time.Hour) }

	app, err := h.svc.Apply(ctx, sys, h.holder.ID, "GD-RV-BOC", issuance.ChannelOnline)
	require.NoError(t, err)
	const wrongID = "441402200001011259"
	wrongPair := report(app.Number, wrongID)
	require.Equal(t, http.StatusNotFound, wrongPair.status, "%s", wrongPair.body)
	noCard := report(app.Number, checkinCardID)
	require.Equal(t, http.StatusNotFound, noCard.status, "a right pair before the card is issued: %s", noCard.body)
	require.Equal(t, wrongPair.problem(t).Type, noCard.problem(t).Type)
	require.Equal(t, wrongPair.problem(t).Detail, noCard.problem(t).Detail, "a wrong pair and no card answer alike")
	require.NotContains(t, string(noCard.body), checkinCardID)

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
	cards, err := h.st.CardsOfApplication(ctx, app.ID)
	require.NoError(t, err)
	require.Len(t, cards, 1)
	card := cards[0]
	require.Equal(t, http.StatusCreated, h.tapStatus(t, 1), "tap in with the card")

	statusChanges := func() int {
		reqs, err := h.st.BankRequests(ctx, app.ID)
		require.NoError(t, err)
		n := 0
		for _, r := range reqs {
			if r.Kind == outbox.KindStatusChange {
				n++
			}
		}
		return n
	}

	t.Run("wrong pairs write nothing and get 429 over the limit", func(t *testing.T) {
		fresh()
		before := rowCounts(t, h.st)
		delete(before, "rate_limits")
		for i := range 3 {
			res := report(app.Number, wrongID)
			require.Equal(t, http.StatusNotFound, res.status, "attempt %d: %s", i+1, res.body)
		}
		res := report(app.Number, wrongID)
		require.Equal(t, http.StatusTooManyRequests, res.status, "the 4th attempt in the burst of 3: %s", res.body)
		require.Equal(t, KindRateLimited.TypeURI(), res.problem(t).Type)
		require.NotEmpty(t, res.header.Get("Retry-After"))
		// Over the limit even with the right pair: the limit comes first.
		res = report(app.Number, checkinCardID)
		require.Equal(t, http.StatusTooManyRequests, res.status)
		after := rowCounts(t, h.st)
		delete(after, "rate_limits")
		require.Equal(t, before, after, "refused reports wrote rows")
		require.Equal(t, 0, statusChanges())
		// The progress lookup has buckets of its own.
		prog := h.do(http.MethodGet, "/v1/progress?application_number="+app.Number+"&id_number="+checkinCardID, "", nil)
		require.Equal(t, http.StatusOK, prog.status, "%s", prog.body)
		// The limit is kept in the database under its own key prefix.
		var n int64
		require.NoError(t, h.st.DB(ctx).Raw(`SELECT COUNT(*) FROM rate_limits WHERE limit_key LIKE 'loss-report:%'`).Scan(&n).Error)
		require.Equal(t, int64(1), n)
	})

	t.Run("the report blocks the card at check-in at once and at the bank", func(t *testing.T) {
		fresh()
		h.stopWorker() // keep the block pending
		res := report(" "+app.Number+" ", checkinCardID)
		require.Equal(t, http.StatusAccepted, res.status, "%s", res.body)
		var lr LossReport
		res.json(t, &lr)
		require.Equal(t, LossReport{ApplicationNumber: app.Number, LastFour: card.LastFour, State: "block_pending", Reported: true}, lr)
		require.Equal(t, "no-store", res.header.Get("Cache-Control"))
		require.Equal(t, http.StatusForbidden, h.tapStatus(t, 2), "refused while the block is on its way")

		again := report(app.Number, checkinCardID)
		require.Equal(t, http.StatusOK, again.status, "%s", again.body)
		again.json(t, &lr)
		require.False(t, lr.Reported)
		require.Equal(t, "block_pending", lr.State)
		require.Equal(t, 1, statusChanges(), "a second report is not a second block")

		h.startWorker()
		h.waitState(t, card.ID, "blocked")
		require.Equal(t, bankgw.CardBlocked, h.sim.Ledger().CardsFor(app.Number)[0].State, "banksim received the block")
		require.Equal(t, http.StatusForbidden, h.tapStatus(t, 3))

		third := report(app.Number, checkinCardID)
		require.Equal(t, http.StatusOK, third.status, "%s", third.body)
		third.json(t, &lr)
		require.Equal(t, "blocked", lr.State)
		require.Equal(t, 1, statusChanges())

		var ev CardEventList
		r := h.do(http.MethodGet, "/v1/cards/"+strconv.FormatInt(card.ID, 10)+"/events", "mz", nil)
		require.Equal(t, http.StatusOK, r.status)
		r.json(t, &ev)
		require.Len(t, ev.Items, 2, "requested by the holder, confirmed by the bank")
		require.Equal(t, CardEvent{Kind: "requested", Change: "block", ActorRole: "holder", Channel: "online",
			Reason: issuance.LossReportReason, At: ev.Items[0].At}, ev.Items[0])
		require.Equal(t, "confirmed", ev.Items[1].Kind)
		require.Equal(t, issuance.LossReportReason, h.card(t, card.ID, "mz").BlockReason)
	})

	t.Run("staff unblock", func(t *testing.T) {
		res := h.do(http.MethodPost, "/v1/cards/"+strconv.FormatInt(card.ID, 10)+"/unblock", "mz", map[string]any{"reason": "found again"})
		require.Equal(t, http.StatusAccepted, res.status, "%s", res.body)
		h.waitState(t, card.ID, "issued")
		require.Equal(t, bankgw.CardIssued, h.sim.Ledger().CardsFor(app.Number)[0].State)
		require.Equal(t, http.StatusCreated, h.tapStatus(t, 4), "usable again (tap out)")
	})

	t.Run("concurrent reports make one block", func(t *testing.T) {
		fresh()
		h.stopWorker()
		defer h.startWorker()
		statuses := make(chan int, 3)
		var wg sync.WaitGroup
		for range 3 {
			wg.Go(func() { statuses <- report(app.Number, checkinCardID).status })
		}
		wg.Wait()
		close(statuses)
		got := map[int]int{}
		for st := range statuses {
			got[st]++
		}
		require.Equal(t, map[int]int{http.StatusAccepted: 1, http.StatusOK: 2}, got)
		require.Equal(t, 3, statusChanges(), "one row more than the first block and its unblock")
		require.Equal(t, "block_pending", h.card(t, card.ID, "mz").State)
	})

	t.Run("bad bodies", func(t *testing.T) {
		fresh()
		for name, body := range map[string]any{
			"no id number":  map[string]any{"application_number": app.Number},
			"unknown field": map[string]any{"application_number": app.Number, "id_number": checkinCardID, "pan": "6217850000000012349"},
		} {
			res := h.do(http.MethodPost, "/v1/progress/loss-report", "", body)
			require.Equal(t, http.StatusBadRequest, res.status, "%s: %s", name, res.body)
			require.NotContains(t, string(res.body), checkinCardID, name)
			require.NotContains(t, string(res.body), "6217850000000012349", name)
		}
	})
}

// FuzzLossReportBody posts arbitrary bodies to the public loss report: each
// answer is a 4xx problem document (no pair here names a card), never a 5xx
// or a panic, and never echoes the ID number sent.
func FuzzLossReportBody(f *testing.F) {
	h := withCheckin(f, newHarness(f, storetest.SQLite(f), nil, func(o *Options) { o.LossReportBurst = 1 << 30 }))
	app, err := h.svc.Apply(context.Background(), issuance.SystemActor(), h.holder.ID, "GD-RV-BOC", issuance.ChannelOnline)
	require.NoError(f, err)
	for _, s := range []string{
		`{"application_number":"` + app.Number + `","id_number":"` + checkinCardID + `"}`,
		`{"application_number":"` + app.Number + `","id_number":"441402200001011259"}`,
		`{"application_number":"` + strings.ToLower(app.Number) + `","id_number":" 441402200001011232 "}`,
		`{"application_number":"","id_number":"44140219950615123X"}`,
		`{"application_number":"X","id_number":"` + strings.Repeat("9", 5000) + `"}`,
		``, `{}`, `null`, `[]`, `{"a":1}{}`, `{"application_number":1}`, strings.Repeat("[", 3000),
		`{"application_number":"申请号","id_number":"身份证\u0000"}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		req := httptest.NewRequest(http.MethodPost, "/v1/progress/loss-report", bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		rec := httptest.NewRecorder()
		h.srv.ServeHTTP(rec, req)
		if rec.Code < 400 || rec.Code >= 500 {
			t.Fatalf("status %d: %s", rec.Code, rec.Body)
		}
		if rec.Header().Get("Content-Type") != wire.ProblemContentType {
			t.Fatalf("status %d without problem+json", rec.Code)
		}
		var in LossReportRequest
		if json.Unmarshal(body, &in) == nil && len(in.IDNumber) >= 6 && strings.Contains(rec.Body.String(), in.IDNumber) {
			t.Fatalf("the answer echoes the ID number: %s", rec.Body)
		}
	})
}
