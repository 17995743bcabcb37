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

func TestIdempotencyHTTP(t *testing.T) {
	h := newHarness(t, storetest.SQLite(t), nil)
	ctx := context.Background()
	actor, err := h.svc.Authenticate(ctx, h.tokens["platform"])
	require.NoError(t, err)
	keys, err := store.NewIdempotencyKeys(h.st, nil)
	require.NoError(t, err)
	v, err := h.svc.RegisterVolunteer(ctx, issuance.SystemActor(), issuance.NewVolunteer{
		OrgID: h.meizhou.ID, Name: "王小明", IDNumber: residentID("441402", "19900101", 11), Phone: "13600001111"})
	require.NoError(t, err)

	t.Run("a request in flight with the same key is 409", func(t *testing.T) {
		body := `{"volunteer_id":1,"product":"GD-RV-BOC","channel":"platform"}`
		_, err := keys.Claim(ctx, issuance.IdempotencyClaim{Scope: tokenScope(actor), Key: "busy",
			RequestHash: requestHash("POST", "/v1/applications", []byte(body)), TTL: time.Hour, LockTTL: time.Minute})
		require.NoError(t, err)
		r := h.do("POST", "/v1/applications", "platform", body, "Idempotency-Key", "busy")
		require.Equal(t, http.StatusConflict, r.status)
		require.Equal(t, KindIdempotencyInFlight.TypeURI(), r.problem(t).Type)
	})

	t.Run("requests refused before running release the key", func(t *testing.T) {
		body := map[string]any{"volunteer_id": 999999, "product": "GD-RV-BOC", "channel": "platform"}
		r1 := h.do("POST", "/v1/applications", "platform", body, "Idempotency-Key", "bad-1")
		require.Equal(t, http.StatusBadRequest, r1.status)
		r2 := h.do("POST", "/v1/applications", "platform", body, "Idempotency-Key", "bad-1")
		require.Equal(t, http.StatusBadRequest, r2.status)
		require.Empty(t, r2.header.Get(headerReplayed), "ran again")
		fixed := map[string]any{"volunteer_id": v.ID, "product": "GD-RV-BOC", "channel": "online"}
		r3 := h.do("POST", "/v1/applications", "platform", fixed, "Idempotency-Key", "bad-1")
		require.Equal(t, http.StatusCreated, r3.status, "the corrected request may reuse the key: %s", r3.body)
		r4 := h.do("POST", "/v1/applications", "platform", fixed, "Idempotency-Key", "bad-1")
		require.Equal(t, "true", r4.header.Get(headerReplayed))
	})

	t.Run("conflicts are stored and replayed", func(t *testing.T) {
		body := map[string]any{"volunteer_id": v.ID, "product": "GD-RV-BOC", "channel": "platform"}
		r1 := h.do("POST", "/v1/applications", "platform", body, "Idempotency-Key", "dup-1")
		require.Equal(t, http.StatusConflict, r1.status)
		r2 := h.do("POST", "/v1/applications", "platform", body, "Idempotency-Key", "dup-1")
		require.Equal(t, http.StatusConflict, r2.status)
		require.Equal(t, "true", r2.header.Get(headerReplayed))
		require.Equal(t, wire.ProblemContentType, r2.header.Get("Content-Type"))
		require.JSONEq(t, string(r1.body), string(r2.body))
	})

	t.Run("whitespace does not change the fingerprint", func(t *testing.T) {
		v, err := h.svc.RegisterVolunteer(ctx, issuance.SystemActor(), issuance.NewVolunteer{
			OrgID: h.meizhou.ID, Name: "王小红", IDNumber: residentID("441402", "19900101", 12), Phone: "13600001112"})
		require.NoError(t, err)
		b1 := `{"volunteer_id":` + itoa(v.ID) + `,"product":"GD-RV-BOC","channel":"platform"}`
		b2 := "{ \"volunteer_id\": " + itoa(v.ID) + ",\n \"product\": \"GD-RV-BOC\", \"channel\": \"platform\" }"
		r1 := h.do("POST", "/v1/applications", "platform", b1, "Idempotency-Key", "ws")
		require.Equal(t, http.StatusCreated, r1.status, "body: %s", r1.body)
		r2 := h.do("POST", "/v1/applications", "platform", b2, "Idempotency-Key", "ws")
		require.Equal(t, http.StatusCreated, r2.status)
		require.Equal(t, "true", r2.header.Get(headerReplayed))
		require.Equal(t, r1.body, r2.body)
		require.Equal(t, r1.header.Get("Location"), r2.header.Get("Location"))
	})

	t.Run("without a key every request runs", func(t *testing.T) {
		r := h.do("POST", "/v1/applications", "platform", map[string]any{"volunteer_id": v.ID, "product": "GD-RV-BOC", "channel": "platform"})
		require.Equal(t, http.StatusConflict, r.status, "second live application")
		require.Empty(t, r.header.Get(headerReplayed))
	})
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
