package api

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/volcard/volcard/bankgw"
	"github.com/volcard/volcard/bankgw/banksim"
	"github.com/volcard/volcard/bankgw/outbox"
	"github.com/volcard/volcard/issuance"
	"github.com/volcard/volcard/issuance/store/storetest"
)

// TestPassportHolderIssuedEndToEnd registers a passport holder through the
// API with a birth date, applies and approves through the API, and lets the
// outbox worker send the 0300 to banksim over TCP: the bank needs field 48
// BD for a non-resident ID (it answers 30 without it), so reaching
// bank_approved proves the birth date went out.
func TestPassportHolderIssuedEndToEnd(t *testing.T) {
	ctx := context.Background()
	st := storetest.Postgres(t)
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	h := newOutboxHarness(t, st)
	sim, err := banksim.New(banksim.Config{BIN: "621661", Logger: quiet})
	require.NoError(t, err)
	require.NoError(t, sim.Start("127.0.0.1:0"))
	t.Cleanup(sim.Close)
	stan, err := st.STAN("VOLCARD1")
	require.NoError(t, err)
	cfg := bankgw.DefaultConfig([]string{sim.Addr()}, "VOLCARD1", "VOLCARD00000001")
	cfg.STAN, cfg.Logger, cfg.RequestTimeout = stan, quiet, 2*time.Second
	gw, err := bankgw.NewClient(cfg)
	require.NoError(t, err)
	require.NoError(t, gw.Connect(ctx))
	t.Cleanup(func() { _ = gw.Close(context.Background()) })
	w, err := outbox.New(outbox.Config{Gateway: gw, Service: h.svc, Outbox: st, PollInterval: 10 * time.Millisecond,
		RetryBase: 20 * time.Millisecond, RetryMax: 200 * time.Millisecond, Logger: quiet})
	require.NoError(t, err)
	wctx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- w.Run(wctx) }()
	t.Cleanup(func() { cancel(); require.NoError(t, <-done) })

	r := h.do(http.MethodPost, "/v1/volunteers", "admin", map[string]any{"name": "Anna Schmidt", "id_type": "passport",
		"id_number": "C01X00T47", "phone": "13912345678", "org_id": h.guangzhou.ID, "clothing_size": "M"})
	require.Equal(t, http.StatusBadRequest, r.status, "a passport holder without a birth date: %s", r.body)
	require.Contains(t, r.problem(t).Detail, "birth_date")

	r = h.do(http.MethodPost, "/v1/volunteers", "admin", map[string]any{"name": "Anna Schmidt", "id_type": "passport",
		"id_number": "C01X00T47", "birth_date": "1998-04-30", "phone": "13912345678", "org_id": h.guangzhou.ID, "clothing_size": "M"})
	require.Equal(t, http.StatusCreated, r.status, "%s", r.body)
	var vol volunteerResponse
	r.json(t, &vol)
	stored, err := h.svc.GetVolunteer(ctx, issuance.SystemActor(), vol.ID)
	require.NoError(t, err)
	require.Equal(t, "1998-04-30", stored.BirthDate.Format(time.DateOnly))
	require.Equal(t, "ANNA SCHMIDT", vol.EmbossName)

	r = h.do(http.MethodPost, "/v1/applications", "admin", map[string]any{"volunteer_id": vol.ID, "product": "GD-RV-BOC",
		"channel": "online"}, "Idempotency-Key", "passport-1")
	require.Equal(t, http.StatusCreated, r.status, "%s", r.body)
	var app applicationResponse
	r.json(t, &app)
	appPath := "/v1/applications/" + strconv.FormatInt(app.ID, 10)
	r = h.do(http.MethodPost, appPath+"/approve", "admin", nil)
	require.Equal(t, http.StatusOK, r.status, "%s", r.body)
	w.Notify()
	require.Eventually(t, func() bool {
		r := h.do(http.MethodGet, appPath, "admin", nil)
		require.Equal(t, http.StatusOK, r.status, "%s", r.body)
		var got applicationResponse
		r.json(t, &got)
		require.NotEqual(t, "bank_declined", got.Status)
		return got.Status == "bank_approved"
	}, 30*time.Second, 10*time.Millisecond, "the passport holder's application never reached bank_approved")
	l := sim.Ledger()
	require.Equal(t, bankgw.CodeApproved, l.Applications[app.Number].Code)
	require.Len(t, l.CardsFor(app.Number), 1)
}
