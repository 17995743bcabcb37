package api

import (
	"context"
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/volcard/volcard/issuance/store"
	"github.com/volcard/volcard/issuance/store/storetest"
)

// TestTokenAPI manages tokens through the API on both databases: the
// secret is in the creation answer only, the list shows hints, an expired
// or revoked token stops working, every change is audited without the
// secret, and a refused change writes nothing.
func TestTokenAPI(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		h := newHarness(t, st, nil)
		exp := time.Now().Add(time.Hour).UTC().Truncate(time.Second)
		r := h.do("POST", "/v1/admin/tokens", "admin", map[string]any{"name": "梅州 1 号签到机", "role": "terminal",
			"org_id": h.meizhou.ID, "expires_at": exp.Format(time.RFC3339)})
		require.Equal(t, http.StatusCreated, r.status, "body: %s", r.body)
		require.Equal(t, "no-store", r.header.Get("Cache-Control"))
		var created newTokenResponse
		r.json(t, &created)
		require.NotEmpty(t, created.Token)
		require.Equal(t, "active", created.State)
		require.True(t, exp.Equal(*created.ExpiresAt))
		h.tokens["new terminal"] = created.Token
		require.Equal(t, http.StatusOK, h.do("GET", "/v1/orgs/"+strconv.FormatInt(h.meizhou.ID, 10), "new terminal", nil).status)

		r = h.do("GET", "/v1/admin/tokens?role=terminal", "admin", nil)
		require.Equal(t, http.StatusOK, r.status, "body: %s", r.body)
		require.NotContains(t, string(r.body), created.Token, "the list never shows a secret")
		var list listResponse[tokenJSON]
		r.json(t, &list)
		require.Len(t, list.Items, 2, "the fixture's terminal and the new one")
		require.Equal(t, created.Token[:7], list.Items[1].Hint)

		tid := strconv.FormatInt(created.ID, 10)
		r = h.do("PATCH", "/v1/admin/tokens/"+tid, "admin", map[string]any{"expires_at": nil, "name": "梅州签到机"})
		require.Equal(t, http.StatusOK, r.status, "body: %s", r.body)
		var upd tokenJSON
		r.json(t, &upd)
		require.Nil(t, upd.ExpiresAt, "null removes the expiry")
		require.Equal(t, "梅州签到机", upd.Name)

		before := rowCounts(t, st)
		for _, c := range []struct {
			name, method, path, token string
			body                      any
			status                    int
		}{
			{"expiry in the past", "PATCH", "/v1/admin/tokens/" + tid, "admin", map[string]any{"expires_at": "2020-01-01T00:00:00Z"}, http.StatusBadRequest},
			{"not a time", "PATCH", "/v1/admin/tokens/" + tid, "admin", map[string]any{"expires_at": "tomorrow"}, http.StatusBadRequest},
			{"nothing", "PATCH", "/v1/admin/tokens/" + tid, "admin", map[string]any{}, http.StatusBadRequest},
			{"unknown token", "PATCH", "/v1/admin/tokens/999999", "admin", map[string]any{"name": "x"}, http.StatusNotFound},
			{"org admin", "POST", "/v1/admin/tokens", "mz", map[string]any{"role": "terminal", "org_id": h.meizhou.ID}, http.StatusForbidden},
			{"created expired", "POST", "/v1/admin/tokens", "admin", map[string]any{"role": "terminal", "org_id": h.meizhou.ID,
				"expires_at": "2020-01-01T00:00:00Z"}, http.StatusBadRequest},
			{"bad role", "POST", "/v1/admin/tokens", "admin", map[string]any{"role": "root"}, http.StatusBadRequest},
			{"terminal without org", "POST", "/v1/admin/tokens", "admin", map[string]any{"role": "terminal"}, http.StatusBadRequest},
			{"bank staff revokes", "POST", "/v1/admin/tokens/" + tid + "/revoke", "boc", nil, http.StatusForbidden},
		} {
			t.Run(c.name, func(t *testing.T) {
				r := h.do(c.method, c.path, c.token, c.body)
				require.Equal(t, c.status, r.status, "body: %s", r.body)
				r.problem(t)
			})
		}
		require.Equal(t, before, rowCounts(t, st), "refused changes wrote nothing")

		r = h.do("POST", "/v1/admin/tokens/"+tid+"/revoke", "admin", map[string]any{"reason": "签到机丢失"})
		require.Equal(t, http.StatusOK, r.status, "body: %s", r.body)
		var rev tokenJSON
		r.json(t, &rev)
		require.Equal(t, "revoked", rev.State)
		require.Equal(t, http.StatusUnauthorized, h.do("GET", "/v1/products", "new terminal", nil).status,
			"a revoked token stops working at once on this server")
		require.Equal(t, http.StatusOK, h.do("POST", "/v1/admin/tokens/"+tid+"/revoke", "admin", nil).status, "twice is no error")
		require.Equal(t, http.StatusConflict, h.do("PATCH", "/v1/admin/tokens/"+tid, "admin", map[string]any{"name": "x"}).status)

		evs := auditOf(t, h, "token", tid)
		require.Len(t, evs, 3, "created, updated, revoked (once)")
		require.Equal(t, []string{"token.revoked", "token.updated", "token.created"}, []string{evs[0].Kind, evs[1].Kind, evs[2].Kind})
		for _, e := range evs {
			require.NotContains(t, e.Detail, created.Token[3:10])
		}

		// A token past its expiry is refused (its row's expiry moved into
		// the past, as time would).
		r = h.do("POST", "/v1/admin/tokens", "admin", map[string]any{"role": "bank_staff", "bank": "BOC",
			"expires_at": time.Now().Add(time.Hour).UTC().Format(time.RFC3339)})
		require.Equal(t, http.StatusCreated, r.status, "body: %s", r.body)
		var bs newTokenResponse
		r.json(t, &bs)
		require.NoError(t, st.DB(context.Background()).Exec("UPDATE api_tokens SET expires_at = ? WHERE id = ?",
			time.Now().Add(-time.Minute).UTC(), bs.ID).Error)
		h.tokens["expired"] = bs.Token
		require.Equal(t, http.StatusUnauthorized, h.do("GET", "/v1/products", "expired", nil).status)
		r = h.do("GET", "/v1/admin/tokens?inactive=true", "admin", nil)
		r.json(t, &list)
		states := map[int64]string{}
		for _, it := range list.Items {
			states[it.ID] = it.State
		}
		require.Equal(t, "expired", states[bs.ID])
		require.Equal(t, "revoked", states[created.ID])
		r = h.do("GET", "/v1/admin/tokens", "admin", nil)
		require.NotContains(t, string(r.body), `"id":`+strconv.FormatInt(bs.ID, 10)+`,`, "inactive tokens are left out by default")
	})
}
