package reconcile_test

import (
	"bytes"
	"context"
	"iter"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/volcard/volcard/bankgw/settlement"
	"github.com/volcard/volcard/issuance"
	"github.com/volcard/volcard/issuance/issuancetest"
	"github.com/volcard/volcard/issuance/reconcile"
	"github.com/volcard/volcard/issuance/store"
	"github.com/volcard/volcard/issuance/store/storetest"
	"github.com/volcard/volcard/pii"
)

func testKeys(t testing.TB) settlement.Keys {
	k, err := settlement.DeriveKeys(bytes.Repeat([]byte{0x42}, settlement.KeySize))
	require.NoError(t, err)
	return k
}

// world is a fixture with a reconcile service.
type world struct {
	*issuancetest.Fixture
	rec *reconcile.Service
}

func newWorld(t *testing.T, st *store.Store) world {
	f := issuancetest.New(t, st)
	rec, err := reconcile.New(f.Svc, st)
	require.NoError(t, err)
	return world{Fixture: f, rec: rec}
}

// application makes an application of product in org up to bank_pending,
// and, when pan is not empty, bank_approved with that card.
func (w world) application(t *testing.T, org issuance.Org, product, pan string) issuance.Application {
	t.Helper()
	ctx := context.Background()
	v := w.Volunteer(t, w.Sys, org, "王五")
	app, err := w.Svc.Apply(ctx, w.Sys, v.ID, product, issuance.ChannelOnline)
	require.NoError(t, err)
	_, err = w.Svc.Approve(ctx, w.Sys, app.ID)
	require.NoError(t, err)
	app, err = w.Svc.Transition(ctx, w.Sys, app.ID, issuance.StatusBankPending, "")
	require.NoError(t, err)
	if pan != "" {
		app, err = w.Svc.RecordBankApproval(ctx, app.ID, issuance.IssuedCard{PAN: pii.NewSecret(pii.KindOther, pan),
			Expiry: "3112", PSN: "01", Reference: "R" + pan[len(pan)-6:]})
		require.NoError(t, err)
	}
	return app
}

func rowsOf(cards ...reconcile.BankCard) iter.Seq2[reconcile.BankCard, error] {
	return func(yield func(reconcile.BankCard, error) bool) {
		for i, c := range cards {
			c.Line = i + 2
			if !yield(c, nil) {
				return
			}
		}
	}
}

// TestReconcileFindsSeededDifferences seeds one bank's two sides with every
// kind of difference and checks the stored report names each, and only
// them; no card or application changes.
func TestReconcileFindsSeededDifferences(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		w := newWorld(t, st)
		k := testKeys(t)
		const (
			panSame    = "6217850000000000013"
			panBlocked = "6217850000000000021"
			panOurs    = "6217850000000000039"
			panBank    = "6217850000000000047"
			panOther   = "6217850000000000054"
			panPAN     = "6217850000000000062"
			panLate    = "6217850000000000070"
			panCCB     = "6217000000000000018"
		)
		same := w.application(t, w.Guangzhou, "GD-RV-BOC", panSame)
		blocked := w.application(t, w.Guangzhou, "GD-RV-BOC", panBlocked)
		oursOnly := w.application(t, w.Guangzhou, "GD-RV-BOC", panOurs)
		pending := w.application(t, w.Guangzhou, "GD-RV-BOC", "")
		wrongPAN := w.application(t, w.Guangzhou, "GD-RV-BOC", panPAN)
		ccb := w.application(t, w.Meizhou, "MZ-VC-CCB", panCCB)
		// A card made after the business day ended (midnight UTC+8) is not
		// expected in that day's file.
		w.Clock.T = time.Date(2026, 11, 23, 17, 0, 0, 0, time.UTC)
		w.application(t, w.Guangzhou, "GD-RV-BOC", panLate)

		row := func(app issuance.Application, pan string, st issuance.BankCardState) reconcile.BankCard {
			return reconcile.BankCard{ApplicationNumber: app.Number, ProductCode: "GDRVBOC", LastFour: pan[len(pan)-4:],
				PANMAC: k.PANMAC(pan), State: st}
		}
		activated := time.Date(2026, 11, 20, 0, 0, 0, 0, time.UTC)
		blockedRow := row(blocked, panBlocked, issuance.BankCardBlocked)
		blockedRow.Activated = activated
		rep, err := w.rec.Reconcile(ctx, w.Sys, reconcile.Input{BankCode: "BOC",
			Date: time.Date(2026, 11, 23, 0, 0, 0, 0, time.UTC), Source: "BOC/2026-11-23.csv", PANMAC: k.PANMAC,
			Rows: rowsOf(
				row(same, panSame, issuance.BankCardIssued),
				blockedRow,
				row(pending, panBank, issuance.BankCardIssued),
				reconcile.BankCard{ApplicationNumber: "VC2026010100000000", ProductCode: "GDRVBOC", LastFour: "9999",
					PANMAC: k.PANMAC("6217859999999999999"), State: issuance.BankCardActive},
				row(ccb, panCCB, issuance.BankCardIssued),
				row(wrongPAN, panOther, issuance.BankCardIssued),
				row(same, panSame, issuance.BankCardIssued),
			)})
		require.NoError(t, err)
		require.NotZero(t, rep.ID)
		require.Equal(t, 7, rep.BankCards)
		require.Equal(t, 4, rep.OurCards, "same, blocked, ours-only, wrong PAN; not the card of the next day")
		require.Equal(t, 1, rep.Matched)
		require.Equal(t, map[reconcile.Kind]int{reconcile.KindStateDiffers: 1, reconcile.KindPANDiffers: 1,
			reconcile.KindUnknownToVolcard: 1, reconcile.KindUnknownToBank: 1, reconcile.KindApplicationUnknown: 2,
			reconcile.KindDuplicateRow: 1}, rep.ByKind)
		require.Equal(t, 7, rep.Differences)

		got, diffs, err := w.rec.Get(ctx, w.Sys, rep.ID)
		require.NoError(t, err)
		require.Equal(t, rep.ByKind, got.ByKind)
		require.Equal(t, "2026-11-23", got.BusinessDate.Format(time.DateOnly))
		type short struct {
			Kind      reconcile.Kind
			App       string
			Ours      issuance.BankCardState
			Bank      issuance.BankCardState
			LastFour  string
			Activated string
		}
		var shorts []short
		for _, d := range diffs {
			s := short{Kind: d.Kind, App: d.ApplicationNumber, Ours: d.OurState, Bank: d.BankState, LastFour: d.LastFour}
			if !d.BankActivated.IsZero() {
				s.Activated = d.BankActivated.Format(time.DateOnly)
			}
			shorts = append(shorts, s)
			require.NotContains(t, d.Detail, "621785000000000", "no PAN in a difference")
		}
		unknownApps := []short{
			{Kind: reconcile.KindApplicationUnknown, App: "VC2026010100000000", Bank: issuance.BankCardActive, LastFour: "9999"},
			{Kind: reconcile.KindApplicationUnknown, App: ccb.Number, Bank: issuance.BankCardIssued, LastFour: "0018"},
		}
		if ccb.Number < "VC2026010100000000" {
			unknownApps[0], unknownApps[1] = unknownApps[1], unknownApps[0]
		}
		require.Equal(t, append([]short{
			{Kind: reconcile.KindStateDiffers, App: blocked.Number, Ours: issuance.BankCardIssued, Bank: issuance.BankCardBlocked, LastFour: "0021", Activated: "2026-11-20"},
			{Kind: reconcile.KindPANDiffers, App: wrongPAN.Number, Ours: issuance.BankCardIssued, Bank: issuance.BankCardIssued, LastFour: "0062"},
			{Kind: reconcile.KindUnknownToVolcard, App: pending.Number, Bank: issuance.BankCardIssued, LastFour: "0047"},
			{Kind: reconcile.KindUnknownToBank, App: oursOnly.Number, Ours: issuance.BankCardIssued, LastFour: "0039"},
		}, append(unknownApps,
			short{Kind: reconcile.KindDuplicateRow, App: same.Number, Ours: issuance.BankCardIssued, Bank: issuance.BankCardIssued, LastFour: "0013"},
		)...), shorts)
		for _, d := range diffs {
			if d.ApplicationNumber == ccb.Number {
				require.Contains(t, d.Detail, "another bank")
				require.NotContains(t, d.Detail, "CCB", "the report may be read by this bank's staff: not which bank")
			}
		}

		// Reported, never changed: the card blocked at the bank is still
		// issued at volcard, the pending application still pending.
		c, err := st.GetCardByApplication(ctx, blocked.ID)
		require.NoError(t, err)
		require.Equal(t, issuance.BankCardIssued, c.State)
		p, err := w.Svc.GetApplication(ctx, w.Sys, pending.ID)
		require.NoError(t, err)
		require.Equal(t, issuance.StatusBankPending, p.Status)

		// Bank staff read their bank's reports only.
		boc := w.Token(t, issuance.NewToken{Role: issuance.RoleBankStaff, BankCode: "BOC"})
		ccbStaff := w.Token(t, issuance.NewToken{Role: issuance.RoleBankStaff, BankCode: "CCB"})
		list, err := w.rec.List(ctx, boc, "", 10)
		require.NoError(t, err)
		require.Len(t, list, 1)
		list, err = w.rec.List(ctx, ccbStaff, "", 10)
		require.NoError(t, err)
		require.Empty(t, list)
		_, _, err = w.rec.Get(ctx, ccbStaff, rep.ID)
		require.ErrorIs(t, err, issuance.ErrNotFound)
		_, err = w.rec.List(ctx, ccbStaff, "BOC", 10)
		require.ErrorIs(t, err, issuance.ErrForbidden)
		_, err = w.rec.Reconcile(ctx, boc, reconcile.Input{BankCode: "BOC", PANMAC: k.PANMAC, Rows: rowsOf()})
		require.ErrorIs(t, err, issuance.ErrForbidden, "bank staff read, never run")
		_, err = w.rec.List(ctx, w.GzAdmin, "", 10)
		require.ErrorIs(t, err, issuance.ErrForbidden)
	})
}

// TestReconcileBadFileStoresNothing: a file that fails mid-way (its MAC, a
// bad row) leaves no report.
func TestReconcileBadFileStoresNothing(t *testing.T) {
	st := storetest.Postgres(t)
	w := newWorld(t, st)
	k := testKeys(t)
	ctx := context.Background()
	_, err := w.rec.Reconcile(ctx, w.Sys, reconcile.Input{BankCode: "BOC", Date: issuancetest.Now, PANMAC: k.PANMAC,
		Rows: func(yield func(reconcile.BankCard, error) bool) {
			if yield(reconcile.BankCard{ApplicationNumber: "X", LastFour: "0000", State: issuance.BankCardActive}, nil) {
				yield(reconcile.BankCard{}, settlement.ErrFileMAC)
			}
		}})
	require.ErrorIs(t, err, settlement.ErrFileMAC)
	list, err := w.rec.List(ctx, w.Sys, "", 10)
	require.NoError(t, err)
	require.Empty(t, list)
}
