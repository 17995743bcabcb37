package main

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/volcard/volcard/cardio"
	"github.com/volcard/volcard/client/personalize"
	"github.com/volcard/volcard/personalization/dataprep"
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
	}{
		{"card removed", &personalize.CardLostError{APDUs: 7, Err: cardio.ErrCardRemoved}, exitNoDevice},
		{"no reader", cardio.ErrNoReader, exitNoDevice},
		{"refused", errors.New("refused"), exitFailure},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var ee *exitError
			err := personalizeError(tc.err)
			require.ErrorAs(t, err, &ee)
			require.Equal(t, tc.code, ee.code)
		})
	}
	require.Contains(t, personalizeError(&personalize.CardLostError{Err: cardio.ErrCardRemoved}).Error(),
		"card removed — put a blank card back in and press Enter / rerun")
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
