package api

import (
	"context"
	"encoding/json"
	"net/http"
	"strconv"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/volcard/volcard/issuance"
	"github.com/volcard/volcard/issuance/store"
	"github.com/volcard/volcard/issuance/store/storetest"
)

// TestIdempotentResponsesSealedAtRest registers a volunteer as the platform
// (which sees the full ID number and phone of whom it registers) with an
// Idempotency-Key: the stored
// first response must not hold them in clear, and a retry must still replay
// the same full response.
func TestIdempotentResponsesSealedAtRest(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		h := newHarness(t, st, nil)
		idNumber := residentID("441402", "19900101", 77)
		phone := "13987654321"
		body := map[string]any{"name": "王小明", "id_number": idNumber, "phone": phone,
			"org_id": h.meizhou.ID, "league_member": true, "clothing_size": "L"}

		first := h.do("POST", "/v1/volunteers", "platform", body, "Idempotency-Key", "vol-sealed-1")
		require.Equal(t, http.StatusCreated, first.status, "body: %s", first.body)
		require.Contains(t, string(first.body), idNumber, "the platform sees the full number of whom it registers")

		var rows [][]byte
		require.NoError(t, st.DB(context.Background()).Raw(
			"SELECT response_body FROM idempotency_keys WHERE idem_key = ?", "vol-sealed-1").Scan(&rows).Error)
		require.Len(t, rows, 1)
		require.NotEmpty(t, rows[0])
		require.NotContains(t, string(rows[0]), idNumber)
		require.NotContains(t, string(rows[0]), idNumber[6:14], "not even the birth date")
		require.NotContains(t, string(rows[0]), phone)
		require.NotContains(t, string(rows[0]), "王小明")

		again := h.do("POST", "/v1/volunteers", "platform", body, "Idempotency-Key", "vol-sealed-1")
		require.Equal(t, http.StatusCreated, again.status)
		require.Equal(t, "true", again.header.Get("Idempotent-Replayed"))
		require.JSONEq(t, string(first.body), string(again.body))

		// PATCH /v1/volunteers/{id} by the bank of the volunteer's
		// application answers with the full numbers: stored sealed too.
		var created struct {
			ID int64 `json:"id"`
		}
		require.NoError(t, json.Unmarshal(first.body, &created))
		_, err := h.svc.Apply(context.Background(), issuance.SystemActor(), created.ID, "GD-RV-BOC", issuance.ChannelOnline)
		require.NoError(t, err)
		newPhone := "13511223344"
		patched := h.do("PATCH", "/v1/volunteers/"+strconv.FormatInt(created.ID, 10), "boc", map[string]any{"phone": newPhone},
			"Idempotency-Key", "vol-sealed-2")
		require.Equal(t, http.StatusOK, patched.status, "body: %s", patched.body)
		require.Contains(t, string(patched.body), newPhone, "the bank sees its holder's full phone")
		require.Contains(t, string(patched.body), idNumber)
		rows = nil
		require.NoError(t, st.DB(context.Background()).Raw(
			"SELECT response_body FROM idempotency_keys WHERE idem_key = ?", "vol-sealed-2").Scan(&rows).Error)
		require.Len(t, rows, 1)
		require.NotEmpty(t, rows[0])
		require.NotContains(t, string(rows[0]), newPhone)
		require.NotContains(t, string(rows[0]), idNumber)
		require.NotContains(t, string(rows[0]), idNumber[6:14])
		replayed := h.do("PATCH", "/v1/volunteers/"+strconv.FormatInt(created.ID, 10), "boc", map[string]any{"phone": newPhone},
			"Idempotency-Key", "vol-sealed-2")
		require.Equal(t, "true", replayed.header.Get("Idempotent-Replayed"))
		require.JSONEq(t, string(patched.body), string(replayed.body))
	})
}

// TestWebhookCreateNotIdempotent: POST /v1/webhooks ignores
// Idempotency-Key, like token creation: a replay would hand the endpoint's
// secret out a second time, so no response is kept and a retry registers
// a second endpoint with a secret of its own.
func TestWebhookCreateNotIdempotent(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		h := newHarness(t, st, nil)
		body := map[string]any{"url": "https://platform.example/hook"}
		var secrets []string
		for range 2 {
			r := h.do("POST", "/v1/webhooks", "gz", body, "Idempotency-Key", "wh-1")
			require.Equal(t, http.StatusCreated, r.status, "body: %s", r.body)
			require.Empty(t, r.header.Get("Idempotent-Replayed"))
			var ep struct {
				Secret string `json:"secret"`
			}
			require.NoError(t, json.Unmarshal(r.body, &ep))
			require.NotEmpty(t, ep.Secret)
			secrets = append(secrets, ep.Secret)
		}
		require.NotEqual(t, secrets[0], secrets[1])
		var n int64
		require.NoError(t, st.DB(context.Background()).Raw(
			"SELECT count(*) FROM idempotency_keys WHERE idem_key = ?", "wh-1").Scan(&n).Error)
		require.Zero(t, n, "no stored response holds the secret")
	})
}
