package store_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/volcard/volcard/issuance"
	"github.com/volcard/volcard/issuance/issuancetest"
	"github.com/volcard/volcard/issuance/store"
	"github.com/volcard/volcard/issuance/store/storetest"
)

// TestRenewalRepo: the renewable cards of an organisation's subtree (by
// state and expiry, in scope only), a batch with its items and results,
// a card renewed in place, and a second personalization record for the
// renewed card (a new expiry on a new chip), on both stores.
func TestRenewalRepo(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		f := issuancetest.New(t, st)
		card := func(org issuance.Org, product, pan, expiry string, state issuance.BankCardState) issuance.Card {
			v := f.Volunteer(t, f.Sys, org, "续卡"+pan[len(pan)-4:])
			app, err := f.Svc.Apply(ctx, f.Sys, v.ID, product, issuance.ChannelBranch)
			require.NoError(t, err)
			c := issuance.Card{ApplicationID: app.ID, PANToken: f.Svc.PANToken(pan), PANSealed: []byte("sealed"),
				LastFour: pan[len(pan)-4:], Expiry: expiry, PSN: "001", State: state, CreatedAt: f.Clock.Now()}
			require.NoError(t, st.CreateCard(ctx, &c))
			return c
		}
		expired := card(f.Guangzhou, "GD-RV-BOC", "6217850000000001111", "2610", issuance.BankCardExpired)
		soon := card(f.Guangzhou, "GD-RV-BOC", "6217850000000002222", "2612", issuance.BankCardActive)
		later := card(f.Guangzhou, "GD-RV-BOC", "6217850000000003333", "2702", issuance.BankCardIssued)
		card(f.Guangzhou, "GD-RV-BOC", "6217850000000004444", "2611", issuance.BankCardBlocked)
		card(f.Meizhou, "MZ-VC-CCB", "6217000000000005555", "2610", issuance.BankCardExpired)

		sc := issuance.Scope{PathPrefix: f.Guangzhou.Path}
		ids := func(cs []issuance.Card) []int64 {
			out := make([]int64, len(cs))
			for i, c := range cs {
				out[i] = c.ID
			}
			return out
		}
		got, err := st.RenewableCards(ctx, sc, "2612", false, 100)
		require.NoError(t, err)
		require.Equal(t, []int64{expired.ID, soon.ID}, ids(got), "by expiry; not blocked, not later, not Meizhou's")
		got, err = st.RenewableCards(ctx, sc, "9912", true, 100)
		require.NoError(t, err)
		require.Equal(t, []int64{expired.ID}, ids(got))
		got, err = st.RenewableCards(ctx, sc, "9912", false, 2)
		require.NoError(t, err)
		require.Len(t, got, 2, "limit")

		b := issuance.RenewalBatch{OrgID: f.Guangzhou.ID, Through: "2612", ActorRole: issuance.RoleOrgAdmin, ActorTokenID: 3,
			CreatedAt: f.Clock.Now(), Items: []issuance.RenewalItem{
				{CardID: expired.ID, LastFour: "1111", Expiry: "2610", State: issuance.RenewalPending, UpdatedAt: f.Clock.Now()},
				{CardID: soon.ID, LastFour: "2222", Expiry: "2612", State: issuance.RenewalPending, UpdatedAt: f.Clock.Now()}}}
		require.NoError(t, st.CreateRenewalBatch(ctx, &b))
		require.NotZero(t, b.ID)
		require.NoError(t, st.SetRenewalItem(ctx, issuance.RenewalItem{BatchID: b.ID, CardID: soon.ID, State: issuance.RenewalRenewed,
			ResultCode: "00", NewCardID: later.ID, UpdatedAt: f.Clock.Now()}))
		require.ErrorIs(t, st.SetRenewalItem(ctx, issuance.RenewalItem{BatchID: b.ID, CardID: later.ID, State: issuance.RenewalRenewed,
			UpdatedAt: f.Clock.Now()}), issuance.ErrNotFound)
		back, err := st.GetRenewalBatch(ctx, b.ID)
		require.NoError(t, err)
		require.Equal(t, b.OrgID, back.OrgID)
		require.Equal(t, "2612", back.Through)
		require.Len(t, back.Items, 2)
		require.Equal(t, issuance.RenewalPending, back.Items[0].State)
		require.Equal(t, issuance.RenewalRenewed, back.Items[1].State)
		require.Equal(t, later.ID, back.Items[1].NewCardID)
		require.Equal(t, map[issuance.RenewalItemState]int{issuance.RenewalPending: 1, issuance.RenewalRenewed: 1,
			issuance.RenewalRefused: 0, issuance.RenewalSkipped: 0}, back.Progress())
		_, err = st.GetRenewalBatch(ctx, b.ID+1)
		require.ErrorIs(t, err, issuance.ErrNotFound)

		// Renewed in place (the bank kept the PAN).
		r := soon
		r.Expiry, r.PSN, r.BankReference, r.ReplaceSeq, r.State = "3112", "002", "CR2", 1, issuance.BankCardIssued
		r.UpdatedAt = f.Clock.Now()
		require.NoError(t, st.RenewCard(ctx, &r))
		c, err := st.GetCard(ctx, soon.ID)
		require.NoError(t, err)
		require.Equal(t, "3112", c.Expiry)
		require.Equal(t, "002", c.PSN)
		require.Equal(t, "CR2", c.BankReference)
		require.Equal(t, 1, c.ReplaceSeq)
		require.Equal(t, issuance.BankCardIssued, c.State)
		require.True(t, c.ActivatedAt.IsZero())

		// Personalized before and after the renewal: two records, the
		// latest is the application's; the same card and expiry twice is
		// a conflict.
		s1 := issuance.PersoSession{ID: "r1", ApplicationID: soon.ApplicationID, BankCode: "BOC", State: issuance.PersoOpen, Step: 1,
			ExpiresAt: f.Clock.Now(), CreatedAt: f.Clock.Now(), UpdatedAt: f.Clock.Now()}
		require.NoError(t, st.CreatePersoSession(ctx, &s1))
		first := issuance.PersoRecord{ApplicationID: soon.ApplicationID, CardID: soon.ID, SessionID: "r1", ChipSerial: "CHIP1",
			PANToken: soon.PANToken, LastFour: "2222", PSN: "001", Expiry: "2612", PersonalizedAt: f.Clock.Now()}
		require.NoError(t, st.CreatePersoRecord(ctx, &first))
		second := first
		second.ChipSerial, second.PSN, second.Expiry = "CHIP2", "002", "3112"
		require.NoError(t, st.CreatePersoRecord(ctx, &second))
		latest, err := st.GetPersoRecord(ctx, soon.ApplicationID)
		require.NoError(t, err)
		require.Equal(t, "CHIP2", latest.ChipSerial)
		again := second
		again.ChipSerial = "CHIP3"
		var ce *issuance.ConflictError
		require.ErrorAs(t, st.CreatePersoRecord(ctx, &again), &ce)
		require.Equal(t, "personalized_card", ce.What)
	})
}
