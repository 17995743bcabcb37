package main

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/volcard/volcard/bankgw"
	"github.com/volcard/volcard/bankgw/outbox"
	"github.com/volcard/volcard/issuance"
)

// failedOutboxRow makes a database in dir with one application whose apply
// row failed (as after a 30 from the bank) and returns the row's id and the
// application number.
func failedOutboxRow(t *testing.T, dir string) (int64, string) {
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
	sys := issuance.SystemActor()
	body := "44010219900307123"
	v, err := svc.RegisterVolunteer(ctx, sys, issuance.NewVolunteer{OrgID: 2, Name: "张三",
		IDNumber: body + string(issuance.ResidentIDCheckChar(body)), Phone: "13812345678", ClothingSize: "M"})
	require.NoError(t, err)
	app, err := svc.Apply(ctx, sys, v.ID, "GD-RV-BOC", issuance.ChannelOnline)
	require.NoError(t, err)
	_, err = svc.Approve(ctx, sys, app.ID)
	require.NoError(t, err)
	n, err := svc.SubmitApprovedToBank(ctx, 10)
	require.NoError(t, err)
	require.Equal(t, 1, n)
	rows, err := st.BankRequests(ctx, app.ID)
	require.NoError(t, err)
	require.Len(t, rows, 1)
	r := rows[0]
	r.State, r.ResultCode, r.LastError = outbox.StateFailed, "30", "bank declined 30: format error"
	r.Trace = bankgw.Trace{MTI: "0300", STAN: "000042", RRN: "123400000042"}
	require.NoError(t, st.SaveBankRequest(ctx, &r, ""))
	return r.ID, app.Number
}

func runOutbox(t *testing.T, args ...string) (string, error) {
	t.Helper()
	cmd := newOutboxCmd()
	var out bytes.Buffer
	cmd.SetArgs(args)
	cmd.SetOut(&out)
	cmd.SetErr(&bytes.Buffer{})
	cmd.SilenceUsage, cmd.SilenceErrors = true, true
	err := cmd.Execute()
	return out.String(), err
}

func TestOutboxCommands(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	id, number := failedOutboxRow(t, dir)
	idArg := strconv64(id)

	out, err := runOutbox(t, "list", "--state", "failed", "--data-dir", dir)
	require.NoError(t, err)
	require.Contains(t, out, "ID  KIND")
	require.Contains(t, out, number)
	require.Contains(t, out, "format error")

	out, err = runOutbox(t, "list", "--state", "failed", "--json", "--data-dir", dir)
	require.NoError(t, err)
	var rows []outboxRow
	require.NoError(t, json.Unmarshal([]byte(out), &rows))
	require.Len(t, rows, 1)
	require.Equal(t, outboxRow{ID: id, Kind: "apply", State: "failed", ApplicationNumber: number, Attempts: 0,
		STAN: "000042", RRN: "123400000042", ResultCode: "30", LastError: "bank declined 30: format error",
		CreatedAt: rows[0].CreatedAt, UpdatedAt: rows[0].UpdatedAt}, rows[0])
	require.NotContains(t, out, "44010219900307", "no ID number")
	require.NotContains(t, out, "13812345678", "no phone")

	// --bank keeps the rows of one bank's applications (lower case is read
	// as the code).
	out, err = runOutbox(t, "list", "--bank", "boc", "--json", "--data-dir", dir)
	require.NoError(t, err)
	require.NoError(t, json.Unmarshal([]byte(out), &rows))
	require.Len(t, rows, 1)
	out, err = runOutbox(t, "list", "--bank", "PSBC", "--json", "--data-dir", dir)
	require.NoError(t, err)
	require.NoError(t, json.Unmarshal([]byte(out), &rows))
	require.Empty(t, rows)

	for _, tc := range []struct {
		name string
		args []string
	}{
		{"unknown state", []string{"list", "--state", "faild", "--data-dir", dir}},
		{"unknown bank", []string{"list", "--bank", "ICBC", "--data-dir", dir}},
		{"bad id", []string{"retry", "x", "--data-dir", dir}},
		{"unknown row", []string{"retry", "999", "--data-dir", dir}},
		{"cancel without reason", []string{"cancel", idArg, "--data-dir", dir}},
		{"cancel with a blank reason", []string{"cancel", idArg, "--reason", " ", "--data-dir", dir}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := runOutbox(t, tc.args...)
			var ee *exitError
			require.ErrorAs(t, err, &ee, "%v", err)
			require.Equal(t, exitUsage, ee.code)
		})
	}

	out, err = runOutbox(t, "retry", idArg, "--reason", "fixed the emboss name", "--data-dir", dir)
	require.NoError(t, err)
	require.Contains(t, out, "is pending again")
	out, err = runOutbox(t, "list", "--json", "--data-dir", dir)
	require.NoError(t, err)
	rows = nil
	require.NoError(t, json.Unmarshal([]byte(out), &rows))
	require.Len(t, rows, 1)
	require.Equal(t, "pending", rows[0].State)
	require.Empty(t, rows[0].STAN, "a retry is a new request with a new trace")
	require.Contains(t, rows[0].LastError, "retried by an operator: fixed the emboss name")

	// Only failed rows can be retried or cancelled.
	_, err = runOutbox(t, "cancel", idArg, "--reason", "duplicate", "--data-dir", dir)
	var ee *exitError
	require.ErrorAs(t, err, &ee)
	require.Equal(t, exitUsage, ee.code)
	require.True(t, strings.Contains(err.Error(), "only failed rows"), err.Error())
}

func TestOutboxCancel(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	id, number := failedOutboxRow(t, dir)
	out, err := runOutbox(t, "cancel", strconv64(id), "--reason", "settled with the bank by phone", "--json", "--data-dir", dir)
	require.NoError(t, err)
	var rows []outboxRow
	require.NoError(t, json.Unmarshal([]byte(out), &rows))
	require.Len(t, rows, 1)
	require.Equal(t, "cancelled", rows[0].State)
	require.Equal(t, number, rows[0].ApplicationNumber)
	require.Contains(t, rows[0].LastError, "settled with the bank by phone")
	out, err = runOutbox(t, "list", "--state", "failed", "--json", "--data-dir", dir)
	require.NoError(t, err)
	require.JSONEq(t, "[]", out)
}

func strconv64(n int64) string {
	b, _ := json.Marshal(n)
	return string(b)
}
