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

var rootCmd = &cobra.Command{
	Use:   "volcard",
	Short: "Volunteer-card issuance service and card tools",
	Long: `volcard issues and uses volunteer cards: chip debit cards (PBOC 3.0 / EMV) that
double as a registered volunteer's identity.

With nothing configured, "volcard serve" runs on an embedded SQLite file, an
in-process partner-bank simulator and a software card. See README.md for the
configuration variables (VOLCARD_*).`,
	SilenceUsage:  true,
	SilenceErrors: true,
}

func main() {
	// A bad flag is a usage error (exit 2), on every subcommand.
	rootCmd.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return withExit(exitUsage, err) })
	if err := rootCmd.Execute(); err != nil {
		fmt.Fprintln(os.Stderr, "volcard:", err)
		var ee *exitError
		if errors.As(err, &ee) {
			os.Exit(ee.code)
		}
		os.Exit(exitFailure)
	}
}
