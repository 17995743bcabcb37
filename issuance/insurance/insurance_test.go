package insurance_test

import (
	"bytes"
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/volcard/volcard/issuance"
	"github.com/volcard/volcard/issuance/insurance"
	"github.com/volcard/volcard/issuance/issuancetest"
	"github.com/volcard/volcard/issuance/store"
	"github.com/volcard/volcard/issuance/store/storetest"
	"github.com/volcard/volcard/pii"
)

// world is a core service with the insurance hooks, and the insurance
// service.
type world struct {
	*issuancetest.Fixture
	ins *insurance.Service
}

func newWorld(t *testing.T, st *store.Store) world {
	f := issuancetest.NewWith(t, st, issuance.WithTransitionHooks(insurance.Enrol(st)),
		issuance.WithCardHooks(insurance.End(st)))
	ins, err := insurance.New(f.Svc, st)
	require.NoError(t, err)
	ins.WithNow(func() time.Time { return f.Clock.T })
	return world{Fixture: f, ins: ins}
}

// issued makes an application of v up to issued, with a card of pan
// expiring in expiry (YYMM).
func (w world) issued(t *testing.T, v issuance.Volunteer, product, pan, expiry string) issuance.Application {
	t.Helper()
	ctx := context.Background()
	app, err := w.Svc.Apply(ctx, w.Sys, v.ID, product, issuance.ChannelOnline)
	require.NoError(t, err)
	_, err = w.Svc.Approve(ctx, w.Sys, app.ID)
	require.NoError(t, err)
	_, err = w.Svc.Transition(ctx, w.Sys, app.ID, issuance.StatusBankPending, "")
	require.NoError(t, err)
	_, err = w.Svc.RecordBankApproval(ctx, app.ID, issuance.IssuedCard{PAN: pii.NewSecret(pii.KindOther, pan),
		Expiry: expiry, PSN: "01", Reference: "R" + pan[len(pan)-6:]})
	require.NoError(t, err)
	_, err = w.Svc.Transition(ctx, w.Sys, app.ID, issuance.StatusPersonalized, "")
	require.NoError(t, err)
	app, err = w.Svc.Transition(ctx, w.Sys, app.ID, issuance.StatusIssued, "")
	require.NoError(t, err)
	return app
}

func (w world) activate(t *testing.T, rrn, pan string) {
	t.Helper()
	out, err := w.Svc.RecordActivationAdvice(context.Background(), rrn, issuance.CardRef{PAN: pii.NewSecret(pii.KindOther, pan)})
	require.NoError(t, err)
	require.Equal(t, issuance.AdviceApplied, out)
}

func (w world) file(t *testing.T, day string) insurance.File {
	t.Helper()
	var buf bytes.Buffer
	_, _, err := w.ins.DailyFile(context.Background(), w.Sys, day, &buf)
	require.NoError(t, err)
	f, err := insurance.ParseFile(&buf)
	require.NoError(t, err)
	return f
}

// TestCoverFollowsTheCard: the activation advice enrols the holder under
// the policy in force (in the advice's transaction), a repeated advice and
// a second activation do not enrol twice, the day's file adds the holder
// with the clear ID number, the card's expiry ends the cover at the end of
// the expiry month and the file of the day the job ran terminates it.
func TestCoverFollowsTheCard(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		w := newWorld(t, st)
		v := w.Volunteer(t, w.Sys, w.Guangzhou, "陈小明")
		const pan = "6217850000000000013"
		app := w.issued(t, v, "GD-RV-BOC", pan, "2612")

		ens, err := st.Enrolments(ctx)
		require.NoError(t, err)
		require.Empty(t, ens, "issued is not insured yet")

		w.activate(t, "RRN000000001", pan)
		out, err := w.Svc.RecordActivationAdvice(ctx, "RRN000000001", issuance.CardRef{PAN: pii.NewSecret(pii.KindOther, pan)})
		require.NoError(t, err)
		require.Equal(t, issuance.AdviceDuplicate, out)
		ens, err = st.Enrolments(ctx)
		require.NoError(t, err)
		require.Len(t, ens, 1)
		e := ens[0]
		require.Equal(t, v.ID, e.VolunteerID)
		require.Equal(t, app.ID, e.ApplicationID)
		require.NotZero(t, e.CardID)
		require.Equal(t, insurance.DefaultCoverFen, e.CoverFen)
		require.Equal(t, "2026-11-23", e.StartDay)
		require.True(t, e.EndsAt.IsZero())

		f := w.file(t, "2026-11-23")
		require.Equal(t, "20261123", f.Date)
		require.Equal(t, 1, f.Additions)
		require.Equal(t, 0, f.Terminations)
		r := f.Records[0]
		require.Equal(t, "陈小明", r.Name)
		id, err := w.Svc.Open("volunteer.id_number", v.IDNumberSealed)
		require.NoError(t, err)
		require.Equal(t, id, r.IDNumber)
		require.Equal(t, "PICC-GD-ZYZ-DEFAULT", r.PolicyNumber)
		require.Equal(t, "20261123", r.StartDate)
		require.Equal(t, int64(10_000_000), r.CoverFen)
		require.Empty(t, w.file(t, "2026-11-24").Records)

		_, rows, err := w.ins.Report(ctx, w.GzAdmin, w.Guangzhou.ID)
		require.NoError(t, err)
		require.Len(t, rows, 1)
		require.Equal(t, int64(1), rows[0].Insured)
		_, _, err = w.ins.Report(ctx, w.GzAdmin, w.Meizhou.ID)
		require.ErrorIs(t, err, issuance.ErrNotFound)

		// The card expires with December 2026; the job runs on 2 January.
		w.Clock.T = time.Date(2027, 1, 2, 1, 0, 0, 0, time.UTC)
		n, err := w.Svc.ExpireCards(ctx, w.Sys)
		require.NoError(t, err)
		require.Equal(t, 1, n)
		ens, err = st.Enrolments(ctx)
		require.NoError(t, err)
		require.Len(t, ens, 1)
		require.True(t, ens[0].EndsAt.Equal(time.Date(2027, 1, 1, 0, 0, 0, 0, time.FixedZone("", 8*3600))), ens[0].EndsAt)
		require.Equal(t, "2027-01-02", ens[0].EndDay)
		require.Equal(t, "expired", ens[0].EndReason)
		f = w.file(t, "2027-01-02")
		require.Equal(t, 0, f.Additions)
		require.Equal(t, 1, f.Terminations)
		require.Equal(t, "20261231", f.Records[0].LastDate)
		require.Equal(t, "20261123", f.Records[0].StartDate)

		ended, err := insurance.EndCover(ctx, st, e.CardID, w.Clock.T, "closed")
		require.NoError(t, err)
		require.False(t, ended, "nothing left to end")
		_, rows, err = w.ins.Report(ctx, w.Sys, w.Province.ID)
		require.NoError(t, err)
		require.Equal(t, int64(0), rows[0].Insured)
		require.Equal(t, int64(1), rows[0].Ended)
	})
}

// TestSecondLiveCardKeepsCover: a holder with two active cards keeps the
// cover when one is closed, and loses it with the second.
func TestSecondLiveCardKeepsCover(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		w := newWorld(t, st)
		v := w.Volunteer(t, w.Sys, w.Meizhou, "李华")
		w.issued(t, v, "GD-RV-BOC", "6217850000000000021", "2812")
		w.issued(t, v, "MZ-VC-CCB", "6217000000000000039", "2812")
		w.activate(t, "RRN000000011", "6217850000000000021")
		w.activate(t, "RRN000000012", "6217000000000000039")
		ens, err := st.Enrolments(ctx)
		require.NoError(t, err)
		require.Len(t, ens, 1, "one cover per holder")
		first := ens[0].CardID

		ended, err := insurance.EndCover(ctx, st, first, w.Clock.T, "closed")
		require.NoError(t, err)
		require.False(t, ended, "the other card is live")
		// The first card is closed (the closing feature sets the state);
		// here its state is set by hand, then the second is closed.
		require.NoError(t, st.DB(ctx).Exec("UPDATE cards SET state = 'cancelled' WHERE id = ?", first).Error)
		var second int64
		require.NoError(t, st.DB(ctx).Raw("SELECT id FROM cards WHERE id <> ?", first).Scan(&second).Error)
		ended, err = insurance.EndCover(ctx, st, second, w.Clock.T, "closed")
		require.NoError(t, err)
		require.True(t, ended)
		ens, err = st.Enrolments(ctx)
		require.NoError(t, err)
		require.Equal(t, "closed", ens[0].EndReason)
		require.True(t, ens[0].EndsAt.Equal(w.Clock.T))
	})
}

// TestSetPolicy: a new policy starts where the current one ends; past
// dates, bad numbers, a duplicate number and other roles are refused and
// change nothing; enrolments after the date take the new policy.
func TestSetPolicy(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		w := newWorld(t, st)
		good := insurance.NewPolicy{Insurer: "中国平安财产保险股份有限公司", PolicyNumber: "PA-2026-GD-0001",
			CoverFen: 10_000_000, EffectiveFrom: "2026-12-01"}
		for name, tc := range map[string]struct {
			a   issuance.Actor
			in  func(p *insurance.NewPolicy)
			err error
		}{
			"past":      {w.Sys, func(p *insurance.NewPolicy) { p.EffectiveFrom = "2026-11-22" }, issuance.ErrInvalid},
			"number":    {w.Sys, func(p *insurance.NewPolicy) { p.PolicyNumber = "PA 1|2" }, issuance.ErrInvalid},
			"cover":     {w.Sys, func(p *insurance.NewPolicy) { p.CoverFen = 0 }, issuance.ErrInvalid},
			"duplicate": {w.Sys, func(p *insurance.NewPolicy) { p.PolicyNumber = "PICC-GD-ZYZ-DEFAULT" }, issuance.ErrConflict},
			"org admin": {w.GzAdmin, func(*insurance.NewPolicy) {}, issuance.ErrForbidden},
		} {
			in := good
			tc.in(&in)
			_, err := w.ins.SetPolicy(ctx, tc.a, in)
			require.ErrorIs(t, err, tc.err, name)
		}
		ps, err := w.ins.Policies(ctx, w.Sys)
		require.NoError(t, err)
		require.Len(t, ps, 1)

		p, err := w.ins.SetPolicy(ctx, w.Sys, good)
		require.NoError(t, err)
		ps, err = w.ins.Policies(ctx, w.Sys)
		require.NoError(t, err)
		require.Len(t, ps, 2)
		require.Equal(t, "2026-12-01", ps[0].EffectiveTo)
		require.Equal(t, p.ID, ps[1].ID)
		_, err = w.ins.SetPolicy(ctx, w.Sys, insurance.NewPolicy{Insurer: "x", PolicyNumber: "X-1", CoverFen: 1,
			EffectiveFrom: "2026-12-01"})
		require.True(t, errors.Is(err, issuance.ErrConflict), "same start as the current policy")

		v := w.Volunteer(t, w.Sys, w.Guangzhou, "赵六")
		w.issued(t, v, "GD-RV-BOC", "6217850000000000047", "2812")
		w.Clock.T = time.Date(2026, 12, 1, 2, 0, 0, 0, time.UTC)
		w.activate(t, "RRN000000021", "6217850000000000047")
		ens, err := st.Enrolments(ctx)
		require.NoError(t, err)
		require.Equal(t, p.ID, ens[0].PolicyID)
	})
}
