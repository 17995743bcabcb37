package main

import (
	"bytes"
	"encoding/hex"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/volcard/volcard/issuance"
	"github.com/volcard/volcard/issuance/store/storetest"
)

func runEnroll(t *testing.T, args ...string) (string, error) {
	t.Helper()
	cmd := newEnrollCmd()
	var out bytes.Buffer
	cmd.SetArgs(args)
	cmd.SetOut(&out)
	cmd.SetErr(&bytes.Buffer{})
	cmd.SilenceUsage, cmd.SilenceErrors = true, true
	err := cmd.Execute()
	return out.String(), err
}

// TestEnrollTransitions runs volcard enroll schedule, start and complete
// against serve on PostgreSQL: each moves the session one step and prints
// it; a step out of order fails (exit 1) naming the problem; a bad session
// id is a usage error.
func TestEnrollTransitions(t *testing.T) {
	env := map[string]string{envDatabaseURL: storetest.PostgresDatabaseURL(t),
		envDataKey: hex.EncodeToString(bytes.Repeat([]byte{5}, 32))}
	cfg, err := configFromEnv(func(k string) string { return env[k] })
	require.NoError(t, err)
	cfg.DataDir = filepath.Join(t.TempDir(), "data")
	s := startServe(t, cfg)
	t.Cleanup(func() { require.NoError(t, s.stop()) })
	var sess struct{ ID int64 }
	require.Equal(t, http.StatusCreated, s.call(t, "POST", "/v1/onsite-sessions", map[string]any{"org_id": 2,
		"site": "华南理工大学礼堂", "expected_count": 40, "product": "GD-RV-BOC",
		"date": time.Now().AddDate(0, 0, 10).Format(time.DateOnly)}, &sess))
	id := strconv.FormatInt(sess.ID, 10)
	conn := []string{"--server", s.base, "--token", s.token}

	// Two rosters: the second must say what it does.
	dir := t.TempDir()
	roster := func(name string, seqs ...int) string {
		body := "姓名,身份证号,手机号,是否团员,服装尺码\n"
		for _, n := range seqs {
			idBody := fmt.Sprintf("44010620010101%03d", n)
			body += fmt.Sprintf("学生%d,%s%c,13800%06d,是,M\n", n, idBody, issuance.ResidentIDCheckChar(idBody), n)
		}
		p := filepath.Join(dir, name)
		require.NoError(t, os.WriteFile(p, []byte(body), 0o600))
		return p
	}
	first, second := roster("a.csv", 11, 12), roster("b.csv", 13)
	out, err := runEnroll(t, append([]string{"upload", id, first}, conn...)...)
	require.NoError(t, err, out)
	_, err = runEnroll(t, append([]string{"upload", id, second}, conn...)...)
	require.Equal(t, exitFailure, exitCode(err))
	require.Contains(t, err.Error(), "mode=append")
	_, err = runEnroll(t, append([]string{"upload", id, second, "--mode", "merge"}, conn...)...)
	require.Equal(t, exitUsage, exitCode(err))
	out, err = runEnroll(t, append([]string{"upload", id, second, "--mode", "append"}, conn...)...)
	require.NoError(t, err, out)
	out, err = runEnroll(t, append([]string{"report", id}, conn...)...)
	require.NoError(t, err)
	require.Regexp(t, `rows uploaded:\s+3`, out)

	out, err = runEnroll(t, append([]string{"schedule", id, "--reason", "已与银行确认"}, conn...)...)
	require.NoError(t, err)
	require.Contains(t, out, "On-site session "+id+": scheduled")
	_, err = runEnroll(t, append([]string{"complete", id}, conn...)...)
	require.Equal(t, exitFailure, exitCode(err), "complete before start")
	out, err = runEnroll(t, append([]string{"start", id, "--json"}, conn...)...)
	require.NoError(t, err)
	require.Contains(t, out, `"status": "in_progress"`)
	out, err = runEnroll(t, append([]string{"complete", id}, conn...)...)
	require.NoError(t, err)
	require.Contains(t, out, ": completed")

	_, err = runEnroll(t, append([]string{"start", "abc"}, conn...)...)
	require.Equal(t, exitUsage, exitCode(err))
	_, err = runEnroll(t, "start", id, "--server", s.base, "--token", "vc_wrong")
	require.Error(t, err)
}
