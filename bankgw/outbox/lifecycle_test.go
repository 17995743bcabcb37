package outbox_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/volcard/volcard/issuance/checkin"

	"github.com/stretchr/testify/require"

	"github.com/volcard/volcard/bankgw"
	"github.com/volcard/volcard/bankgw/banksim"
	"github.com/volcard/volcard/bankgw/outbox"
	"github.com/volcard/volcard/issuance"
	"github.com/volcard/volcard/issuance/store/storetest"
)

// issued returns an application the bank approved, personalized and
// handed over (status issued), with its card.
func (e *env) issued(ctx context.Context) (issuance.Application, issuance.Card) {
	e.t.Helper()
	a, _ := e.approved(ctx)
	require.Equal(e.t, issuance.StatusBankApproved, e.waitResolved(ctx, a.ID)[a.ID])
	sys := issuance.SystemActor()
	_, err := e.svc.Transition(ctx, sys, a.ID, issuance.StatusPersonalized, "test")
	require.NoError(e.t, err)
	a, err = e.svc.Transition(ctx, sys, a.ID, issuance.StatusIssued, "test")
	require.NoError(e.t, err)
	c, err := e.svc.CardOf(ctx, a.ID)
	require.NoError(e.t, err)
	return a, c
}

// waitCard waits until the card has no change pending and returns it.
func (e *env) waitCard(ctx context.Context, id int64) issuance.Card {
	e.t.Helper()
	var c issuance.Card
	require.Eventually(e.t, func() bool {
		var err error
		c, err = e.st.GetCard(ctx, id)
		require.NoError(e.t, err)
		return c.PendingChange == ""
	}, 30*time.Second, 10*time.Millisecond, "card %d still has a change pending", id)
	return c
}

// checkinStatus is what check-in sees of a card (by PAN token).
func (e *env) checkinStatus(ctx context.Context, token []byte) checkin.CardStatus {
	e.t.Helper()
	b, err := e.st.CardByPANToken(ctx, token)
	require.NoError(e.t, err)
	return b.Status
}

func (e *env) bankCard(app issuance.Application, seq int) banksim.CardRecord {
	e.t.Helper()
	for _, c := range e.sim.Ledger().CardsFor(app.Number) {
		if c.ReplaceSeq == seq {
			return c
		}
	}
	e.t.Fatalf("no card with RS %d at the bank for %s", seq, app.Number)
	return banksim.CardRecord{}
}

// holders sums the card-holder counters of the reports.
func holders(t testing.TB, e *env) int64 {
	t.Helper()
	var n int64
	require.NoError(t, e.st.SQLDB().QueryRow(`SELECT COALESCE(SUM(holders), 0) FROM org_year_counters`).Scan(&n))
	return n
}

func TestCardLifecycleThroughTheBank(t *testing.T) {
	ctx := context.Background()
	st := storetest.Postgres(t)
	e := newEnv(t, st, envOpts{})
	stop := run(e.worker(e.client(2*time.Second), nil))
	defer func() { require.NoError(t, stop()) }()
	app, card := e.issued(ctx)
	require.Equal(t, int64(1), holders(t, e))
	admin := issuance.Actor{Role: issuance.RoleOrgAdmin, OrgID: e.city.ID, TokenID: 7}
	require.Equal(t, checkin.CardActive, e.checkinStatus(ctx, card.PANToken))

	t.Run("out of scope", func(t *testing.T) {
		other := issuance.Actor{Role: issuance.RoleBankStaff, BankCode: "CCB", TokenID: 8}
		_, _, err := e.svc.RequestCardChange(ctx, other, issuance.CardChangeRequest{CardID: card.ID,
			Change: issuance.CardChangeBlock, Reason: "lost"})
		require.ErrorIs(t, err, issuance.ErrNotFound)
		_, _, err = e.svc.RequestCardChange(ctx, admin, issuance.CardChangeRequest{CardID: card.ID, Change: issuance.CardChangeBlock})
		require.ErrorIs(t, err, issuance.ErrInvalid, "a block needs a reason")
	})

	t.Run("block", func(t *testing.T) {
		d, written, err := e.svc.RequestCardChange(ctx, admin, issuance.CardChangeRequest{CardID: card.ID,
			Change: issuance.CardChangeBlock, Reason: "lost on the metro"})
		require.NoError(t, err)
		require.True(t, written)
		require.Equal(t, "block_pending", d.DisplayState())
		require.Equal(t, issuance.BankCardIssued, d.State, "unchanged until the bank confirms")
		require.Equal(t, checkin.CardBlocked, e.checkinStatus(ctx, card.PANToken), "refused at check-in while pending")
		require.Regexp(t, `^621660\*{9}\d{4}$`, d.MaskedPAN)

		c := e.waitCard(ctx, card.ID)
		require.Equal(t, issuance.BankCardBlocked, c.State)
		require.Equal(t, bankgw.CardBlocked, e.bankCard(app, 0).State)
		require.Equal(t, 1, e.bankCard(app, 0).Changes)
		require.Equal(t, checkin.CardBlocked, e.checkinStatus(ctx, card.PANToken))

		// Asking again changes nothing and writes no row.
		_, written, err = e.svc.RequestCardChange(ctx, admin, issuance.CardChangeRequest{CardID: card.ID,
			Change: issuance.CardChangeBlock, Reason: "lost on the metro"})
		require.NoError(t, err)
		require.False(t, written)
	})

	t.Run("unblock", func(t *testing.T) {
		bank := issuance.Actor{Role: issuance.RoleBankStaff, BankCode: "BOC", TokenID: 9}
		_, written, err := e.svc.RequestCardChange(ctx, bank, issuance.CardChangeRequest{CardID: card.ID,
			Change: issuance.CardChangeUnblock, Reason: "found again"})
		require.NoError(t, err)
		require.True(t, written)
		c := e.waitCard(ctx, card.ID)
		require.Equal(t, issuance.BankCardIssued, c.State)
		require.Equal(t, bankgw.CardIssued, e.bankCard(app, 0).State)
		require.Equal(t, 2, e.bankCard(app, 0).Changes)
		require.Equal(t, checkin.CardActive, e.checkinStatus(ctx, card.PANToken))
	})

	t.Run("replace", func(t *testing.T) {
		_, written, err := e.svc.RequestCardChange(ctx, admin, issuance.CardChangeRequest{CardID: card.ID,
			Change: issuance.CardChangeReplace, Reason: "stolen"})
		require.NoError(t, err)
		require.True(t, written)
		require.Equal(t, checkin.CardBlocked, e.checkinStatus(ctx, card.PANToken), "refused while the replacement is pending")
		old := e.waitCard(ctx, card.ID)
		require.Equal(t, issuance.BankCardReplaced, old.State)
		require.NotZero(t, old.ReplacedBy)

		// The bank: two cards for the one application number, the old one replaced.
		cards := e.sim.Ledger().CardsFor(app.Number)
		require.Len(t, cards, 2)
		require.Equal(t, bankgw.CardReplaced, cards[0].State)
		require.Equal(t, bankgw.CardIssued, cards[1].State)
		require.Equal(t, 1, cards[1].ReplaceSeq)
		require.NotEqual(t, cards[0].PAN, cards[1].PAN)

		// Ours: the new card is the application's card, ready for
		// personalization; the application is back at bank_approved.
		nc, err := e.svc.CardOf(ctx, app.ID)
		require.NoError(t, err)
		require.Equal(t, old.ReplacedBy, nc.ID)
		require.Equal(t, issuance.BankCardIssued, nc.State)
		require.Equal(t, 1, nc.ReplaceSeq)
		require.Equal(t, e.svc.PANToken(cards[1].PAN), nc.PANToken)
		require.Equal(t, cards[1].PSN, nc.PSN)
		require.Equal(t, issuance.StatusBankApproved, e.status(ctx, app.ID))
		pan, err := e.svc.OpenPAN(nc)
		require.NoError(t, err)
		require.Equal(t, cards[1].PAN, pan.Reveal())
		require.Equal(t, checkin.CardBlocked, e.checkinStatus(ctx, card.PANToken), "the old card is refused")
		require.Equal(t, checkin.CardActive, e.checkinStatus(ctx, nc.PANToken))

		all, err := e.st.CardsOfApplication(ctx, app.ID)
		require.NoError(t, err)
		require.Len(t, all, 2)

		// Handed over again: the holder is not counted twice.
		sys := issuance.SystemActor()
		_, err = e.svc.Transition(ctx, sys, app.ID, issuance.StatusPersonalized, "test")
		require.NoError(t, err)
		_, err = e.svc.Transition(ctx, sys, app.ID, issuance.StatusIssued, "test")
		require.NoError(t, err)
		require.Equal(t, int64(1), holders(t, e))

		// A replaced card takes no more changes.
		_, _, err = e.svc.RequestCardChange(ctx, admin, issuance.CardChangeRequest{CardID: card.ID,
			Change: issuance.CardChangeBlock, Reason: "lost"})
		var ce *issuance.CardChangeError
		require.ErrorAs(t, err, &ce)
		require.ErrorIs(t, err, issuance.ErrIllegalTransition)

		ev, err := e.svc.CardEvents(ctx, admin, card.ID)
		require.NoError(t, err)
		var kinds []string
		for _, x := range ev {
			kinds = append(kinds, string(x.Kind)+":"+string(x.Change))
		}
		require.Equal(t, []string{"requested:block", "confirmed:block", "requested:unblock", "confirmed:unblock",
			"requested:replace", "confirmed:replace"}, kinds)
	})

	reqs, err := st.BankRequests(ctx, app.ID)
	require.NoError(t, err)
	require.Len(t, reqs, 4, "apply + block + unblock + replace")
	for _, r := range reqs {
		require.Equal(t, outbox.StateDone, r.State)
		require.Equal(t, bankgw.CodeApproved, r.ResultCode)
	}
	require.Zero(t, e.sim.Stats()[bankgw.MTIReversalRequest], "status changes are never reversed")
}

func TestStatusChangeBankDown(t *testing.T) {
	ctx := context.Background()
	st := storetest.Postgres(t)
	e := newEnv(t, st, envOpts{})
	stop := run(e.worker(e.client(time.Second), nil))
	defer func() { require.NoError(t, stop()) }()
	app, card := e.issued(ctx)

	e.sim.Close() // the bank goes down
	_, written, err := e.svc.RequestCardChange(ctx, issuance.SystemActor(), issuance.CardChangeRequest{CardID: card.ID,
		Change: issuance.CardChangeBlock, Reason: "lost"})
	require.NoError(t, err)
	require.True(t, written)
	require.Eventually(t, func() bool {
		reqs, err := st.BankRequests(ctx, app.ID)
		require.NoError(t, err)
		r := reqs[len(reqs)-1]
		return r.Kind == outbox.KindStatusChange && r.Attempts >= 2 && r.State != outbox.StateDone &&
			strings.Contains(r.LastError, "no bank connection")
	}, 30*time.Second, 10*time.Millisecond)
	c, err := st.GetCard(ctx, card.ID)
	require.NoError(t, err)
	require.Equal(t, issuance.CardChangeBlock, c.PendingChange, "queued")
	require.Equal(t, issuance.BankCardIssued, c.State)
	require.Equal(t, checkin.CardBlocked, e.checkinStatus(ctx, card.PANToken))

	require.NoError(t, e.sim.Start(e.simAddr)) // back up: delivered
	require.Equal(t, issuance.BankCardBlocked, e.waitCard(ctx, card.ID).State)
	require.Equal(t, bankgw.CardBlocked, e.bankCard(app, 0).State)
	require.Equal(t, 1, e.bankCard(app, 0).Changes)
}

func TestStatusChangeNoAnswerRepeated(t *testing.T) {
	ctx := context.Background()
	st := storetest.Postgres(t)
	e := newEnv(t, st, envOpts{})
	stop := run(e.worker(e.client(300*time.Millisecond), func(cfg *outbox.Config) { cfg.Repeats = 2 }))
	defer func() { require.NoError(t, stop()) }()
	app, card := e.issued(ctx)
	before := e.sim.Stats()

	// The 0300 and the first 0301 go unanswered (the bank acts on the
	// first); the second 0301 is answered from the bank's journal.
	e.sim.SetFaults(banksim.Faults{NoAnswer: true, Times: 2})
	_, _, err := e.svc.RequestCardChange(ctx, issuance.SystemActor(), issuance.CardChangeRequest{CardID: card.ID,
		Change: issuance.CardChangeBlock, Reason: "stolen"})
	require.NoError(t, err)
	require.Equal(t, issuance.BankCardBlocked, e.waitCard(ctx, card.ID).State)

	stats := e.sim.Stats()
	require.Equal(t, 1, stats[bankgw.MTIFileUpdateRequest]-before[bankgw.MTIFileUpdateRequest])
	require.Equal(t, 2, stats[bankgw.MTIFileUpdateRepeat]-before[bankgw.MTIFileUpdateRepeat])
	require.Zero(t, stats[bankgw.MTIReversalRequest], "a status change is repeated, never reversed")
	require.Equal(t, 1, e.bankCard(app, 0).Changes, "exactly one state change at the bank")
	require.Equal(t, bankgw.CardBlocked, e.bankCard(app, 0).State)

	reqs, err := st.BankRequests(ctx, app.ID)
	require.NoError(t, err)
	r := reqs[len(reqs)-1]
	require.Equal(t, outbox.KindStatusChange, r.Kind)
	require.Equal(t, outbox.StateDone, r.State)
	require.Equal(t, 2, r.Repeats)
}

func TestStatusChangeRefused(t *testing.T) {
	ctx := context.Background()
	st := storetest.Postgres(t)
	e := newEnv(t, st, envOpts{})
	stop := run(e.worker(e.client(2*time.Second), nil))
	defer func() { require.NoError(t, stop()) }()
	app, card := e.issued(ctx)
	// The bank cancels the card behind our back (a reversal by an operator
	// there): our block is answered 57 and the pending change dropped.
	require.NoError(t, e.sim.SetCardState(app.Number, bankgw.CardCancelled))
	_, _, err := e.svc.RequestCardChange(ctx, issuance.SystemActor(), issuance.CardChangeRequest{CardID: card.ID,
		Change: issuance.CardChangeBlock, Reason: "lost"})
	require.NoError(t, err)
	c := e.waitCard(ctx, card.ID)
	require.Equal(t, issuance.BankCardIssued, c.State)
	ev, err := e.svc.CardEvents(ctx, issuance.SystemActor(), card.ID)
	require.NoError(t, err)
	last := ev[len(ev)-1]
	require.Equal(t, issuance.CardEventRefused, last.Kind)
	require.Equal(t, bankgw.CodeNotPermitted, last.ResultCode)
}
