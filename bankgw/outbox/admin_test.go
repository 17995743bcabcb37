package outbox_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/volcard/volcard/bankgw"
	"github.com/volcard/volcard/bankgw/outbox"
	"github.com/volcard/volcard/issuance"
	"github.com/volcard/volcard/issuance/store"
	"github.com/volcard/volcard/issuance/store/storetest"
)

// fail parks a row as failed, as the worker does after a format error.
func fail(t *testing.T, st *store.Store, id int64) outbox.Request {
	t.Helper()
	ctx := context.Background()
	r, err := st.GetBankRequest(ctx, id)
	require.NoError(t, err)
	r.State, r.ResultCode, r.LastError = outbox.StateFailed, bankgw.CodeFormatError, "bank declined 30: format error"
	require.NoError(t, st.SaveBankRequest(ctx, &r, ""))
	return r
}

// TestAdminCancel gives up failed rows of each kind and checks what each
// leaves behind: a status change drops the card's pending change (the card
// keeps its state, the refusal is in its events), a reversal sends its add
// afresh.
func TestAdminCancel(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		e := newEnv(t, st, envOpts{})
		admin, err := outbox.NewAdmin(e.svc, st, quiet)
		require.NoError(t, err)
		sys := issuance.SystemActor()

		t.Run("refused", func(t *testing.T) {
			a, _ := e.approved(ctx)
			_, err := e.svc.SubmitApprovedToBank(ctx, 10)
			require.NoError(t, err)
			reqs, err := st.BankRequests(ctx, a.ID)
			require.NoError(t, err)
			require.Len(t, reqs, 1)
			r := fail(t, st, reqs[0].ID)

			orgAdmin := issuance.Actor{Role: issuance.RoleOrgAdmin, OrgID: e.city.ID, TokenID: 7}
			_, err = admin.Cancel(ctx, orgAdmin, r.ID, "settled")
			require.ErrorIs(t, err, issuance.ErrForbidden)
			_, err = admin.List(ctx, orgAdmin, outbox.Filter{})
			require.ErrorIs(t, err, issuance.ErrForbidden)
			_, err = admin.Cancel(ctx, sys, r.ID, "  ")
			require.ErrorIs(t, err, issuance.ErrInvalid, "a reason is required")
			_, err = admin.Cancel(ctx, sys, 999999, "settled")
			require.ErrorIs(t, err, issuance.ErrNotFound)

			got, err := admin.Cancel(ctx, sys, r.ID, "settled with the bank")
			require.NoError(t, err)
			require.Equal(t, outbox.StateCancelled, got.State)
			require.Equal(t, "cancelled by an operator: settled with the bank", got.LastError)
			_, err = admin.Retry(ctx, sys, r.ID, "")
			require.ErrorIs(t, err, issuance.ErrConflict, "only failed rows")
			require.Equal(t, issuance.StatusBankPending, e.status(ctx, a.ID), "a cancelled add leaves its application")
		})

		t.Run("status change", func(t *testing.T) {
			stop := run(e.worker(e.client(2*time.Second), nil))
			app, card := e.issued(ctx)
			require.NoError(t, stop())
			_, written, err := e.svc.RequestCardChange(ctx, sys, issuance.CardChangeRequest{CardID: card.ID,
				Change: issuance.CardChangeBlock, Reason: "lost"})
			require.NoError(t, err)
			require.True(t, written)
			reqs, err := st.BankRequests(ctx, app.ID)
			require.NoError(t, err)
			r := reqs[len(reqs)-1]
			require.Equal(t, outbox.KindStatusChange, r.Kind)
			fail(t, st, r.ID)

			views, err := admin.List(ctx, sys, outbox.Filter{State: outbox.StateFailed, Kind: outbox.KindStatusChange})
			require.NoError(t, err)
			require.Len(t, views, 1)
			require.Equal(t, r.ID, views[0].ID)
			require.Equal(t, card.LastFour, views[0].CardLastFour)

			got, err := admin.Cancel(ctx, issuance.Actor{Role: issuance.RoleProvinceAdmin, TokenID: 3}, r.ID, "card found")
			require.NoError(t, err)
			require.Equal(t, outbox.StateCancelled, got.State)
			c, err := st.GetCard(ctx, card.ID)
			require.NoError(t, err)
			require.Empty(t, c.PendingChange, "the pending block is dropped")
			require.Equal(t, issuance.BankCardIssued, c.State)
			ev, err := e.svc.CardEvents(ctx, sys, card.ID)
			require.NoError(t, err)
			last := ev[len(ev)-1]
			require.Equal(t, issuance.CardEventRefused, last.Kind)
			require.Equal(t, "cancelled by an operator (token 3): card found", last.Reason)
		})

		t.Run("reversal", func(t *testing.T) {
			a, _ := e.approved(ctx)
			_, err := e.svc.SubmitApprovedToBank(ctx, 10)
			require.NoError(t, err)
			reqs, err := st.BankRequests(ctx, a.ID)
			require.NoError(t, err)
			require.Len(t, reqs, 1)
			apply := reqs[0]
			// As after an add without an answer: the add waits for its
			// reversal, which the bank refused.
			apply.State, apply.MaybeSent, apply.Repeats = outbox.StateWaiting, true, 3
			apply.Trace = bankgw.Trace{MTI: bankgw.MTIFileUpdateRepeat, STAN: "000042", RRN: "123400000042"}
			require.NoError(t, st.SaveBankRequest(ctx, &apply, ""))
			now := time.Now().UTC()
			rev := outbox.Request{ApplicationID: a.ID, ApplicationNumber: a.Number, ParentID: apply.ID,
				Kind: outbox.KindReversal, Payload: []byte("{}"), State: outbox.StateFailed, NextAttemptAt: now,
				CreatedAt: now, UpdatedAt: now}
			require.NoError(t, st.InsertBankRequest(ctx, &rev))

			got, err := admin.Cancel(ctx, sys, rev.ID, "reversed at the bank by phone")
			require.NoError(t, err)
			require.Equal(t, outbox.StateCancelled, got.State)
			parent, err := st.GetBankRequest(ctx, apply.ID)
			require.NoError(t, err)
			require.Equal(t, outbox.StatePending, parent.State, "the add is sent afresh")
			require.True(t, parent.Trace.IsZero(), "with a new trace")
			require.False(t, parent.MaybeSent)
			require.Zero(t, parent.Repeats)
			require.WithinDuration(t, time.Now(), parent.NextAttemptAt, time.Minute, "due at once")
		})
	})
}
