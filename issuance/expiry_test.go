package issuance_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/volcard/volcard/issuance"
	"github.com/volcard/volcard/issuance/issuancetest"
	"github.com/volcard/volcard/issuance/store"
	"github.com/volcard/volcard/issuance/store/storetest"
)

func TestExpiryEnd(t *testing.T) {
	cst := time.FixedZone("CST", 8*3600)
	for _, tc := range []struct {
		name, yymm string
		want       time.Time
		bad        bool
	}{
		{name: "december rolls the year", yymm: "3012", want: time.Date(2031, 1, 1, 0, 0, 0, 0, cst)},
		{name: "february", yymm: "2802", want: time.Date(2028, 3, 1, 0, 0, 0, 0, cst)},
		{name: "month 13", yymm: "2613", bad: true},
		{name: "month 00", yymm: "2600", bad: true},
		{name: "letters", yymm: "26a1", bad: true},
		{name: "too long", yymm: "202612", bad: true},
		{name: "empty", yymm: "", bad: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := issuance.ExpiryEnd(tc.yymm)
			if tc.bad {
				require.ErrorIs(t, err, issuance.ErrInvalid)
				require.False(t, issuance.CardExpiredAt(tc.yymm, time.Date(2099, 1, 1, 0, 0, 0, 0, cst)))
				return
			}
			require.NoError(t, err)
			require.True(t, got.Equal(tc.want), "got %s", got)
			require.True(t, issuance.CardExpiredAt(tc.yymm, tc.want))
			require.False(t, issuance.CardExpiredAt(tc.yymm, tc.want.Add(-time.Second)))
		})
	}
}

// TestExpireCardsAndExpiringList: the job marks the current cards past
// their month expired once each, with one event, and leaves the rest (a
// card still valid, a replaced card, a card with a change on its way); the
// expiring list holds each organisation's cards due within the look-ahead,
// soonest first, and nothing of another organisation.
func TestExpireCardsAndExpiringList(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		f := issuancetest.New(t, st) // 2026-11-23
		n := 0
		card := func(org issuance.Org, expiry string, state issuance.BankCardState) issuance.Card {
			t.Helper()
			n++
			v := f.Volunteer(t, f.Sys, org, "志愿者")
			app, err := f.Svc.Apply(ctx, f.Sys, v.ID, "GD-RV-BOC", issuance.ChannelBranch)
			require.NoError(t, err)
			pan := "62178500000000" + string(rune('0'+n/10)) + string(rune('0'+n%10)) + "123"
			c := issuance.Card{ApplicationID: app.ID, PANToken: f.Svc.PANToken(pan), PANSealed: []byte("sealed"),
				LastFour: pan[len(pan)-4:], Expiry: expiry, State: state, CreatedAt: f.Clock.Now()}
			require.NoError(t, st.CreateCard(ctx, &c))
			return c
		}
		gzPast := card(f.Guangzhou, "2610", issuance.BankCardActive)     // ended 2026-10-31
		gzSoon := card(f.Guangzhou, "2611", issuance.BankCardIssued)     // valid through 2026-11-30
		gzLater := card(f.Guangzhou, "2702", issuance.BankCardActive)    // through 2027-02-28: 97 days
		gzBlocked := card(f.Guangzhou, "2609", issuance.BankCardBlocked) // lost, then expired
		gzReplaced := card(f.Guangzhou, "2501", issuance.BankCardReplaced)
		gzPending := card(f.Guangzhou, "2608", issuance.BankCardActive)
		require.NoError(t, st.DB(ctx).Exec(`UPDATE cards SET pending_change = 'block' WHERE id = ?`, gzPending.ID).Error)
		mzSoon := card(f.Meizhou, "2612", issuance.BankCardActive)
		prov := f.Token(t, issuance.NewToken{Role: issuance.RoleProvinceAdmin})

		ids := func(cs []issuance.CardDetails) []int64 {
			out := []int64{}
			for _, c := range cs {
				out = append(out, c.ID)
			}
			return out
		}
		list := func(a issuance.Actor, org issuance.Org, within time.Duration) []int64 {
			t.Helper()
			cs, err := f.Svc.ExpiringCards(ctx, a, org.ID, within)
			require.NoError(t, err)
			for _, c := range cs {
				require.NotContains(t, c.MaskedPAN, "0000000", "masked")
			}
			return ids(cs)
		}
		day := 24 * time.Hour
		require.Equal(t, []int64{gzPending.ID, gzBlocked.ID, gzPast.ID, gzSoon.ID}, list(f.GzAdmin, f.Guangzhou, 90*day),
			"soonest first; already past but not marked included; replaced left out")
		require.Equal(t, []int64{gzPending.ID, gzBlocked.ID, gzPast.ID, gzSoon.ID, gzLater.ID}, list(f.GzAdmin, f.Guangzhou, 98*day))
		require.Equal(t, []int64{mzSoon.ID}, list(f.MzAdmin, f.Meizhou, 90*day))
		require.Equal(t, []int64{gzPending.ID, gzBlocked.ID, gzPast.ID, gzSoon.ID, mzSoon.ID}, list(prov, f.Province, 90*day))
		_, err := f.Svc.ExpiringCards(ctx, f.MzAdmin, f.Guangzhou.ID, 90*day)
		require.ErrorIs(t, err, issuance.ErrNotFound, "another city's list")
		_, err = f.Svc.ExpiringCards(ctx, f.GzAdmin, f.Province.ID, 90*day)
		require.ErrorIs(t, err, issuance.ErrNotFound, "the parent's list")
		_, err = f.Svc.ExpiringCards(ctx, f.GzAdmin, f.Guangzhou.ID, 0)
		require.ErrorIs(t, err, issuance.ErrInvalid)
		_, err = f.Svc.ExpireCards(ctx, f.GzAdmin)
		require.ErrorIs(t, err, issuance.ErrForbidden)

		marked, err := f.Svc.ExpireCards(ctx, f.Sys)
		require.NoError(t, err)
		require.Equal(t, 2, marked, "the active and the blocked card past their month")
		again, err := f.Svc.ExpireCards(ctx, f.Sys)
		require.NoError(t, err)
		require.Zero(t, again, "idempotent")
		for _, tc := range []struct {
			c      issuance.Card
			state  issuance.BankCardState
			events int
		}{
			{gzPast, issuance.BankCardExpired, 1}, {gzBlocked, issuance.BankCardExpired, 1},
			{gzSoon, issuance.BankCardIssued, 0}, {gzLater, issuance.BankCardActive, 0},
			{gzReplaced, issuance.BankCardReplaced, 0}, {gzPending, issuance.BankCardActive, 0},
		} {
			got, err := st.GetCard(ctx, tc.c.ID)
			require.NoError(t, err)
			require.Equal(t, tc.state, got.State, "card %d", tc.c.ID)
			ev, err := f.Svc.CardEvents(ctx, f.GzAdmin, tc.c.ID)
			require.NoError(t, err)
			require.Len(t, ev, tc.events)
			if tc.events == 1 {
				require.Equal(t, issuance.CardEventExpired, ev[0].Kind)
				require.Equal(t, issuance.RoleSystem, ev[0].ActorRole)
				require.Equal(t, "expiry month "+tc.c.Expiry+" ended", ev[0].Reason)
			}
		}
		require.Equal(t, []int64{gzPending.ID, gzSoon.ID}, list(f.GzAdmin, f.Guangzhou, 90*day), "expired cards leave the list")
		banked, err := issuance.NewService(st, issuancetest.Keys(t), issuance.WithClock(f.Clock), issuance.WithBankOutbox(st))
		require.NoError(t, err)
		_, _, err = banked.RequestCardChange(ctx, f.GzAdmin, issuance.CardChangeRequest{CardID: gzPast.ID,
			Change: issuance.CardChangeBlock, Reason: "丢失"})
		require.ErrorIs(t, err, issuance.ErrIllegalTransition, "an expired card is not changed at the bank")
	})
}

func TestParseWithin(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want time.Duration
		bad  bool
	}{
		{in: "", want: 90 * 24 * time.Hour},
		{in: "90d", want: 90 * 24 * time.Hour},
		{in: "1d", want: 24 * time.Hour},
		{in: "732d", want: 732 * 24 * time.Hour},
		{in: "0d", bad: true},
		{in: "733d", bad: true},
		{in: "90", bad: true},
		{in: "2160h", bad: true},
		{in: "-5d", bad: true},
		{in: "+5d", bad: true},
		{in: "９０d", bad: true},
		{in: "d", bad: true},
	} {
		t.Run(tc.in, func(t *testing.T) {
			got, err := issuance.ParseWithin(tc.in)
			if tc.bad {
				require.ErrorIs(t, err, issuance.ErrInvalid)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tc.want, got)
		})
	}
}

func FuzzParseWithin(f *testing.F) {
	for _, s := range []string{"", "90d", "1d", "732d", "0d", "733d", "-1d", "1e3d", "d", "99999999999999999999d"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d, err := issuance.ParseWithin(s)
		if err == nil && (d < 24*time.Hour || d > 732*24*time.Hour || d%(24*time.Hour) != 0) {
			t.Fatalf("issuance.ParseWithin(%q) = %s", s, d)
		}
	})
}
