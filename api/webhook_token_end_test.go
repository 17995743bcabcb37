package api

import (
	"context"
	"encoding/json"
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/volcard/volcard/issuance"
	"github.com/volcard/volcard/issuance/feed"
	"github.com/volcard/volcard/issuance/store"
	"github.com/volcard/volcard/issuance/store/storetest"
)

// TestWebhookEndpointsEndWithTheirToken: revoking the token that created
// an endpoint disables it in the same transaction ("token revoked"); an
// endpoint of an expired token is disabled before the next claim ("token
// expired"); an endpoint of a live token stays on.
func TestWebhookEndpointsEndWithTheirToken(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		h := newHarness(t, st, nil)
		ctx, sys := context.Background(), issuance.SystemActor()
		token := func(name string, expires time.Time) (string, int64) {
			plain, tok, err := h.svc.CreateToken(ctx, sys, issuance.NewToken{Name: name, Role: issuance.RoleOrgAdmin,
				OrgID: h.guangzhou.ID, ExpiresAt: expires})
			require.NoError(t, err)
			h.tokens[name] = plain
			return plain, tok.ID
		}
		create := func(tok string) int64 {
			r := h.do(http.MethodPost, "/v1/webhooks", tok, map[string]any{"url": "https://platform.example/" + tok})
			require.Equal(t, http.StatusCreated, r.status, "body: %s", r.body)
			var ep struct {
				ID int64 `json:"id"`
			}
			require.NoError(t, json.Unmarshal(r.body, &ep))
			return ep.ID
		}
		state := func(id int64) (bool, string) {
			r := h.do(http.MethodGet, "/v1/webhooks/"+strconv.FormatInt(id, 10), "admin", nil)
			require.Equal(t, http.StatusOK, r.status, "body: %s", r.body)
			var ep struct {
				Enabled        bool   `json:"enabled"`
				DisabledReason string `json:"disabled_reason"`
			}
			require.NoError(t, json.Unmarshal(r.body, &ep))
			return ep.Enabled, ep.DisabledReason
		}
		_, revokedID := token("to-revoke", time.Time{})
		_, _ = token("to-expire", time.Now().Add(time.Hour))
		_, _ = token("live", time.Time{})
		epRevoked, epExpired, epLive := create("to-revoke"), create("to-expire"), create("live")

		require.NoError(t, h.svc.RevokeToken(ctx, sys, revokedID))
		on, why := state(epRevoked)
		require.False(t, on)
		require.Equal(t, feed.DisabledTokenRevoked, why)

		on, _ = state(epExpired)
		require.True(t, on, "not expired yet")
		_, err := st.ClaimWebhookDeliveries(ctx, feed.Claim{Owner: "t", Now: time.Now().Add(2 * time.Hour), Lease: time.Minute, Limit: 10})
		require.NoError(t, err)
		on, why = state(epExpired)
		require.False(t, on)
		require.Equal(t, feed.DisabledTokenExpired, why)
		on, why = state(epLive)
		require.True(t, on, why)
		on, why = state(epRevoked)
		require.Equal(t, feed.DisabledTokenRevoked, why, "the first reason stays")
		require.False(t, on)
	})
}
