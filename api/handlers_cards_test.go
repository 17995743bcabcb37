package api

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/volcard/volcard/bankgw"
	"github.com/volcard/volcard/bankgw/banksim"
	"github.com/volcard/volcard/bankgw/outbox"
	"github.com/volcard/volcard/issuance"
	"github.com/volcard/volcard/issuance/store"
	"github.com/volcard/volcard/issuance/store/storetest"
	"github.com/volcard/volcard/wire"
)

// cardHarness is a check-in harness whose Service sends to banksim over
// TCP through the durable outbox; the bank issues the PAN of the software
// card image default.json (6217850000000012349) to the first application.
type cardHarness struct {
	*checkinHarness
	sim    *banksim.Sim
	gw     *bankgw.Client
	stopFn func() error
}

func newCardHarness(t *testing.T, opts ...func(st *store.Store, o *Options)) *cardHarness {
	t.Helper()
	st := storetest.Postgres(t)
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	var o []func(*Options)
	for _, f := range opts {
		o = append(o, func(x *Options) { f(st, x) })
	}
	ch := withCheckin(t, newOutboxHarness(t, st, o...))
	// The bank's first card is the check-in card's PAN (6217850000000012349,
	// testdata/cards/default.json), so the product is under its BIN.
	require.NoError(t, ch.svc.PutProduct(context.Background(), issuance.SystemActor(), issuance.Product{Code: "GD-RV-BOC",
		Name: "广东省注册志愿者证（中国银行）", BankCode: "BOC", BIN: "621785", AID: "A000000333010101", Kind: issuance.CardDebit,
		OrgID: ch.province.ID}))
	sim, err := banksim.New(banksim.Config{BIN: "621785", FirstCardSeq: 1234, Logger: quiet})
	require.NoError(t, err)
	require.NoError(t, sim.Start("127.0.0.1:0"))
	t.Cleanup(sim.Close)
	handlers, err := outbox.NewHandlers(ch.svc, st, quiet)
	require.NoError(t, err)
	stan, err := st.STAN("VOLCARD1")
	require.NoError(t, err)
	cfg := bankgw.DefaultConfig([]string{sim.Addr()}, "VOLCARD1", "VOLCARD00000001")
	cfg.STAN, cfg.Logger, cfg.RequestTimeout = stan, quiet, 2*time.Second
	cfg.ReconnectWait, cfg.MaxReconnectWait = 20*time.Millisecond, 100*time.Millisecond
	cfg.AdviceHandler, cfg.LateResponseHandler = handlers.Advice, handlers.LateResponse
	gw, err := bankgw.NewClient(cfg)
	require.NoError(t, err)
	require.NoError(t, gw.Connect(context.Background()))
	t.Cleanup(func() { _ = gw.Close(context.Background()) })
	c := &cardHarness{checkinHarness: ch, sim: sim, gw: gw}
	c.startWorker()
	t.Cleanup(func() { c.stopWorker() })
	return c
}

func (c *cardHarness) startWorker() {
	c.t.Helper()
	w, err := outbox.New(outbox.Config{Gateway: c.gw, Service: c.svc, Outbox: c.st, PollInterval: 10 * time.Millisecond,
		Lease: 5 * time.Second, RetryBase: 20 * time.Millisecond, RetryMax: 200 * time.Millisecond,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	require.NoError(c.t, err)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- w.Run(ctx) }()
	c.stopFn = func() error { cancel(); return <-done }
}

func (c *cardHarness) stopWorker() {
	if c.stopFn != nil {
		require.NoError(c.t, c.stopFn())
		c.stopFn = nil
	}
}

func (c *cardHarness) card(t *testing.T, id int64, token string) Card {
	t.Helper()
	res := c.do(http.MethodGet, "/v1/cards/"+strconv.FormatInt(id, 10), token, nil)
	require.Equal(t, http.StatusOK, res.status, "%s", res.body)
	var out Card
	res.json(t, &out)
	return out
}

// waitState waits until the card shows state.
func (c *cardHarness) waitState(t *testing.T, id int64, state string) Card {
	t.Helper()
	var got Card
	require.Eventually(t, func() bool {
		got = c.card(t, id, "admin")
		return got.State == state
	}, 30*time.Second, 10*time.Millisecond, "card %d never became %s", id, state)
	return got
}

func (c *cardHarness) tapStatus(t *testing.T, seq int64) int {
	t.Helper()
	ch := c.challenge(t, "terminal")
	res := c.do(http.MethodPost, c.tapPath(), "terminal", wire.TapRequest{Seq: seq, ChallengeID: ch.ID,
		Card: cardEvidence(t, "default.json", ch.UN)})
	if res.status == http.StatusForbidden {
		require.Equal(t, KindCardBlocked.TypeURI(), res.problem(t).Type)
	}
	return res.status
}

func TestCardLifecycleAPI(t *testing.T) {
	ctx := context.Background()
	h := newCardHarness(t)
	sys := issuance.SystemActor()
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
	cardsPath := "/v1/volunteers/" + strconv.FormatInt(h.holder.ID, 10) + "/cards"
	var list CardList
	res := h.do(http.MethodGet, cardsPath, "mz", nil)
	require.Equal(t, http.StatusOK, res.status, "%s", res.body)
	res.json(t, &list)
	require.Len(t, list.Items, 1)
	first := list.Items[0]
	require.Equal(t, "621785*********2349", first.MaskedPAN, "the bank issued the software card's PAN")
	require.Equal(t, "2349", first.LastFour)
	require.Equal(t, "issued", first.State)
	require.Equal(t, "001", first.PSN)
	require.Equal(t, app.Number, first.ApplicationNumber)
	require.NotContains(t, string(res.body), "6217850000000012349")
	require.Equal(t, http.StatusNotFound, h.do(http.MethodGet, cardsPath, "gz", nil).status, "another city's admin")
	require.Equal(t, http.StatusNotFound, h.do(http.MethodGet, "/v1/cards/"+strconv.FormatInt(first.ID, 10), "gz", nil).status)
	require.Equal(t, http.StatusCreated, h.tapStatus(t, 1), "tap in with the card")

	cardPath := "/v1/cards/" + strconv.FormatInt(first.ID, 10)
	t.Run("block: pending, one outbox row per Idempotency-Key, refused at check-in", func(t *testing.T) {
		h.stopWorker() // keep the block pending
		require.Equal(t, http.StatusBadRequest, h.do(http.MethodPost, cardPath+"/block", "mz", map[string]any{}).status, "reason required")
		require.Equal(t, http.StatusForbidden, h.do(http.MethodPost, cardPath+"/block", "terminal", map[string]any{"reason": "lost"}).status)
		res := h.do(http.MethodPost, cardPath+"/block", "mz", map[string]any{"reason": "lost"}, "Idempotency-Key", "block-1")
		require.Equal(t, http.StatusAccepted, res.status, "%s", res.body)
		var c Card
		res.json(t, &c)
		require.Equal(t, "block_pending", c.State)
		require.Equal(t, "issued", c.ConfirmedState)
		again := h.do(http.MethodPost, cardPath+"/block", "mz", map[string]any{"reason": "lost"}, "Idempotency-Key", "block-1")
		require.Equal(t, http.StatusAccepted, again.status)
		require.Equal(t, "true", again.header.Get("Idempotent-Replayed"))
		// Without the key: nothing new to do.
		require.Equal(t, http.StatusOK, h.do(http.MethodPost, cardPath+"/block", "mz", map[string]any{"reason": "lost"}).status)
		reqs, err := h.st.BankRequests(ctx, app.ID)
		require.NoError(t, err)
		n := 0
		for _, r := range reqs {
			if r.Kind == outbox.KindStatusChange {
				n++
			}
		}
		require.Equal(t, 1, n, "one status_change row")
		require.Equal(t, http.StatusForbidden, h.tapStatus(t, 2), "a card whose block is pending is refused")

		h.startWorker()
		h.waitState(t, first.ID, "blocked")
		require.Equal(t, bankgw.CardBlocked, h.sim.Ledger().CardsFor(app.Number)[0].State)
		require.Equal(t, http.StatusForbidden, h.tapStatus(t, 3))
	})
	t.Run("unblock", func(t *testing.T) {
		res := h.do(http.MethodPost, cardPath+"/unblock", "boc", nil, "Idempotency-Key", "unblock-1")
		require.Equal(t, http.StatusAccepted, res.status, "%s", res.body)
		h.waitState(t, first.ID, "issued")
		require.Equal(t, bankgw.CardIssued, h.sim.Ledger().CardsFor(app.Number)[0].State)
		require.Equal(t, http.StatusCreated, h.tapStatus(t, 4), "usable again (tap out)")
	})
	t.Run("replace", func(t *testing.T) {
		res := h.do(http.MethodPost, cardPath+"/replace", "admin", map[string]any{"reason": "stolen"})
		require.Equal(t, http.StatusAccepted, res.status, "%s", res.body)
		old := h.waitState(t, first.ID, "replaced")
		require.NotZero(t, old.ReplacedBy)
		nc := h.card(t, old.ReplacedBy, "boc")
		require.Equal(t, "issued", nc.State)
		require.Equal(t, 1, nc.ReplaceSeq)
		require.Equal(t, "bank_approved", nc.ApplicationStatus, "ready for personalization")
		require.NotEqual(t, first.LastFour+first.MaskedPAN, nc.LastFour+nc.MaskedPAN)
		bank := h.sim.Ledger().CardsFor(app.Number)
		require.Len(t, bank, 2)
		require.Equal(t, bankgw.CardReplaced, bank[0].State)
		require.Equal(t, bankgw.CardIssued, bank[1].State)
		require.Equal(t, http.StatusForbidden, h.tapStatus(t, 5), "the old card is refused")

		var list CardList
		res = h.do(http.MethodGet, cardsPath, "mz", nil)
		require.Equal(t, http.StatusOK, res.status)
		res.json(t, &list)
		require.Len(t, list.Items, 2)

		// The check-in block by PAN goes to the bank for a bank card.
		res = h.do(http.MethodPost, "/v1/cards/block", "mz", map[string]any{"pan": bank[1].PAN, "reason": "lost again"})
		require.Equal(t, http.StatusAccepted, res.status, "%s", res.body)
		var blocked Card
		res.json(t, &blocked)
		require.Equal(t, nc.ID, blocked.ID)
		require.Equal(t, "block_pending", blocked.State)
		h.waitState(t, nc.ID, "blocked")

		var ev CardEventList
		res = h.do(http.MethodGet, cardPath+"/events", "mz", nil)
		require.Equal(t, http.StatusOK, res.status)
		res.json(t, &ev)
		require.Len(t, ev.Items, 6)
		require.Equal(t, "org_admin", ev.Items[0].ActorRole)
		require.Equal(t, "lost", ev.Items[0].Reason)
	})
	t.Run("replaced card takes no change", func(t *testing.T) {
		res := h.do(http.MethodPost, cardPath+"/unblock", "admin", nil)
		require.Equal(t, http.StatusConflict, res.status, "%s", res.body)
		res = h.do(http.MethodPost, cardPath+"/block", "admin", map[string]any{"reason": "x"})
		require.Equal(t, http.StatusConflict, res.status, "%s", res.body)
		require.Equal(t, KindIllegalTransition.TypeURI(), res.problem(t).Type)
	})
}
