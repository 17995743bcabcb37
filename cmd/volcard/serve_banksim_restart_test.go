package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/volcard/volcard/issuance"
)

// TestServeEmbeddedSimRestartNoPANTwice runs serve with the embedded bank
// simulator on one data directory, takes an application to bank_approved,
// stops serve and starts it again: the new simulator's counter is back at
// 1, yet the next application gets a new PAN (the simulator skips the PANs
// our database already holds), so it reaches bank_approved too instead of
// failing with duplicate card_pan.
func TestServeEmbeddedSimRestartNoPANTwice(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	cfg, err := configFromEnv(func(string) string { return "" })
	require.NoError(t, err)
	cfg.DataDir = dir
	cfg.Bank.Poll = 20 * time.Millisecond

	var lastFours []string
	for run, idBody := range []string{"44010219900307123", "44010219910408135"} {
		cfg.Listen = freeAddr(t)
		ctx, cancel := context.WithCancel(context.Background())
		var stdout, stderr lockedBuffer
		done := make(chan error, 1)
		go func() { done <- runServe(ctx, cfg, true, &stdout, &stderr) }()
		base := "http://" + cfg.Listen
		require.Eventually(t, func() bool {
			res, err := http.Get(base + "/readyz")
			if err != nil {
				return false
			}
			res.Body.Close()
			return res.StatusCode == http.StatusOK
		}, 20*time.Second, 50*time.Millisecond)
		b, err := os.ReadFile(filepath.Join(dir, adminTokenFile))
		require.NoError(t, err)
		token := strings.TrimSpace(string(b))
		call := func(method, path string, body, out any) int {
			t.Helper()
			j, _ := json.Marshal(body)
			if body == nil {
				j = nil
			}
			req, _ := http.NewRequest(method, base+path, bytes.NewReader(j))
			req.Header.Set("Authorization", "Bearer "+token)
			req.Header.Set("Content-Type", "application/json")
			res, err := http.DefaultClient.Do(req)
			require.NoError(t, err)
			defer res.Body.Close()
			if out != nil {
				require.NoError(t, json.NewDecoder(res.Body).Decode(out))
			}
			return res.StatusCode
		}
		var vol struct{ ID int64 }
		require.Equal(t, http.StatusCreated, call("POST", "/v1/volunteers", map[string]any{
			"name": "张三", "id_number": idBody + string(issuance.ResidentIDCheckChar(idBody)), "phone": "13812345678",
			"org_id": 2, "clothing_size": "M"}, &vol))
		var app struct {
			ID     int64
			Status string
		}
		require.Equal(t, http.StatusCreated, call("POST", "/v1/applications",
			map[string]any{"volunteer_id": vol.ID, "product": "GD-RV-BOC", "channel": "online"}, &app))
		require.Equal(t, http.StatusOK, call("POST", fmt.Sprintf("/v1/applications/%d/approve", app.ID), nil, &app))
		require.Eventually(t, func() bool {
			call("GET", fmt.Sprintf("/v1/applications/%d", app.ID), nil, &app)
			return app.Status == "bank_approved"
		}, 30*time.Second, 20*time.Millisecond, "run %d: application %d stuck in %s", run, app.ID, app.Status)
		var cards struct {
			Items []struct {
				LastFour string `json:"last_four"`
			}
		}
		require.Equal(t, http.StatusOK, call("GET", fmt.Sprintf("/v1/volunteers/%d/cards", vol.ID), nil, &cards))
		require.Len(t, cards.Items, 1)
		lastFours = append(lastFours, cards.Items[0].LastFour)
		cancel()
		require.NoError(t, <-done)
		require.NotContains(t, stderr.String(), "duplicate card_pan")
	}
	require.NotEqual(t, lastFours[0], lastFours[1], "the restarted simulator issued the first card's PAN again")
}
