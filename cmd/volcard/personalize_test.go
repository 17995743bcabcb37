package main

import (
	"bytes"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/volcard/volcard/cardio"
	"github.com/volcard/volcard/client"
	"github.com/volcard/volcard/client/personalize"
	"github.com/volcard/volcard/personalization/dataprep"
	"github.com/volcard/volcard/wire"
)

func TestPersonalizeUsage(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad")
	require.NoError(t, os.WriteFile(bad, []byte("12\n"), 0o600))
	tests := []struct {
		name string
		args []string
	}{
		{"neither application nor batch", []string{"--token", "t"}},
		{"both", []string{"--token", "t", "--application", "1", "--batch", "2"}},
		{"bad server URL", []string{"--token", "t", "--application", "1", "--server", "ftp://x", "--pin-file", bad}},
		{"bad PIN file", []string{"--token", "t", "--application", "1", "--pin-file", bad}},
		{"missing PIN file", []string{"--token", "t", "--application", "1", "--pin-file", filepath.Join(dir, "none")}},
		{"no terminal for the PIN", []string{"--token", "t", "--application", "1"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cmd := newPersonalizeCmd()
			cmd.SetArgs(tc.args)
			cmd.SetIn(bytes.NewReader(nil))
			cmd.SetOut(&bytes.Buffer{})
			cmd.SetErr(&bytes.Buffer{})
			cmd.SilenceUsage, cmd.SilenceErrors = true, true
			err := cmd.Execute()
			var ee *exitError
			require.ErrorAs(t, err, &ee)
			require.Equal(t, exitUsage, ee.code)
		})
	}
}

func TestPersonalizeErrorExitCodes(t *testing.T) {
	tests := []struct {
		name string
		err  error
		code int
		hint string
	}{
		{"card removed", &personalize.CardLostError{APDUs: 7, Err: cardio.ErrCardRemoved}, exitNoDevice,
			"card removed — put a blank card back in and press Enter / rerun"},
		{"no reader", cardio.ErrNoReader, exitNoDevice, "plug one in"},
		{"server down", fmt.Errorf("personalize: %w: POST /v1/x: dial tcp: connection refused", client.ErrUnreachable), exitNoDevice,
			"cannot reach the volcard server at http://127.0.0.1:1: check --server (or VOLCARD_SERVER), that \"volcard serve\" runs there"},
		{"server not ready", &client.ProblemError{Status: 503, Type: "unavailable"}, exitNoDevice, "up but not ready"},
		{"token refused", &client.ProblemError{Status: 401, Type: "unauthorized"}, exitUsage, "check --token (or VOLCARD_TOKEN)"},
		{"server failed", &client.ProblemError{Status: 500, Type: "internal", RequestID: "r-1"}, exitFailure, "the server failed (request r-1): see its log"},
		{"not blank", &client.ProblemError{Status: 409, Type: wire.ProblemCardNotBlank}, exitFailure, "already personalized; nothing was written to it"},
		{"refused", errors.New("refused"), exitFailure, "refused"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var ee *exitError
			err := personalizeError("http://127.0.0.1:1", tc.err)
			require.ErrorAs(t, err, &ee)
			require.Equal(t, tc.code, ee.code)
			require.Contains(t, err.Error(), tc.hint)
		})
	}
}

// TestPersonalizeServerProblems runs the command against a server that is
// down, one that is not ready and one that refuses the token (a batch
// reads its queue first): each stops before asking for a card, with its
// own hint and exit code.
func TestPersonalizeServerProblems(t *testing.T) {
	dir := t.TempDir()
	pinFile := filepath.Join(dir, "pin")
	require.NoError(t, os.WriteFile(pinFile, []byte("1234\n"), 0o600))
	answer := func(status int, body string) string {
		ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path == "/readyz" && status == http.StatusUnauthorized {
				return // ready; the token is refused on the real routes
			}
			w.Header().Set("Content-Type", "application/problem+json")
			w.WriteHeader(status)
			_, _ = w.Write([]byte(body))
		}))
		t.Cleanup(ts.Close)
		return ts.URL
	}
	tests := []struct {
		name   string
		server string
		code   int
		hint   string
	}{
		{"down", "http://" + freeAddr(t), exitNoDevice, "cannot reach the volcard server at http://127.0.0.1:"},
		{"not ready", answer(503, `{"type":"https://volcard.example/problems/unavailable","status":503}`), exitNoDevice, "up but not ready"},
		{"token refused", answer(401, `{"type":"https://volcard.example/problems/unauthorized","status":401}`), exitUsage, "check --token"},
	}
	for _, tc := range tests {
		for _, mode := range [][]string{{"--batch", "7"}, {"--application", "42"}} {
			if tc.name == "token refused" && mode[0] == "--application" {
				continue // one card's token is checked when its session opens
			}
			t.Run(tc.name+" "+mode[0], func(t *testing.T) {
				cmd := newPersonalizeCmd()
				cmd.SetArgs(append([]string{"--server", tc.server, "--token", "t0ken", "--pin-file", pinFile, "--reader", "none"}, mode...))
				cmd.SetIn(bytes.NewReader(nil))
				var stderr bytes.Buffer
				cmd.SetOut(&bytes.Buffer{})
				cmd.SetErr(&stderr)
				cmd.SilenceUsage, cmd.SilenceErrors = true, true
				err := cmd.Execute()
				require.Equal(t, tc.code, exitCode(err), "%v", err)
				require.Contains(t, err.Error(), tc.hint)
				require.NotContains(t, err.Error(), "t0ken")
				require.NotContains(t, stderr.String(), "Put a blank card", "stopped before asking for a card")
			})
		}
	}
}

// TestICCKeyPoolSize: VOLCARD_ICC_KEY_POOL defaults to the library's pool
// size, 0 turns the pool off, anything else out of 0..1024 is a usage
// error naming the variable.
func TestICCKeyPoolSize(t *testing.T) {
	env := func(v string) func(string) string {
		return func(k string) string {
			if k == envICCKeyPool {
				return v
			}
			return ""
		}
	}
	for v, want := range map[string]int{"": dataprep.DefaultKeyPoolSize, "0": 0, " 16 ": 16, "1024": 1024} {
		n, err := iccKeyPoolSize(env(v))
		require.NoError(t, err, v)
		require.Equal(t, want, n, v)
	}
	for _, v := range []string{"-1", "1025", "four", "1.5"} {
		_, err := iccKeyPoolSize(env(v))
		require.ErrorContains(t, err, envICCKeyPool, v)
		require.Equal(t, exitUsage, exitCode(err), v)
	}
}
