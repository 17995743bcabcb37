package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/volcard/volcard/bankgw/banksim"
	"github.com/volcard/volcard/internal/testpki"
	"github.com/volcard/volcard/issuance"
)

// TestServeBankOutbox runs serve with nothing configured (SQLite, embedded
// bank simulator): an application approved over HTTP reaches bank_approved
// through the outbox worker, and serve stops cleanly.
func TestServeBankOutbox(t *testing.T) {
	cfg, err := configFromEnv(func(string) string { return "" })
	require.NoError(t, err)
	base, stderr := serveToBankApproved(t, cfg)
	require.Contains(t, stderr.String(), "embedded bank simulator")

	// The bank link's and the outbox's metrics are on the API's /metrics
	// (the outbox gauges are refreshed at start, then every 15 s).
	res, err := http.Get(base + "/metrics")
	require.NoError(t, err)
	raw, err := io.ReadAll(res.Body)
	res.Body.Close()
	require.NoError(t, err)
	metrics := string(raw)
	for _, want := range []string{
		`volcard_http_requests_total{`,
		// One embedded simulator, and one link, per seeded bank.
		`volcard_bank_connections_up{bank="BOC"} 1`,
		`volcard_bank_connections_up{bank="PSBC"} 1`,
		`volcard_bank_signed_on{addr="127.0.0.1:`,
		`volcard_bank_requests_total{bank="BOC",mti="0300",rc="00"} 1`,
		`volcard_bank_requests_total{bank="CEB",mti="0800",rc="00"}`,
		`volcard_bank_round_trip_seconds_count{bank="BOC",mti="0300"} 1`,
		`volcard_bank_reversals_sent_total{bank="BOC"} 0`,
		`volcard_bank_queue_depth{bank="BOC"} 0`,
		`volcard_bank_failed_requests{bank="CCB"} 0`,
		`volcard_bank_link_signed_on{bank="PSBC"} 1`,
		`volcard_outbox_rows{kind="apply",state="failed"} 0`,
		`volcard_outbox_failed_rows 0`,
		`volcard_outbox_oldest_open_age_seconds`,
		`volcard_bank_advices_parked 0`,
	} {
		require.Contains(t, metrics, want)
	}
}

// serveToBankApproved runs serve with cfg (its data directory and listen
// address replaced) until the test ends, and takes one application over
// HTTP from approval to bank_approved through the outbox worker. It
// returns the API's base URL and serve's standard error.
func serveToBankApproved(t *testing.T, cfg config) (string, *lockedBuffer) {
	t.Helper()
	cfg.DataDir = filepath.Join(t.TempDir(), "data")
	s := startServe(t, cfg)
	t.Cleanup(func() { require.NoError(t, s.stop()) })
	s.applyToBankApproved(t, "44010219900307123")
	return s.base, s.stderr
}

// servedProcess is serve run in the test's process by startServe.
type servedProcess struct {
	base, token string
	stderr      *lockedBuffer
	stop        func() error // ends serve and returns what runServe returned
}

// startServe runs serve with cfg (on a new listen address, the bank outbox
// polling every 20 ms) and waits until it is ready; the caller stops it.
func startServe(t *testing.T, cfg config) *servedProcess {
	t.Helper()
	cfg.Listen = freeAddr(t)
	cfg.Bank.Poll = 20 * time.Millisecond
	ctx, cancel := context.WithCancel(context.Background())
	var stdout lockedBuffer
	s := &servedProcess{base: "http://" + cfg.Listen, stderr: &lockedBuffer{}}
	done := make(chan error, 1)
	go func() { done <- runServe(ctx, cfg, true, &stdout, s.stderr) }()
	s.stop = func() error { cancel(); return <-done }
	require.Eventually(t, func() bool {
		res, err := http.Get(s.base + "/readyz")
		if err != nil {
			return false
		}
		res.Body.Close()
		return res.StatusCode == http.StatusOK
	}, 20*time.Second, 50*time.Millisecond)
	b, err := os.ReadFile(filepath.Join(cfg.DataDir, adminTokenFile))
	require.NoError(t, err)
	s.token = strings.TrimSpace(string(b))
	return s
}

// call makes one API request as the first admin and decodes the answer
// into out when given; it returns the status code.
func (s *servedProcess) call(t *testing.T, method, path string, body, out any) int {
	t.Helper()
	var rd *bytes.Reader
	if body != nil {
		j, _ := json.Marshal(body)
		rd = bytes.NewReader(j)
	} else {
		rd = bytes.NewReader(nil)
	}
	req, _ := http.NewRequest(method, s.base+path, rd)
	req.Header.Set("Authorization", "Bearer "+s.token)
	req.Header.Set("Content-Type", "application/json")
	res, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer res.Body.Close()
	if out != nil {
		require.NoError(t, json.NewDecoder(res.Body).Decode(out))
	}
	return res.StatusCode
}

// applyToBankApproved registers a volunteer with the resident ID number
// made from the 17 digits idBody, applies, approves and waits until the
// bank has approved; it returns the volunteer's id.
func (s *servedProcess) applyToBankApproved(t *testing.T, idBody string) int64 {
	t.Helper()
	var vol struct{ ID int64 }
	require.Equal(t, http.StatusCreated, s.call(t, "POST", "/v1/volunteers", map[string]any{
		"name": "张三", "id_number": idBody + string(issuance.ResidentIDCheckChar(idBody)), "phone": "13812345678",
		"org_id": 2, "clothing_size": "M"}, &vol))
	var app struct {
		ID     int64
		Status string
	}
	require.Equal(t, http.StatusCreated, s.call(t, "POST", "/v1/applications",
		map[string]any{"volunteer_id": vol.ID, "product": "GD-RV-BOC", "channel": "online"}, &app))
	require.Equal(t, http.StatusOK, s.call(t, "POST", fmt.Sprintf("/v1/applications/%d/approve", app.ID), nil, &app))
	require.Equal(t, "approved", app.Status)
	require.Eventually(t, func() bool {
		s.call(t, "GET", fmt.Sprintf("/v1/applications/%d", app.ID), nil, &app)
		return app.Status == "bank_approved"
	}, 30*time.Second, 20*time.Millisecond, "application %d stuck in %s", app.ID, app.Status)
	return vol.ID
}

// TestServeBankMutualTLS runs serve against a bank host (banksim) that
// requires mutual TLS, configured through the VOLCARD_BANK_TLS_* variables:
// an application reaches bank_approved over the TLS link.
func TestServeBankMutualTLS(t *testing.T) {
	pki := testpki.New(t, "bank CA")
	// The seed's provincial BOC card (GD-RV-BOC) is under BIN 621785; volcard
	// refuses a card outside its product's BIN.
	sim, err := banksim.New(banksim.Config{BIN: "621785", TLS: pki.ServerConfig(), Logger: slog.New(slog.DiscardHandler)})
	require.NoError(t, err)
	require.NoError(t, sim.Start("127.0.0.1:0"))
	t.Cleanup(sim.Close)
	env := map[string]string{envBankAddr: sim.Addr(), envBankTLSCA: pki.CAFile,
		envBankTLSCert: pki.ClientCertFile, envBankTLSKey: pki.ClientKey}
	cfg, err := configFromEnv(func(k string) string { return env[k] })
	require.NoError(t, err)
	_, stderr := serveToBankApproved(t, cfg)
	require.Len(t, sim.Ledger().Applications, 1)
	require.Contains(t, stderr.String(), `"tls":true`)
	require.NotContains(t, stderr.String(), "embedded bank simulator")
}
