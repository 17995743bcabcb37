package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/volcard/volcard/cardio"
	"github.com/volcard/volcard/cardio/pcsc"
)

func init() { rootCmd.AddCommand(newReadersCmd()) }

// pcscHelp tells the user what to install or start when pcscd is missing.
const pcscHelp = `the PC/SC service (pcscd) is not running or not installed.
  Debian/Ubuntu: sudo apt-get install pcscd libpcsclite1 && sudo systemctl start pcscd
  (or run "pcscd" as root). For the software card also install vsmartcard-vpcd.`

// deviceError maps PC/SC errors to exitNoDevice with a helpful message;
// other errors pass through.
func deviceError(err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, cardio.ErrServiceUnavailable):
		return withExit(exitNoDevice, fmt.Errorf("%s\n(%w)", pcscHelp, err))
	case errors.Is(err, cardio.ErrNoReader):
		return withExit(exitNoDevice, fmt.Errorf("no such card reader: plug one in (\"volcard readers\" lists them): %w", err))
	case errors.Is(err, cardio.ErrNoCard), errors.Is(err, cardio.ErrCardRemoved):
		return withExit(exitNoDevice, err)
	}
	return err
}

// openReaders connects to pcscd.
func openReaders(ctx context.Context) (*pcsc.Readers, error) {
	r, err := pcsc.New(ctx)
	return r, deviceError(err)
}

// firstReader returns the name of the first connected reader; no reader
// at all is exitNoDevice, with a hint at the software card.
func firstReader(ctx context.Context, r *pcsc.Readers) (string, error) {
	names, err := r.List(ctx)
	if err != nil {
		return "", deviceError(err)
	}
	if len(names) == 0 {
		return "", withExit(exitNoDevice, errors.New("no card reader found: plug one in, or start \"volcard card-sim\" with vsmartcard-vpcd installed"))
	}
	return names[0], nil
}

func newReadersCmd() *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "readers",
		Short: "List the smart-card readers and whether a card is in each",
		Long: `readers asks the PC/SC service (pcscd) for the connected card readers and
prints one line per reader: its name and whether a card is present.

The software card started with "volcard card-sim --vpcd 127.0.0.1:35963"
appears in the reader "Virtual PCD 00 00" (vsmartcard-vpcd must be installed).

Exit status: 0 when at least one reader is present, 3 when pcscd is not
running or there is no reader.`,
		Example: `  volcard readers
  volcard readers --json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			return runReaders(ctx, cmd.OutOrStdout(), asJSON)
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print a JSON array of {name, card_present}")
	return cmd
}

// readerLine is one reader in the --json output.
type readerLine struct {
	Name        string `json:"name"`
	CardPresent bool   `json:"card_present"`
	InUse       bool   `json:"in_use"`
}

func runReaders(ctx context.Context, out io.Writer, asJSON bool) error {
	r, err := openReaders(ctx)
	if err != nil {
		return err
	}
	defer r.Close()
	st, err := r.Status(ctx)
	if err != nil {
		return deviceError(err)
	}
	lines := make([]readerLine, 0, len(st))
	for _, s := range st {
		lines = append(lines, readerLine{Name: s.Name, CardPresent: s.CardPresent, InUse: s.InUse})
	}
	if asJSON {
		enc := json.NewEncoder(out)
		enc.SetIndent("", "  ")
		if err := enc.Encode(lines); err != nil {
			return err
		}
	} else {
		for _, l := range lines {
			state := "empty"
			if l.CardPresent {
				state = "card present"
				if l.InUse {
					state += " (in use)"
				}
			}
			fmt.Fprintf(out, "%s\t%s\n", l.Name, state)
		}
	}
	if len(lines) == 0 {
		return withExit(exitNoDevice, errors.New("no card reader found: plug one in, or install vsmartcard-vpcd and restart pcscd"))
	}
	return nil
}
