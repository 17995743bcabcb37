package main

import (
	"bytes"
	"context"
	"encoding/hex"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"github.com/xuri/excelize/v2"

	"github.com/volcard/volcard/bankgw"
	"github.com/volcard/volcard/bankgw/banksim"
	"github.com/volcard/volcard/issuance"
	"github.com/volcard/volcard/issuance/reconcile"
	"github.com/volcard/volcard/issuance/store/storetest"
)

func runReconcileCmd(t *testing.T, args ...string) (string, error) {
	t.Helper()
	cmd := newReconcileCmd()
	var out bytes.Buffer
	cmd.SetArgs(args)
	cmd.SetOut(&out)
	cmd.SetErr(&bytes.Buffer{})
	cmd.SilenceUsage, cmd.SilenceErrors = true, true
	err := cmd.Execute()
	return out.String(), err
}

// TestReconcileWithBankSim issues a card through serve and a bank simulator
// over ISO 8583 on PostgreSQL, blocks it at the bank only, has the
// simulator write its settlement file into the drop directory, and
// reconciles it with serve's job and with volcard reconcile: both report
// the one state difference (as CSV/XLSX too), no PAN appears anywhere, and
// volcard's card is left as it was.
func TestReconcileWithBankSim(t *testing.T) {
	ctx := context.Background()
	sim, err := banksim.New(banksim.Config{BIN: "621785", Logger: slog.New(slog.DiscardHandler)})
	require.NoError(t, err)
	require.NoError(t, sim.Start("127.0.0.1:0"))
	t.Cleanup(sim.Close)
	dataKey := hex.EncodeToString(bytes.Repeat([]byte{9}, 32))
	reconKey := hex.EncodeToString(bytes.Repeat([]byte{0x33}, 32))
	dbURL := storetest.PostgresDatabaseURL(t)
	env := map[string]string{envBankAddr: sim.Addr(), envDatabaseURL: dbURL, envDataKey: dataKey}
	cfg, err := configFromEnv(func(k string) string { return env[k] })
	require.NoError(t, err)
	serveToBankApproved(t, cfg)

	ledger := sim.Ledger()
	require.Len(t, ledger.Cards, 1)
	var pan, number string
	for p, c := range ledger.Cards {
		pan, number = p, c.ApplicationNumber
	}
	require.NoError(t, sim.SetCardState(number, bankgw.CardBlocked))

	drop := t.TempDir()
	k, err := reconKeys(func(string) string { return reconKey }, "BOC")
	require.NoError(t, err)
	now := time.Now()
	path, err := writeSettlement(sim, drop, "BOC", now, k)
	require.NoError(t, err)
	today := now.In(issuance.ChinaTime).Format(time.DateOnly)
	require.Equal(t, filepath.Join(drop, "BOC", today+".csv"), path)
	file, err := os.ReadFile(path)
	require.NoError(t, err)
	require.NotContains(t, string(file), pan)

	// serve's job, run the next day: it finds the file and reconciles it,
	// once.
	getenv := func(k string) string {
		return map[string]string{envReconDir: drop, reconKeyEnv("BOC"): reconKey}[k]
	}
	cfg.DataDir = t.TempDir()
	var logs bytes.Buffer
	log := slog.New(slog.NewJSONHandler(&logs, nil))
	svc, st, err := cfg.openService(ctx, log)
	require.NoError(t, err)
	defer st.Close()
	js, err := reconcileJobs(getenv, svc, st, log)
	require.NoError(t, err)
	require.Len(t, js, 1)
	rec, err := reconcile.New(svc, st)
	require.NoError(t, err)
	tomorrow := now.Add(24 * time.Hour)
	require.NoError(t, reconcileDropDir(ctx, getenv, rec, drop, tomorrow, log))
	reps, err := rec.List(ctx, issuance.SystemActor(), "BOC", 10)
	require.NoError(t, err)
	require.Len(t, reps, 1)
	require.Equal(t, map[reconcile.Kind]int{reconcile.KindStateDiffers: 1}, reps[0].ByKind)
	require.Equal(t, "BOC/"+today+".csv", reps[0].Source)
	require.NoError(t, reconcileDropDir(ctx, getenv, rec, drop, tomorrow, log))
	reps, err = rec.List(ctx, issuance.SystemActor(), "BOC", 10)
	require.NoError(t, err)
	require.Len(t, reps, 1, "a date reconciled is not reconciled again")
	require.Contains(t, logs.String(), `"differences":1`)
	require.NotContains(t, logs.String(), pan)

	// A bank directory without its key is refused at start, naming the
	// variable.
	_, err = reconcileJobs(func(k string) string { return map[string]string{envReconDir: drop}[k] }, svc, st, log)
	require.ErrorContains(t, err, "VOLCARD_RECON_KEY_BOC")
	require.Equal(t, exitUsage, exitCode(err))

	// volcard reconcile: exit 1 with the report stored and written.
	t.Setenv(envDatabaseURL, dbURL)
	t.Setenv(envDataKey, dataKey)
	t.Setenv(reconKeyEnv("BOC"), reconKey)
	t.Setenv(envReconDir, drop)
	xlsx := filepath.Join(t.TempDir(), "boc.xlsx")
	out, err := runReconcileCmd(t, "--bank", "boc", "--date", today, "--out", xlsx)
	require.Error(t, err)
	require.Equal(t, exitFailure, exitCode(err))
	require.Contains(t, err.Error(), "1 differences with bank BOC")
	require.Contains(t, out, "bank cards 1, volcard cards 1, matched 0, differences 1")
	require.Contains(t, out, "state_differs")
	require.NotContains(t, out+err.Error(), pan)
	wb, err := excelize.OpenFile(xlsx)
	require.NoError(t, err)
	rows, err := wb.GetRows("differences")
	require.NoError(t, err)
	require.NoError(t, wb.Close())
	require.Len(t, rows, 2)
	require.Equal(t, reconcile.Columns, rows[0])
	require.Equal(t, []string{"state_differs", number, "0", pan[len(pan)-4:], "issued", "blocked", "bank_approved"}, rows[1][:7])
	csvPath := filepath.Join(t.TempDir(), "boc.csv")
	_, err = runReconcileCmd(t, "--bank", "BOC", "--date", today, "--file", path, "--out", csvPath)
	require.Equal(t, exitFailure, exitCode(err))
	csv, err := os.ReadFile(csvPath)
	require.NoError(t, err)
	require.True(t, strings.HasPrefix(string(csv), "\uFEFFkind,application_number,"))
	require.Contains(t, string(csv), "state_differs,"+number+",0,")
	require.NotContains(t, string(csv), pan)

	// Nothing changed at volcard.
	var state string
	require.NoError(t, st.DB(ctx).Raw(`SELECT c.state FROM cards c JOIN applications a ON a.id = c.application_id
		WHERE a.number = ?`, number).Scan(&state).Error)
	require.Equal(t, string(issuance.BankCardIssued), state)

	// Usage errors: a file of another date, a missing key, a bad date.
	_, err = runReconcileCmd(t, "--bank", "BOC", "--date", "2020-01-01", "--file", path)
	require.Equal(t, exitUsage, exitCode(err))
	require.ErrorContains(t, err, "another bank or date")
	_, err = runReconcileCmd(t, "--bank", "CCB", "--date", today, "--file", path)
	require.Equal(t, exitUsage, exitCode(err))
	require.ErrorContains(t, err, "VOLCARD_RECON_KEY_CCB")
	_, err = runReconcileCmd(t, "--bank", "BOC", "--date", "07/12/2026")
	require.Equal(t, exitUsage, exitCode(err))
	// A file altered after the bank wrote it: nothing stored, exit 1.
	bad := filepath.Join(t.TempDir(), "bad.csv")
	require.NoError(t, os.WriteFile(bad, bytes.Replace(file, []byte(",B,"), []byte(",A,"), 1), 0o600))
	_, err = runReconcileCmd(t, "--bank", "BOC", "--date", today, "--file", bad)
	require.Equal(t, exitFailure, exitCode(err))
	require.ErrorContains(t, err, "nothing stored")
	reps, err = rec.List(ctx, issuance.SystemActor(), "BOC", 10)
	require.NoError(t, err)
	require.Len(t, reps, 3)
}
