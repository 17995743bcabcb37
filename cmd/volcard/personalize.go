package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/schollz/progressbar/v3"
	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/volcard/volcard/cardio"
	"github.com/volcard/volcard/client"
	"github.com/volcard/volcard/client/personalize"
	"github.com/volcard/volcard/personalization/dataprep"
	"github.com/volcard/volcard/wire"
)

func init() { rootCmd.AddCommand(newPersonalizeCmd()) }

type personalizeOptions struct {
	server, token, reader, branch, pinFile string
	application, batch                     int64
	asJSON                                 bool
}

func newPersonalizeCmd() *cobra.Command {
	var o personalizeOptions
	cmd := &cobra.Command{
		Use:   "personalize --server URL --token T [--reader NAME] (--application ID | --batch ID)",
		Short: "Personalize blank cards on a USB reader (branch issuance)",
		Long: `personalize waits for a blank card in a PC/SC reader and runs a personalization
session with the server: the server (holding the keys) sends the APDU batches,
this command relays them to the card and returns the answers, and the server
checks the card (read-back and DDA) before it marks the application issued.

--application personalizes one bank_approved application. --batch walks an
on-site session's queue in roster order ("12/45 李四 …"): Enter personalizes,
s skips, q quits; each outcome (personalized, failed, skipped) is recorded on
the server, cards already made are passed, so a new run resumes, and entries
skipped or failed earlier are offered again, marked as such.

The cardholder types the PIN twice (no echo); --pin-file reads it from the
first line of a file instead (scripts; one PIN for every card of a batch).

A batch never uses a card twice: after each card it waits for the card to be
taken out, and the next entry waits for the next card. A card that is already
personalized is refused before anything is written to it: take it out and put
a blank card in, and the same entry goes on (it is not counted as a failure).
After any other failure the card must be swapped too before the walk goes on,
also with --pin-file (no questions asked: a failed entry is skipped, a card
pulled out midway is retried with the next card put in).

Progress: a bar per card on a terminal; on a log or pipe one line per card,
no bar.

Exit codes: 0 done; 1 refused (card not blank, check failed, server said no);
2 bad flags, or the token was refused; 3 no reader / pcscd, the card was
removed (put a blank card back in and rerun: the application is not issued),
or the server cannot be reached (check --server and that "volcard serve" runs
there).`,
		Example: `  volcard personalize --server https://volcard.example --token $TOKEN --application 42
  volcard personalize --server http://127.0.0.1:8080 --token $TOKEN --batch 7 --reader "Virtual PCD 00 00"`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if (o.application == 0) == (o.batch == 0) {
				return withExit(exitUsage, errors.New("give exactly one of --application and --batch"))
			}
			if o.token == "" {
				o.token = os.Getenv("VOLCARD_TOKEN")
			}
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			return runPersonalize(ctx, o, cmd.InOrStdin(), cmd.OutOrStdout(), cmd.ErrOrStderr())
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.server, "server", envOr("VOLCARD_SERVER", "http://127.0.0.1:8080"), "volcard server URL (VOLCARD_SERVER)")
	f.StringVar(&o.token, "token", "", "bank_staff token (env VOLCARD_TOKEN)")
	f.StringVar(&o.reader, "reader", "", "reader name as listed by \"volcard readers\" (default: the only or first reader)")
	f.StringVar(&o.branch, "branch", "", "branch recorded with each card")
	f.Int64Var(&o.application, "application", 0, "application ID to personalize")
	f.Int64Var(&o.batch, "batch", 0, "on-site session ID whose queue to walk")
	f.StringVar(&o.pinFile, "pin-file", "", "read the PIN from the first line of this file instead of asking")
	f.BoolVar(&o.asJSON, "json", false, "print the result as JSON")
	return cmd
}

func runPersonalize(ctx context.Context, o personalizeOptions, stdin io.Reader, stdout, stderr io.Writer) error {
	api, err := client.New(o.server, o.token)
	if err != nil {
		return withExit(exitUsage, err)
	}
	pinFor, err := pinSource(o.pinFile, stdin, stderr)
	if err != nil {
		return err
	}
	// The server first: no card goes into the reader for a server that
	// cannot take it.
	if err := api.Ready(ctx); err != nil {
		return personalizeError(o.server, err)
	}
	r, err := openReaders(ctx)
	if err != nil {
		return err
	}
	defer r.Close()
	reader := o.reader
	if reader == "" {
		if reader, err = firstReader(ctx, r); err != nil {
			return err
		}
	}
	var bar *progressbar.ProgressBar
	run := &personalize.Runner{API: api, Readers: r, Reader: reader, Branch: o.branch}
	// A bar only on a terminal: redrawn after every APDU, it is some
	// hundred kilobytes of escape sequences in a log.
	if !o.asJSON && isTerminalWriter(stderr) {
		run.Progress = func(done, total int) {
			if bar == nil {
				bar = progressbar.NewOptions(total, progressbar.OptionSetWriter(stderr), progressbar.OptionSetDescription("personalizing"),
					progressbar.OptionShowCount(), progressbar.OptionClearOnFinish(), progressbar.OptionSetWidth(30))
			}
			bar.ChangeMax(total)
			_ = bar.Set(done)
			if done == total {
				_ = bar.Finish()
				bar = nil
			}
		}
	}
	if o.batch != 0 {
		return runBatch(ctx, o, run, api, pinFor, stdin, stdout, stderr)
	}
	fmt.Fprintf(stderr, "Put a blank card in %q (Ctrl-C to stop)...\n", reader)
	pin, err := pinFor(ctx, wire.QueueItem{ApplicationID: o.application})
	if err != nil {
		return err
	}
	res, st, err := run.Personalize(ctx, personalize.Request{ApplicationID: o.application, PIN: pin})
	if err != nil {
		return personalizeError(o.server, err)
	}
	if o.asJSON {
		return json.NewEncoder(stdout).Encode(struct {
			wire.PersonalizationResult
			APDUs      int `json:"apdus"`
			RoundTrips int `json:"round_trips"`
		}{res, st.APDUs, st.RoundTrips})
	}
	printResult(stdout, res)
	return nil
}

func printResult(w io.Writer, res wire.PersonalizationResult) {
	fmt.Fprintf(w, "Issued: %s  %s %s\n  card %s  PSN %s  expires %s\n  chip %s  application %s\n",
		res.MaskedPAN, res.Name, res.EmbossName, res.MaskedPAN, res.PSN, res.Expiry, res.ChipSerial, res.ApplicationNumber)
	if res.Recovered {
		fmt.Fprintln(w, "  note: this card had been written by an earlier attempt; its PIN is the one chosen then")
	}
}

func runBatch(ctx context.Context, o personalizeOptions, run *personalize.Runner, api *client.Client,
	pinFor func(context.Context, wire.QueueItem) (string, error), stdin io.Reader, stdout, stderr io.Writer) error {
	interactive := o.pinFile == "" && isTerminal(stdin)
	op := &personalize.LineOperator{In: stdin, Out: stderr, Interactive: interactive, PINFor: pinFor}
	rep, err := run.Batch(ctx, api, o.batch, op)
	if o.asJSON {
		if jerr := json.NewEncoder(stdout).Encode(rep); jerr != nil {
			return jerr
		}
	} else {
		fmt.Fprintf(stdout, "Session %d: %d entries, %d personalized now, %d before, %d skipped, %d failed attempts, %d not approved by the bank yet\n",
			rep.SessionID, rep.Total, rep.Personalized, rep.Already, rep.Skipped, rep.Failed, rep.NotReady)
		if rep.Refused > 0 {
			fmt.Fprintf(stdout, "Cards refused as already personalized (nothing written to them): %d\n", rep.Refused)
		}
		qc := rep.Queue
		fmt.Fprintf(stdout, "On the server: %d personalized, %d failed, %d skipped, %d to do, %d not ready\n",
			qc.Personalized, qc.Failed, qc.Skipped, qc.Pending, qc.NotReady)
	}
	switch {
	case errors.Is(err, personalize.ErrQuit):
		return withExit(exitNoDevice, errors.New("stopped; rerun the same command to resume"))
	case err != nil:
		return personalizeError(o.server, err)
	}
	return nil
}

// personalizeError maps a personalization error to an exit code and a
// message saying what to do next; server is the --server URL.
func personalizeError(server string, err error) error {
	var pe *client.ProblemError
	switch {
	case errors.Is(err, personalize.ErrCardRemoved), errors.Is(err, cardio.ErrNoCard):
		return withExit(exitNoDevice, errors.New(personalize.Explain(err)))
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return waitError(err)
	case errors.Is(err, cardio.ErrNoReader), errors.Is(err, cardio.ErrServiceUnavailable):
		return deviceError(err)
	case errors.Is(err, client.ErrUnreachable):
		return withExit(exitNoDevice, fmt.Errorf("cannot reach the volcard server at %s: check --server (or VOLCARD_SERVER), "+
			"that \"volcard serve\" runs there and the network in between, then rerun the same command (nothing was written to a card)\n(%w)", server, err))
	case errors.As(err, &pe) && pe.Status == http.StatusServiceUnavailable:
		return withExit(exitNoDevice, fmt.Errorf("the volcard server at %s is up but not ready (its database?): see the server's log, "+
			"then rerun the same command\n(%w)", server, err))
	case errors.As(err, &pe) && pe.Status == http.StatusUnauthorized:
		return withExit(exitUsage, fmt.Errorf("the server refused the token: check --token (or VOLCARD_TOKEN); "+
			"personalization needs a bank_staff token of the card's bank (volcard token create --role bank_staff --bank CODE)\n(%w)", err))
	case errors.As(err, &pe) && pe.Status >= 500:
		return withExit(exitFailure, fmt.Errorf("the server failed (request %s): see its log; rerun the same command to try again\n(%w)", pe.RequestID, err))
	}
	return withExit(exitFailure, errors.New(personalize.Explain(err)))
}

// isTerminalWriter reports whether w is a terminal (progress bars go there
// only).
func isTerminalWriter(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

func isTerminal(r io.Reader) bool {
	f, ok := r.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

// pinSource returns how PINs are obtained: from the file, or typed twice
// without echo on the terminal.
func pinSource(file string, stdin io.Reader, stderr io.Writer) (func(context.Context, wire.QueueItem) (string, error), error) {
	if file != "" {
		f, err := os.Open(file)
		if err != nil {
			return nil, withExit(exitUsage, fmt.Errorf("--pin-file: %w", err))
		}
		defer f.Close()
		s := bufio.NewScanner(f)
		s.Scan()
		pin := strings.TrimSpace(s.Text())
		if _, err := dataprep.NewPIN(pin); err != nil {
			return nil, withExit(exitUsage, errors.New("--pin-file: the first line must be a PIN of 4 to 12 digits"))
		}
		return func(context.Context, wire.QueueItem) (string, error) { return pin, nil }, nil
	}
	in, ok := stdin.(*os.File)
	if !ok || !term.IsTerminal(int(in.Fd())) {
		return nil, withExit(exitUsage, errors.New("no terminal to type the PIN on: use --pin-file"))
	}
	return func(_ context.Context, item wire.QueueItem) (string, error) {
		for {
			who := ""
			if item.Name != "" {
				who = " for " + item.Name
			}
			fmt.Fprintf(stderr, "Cardholder, choose a PIN%s (4-12 digits): ", who)
			a, err := term.ReadPassword(int(in.Fd()))
			fmt.Fprintln(stderr)
			if err != nil {
				return "", withExit(exitUsage, fmt.Errorf("read PIN: %w", err))
			}
			fmt.Fprint(stderr, "Type it again: ")
			b, err := term.ReadPassword(int(in.Fd()))
			fmt.Fprintln(stderr)
			if err != nil {
				return "", withExit(exitUsage, fmt.Errorf("read PIN: %w", err))
			}
			switch {
			case string(a) != string(b):
				fmt.Fprintln(stderr, "The two PINs differ; again.")
			default:
				if _, err := dataprep.NewPIN(string(a)); err != nil {
					fmt.Fprintln(stderr, "A PIN is 4 to 12 digits; again.")
					continue
				}
				return string(a), nil
			}
		}
	}, nil
}
