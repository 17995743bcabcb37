package outbox_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/volcard/volcard/bankgw"
	"github.com/volcard/volcard/bankgw/outbox"
	"github.com/volcard/volcard/issuance"
	"github.com/volcard/volcard/issuance/checkin"
	"github.com/volcard/volcard/issuance/store/storetest"
)

// TestRenewalAndClosingThroughTheBank: a renewal (ST N) and a closing
// (ST C) of one card through the outbox and banksim over TCP, with the
// refusals on our side: bank staff do not renew, a blocked card is not
// renewed, a closing needs a reason of the list, staff cannot cancel a
// handed-over application themselves, a closed card changes no more. The
// renewed card (same PAN, new expiry, PSN 002) handed over again does not
// count the holder twice.
func TestRenewalAndClosingThroughTheBank(t *testing.T) {
	ctx := context.Background()
	st := storetest.Postgres(t)
	e := newEnv(t, st, envOpts{})
	stop := run(e.worker(e.client(2*time.Second), nil))
	defer func() { require.NoError(t, stop()) }()
	app, card := e.issued(ctx)
	require.Equal(t, int64(1), holders(t, e))
	admin := issuance.Actor{Role: issuance.RoleOrgAdmin, OrgID: e.city.ID, TokenID: 7}
	bank := issuance.Actor{Role: issuance.RoleBankStaff, BankCode: "BOC", TokenID: 9}
	renew := issuance.CardChangeRequest{CardID: card.ID, Change: issuance.CardChangeRenew}

	t.Run("refused renewals", func(t *testing.T) {
		_, _, err := e.svc.RequestCardChange(ctx, bank, renew)
		require.ErrorIs(t, err, issuance.ErrForbidden, "bank staff do not start renewals")
		_, _, err = e.svc.RequestCardChange(ctx, admin, issuance.CardChangeRequest{CardID: card.ID,
			Change: issuance.CardChangeBlock, Reason: "lost"})
		require.NoError(t, err)
		require.Equal(t, issuance.BankCardBlocked, e.waitCard(ctx, card.ID).State)
		_, _, err = e.svc.RequestCardChange(ctx, admin, renew)
		var ce *issuance.CardChangeError
		require.ErrorAs(t, err, &ce)
		require.Contains(t, ce.Reason, "blocked")
		_, _, err = e.svc.RequestCardChange(ctx, admin, issuance.CardChangeRequest{CardID: card.ID, Change: issuance.CardChangeUnblock})
		require.NoError(t, err)
		require.Equal(t, issuance.BankCardIssued, e.waitCard(ctx, card.ID).State)
	})

	t.Run("renew: same PAN, new expiry and PSN", func(t *testing.T) {
		d, written, err := e.svc.RequestCardChange(ctx, admin, renew)
		require.NoError(t, err)
		require.True(t, written)
		require.Equal(t, "renew_pending", d.DisplayState())
		require.Equal(t, checkin.CardActive, e.checkinStatus(ctx, card.PANToken), "a renewal on its way does not stop the card")
		c := e.waitCard(ctx, card.ID)
		require.Equal(t, issuance.BankCardIssued, c.State)
		bankCards := e.sim.Ledger().CardsFor(app.Number)
		require.Len(t, bankCards, 1)
		require.Equal(t, card.PANToken, c.PANToken)
		require.Equal(t, bankCards[0].Expiry, c.Expiry)
		require.Equal(t, "002", c.PSN)
		require.Equal(t, 1, c.ReplaceSeq)
		require.Equal(t, issuance.StatusBankApproved, e.status(ctx, app.ID))

		sys := issuance.SystemActor()
		_, err = e.svc.Transition(ctx, sys, app.ID, issuance.StatusPersonalized, "test")
		require.NoError(t, err)
		_, err = e.svc.Transition(ctx, sys, app.ID, issuance.StatusIssued, "test")
		require.NoError(t, err)
		require.Equal(t, int64(1), holders(t, e), "the renewed card handed over does not count the holder again")
	})

	t.Run("staff cannot cancel a handed-over application", func(t *testing.T) {
		_, err := e.svc.Transition(ctx, admin, app.ID, issuance.StatusCancelled, "left")
		require.ErrorIs(t, err, issuance.ErrIllegalTransition)
		require.Equal(t, issuance.StatusIssued, e.status(ctx, app.ID))
	})

	t.Run("close", func(t *testing.T) {
		_, _, err := e.svc.CloseCard(ctx, admin, card.ID, "moved_away", "")
		require.ErrorIs(t, err, issuance.ErrInvalid)
		_, _, err = e.svc.RequestCardChange(ctx, admin, issuance.CardChangeRequest{CardID: card.ID, Change: issuance.CardChangeBlock,
			Reason: "lost", CloseReason: issuance.CloseDeceased})
		require.ErrorIs(t, err, issuance.ErrInvalid, "a close reason only for a closing")
		d, written, err := e.svc.CloseCard(ctx, bank, card.ID, issuance.CloseDeceased, "家属告知")
		require.NoError(t, err)
		require.True(t, written)
		require.Equal(t, "close_pending", d.DisplayState())
		c := e.waitCard(ctx, card.ID)
		require.Equal(t, issuance.BankCardClosed, c.State)
		require.Equal(t, bankgw.CardCancelled, e.sim.Ledger().CardsFor(app.Number)[0].State)
		require.Equal(t, issuance.StatusCancelled, e.status(ctx, app.ID))
		require.Equal(t, checkin.CardClosed, e.checkinStatus(ctx, card.PANToken))

		_, written, err = e.svc.CloseCard(ctx, admin, card.ID, issuance.CloseHolderLeft, "")
		require.NoError(t, err)
		require.False(t, written, "closed already")
		for _, ch := range []issuance.CardChangeRequest{
			{CardID: card.ID, Change: issuance.CardChangeBlock, Reason: "lost"},
			{CardID: card.ID, Change: issuance.CardChangeRenew},
			{CardID: card.ID, Change: issuance.CardChangeReplace, Reason: "lost"},
		} {
			_, _, err = e.svc.RequestCardChange(ctx, admin, ch)
			require.ErrorIs(t, err, issuance.ErrIllegalTransition, string(ch.Change))
		}
		ev, err := e.svc.CardEvents(ctx, admin, card.ID)
		require.NoError(t, err)
		last := ev[len(ev)-1]
		require.Equal(t, issuance.CardEventConfirmed, last.Kind)
		require.Equal(t, issuance.CardChangeClose, last.Change)
		require.Equal(t, "deceased", last.Reason)
	})
}

// TestRenewalBatchRefused: the bank's refusal of a renewal lands on the
// batch's item (refused, with the code and reason) and the card keeps its
// state; a card with another change on its way is skipped, not sent.
func TestRenewalBatchRefused(t *testing.T) {
	ctx := context.Background()
	st := storetest.Postgres(t)
	e := newEnv(t, st, envOpts{})
	stop := run(e.worker(e.client(2*time.Second), nil))
	_, card := e.issued(ctx)
	_, other := e.issued(ctx)
	require.NoError(t, stop()) // the rows stay pending from here
	for _, c := range []issuance.Card{card, other} {
		c.State = issuance.BankCardExpired // as the daily job marks it
		require.NoError(t, st.UpdateCard(ctx, &c))
	}
	admin := issuance.Actor{Role: issuance.RoleOrgAdmin, OrgID: e.city.ID, TokenID: 7}
	_, _, err := e.svc.CloseCard(ctx, admin, other.ID, issuance.CloseHolderLeft, "")
	require.NoError(t, err)

	b, err := e.svc.RequestRenewals(ctx, admin, issuance.RenewalRequest{OrgID: e.city.ID, ExpiredOnly: true})
	require.NoError(t, err)
	require.Len(t, b.Items, 2)
	got, err := e.svc.RenewalBatch(ctx, admin, b.ID)
	require.NoError(t, err)
	require.Equal(t, map[issuance.RenewalItemState]int{issuance.RenewalPending: 1, issuance.RenewalSkipped: 1,
		issuance.RenewalRenewed: 0, issuance.RenewalRefused: 0}, got.Progress())
	for _, it := range got.Items {
		if it.CardID == other.ID {
			require.Equal(t, issuance.RenewalSkipped, it.State)
			require.Contains(t, it.Reason, "pending change")
		}
	}

	c, err := st.GetCard(ctx, card.ID)
	require.NoError(t, err)
	require.Equal(t, issuance.CardChangeRenew, c.PendingChange)
	require.NoError(t, e.svc.RecordCardChangeRefused(ctx, issuance.CardStatusChange{CardID: card.ID,
		Change: issuance.CardChangeRenew, ReplaceSeq: 1, BatchID: b.ID}, "57", "status change not permitted"))
	got, err = e.svc.RenewalBatch(ctx, admin, b.ID)
	require.NoError(t, err)
	for _, it := range got.Items {
		if it.CardID == card.ID {
			require.Equal(t, issuance.RenewalRefused, it.State)
			require.Equal(t, "57", it.ResultCode)
			require.Equal(t, "status change not permitted", it.Reason)
		}
	}
	c, err = st.GetCard(ctx, card.ID)
	require.NoError(t, err)
	require.Equal(t, issuance.BankCardExpired, c.State)
	require.Empty(t, c.PendingChange)

	// Out of scope: another city's admin sees no batch.
	away := issuance.Actor{Role: issuance.RoleOrgAdmin, OrgID: e.province.ID + 1000, TokenID: 8}
	_, err = e.svc.RenewalBatch(ctx, away, b.ID)
	require.Error(t, err)
}

// TestRenewalAgainstTheBanksRule: a link that declares the bank renews
// with a new PAN, and a bank that answers with the same PAN (banksim's
// same_pan rule): the answer is not applied, the row ends failed for an
// operator, the card keeps its renewal pending. Declared same_pan, the
// same answer is applied.
func TestRenewalAgainstTheBanksRule(t *testing.T) {
	for _, tc := range []struct {
		declared issuance.RenewalRule
		applied  bool
	}{{issuance.RenewNewPAN, false}, {issuance.RenewSamePAN, true}} {
		t.Run(string(tc.declared), func(t *testing.T) {
			ctx := context.Background()
			st := storetest.Postgres(t)
			e := newEnv(t, st, envOpts{})
			stop := run(e.worker(e.client(2*time.Second), func(c *outbox.Config) { c.Renewal = tc.declared }))
			defer func() { require.NoError(t, stop()) }()
			app, card := e.issued(ctx)
			admin := issuance.Actor{Role: issuance.RoleOrgAdmin, OrgID: e.city.ID, TokenID: 7}
			_, _, err := e.svc.RequestCardChange(ctx, admin, issuance.CardChangeRequest{CardID: card.ID, Change: issuance.CardChangeRenew})
			require.NoError(t, err)
			var r outbox.Request
			require.Eventually(t, func() bool {
				rows, err := st.BankRequests(ctx, app.ID)
				require.NoError(t, err)
				for _, x := range rows {
					if x.Kind == outbox.KindStatusChange && (x.State == outbox.StateDone || x.State == outbox.StateFailed) {
						r = x
						return true
					}
				}
				return false
			}, 30*time.Second, 10*time.Millisecond)
			c, err := st.GetCard(ctx, card.ID)
			require.NoError(t, err)
			if tc.applied {
				require.Equal(t, outbox.StateDone, r.State)
				require.Empty(t, c.PendingChange)
				require.Equal(t, "002", c.PSN)
				return
			}
			require.Equal(t, outbox.StateFailed, r.State)
			require.Contains(t, r.LastError, "against the bank's rule new_pan")
			require.Equal(t, issuance.CardChangeRenew, c.PendingChange)
			require.Equal(t, card.Expiry, c.Expiry, "nothing of the answer applied")
		})
	}
}
