package main

import (
	"bytes"
	"context"
	"encoding/hex"
	"log/slog"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/volcard/volcard/issuance"
	"github.com/volcard/volcard/issuance/issuancetest"
)

func runCardsCmd(t *testing.T, args ...string) (string, error) {
	t.Helper()
	cmd := newCardsCmd()
	var out bytes.Buffer
	cmd.SetArgs(args)
	cmd.SetOut(&out)
	cmd.SetErr(&bytes.Buffer{})
	cmd.SilenceUsage, cmd.SilenceErrors = true, true
	err := cmd.Execute()
	return out.String(), err
}

// TestCardsCommands: volcard cards expiring lists an organisation's card
// past its month, volcard cards expire marks it (once), and bad flags are
// usage errors that say what to give.
func TestCardsCommands(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	t.Setenv(envDataDir, dir)
	t.Setenv(envDatabaseURL, "")
	t.Setenv(envDataKey, hex.EncodeToString(bytes.Repeat([]byte{7}, 32))) // issuancetest.Keys
	cfg, err := configFromEnv(func(k string) string {
		return map[string]string{envDataDir: dir, envDataKey: hex.EncodeToString(bytes.Repeat([]byte{7}, 32))}[k]
	})
	require.NoError(t, err)
	_, st, err := cfg.openService(ctx, slog.New(slog.DiscardHandler))
	require.NoError(t, err)
	f := issuancetest.New(t, st)
	v := f.Volunteer(t, f.Sys, f.Guangzhou, "志愿者")
	app, err := f.Svc.Apply(ctx, f.Sys, v.ID, "GD-RV-BOC", issuance.ChannelBranch)
	require.NoError(t, err)
	pan := "6217850000000001111"
	require.NoError(t, st.CreateCard(ctx, &issuance.Card{ApplicationID: app.ID, PANToken: f.Svc.PANToken(pan),
		PANSealed: []byte("sealed"), LastFour: "1111", Expiry: "2510", State: issuance.BankCardActive, CreatedAt: f.Clock.Now()}))
	require.NoError(t, st.Close())
	org := f.Guangzhou.ID

	out, err := runCardsCmd(t, "expiring", "--org", strconv.FormatInt(org, 10), "--within", "30d")
	require.NoError(t, err)
	require.Contains(t, out, app.Number)
	require.Contains(t, out, "2510\t2025-10-31\tactive")
	require.Contains(t, out, "1 cards expiring within 30d")
	require.NotContains(t, out, pan)

	out, err = runCardsCmd(t, "expire")
	require.NoError(t, err)
	require.Equal(t, "1 cards marked expired\n", out)
	out, err = runCardsCmd(t, "expire")
	require.NoError(t, err)
	require.Equal(t, "0 cards marked expired\n", out)
	out, err = runCardsCmd(t, "expiring", "--org", strconv.FormatInt(org, 10))
	require.NoError(t, err)
	require.True(t, strings.HasSuffix(out, "0 cards expiring within 90d\n"), out)

	for _, args := range [][]string{{"expiring"}, {"expiring", "--org", strconv.FormatInt(org, 10), "--within", "90"}} {
		_, err = runCardsCmd(t, args...)
		require.Equal(t, exitUsage, exitCode(err), "%v", args)
	}
	_, err = runCardsCmd(t, "expiring", "--org", "999999")
	require.Equal(t, exitFailure, exitCode(err))

	// Renewal batch of the expired card: its application was never handed
	// over, so it is skipped with the reason; the batch shows it.
	orgArg := strconv.FormatInt(org, 10)
	out, err = runCardsCmd(t, "renew", "--org", orgArg, "--expired")
	require.NoError(t, err)
	require.Contains(t, out, "skipped	only a card that was handed over can be renewed; application is submitted")
	require.Contains(t, out, "Renewal batch 1 (organisation "+orgArg+"): 1 cards, 0 pending at the bank, 0 renewed, 0 refused, 1 skipped")
	require.NotContains(t, out, pan)
	out, err = runCardsCmd(t, "renewal", "--batch", "1")
	require.NoError(t, err)
	require.Contains(t, out, "1 skipped")
	_, err = runCardsCmd(t, "renewal", "--batch", "2")
	require.Equal(t, exitFailure, exitCode(err))
	for _, args := range [][]string{{"renew", "--expired"}, {"renew", "--org", orgArg},
		{"renew", "--org", orgArg, "--expired", "--expiring-before", "2027-01-01"},
		{"renew", "--org", orgArg, "--expiring-before", "2027-13-01"}, {"close", "--card", "1", "--reason", "moved"}, {"close", "--reason", "deceased"}} {
		_, err = runCardsCmd(t, args...)
		require.Equal(t, exitUsage, exitCode(err), "%v", args)
	}

	// Closing: sent to the bank through the outbox; asked again, nothing.
	out, err = runCardsCmd(t, "close", "--card", "1", "--reason", "holder_left", "--note", "毕业离校")
	require.NoError(t, err)
	require.Contains(t, out, "closing sent to bank BOC (close_pending)")
	require.NotContains(t, out, pan)
	out, err = runCardsCmd(t, "close", "--card", "1", "--reason", "holder_left")
	require.NoError(t, err)
	require.Contains(t, out, "nothing to do, close_pending")
}
