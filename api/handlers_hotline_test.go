package api

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"golang.org/x/time/rate"

	"github.com/volcard/volcard/issuance"
	"github.com/volcard/volcard/issuance/store"
	"github.com/volcard/volcard/issuance/store/storetest"
)

// TestHotlineLookup looks a caller's application up as the hotline on both
// databases: the right pair answers the status and the card's last four
// digits (never the ID number, the PAN or its BIN); a wrong ID number and
// an unknown number are the same 404; every look-up is audited with its
// result; other roles are refused and not audited; the hotline is refused
// elsewhere; over its per-token limit it gets 429.
func TestHotlineLookup(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		h := newOutboxHarness(t, st, func(o *Options) { o.HotlineBurst, o.HotlineRate = 5, rate.Limit(1.0/3600) })
		plain, _, err := h.svc.CreateToken(context.Background(), issuance.SystemActor(),
			issuance.NewToken{Name: "12355 坐席 1", Role: issuance.RoleHotline})
		require.NoError(t, err)
		h.tokens["hotline"] = plain
		v, app := issuedHolder(t, h, h.meizhou, 9)
		idNumber := residentID(h.meizhou.RegionCode, "19980305", 9)
		cards, err := h.svc.VolunteerCards(context.Background(), issuance.SystemActor(), v.ID)
		require.NoError(t, err)
		require.Len(t, cards, 1)
		q := "/v1/hotline/lookup?application_number=" + app.Number + "&id_number="

		r := h.do("GET", q+idNumber, "hotline", nil)
		require.Equal(t, http.StatusOK, r.status, "body: %s", r.body)
		var ans hotlineResponse
		r.json(t, &ans)
		require.Equal(t, "issued", ans.Status)
		require.Equal(t, "BOC", ans.Bank)
		require.Len(t, ans.Cards, 1)
		require.Equal(t, cards[0].LastFour, ans.Cards[0].LastFour)
		require.Equal(t, "issued", ans.Cards[0].State)
		body := string(r.body)
		require.NotContains(t, body, idNumber)
		require.NotContains(t, body, "621661", "no PAN digits beyond the last four")
		require.NotContains(t, body, "李小红", "the name is masked")

		for _, c := range []struct{ name, path string }{
			{"wrong ID number", q + residentID(h.meizhou.RegionCode, "19980305", 10)},
			{"unknown number", "/v1/hotline/lookup?application_number=GD000000000000000000&id_number=" + idNumber},
		} {
			r := h.do("GET", c.path, "hotline", nil)
			require.Equal(t, http.StatusNotFound, r.status, "%s: %s", c.name, r.body)
			require.NotContains(t, string(r.body), idNumber)
		}
		for _, tok := range []string{"admin", "mz", "boc", "platform", "terminal"} {
			require.Equal(t, http.StatusForbidden, h.do("GET", q+idNumber, tok, nil).status, tok)
		}
		require.Equal(t, http.StatusForbidden, h.do("GET", "/v1/applications/"+id(app.ID), "hotline", nil).status)
		require.Equal(t, http.StatusForbidden, h.do("GET", "/v1/volunteers?id_number="+idNumber, "hotline", nil).status)

		evs := auditOf(t, h, "application", app.Number)
		require.Len(t, evs, 2, "the found and the wrong-ID look-ups of this number; refused roles are not look-ups")
		require.Equal(t, "hotline", evs[0].ActorRole)
		require.True(t, strings.HasPrefix(evs[0].Detail, "not found"), evs[0].Detail)
		require.Equal(t, "found: issued", evs[1].Detail)
		require.Len(t, auditOf(t, h, "application", "GD000000000000000000"), 1)

		// Three look-ups so far; the burst is five.
		require.Equal(t, http.StatusOK, h.do("GET", q+idNumber, "hotline", nil).status)
		require.Equal(t, http.StatusOK, h.do("GET", q+idNumber, "hotline", nil).status)
		r = h.do("GET", q+idNumber, "hotline", nil)
		require.Equal(t, http.StatusTooManyRequests, r.status, "body: %s", r.body)
		require.NotEmpty(t, r.header.Get("Retry-After"))
		require.Len(t, auditOf(t, h, "application", app.Number), 4, "a refused look-up is not audited as one")
	})
}
