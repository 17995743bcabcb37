package checkin_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/volcard/volcard/issuance"
	"github.com/volcard/volcard/issuance/checkin"
	"github.com/volcard/volcard/issuance/store"
	"github.com/volcard/volcard/issuance/store/storetest"
)

func offerTitles(os []checkin.Offer) []string {
	out := []string{}
	for _, o := range os {
		out = append(out, o.Title)
	}
	return out
}

// TestOfferLifecycle: offers are listed by their organisation (an org
// admin its subtree, the province all), changed (PATCH semantics, nothing
// written when nothing changes) and withdrawn (kept, listed with
// Withdrawn only, not changeable); another organisation's admin gets
// ErrNotFound with nothing written; each change is an audit event with the
// fields before and after.
func TestOfferLifecycle(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		cf := newCheckinFixture(t, st, checkin.Config{})
		county, err := cf.Svc.CreateOrg(ctx, cf.Sys, issuance.NewOrg{ParentID: cf.Meizhou.ID, Kind: issuance.OrgCounty,
			Name: "梅江区", RegionCode: "441402"})
		require.NoError(t, err)
		bus, err := cf.ck.CreateOffer(ctx, cf.MzAdmin, checkin.NewOffer{OrgID: cf.Meizhou.ID, Tier: checkin.TierCardHolder, Title: "公交九折"})
		require.NoError(t, err)
		tea, err := cf.ck.CreateOffer(ctx, cf.MzAdmin, checkin.NewOffer{OrgID: county.ID, Tier: checkin.TierStar, Title: "客家茶馆八折",
			RequiresPIN: true, ValidFrom: time.Date(2026, 12, 1, 0, 0, 0, 0, cst)})
		require.NoError(t, err)
		require.True(t, tea.RequiresPIN)
		_, err = cf.ck.CreateOffer(ctx, cf.GzAdmin, checkin.NewOffer{OrgID: cf.Guangzhou.ID, Tier: checkin.TierCardHolder, Title: "广州专享"})
		require.NoError(t, err)

		t.Run("list by scope", func(t *testing.T) {
			got, err := cf.ck.ListOffers(ctx, cf.MzAdmin, checkin.OfferFilter{})
			require.NoError(t, err)
			require.Equal(t, []string{"公交九折", "客家茶馆八折"}, offerTitles(got))
			got, err = cf.ck.ListOffers(ctx, cf.MzAdmin, checkin.OfferFilter{OrgID: county.ID})
			require.NoError(t, err)
			require.Equal(t, []string{"客家茶馆八折"}, offerTitles(got))
			got, err = cf.ck.ListOffers(ctx, cf.Sys, checkin.OfferFilter{})
			require.NoError(t, err)
			require.Equal(t, []string{"公交九折", "客家茶馆八折", "广州专享"}, offerTitles(got))
			_, err = cf.ck.ListOffers(ctx, cf.GzAdmin, checkin.OfferFilter{OrgID: cf.Meizhou.ID})
			require.ErrorIs(t, err, issuance.ErrNotFound)
			_, err = cf.ck.ListOffers(ctx, cf.terminal, checkin.OfferFilter{})
			require.ErrorIs(t, err, issuance.ErrForbidden)
		})

		t.Run("change", func(t *testing.T) {
			title, pin, open := "客家茶馆七折", false, time.Time{}
			until := time.Date(2027, 1, 1, 0, 0, 0, 0, cst)
			cf.Clock.T = cf.Clock.T.Add(time.Minute)
			got, err := cf.ck.ChangeOffer(ctx, cf.MzAdmin, tea.ID, checkin.OfferChange{Title: &title, RequiresPIN: &pin,
				ValidFrom: &open, ValidUntil: &until})
			require.NoError(t, err)
			require.Equal(t, "客家茶馆七折", got.Title)
			require.False(t, got.RequiresPIN)
			require.True(t, got.ValidFrom.IsZero(), "null opens the start")
			require.True(t, got.ValidUntil.Equal(until))
			require.Equal(t, checkin.TierStar, got.Tier, "absent fields stay")
			require.True(t, got.UpdatedAt.After(tea.UpdatedAt))
			stored, err := cf.ck.GetOffer(ctx, cf.Sys, tea.ID)
			require.NoError(t, err)
			require.Equal(t, got.Title, stored.Title)
			require.True(t, stored.ValidUntil.Equal(until))

			// The same change again writes nothing.
			_, err = cf.ck.ChangeOffer(ctx, cf.MzAdmin, tea.ID, checkin.OfferChange{Title: &title})
			require.NoError(t, err)

			// Out of scope or invalid: refused, nothing written.
			other := "x"
			_, err = cf.ck.ChangeOffer(ctx, cf.GzAdmin, tea.ID, checkin.OfferChange{Title: &other})
			require.ErrorIs(t, err, issuance.ErrNotFound)
			bad := time.Date(2026, 1, 1, 0, 0, 0, 0, cst)
			_, err = cf.ck.ChangeOffer(ctx, cf.MzAdmin, tea.ID, checkin.OfferChange{ValidFrom: &until, ValidUntil: &bad})
			require.ErrorIs(t, err, issuance.ErrInvalid)
			badTier := checkin.BenefitTier("gold")
			_, err = cf.ck.ChangeOffer(ctx, cf.MzAdmin, tea.ID, checkin.OfferChange{Tier: &badTier})
			require.ErrorIs(t, err, issuance.ErrInvalid)
			after, err := cf.ck.GetOffer(ctx, cf.Sys, tea.ID)
			require.NoError(t, err)
			require.Equal(t, stored, after)
		})

		t.Run("withdraw", func(t *testing.T) {
			_, _, err := cf.ck.WithdrawOffer(ctx, cf.GzAdmin, bus.ID, "")
			require.ErrorIs(t, err, issuance.ErrNotFound)
			o, changed, err := cf.ck.WithdrawOffer(ctx, cf.MzAdmin, bus.ID, "合作结束")
			require.NoError(t, err)
			require.True(t, changed)
			require.True(t, o.Withdrawn())
			require.Equal(t, "合作结束", o.WithdrawReason)
			again, changed, err := cf.ck.WithdrawOffer(ctx, cf.MzAdmin, bus.ID, "再次")
			require.NoError(t, err)
			require.False(t, changed)
			require.Equal(t, "合作结束", again.WithdrawReason, "the first withdrawal stays")

			got, err := cf.ck.ListOffers(ctx, cf.MzAdmin, checkin.OfferFilter{})
			require.NoError(t, err)
			require.Equal(t, []string{"客家茶馆七折"}, offerTitles(got))
			got, err = cf.ck.ListOffers(ctx, cf.MzAdmin, checkin.OfferFilter{Withdrawn: true})
			require.NoError(t, err)
			require.Equal(t, []string{"公交九折", "客家茶馆七折"}, offerTitles(got), "kept for history")

			title := "复活"
			_, err = cf.ck.ChangeOffer(ctx, cf.MzAdmin, bus.ID, checkin.OfferChange{Title: &title})
			require.ErrorIs(t, err, checkin.ErrOfferWithdrawn)
			require.ErrorIs(t, err, issuance.ErrConflict)
		})

		t.Run("audit", func(t *testing.T) {
			evs, err := cf.ck.OfferEvents(ctx, cf.MzAdmin, tea.ID)
			require.NoError(t, err)
			require.Len(t, evs, 2, "created and one change; the no-op and refused changes wrote nothing")
			require.Equal(t, checkin.EventOfferCreated, evs[0].Kind)
			require.Equal(t, checkin.EventOfferChanged, evs[1].Kind)
			require.Equal(t, cf.MzAdmin.TokenID, evs[1].ActorTokenID)
			var d struct {
				Before, After struct {
					Title       string     `json:"title"`
					RequiresPIN bool       `json:"requires_pin"`
					ValidFrom   *time.Time `json:"valid_from"`
				}
			}
			require.NoError(t, json.Unmarshal([]byte(evs[1].Detail), &d))
			require.Equal(t, "客家茶馆八折", d.Before.Title)
			require.True(t, d.Before.RequiresPIN)
			require.NotNil(t, d.Before.ValidFrom)
			require.Equal(t, "客家茶馆七折", d.After.Title)
			require.Nil(t, d.After.ValidFrom)

			evs, err = cf.ck.OfferEvents(ctx, cf.MzAdmin, bus.ID)
			require.NoError(t, err)
			require.Len(t, evs, 2)
			require.Equal(t, checkin.EventOfferWithdrawn, evs[1].Kind)
			require.Equal(t, "合作结束", evs[1].Reason)
			_, err = cf.ck.OfferEvents(ctx, cf.GzAdmin, bus.ID)
			require.ErrorIs(t, err, issuance.ErrNotFound)

			// Offer events are not the volunteer's.
			vev, err := cf.ck.Events(ctx, cf.Sys, cf.holder.ID)
			require.NoError(t, err)
			require.Empty(t, vev)
		})
	})
}

// TestBenefitsOffered: the benefit check answers only offers offered now
// (not withdrawn, within their validity) and, at a terminal, those of the
// terminal's organisation and its ancestors, with requires_pin.
func TestBenefitsOffered(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		cf := newCheckinFixture(t, st, checkin.Config{})
		cf.at(10, 0)
		county, err := cf.Svc.CreateOrg(ctx, cf.Sys, issuance.NewOrg{ParentID: cf.Meizhou.ID, Kind: issuance.OrgCounty,
			Name: "梅江区", RegionCode: "441402"})
		require.NoError(t, err)
		mk := func(org int64, title string, in checkin.NewOffer) checkin.Offer {
			in.OrgID, in.Title, in.Tier = org, title, checkin.TierCardHolder
			o, err := cf.ck.CreateOffer(ctx, cf.Sys, in)
			require.NoError(t, err)
			return o
		}
		mk(cf.Province.ID, "公交九折", checkin.NewOffer{})
		mk(cf.Meizhou.ID, "超市满减", checkin.NewOffer{RequiresPIN: true})
		mk(cf.Meizhou.ID, "明年", checkin.NewOffer{ValidFrom: cf.Clock.T.Add(time.Hour)})
		mk(cf.Meizhou.ID, "已过期", checkin.NewOffer{ValidUntil: cf.Clock.T})
		gone := mk(cf.Meizhou.ID, "已撤回", checkin.NewOffer{})
		_, _, err = cf.ck.WithdrawOffer(ctx, cf.Sys, gone.ID, "")
		require.NoError(t, err)
		// The holder is in Meizhou: a county offer is not for them.
		mk(county.ID, "区内专享", checkin.NewOffer{})

		check := func(a issuance.Actor) checkin.Benefits {
			ch, err := cf.ck.IssueChallenge(ctx, cf.terminal)
			require.NoError(t, err)
			if a.Role != issuance.RoleTerminal {
				// Challenges are per token: the admin checks with the terminal's.
				a = cf.terminal
			}
			b, err := cf.ck.CheckBenefits(ctx, a, checkin.BenefitsInput{ChallengeID: ch.ID,
				Evidence: tapEvidence(t, "default.json", ch.UN)})
			require.NoError(t, err)
			return b
		}
		b := check(cf.terminal)
		require.Equal(t, []string{"公交九折", "超市满减"}, offerTitles(b.Offers))
		require.False(t, b.Offers[0].RequiresPIN)
		require.True(t, b.Offers[1].RequiresPIN)

		// A terminal of the county (a merchant there) honours the offers of
		// the county's ancestors; a Guangzhou terminal none of Meizhou's.
		countyTerm := cf.Token(t, issuance.NewToken{Name: "county shop", Role: issuance.RoleTerminal, OrgID: county.ID})
		gzTerm := cf.Token(t, issuance.NewToken{Name: "gz shop", Role: issuance.RoleTerminal, OrgID: cf.Guangzhou.ID})
		for _, tc := range []struct {
			name string
			term issuance.Actor
			want []string
		}{
			{"county terminal", countyTerm, []string{"公交九折", "超市满减"}},
			{"guangzhou terminal", gzTerm, []string{"公交九折"}},
		} {
			t.Run(tc.name, func(t *testing.T) {
				ch, err := cf.ck.IssueChallenge(ctx, tc.term)
				require.NoError(t, err)
				b, err := cf.ck.CheckBenefits(ctx, tc.term, checkin.BenefitsInput{ChallengeID: ch.ID,
					Evidence: tapEvidence(t, "default.json", ch.UN)})
				require.NoError(t, err)
				require.Equal(t, tc.want, offerTitles(b.Offers))
			})
		}

		cf.Clock.T = cf.Clock.T.Add(2 * time.Hour)
		b = check(cf.terminal)
		require.Equal(t, []string{"公交九折", "超市满减", "明年"}, offerTitles(b.Offers), "valid from now on")
	})
}

// TestRedeem: a terminal redeems an offer after its benefit check, with the
// CVM it reports: none is refused for an offer that requires the PIN, a
// second redemption of the same check and offer answers the first; another
// terminal cannot use the check, an offer not offered here (another city,
// withdrawn since) is refused, and so is a check older than RedeemWindow.
// The offer's organisation lists its redemptions; nobody else sees them.
func TestRedeem(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		cf := newCheckinFixture(t, st, checkin.Config{})
		cf.at(10, 0)
		mk := func(org int64, title string, pin bool) checkin.Offer {
			o, err := cf.ck.CreateOffer(ctx, cf.Sys, checkin.NewOffer{OrgID: org, Title: title, Tier: checkin.TierCardHolder, RequiresPIN: pin})
			require.NoError(t, err)
			return o
		}
		bus, shop, book, gone := mk(cf.Meizhou.ID, "公交九折", false), mk(cf.Meizhou.ID, "超市九折", true),
			mk(cf.Meizhou.ID, "书店八折", false), mk(cf.Meizhou.ID, "将撤回", false)
		gz := mk(cf.Guangzhou.ID, "广州专享", false)
		ch, err := cf.ck.IssueChallenge(ctx, cf.terminal)
		require.NoError(t, err)
		b, err := cf.ck.CheckBenefits(ctx, cf.terminal, checkin.BenefitsInput{ChallengeID: ch.ID,
			Evidence: tapEvidence(t, "default.json", ch.UN)})
		require.NoError(t, err)
		require.True(t, len(b.CheckRef) > 16, "an opaque reference")
		redeem := func(a issuance.Actor, offer int64, cvm checkin.CVM) (checkin.Redemption, bool, error) {
			return cf.ck.Redeem(ctx, a, checkin.RedeemInput{CheckRef: b.CheckRef, OfferID: offer, CVM: cvm})
		}

		_, _, err = redeem(cf.terminal, shop.ID, checkin.CVMNone)
		require.ErrorIs(t, err, checkin.ErrPINRequired)
		first, replayed, err := redeem(cf.terminal, shop.ID, checkin.CVMOfflinePIN)
		require.NoError(t, err)
		require.False(t, replayed)
		again, replayed, err := redeem(cf.terminal, shop.ID, checkin.CVMOfflinePIN)
		require.NoError(t, err)
		require.True(t, replayed)
		require.Equal(t, first.ID, again.ID)
		_, _, err = redeem(cf.terminal, bus.ID, checkin.CVMNone)
		require.NoError(t, err)

		other := cf.Token(t, issuance.NewToken{Name: "gate 2", Role: issuance.RoleTerminal, OrgID: cf.Meizhou.ID})
		_, _, err = redeem(other, book.ID, checkin.CVMNone)
		require.ErrorIs(t, err, issuance.ErrNotFound, "another terminal's check")
		_, _, err = redeem(cf.MzAdmin, book.ID, checkin.CVMNone)
		require.ErrorIs(t, err, issuance.ErrForbidden)
		_, _, err = redeem(cf.terminal, gz.ID, checkin.CVMNone)
		require.ErrorIs(t, err, checkin.ErrOfferNotOffered)
		_, _, err = cf.ck.WithdrawOffer(ctx, cf.Sys, gone.ID, "")
		require.NoError(t, err)
		_, _, err = redeem(cf.terminal, gone.ID, checkin.CVMNone)
		require.ErrorIs(t, err, checkin.ErrOfferNotOffered)
		_, _, err = redeem(cf.terminal, book.ID, "pin")
		require.ErrorIs(t, err, issuance.ErrInvalid)

		cf.Clock.T = cf.Clock.T.Add(checkin.RedeemWindow + time.Second)
		_, _, err = redeem(cf.terminal, book.ID, checkin.CVMNone)
		require.ErrorIs(t, err, checkin.ErrCheckExpired)
		_, replayed, err = redeem(cf.terminal, shop.ID, checkin.CVMOfflinePIN)
		require.NoError(t, err)
		require.True(t, replayed, "a recorded redemption still answers")

		rs, err := cf.ck.Redemptions(ctx, cf.MzAdmin, shop.ID)
		require.NoError(t, err)
		require.Len(t, rs, 1)
		require.Equal(t, checkin.CVMOfflinePIN, rs[0].CVM)
		require.Equal(t, cf.holder.ID, rs[0].VolunteerID)
		require.Equal(t, cf.terminal.TokenID, rs[0].ActorTokenID)
		rs, err = cf.ck.Redemptions(ctx, cf.MzAdmin, book.ID)
		require.NoError(t, err)
		require.Empty(t, rs)
		_, err = cf.ck.Redemptions(ctx, cf.GzAdmin, shop.ID)
		require.ErrorIs(t, err, issuance.ErrNotFound)
	})
}
