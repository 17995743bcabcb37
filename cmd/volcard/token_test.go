package main

import (
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/volcard/volcard/issuance"
	"github.com/volcard/volcard/issuance/issuancetest"
)

func runTokenCmd(t *testing.T, args ...string) (string, error) {
	t.Helper()
	cmd := newTokenCmd()
	var out bytes.Buffer
	cmd.SetArgs(args)
	cmd.SetOut(&out)
	cmd.SetErr(&bytes.Buffer{})
	cmd.SilenceUsage, cmd.SilenceErrors = true, true
	err := cmd.Execute()
	return out.String(), err
}

// TestTokenList: volcard token list prints the active tokens as a table
// (hints, never secrets), --all adds revoked ones, --role filters, --json
// prints one object a line, and a bad role is a usage error.
func TestTokenList(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	key := hex.EncodeToString(bytes.Repeat([]byte{7}, 32)) // issuancetest.Keys
	t.Setenv(envDataDir, dir)
	t.Setenv(envDatabaseURL, "")
	t.Setenv(envDataKey, key)
	cfg, err := configFromEnv(func(k string) string { return map[string]string{envDataDir: dir, envDataKey: key}[k] })
	require.NoError(t, err)
	_, st, err := cfg.openService(ctx, slog.New(slog.DiscardHandler))
	require.NoError(t, err)
	f := issuancetest.New(t, st)
	term, tt, err := f.Svc.CreateToken(ctx, f.Sys, issuance.NewToken{Name: "梅州签到机", Role: issuance.RoleTerminal,
		OrgID: f.Meizhou.ID, ExpiresAt: time.Now().Add(48 * time.Hour)})
	require.NoError(t, err)
	gone, gt, err := f.Svc.CreateToken(ctx, f.Sys, issuance.NewToken{Name: "old", Role: issuance.RolePlatform})
	require.NoError(t, err)
	require.NoError(t, f.Svc.RevokeToken(ctx, f.Sys, gt.ID))
	require.NoError(t, st.Close())

	out, err := runTokenCmd(t, "list")
	require.NoError(t, err)
	require.True(t, strings.HasPrefix(out, "ID "), out)
	require.Contains(t, out, "梅州签到机")
	require.Contains(t, out, tt.Hint)
	require.NotContains(t, out, term)
	require.NotContains(t, out, "old", "revoked tokens only with --all")

	out, err = runTokenCmd(t, "list", "--all", "--role", "platform")
	require.NoError(t, err)
	require.Contains(t, out, "revoked")
	require.NotContains(t, out, gone)
	require.NotContains(t, out, "梅州签到机")

	out, err = runTokenCmd(t, "list", "--role", "terminal", "--json")
	require.NoError(t, err)
	var l tokenLine
	require.NoError(t, json.Unmarshal([]byte(strings.SplitN(out, "\n", 2)[0]), &l))
	require.Equal(t, "terminal", l.Role)
	require.NotEmpty(t, l.ExpiresAt)

	_, err = runTokenCmd(t, "list", "--role", "root")
	require.Equal(t, exitUsage, exitCode(err))
}
