package api

import (
	"context"
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/volcard/volcard/issuance"
	"github.com/volcard/volcard/issuance/store"
	"github.com/volcard/volcard/issuance/store/storetest"
	"github.com/volcard/volcard/wire"
)

// TestOffersAPI walks an offer through its routes as Meizhou's org admin:
// created with requires_pin and a validity end, listed, changed by PATCH
// (absent fields stay, null opens an end), withdrawn (kept, listed with
// withdrawn=true, a second withdrawal changes nothing, a change is 409);
// Guangzhou's admin gets 404 and the offer is unchanged; the benefit check
// answers requires_pin and not the withdrawn offer.
func TestOffersAPI(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		h := newCheckinHarness(t, st)
		until := time.Now().Add(30 * 24 * time.Hour).UTC().Truncate(time.Second)
		res := h.do(http.MethodPost, "/v1/offers", "mz", map[string]any{"org_id": h.meizhou.ID, "tier": "card_holder",
			"title": "超市九五折", "requires_pin": true, "valid_until": until})
		require.Equal(t, http.StatusCreated, res.status, "%s", res.body)
		var o wire.Offer
		res.json(t, &o)
		require.True(t, o.RequiresPIN)
		require.NotNil(t, o.ValidUntil)
		require.True(t, until.Equal(*o.ValidUntil))
		path := "/v1/offers/" + strconv.FormatInt(o.ID, 10)
		require.Equal(t, path, res.header.Get("Location"))
		res = h.do(http.MethodPost, "/v1/offers", "mz", map[string]any{"org_id": h.meizhou.ID, "tier": "card_holder", "title": "公交九折"})
		require.Equal(t, http.StatusCreated, res.status, "%s", res.body)
		var bus wire.Offer
		res.json(t, &bus)

		list := func(token, query string) []string {
			t.Helper()
			res := h.do(http.MethodGet, "/v1/offers"+query, token, nil)
			require.Equal(t, http.StatusOK, res.status, "%s", res.body)
			var l wire.OfferList
			res.json(t, &l)
			out := []string{}
			for _, it := range l.Items {
				out = append(out, it.Title)
			}
			return out
		}
		require.Equal(t, []string{"超市九五折", "公交九折"}, list("mz", ""))
		require.Equal(t, []string{}, list("gz", ""))
		require.Equal(t, []string{"超市九五折", "公交九折"}, list("admin", "?org="+strconv.FormatInt(h.meizhou.ID, 10)))
		require.Equal(t, http.StatusNotFound, h.do(http.MethodGet, "/v1/offers?org="+strconv.FormatInt(h.meizhou.ID, 10), "gz", nil).status)
		require.Equal(t, http.StatusBadRequest, h.do(http.MethodGet, "/v1/offers?withdrawn=maybe", "mz", nil).status)

		t.Run("out of scope changes nothing", func(t *testing.T) {
			before := h.do(http.MethodGet, path, "mz", nil).body
			res := h.do(http.MethodPatch, path, "gz", map[string]any{"title": "改"})
			require.Equal(t, http.StatusNotFound, res.status)
			res = h.do(http.MethodPost, path+"/withdraw", "gz", map[string]any{"reason": "x"})
			require.Equal(t, http.StatusNotFound, res.status)
			res = h.do(http.MethodPatch, path, "terminal", map[string]any{"title": "改"})
			require.Equal(t, http.StatusForbidden, res.status)
			res = h.do(http.MethodPatch, path, "mz", map[string]any{"tier": "gold"})
			require.Equal(t, http.StatusBadRequest, res.status, "%s", res.body)
			require.Equal(t, "tier", res.problem(t).Errors[0].Field)
			require.JSONEq(t, string(before), string(h.do(http.MethodGet, path, "mz", nil).body))
			evs, err := h.ck.OfferEvents(context.Background(), issuance.SystemActor(), o.ID)
			require.NoError(t, err)
			require.Len(t, evs, 1, "only offer_created")
		})

		t.Run("patch", func(t *testing.T) {
			res := h.do(http.MethodPatch, path, "mz", `{"title":"超市九折","valid_until":null}`)
			require.Equal(t, http.StatusOK, res.status, "%s", res.body)
			var got wire.Offer
			res.json(t, &got)
			require.Equal(t, "超市九折", got.Title)
			require.True(t, got.RequiresPIN, "absent: unchanged")
			require.Nil(t, got.ValidUntil, "null: open")
			res = h.do(http.MethodPatch, path, "mz", `{"requires_pin":false}`)
			require.Equal(t, http.StatusOK, res.status, "%s", res.body)
			res.json(t, &got)
			require.False(t, got.RequiresPIN)
			res = h.do(http.MethodPatch, path, "mz", `{"requires_pin":true}`)
			require.Equal(t, http.StatusOK, res.status, "%s", res.body)
		})

		t.Run("benefits answer requires_pin", func(t *testing.T) {
			ch := h.challenge(t, "terminal")
			res := h.do(http.MethodPost, "/v1/benefits/check", "terminal", wire.BenefitsRequest{ChallengeID: ch.ID,
				Card: cardEvidence(t, "default.json", ch.UN)})
			require.Equal(t, http.StatusOK, res.status, "%s", res.body)
			var b wire.Benefits
			res.json(t, &b)
			require.Len(t, b.Offers, 2)
			require.Equal(t, "超市九折", b.Offers[0].Title)
			require.True(t, b.Offers[0].RequiresPIN)
			require.False(t, b.Offers[1].RequiresPIN)
		})

		t.Run("withdraw", func(t *testing.T) {
			bp := "/v1/offers/" + strconv.FormatInt(bus.ID, 10)
			res := h.do(http.MethodPost, bp+"/withdraw", "mz", map[string]any{"reason": "合作结束"})
			require.Equal(t, http.StatusOK, res.status, "%s", res.body)
			var got wire.Offer
			res.json(t, &got)
			require.NotNil(t, got.WithdrawnAt)
			require.Equal(t, "合作结束", got.WithdrawReason)
			res = h.do(http.MethodPost, bp+"/withdraw", "mz", nil)
			require.Equal(t, http.StatusOK, res.status, "%s", res.body)
			res = h.do(http.MethodPatch, bp, "mz", map[string]any{"title": "复活"})
			require.Equal(t, http.StatusConflict, res.status, "%s", res.body)
			require.Equal(t, []string{"超市九折"}, list("mz", ""))
			require.Equal(t, []string{"超市九折", "公交九折"}, list("mz", "?withdrawn=true"))

			ch := h.challenge(t, "terminal")
			res = h.do(http.MethodPost, "/v1/benefits/check", "terminal", wire.BenefitsRequest{ChallengeID: ch.ID,
				Card: cardEvidence(t, "default.json", ch.UN)})
			require.Equal(t, http.StatusOK, res.status, "%s", res.body)
			var b wire.Benefits
			res.json(t, &b)
			require.Len(t, b.Offers, 1, "the withdrawn offer is no longer offered")
		})
	})
}

// TestRedeemAPI: POST /v1/benefits/redemptions after a benefit check: 409
// pin-required for none on an offer that requires the PIN, 201 with
// offline_pin, 200 replayed for the same again, 404 for an unknown check;
// GET /v1/offers/{id}/redemptions lists it for the offer's organisation
// (404 for another).
func TestRedeemAPI(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		h := newCheckinHarness(t, st)
		res := h.do(http.MethodPost, "/v1/offers", "mz", map[string]any{"org_id": h.meizhou.ID, "tier": "card_holder",
			"title": "超市九五折", "requires_pin": true})
		require.Equal(t, http.StatusCreated, res.status, "%s", res.body)
		var o wire.Offer
		res.json(t, &o)
		ch := h.challenge(t, "terminal")
		res = h.do(http.MethodPost, "/v1/benefits/check", "terminal", wire.BenefitsRequest{ChallengeID: ch.ID,
			Card: cardEvidence(t, "default.json", ch.UN)})
		require.Equal(t, http.StatusOK, res.status, "%s", res.body)
		var b wire.Benefits
		res.json(t, &b)
		require.NotEmpty(t, b.CheckID)

		redeem := func(check, cvm string) response {
			return h.do(http.MethodPost, "/v1/benefits/redemptions", "terminal", wire.RedemptionRequest{CheckID: check,
				OfferID: o.ID, CVM: cvm})
		}
		res = redeem(b.CheckID, wire.CVMNone)
		require.Equal(t, http.StatusConflict, res.status, "%s", res.body)
		require.Equal(t, KindPINRequired.TypeURI(), res.problem(t).Type)
		res = redeem(b.CheckID, wire.CVMOfflinePIN)
		require.Equal(t, http.StatusCreated, res.status, "%s", res.body)
		var r wire.Redemption
		res.json(t, &r)
		require.Equal(t, wire.CVMOfflinePIN, r.CVM)
		res = redeem(b.CheckID, wire.CVMOfflinePIN)
		require.Equal(t, http.StatusOK, res.status, "%s", res.body)
		var again wire.Redemption
		res.json(t, &again)
		require.True(t, again.Replayed)
		require.Equal(t, r.ID, again.ID)
		require.Equal(t, http.StatusNotFound, redeem("bc_unknown", wire.CVMOfflinePIN).status)

		path := "/v1/offers/" + strconv.FormatInt(o.ID, 10) + "/redemptions"
		res = h.do(http.MethodGet, path, "mz", nil)
		require.Equal(t, http.StatusOK, res.status, "%s", res.body)
		var l wire.RedemptionList
		res.json(t, &l)
		require.Len(t, l.Items, 1)
		require.Equal(t, h.holder.ID, l.Items[0].VolunteerID)
		require.Equal(t, http.StatusNotFound, h.do(http.MethodGet, path, "gz", nil).status)
	})
}
