package main

import (
	"bytes"
	"testing"

	"github.com/spf13/cobra"
	"github.com/stretchr/testify/require"
)

// TestFlagErrorsExitTwo runs the real command tree with flag errors of each
// kind cobra reports: every one exits 2 (as the README says) and names the
// --help to read; an unknown subcommand and a wrong number of arguments stay
// exit 1. No subcommand sets its own persistent pre-run, which would replace
// the root's check of required flags.
func TestFlagErrorsExitTwo(t *testing.T) {
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		for _, sub := range c.Commands() {
			require.Nil(t, sub.PersistentPreRunE, "%s sets PersistentPreRunE", sub.CommandPath())
			require.Nil(t, sub.PersistentPreRun, "%s sets PersistentPreRun", sub.CommandPath())
			walk(sub)
		}
	}
	walk(rootCmd)

	tests := []struct {
		name string
		args []string
		code int
		want string
	}{
		{"missing required flag", []string{"token", "create"}, exitUsage, `required flag(s) "role" not set (see volcard token create --help)`},
		{"missing required flags of a client command", []string{"enroll", "request", "--token", "vc_x", "--org", "3"},
			exitUsage, `"count", "date", "product", "site" not set`},
		{"unknown flag", []string{"terminal", "--no-such-flag"}, exitUsage, "unknown flag: --no-such-flag (see volcard terminal --help)"},
		{"bad flag value", []string{"outbox", "list", "--limit", "many"}, exitUsage, "invalid argument"},
		{"wrong number of arguments", []string{"token", "revoke"}, exitFailure, "accepts 1 arg"},
		{"unknown subcommand", []string{"no-such-command"}, exitFailure, "unknown command"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var out bytes.Buffer
			rootCmd.SetArgs(tc.args)
			rootCmd.SetOut(&out)
			rootCmd.SetErr(&out)
			t.Cleanup(func() { rootCmd.SetArgs(nil); rootCmd.SetOut(nil); rootCmd.SetErr(nil) })
			err := rootCmd.Execute()
			require.Error(t, err)
			require.Equal(t, tc.code, exitCode(err), "%v", err)
			require.Contains(t, err.Error(), tc.want)
		})
	}
}
