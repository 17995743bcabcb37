package main

import (
	"fmt"
	"net/http"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
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

	var lastFours []string
	for _, idBody := range []string{"44010219900307123", "44010219910408135"} {
		srv := startServe(t, cfg)
		volID := srv.applyToBankApproved(t, idBody)
		var cards struct {
			Items []struct {
				LastFour string `json:"last_four"`
			}
		}
		require.Equal(t, http.StatusOK, srv.call(t, "GET", fmt.Sprintf("/v1/volunteers/%d/cards", volID), nil, &cards))
		require.Len(t, cards.Items, 1)
		lastFours = append(lastFours, cards.Items[0].LastFour)
		require.NoError(t, srv.stop())
		require.NotContains(t, srv.stderr.String(), "duplicate card_pan")
	}
	require.NotEqual(t, lastFours[0], lastFours[1], "the restarted simulator issued the first card's PAN again")
}
