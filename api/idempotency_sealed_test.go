package api

import (
	"context"
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"

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
	})
}
