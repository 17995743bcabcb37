// Command volcard is the volunteer-card service: the HTTP API, the bank
// gateway, the card tools for branch staff and check-in terminals, and the
// simulators that stand in for a partner bank and a card.
//
// Each subcommand lives in its own file and registers itself on rootCmd in
// an init function; this file only holds the root and the exit-code rules.
package main

import (
	"errors"
	"fmt"
	"os"

	"github.com/spf13/cobra"
)

// Exit codes. Scripts can rely on them.
const (
	exitOK       = 0
	exitFailure  = 1 // the operation failed (bank declined, card refused, ...)
	exitUsage    = 2 // bad flags or arguments
	exitNoDevice = 3 // no reader, no card, or a dependency (database, pcscd) unreachable
)

// exitError carries an exit code through cobra's RunE.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string { return e.err.Error() }
func (e *exitError) Unwrap() error { return e.err }

// withExit wraps err so that main exits with code.
func withExit(code int, err error) error {
	if err == nil {
		return nil
	}
	return &exitError{code: code, err: err}
}

var rootCmd = newRootCmd(&cobra.Command{
	Use:   "volcard",
	Short: "Volunteer-card issuance service and card tools",
	Long: `volcard issues and uses volunteer cards: chip debit cards (PBOC 3.0 / EMV) that
double as a registered volunteer's identity.

With nothing configured, "volcard serve" runs on an embedded SQLite file, an
in-process partner-bank simulator and a software card. See README.md for the
configuration variables (VOLCARD_*).`,
	SilenceUsage:  true,
	SilenceErrors: true,
})

// newRootCmd makes every flag error of root's tree a usage error (exit 2):
// a flag cobra cannot parse (its flag error function, which subcommands
// inherit), and a required flag left out or a flag group broken, which
// cobra checks after the persistent pre-run hooks and reports as plain
// errors: the root's PersistentPreRunE makes the same checks first and
// wraps them. Subcommands must not set their own PersistentPreRun(E):
// cobra would run theirs instead (TestFlagErrorsExitTwo checks).
func newRootCmd(root *cobra.Command) *cobra.Command {
	root.SetFlagErrorFunc(func(cmd *cobra.Command, err error) error { return usageError(cmd, err) })
	root.PersistentPreRunE = func(cmd *cobra.Command, _ []string) error {
		if err := cmd.ValidateRequiredFlags(); err != nil {
			return usageError(cmd, err)
		}
		if err := cmd.ValidateFlagGroups(); err != nil {
			return usageError(cmd, err)
		}
		return nil
	}
	return root
}

// usageError is a flag error of cmd, exit 2, pointing at cmd's --help.
func usageError(cmd *cobra.Command, err error) error {
	return withExit(exitUsage, fmt.Errorf("%w (see %s --help)", err, cmd.CommandPath()))
}

// exitCode is the exit status for err, the result of running a command.
func exitCode(err error) int {
	if err == nil {
		return exitOK
	}
	var ee *exitError
	if errors.As(err, &ee) {
		return ee.code
	}
	return exitFailure
}

func main() {
	if err := rootCmd.Execute(); err != nil {
		fmt.Fprintln(os.Stderr, "volcard:", err)
		os.Exit(exitCode(err))
	}
}
