package main

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"path/filepath"
	"testing"
	"time"

	"github.com/spf13/cobra"
	"github.com/stretchr/testify/require"

	"github.com/volcard/volcard/issuance"
	"github.com/volcard/volcard/issuance/platformlink"
)

// failedPlatformRequest makes a database in dir with one volunteer
// registered at a branch whose registration request the platform refused.
func failedPlatformRequest(t *testing.T, dir string) (int64, int64) {
	t.Helper()
	ctx := context.Background()
	cfg, err := configFromEnv(func(string) string { return "" })
	require.NoError(t, err)
	cfg.DataDir = dir
	log := slog.New(slog.DiscardHandler)
	svc, st, err := cfg.openService(ctx, log)
	require.NoError(t, err)
	defer st.Close()
	require.NoError(t, seedDemoIfEmpty(ctx, svc, st, log))
	body := "44010219900307123"
	v, err := svc.RegisterVolunteer(ctx, issuance.SystemActor(), issuance.NewVolunteer{OrgID: 2, Name: "张三",
		IDNumber: body + string(issuance.ResidentIDCheckChar(body)), Phone: "13812345678", Source: issuance.ChannelBranch})
	require.NoError(t, err)
	rs, err := st.ClaimPlatformRequests(ctx, platformlink.Claim{Owner: "t", Now: time.Now(), Lease: time.Minute, Limit: 1})
	require.NoError(t, err)
	require.Len(t, rs, 1)
	r := rs[0]
	r.State, r.LastError, r.UpdatedAt = platformlink.StateFailed, "platform refused (409 name_mismatch)", time.Now()
	require.NoError(t, st.SavePlatformRequest(ctx, &r, "t"))
	return r.ID, v.ID
}

func runCobra(t *testing.T, cmd *cobra.Command, args ...string) (string, error) {
	t.Helper()
	var out bytes.Buffer
	cmd.SetArgs(args)
	cmd.SetOut(&out)
	cmd.SetErr(&bytes.Buffer{})
	cmd.SilenceUsage, cmd.SilenceErrors = true, true
	err := cmd.Execute()
	return out.String(), err
}

func TestPlatformCommands(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	id, vol := failedPlatformRequest(t, dir)
	out, err := runCobra(t, newPlatformCmd(), "list", "--state", "failed", "--json", "--data-dir", dir)
	require.NoError(t, err)
	var rows []platformRow
	require.NoError(t, json.Unmarshal([]byte(out), &rows))
	require.Len(t, rows, 1)
	require.Equal(t, vol, rows[0].VolunteerID)
	require.Contains(t, rows[0].LastError, "name_mismatch")
	require.NotContains(t, out, "440102199003071", "no ID number")

	_, err = runCobra(t, newPlatformCmd(), "list", "--state", "lost", "--data-dir", dir)
	require.Equal(t, exitUsage, exitCode(err))

	out, err = runCobra(t, newPlatformCmd(), "retry", strconv64(id), "--reason", "姓名已更正", "--data-dir", dir)
	require.NoError(t, err)
	require.Contains(t, out, "pending")
	_, err = runCobra(t, newPlatformCmd(), "retry", strconv64(id), "--data-dir", dir)
	require.Equal(t, exitUsage, exitCode(err), "not failed any more")
	_, err = runCobra(t, newPlatformCmd(), "retry", "999", "--data-dir", dir)
	require.Equal(t, exitUsage, exitCode(err))
}
