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
	"time"

	"github.com/spf13/cobra"

	"github.com/volcard/volcard/cardio"
	"github.com/volcard/volcard/cardio/emv"
)

func init() { rootCmd.AddCommand(newReadCmd()) }

// readOptions are the flags of "volcard read".
type readOptions struct {
	reader  string
	asJSON  bool
	timeout time.Duration
	caKeys  string
	fast    bool
}

func newReadCmd() *cobra.Command {
	var o readOptions
	cmd := &cobra.Command{
		Use:   "read",
		Short: "Wait for a chip card, read it and check it is genuine",
		Long: `read waits for a PBOC/EMV chip card in a PC/SC reader (the first reader that
gets a card, or --reader), reads it as a check-in terminal does (PPSE, AID,
GET PROCESSING OPTIONS, records, GET DATA), runs offline data authentication
(DDA, else SDA) against the CA public keys in --ca-keys, and prints what it
found: masked PAN, cardholder name, ID type, dates, application label and the
authentication result. The PAN, track 2 and ID number are never printed in
clear.

Ctrl-C stops waiting. With --timeout the wait and the read together are
bounded.

Exit status: 0 card read and authenticated; 1 read failed or the card is not
genuine (offline authentication failed); 2 bad flags; 3 pcscd not running,
no reader, no card within --timeout, or the card was pulled out mid-read.`,
		Example: `  volcard read
  volcard read --reader "Virtual PCD 00 00" --timeout 30s --json
  volcard read --ca-keys testdata/keys/ca-public.json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if o.timeout < 0 {
				return withExit(exitUsage, errors.New("--timeout must not be negative"))
			}
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			return runRead(ctx, o, cmd.OutOrStdout(), cmd.ErrOrStderr())
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.reader, "reader", "", "reader name as listed by \"volcard readers\" (default: the first reader that holds a card)")
	f.BoolVar(&o.asJSON, "json", false, "print the facts as JSON")
	f.DurationVar(&o.timeout, "timeout", 0, "give up after this long (e.g. 30s); 0 waits until Ctrl-C")
	f.StringVar(&o.caKeys, "ca-keys", os.Getenv("VOLCARD_CA_KEYS"), "JSON file of trusted CA public keys for offline authentication (env VOLCARD_CA_KEYS; default: the test CA testdata/keys/ca-public.json when the working directory has it)")
	f.BoolVar(&o.fast, "fast", false, "check-in read: skip GET DATA for the transaction counter and PIN tries")
	return cmd
}

func runRead(ctx context.Context, o readOptions, stdout, stderr io.Writer) error {
	var keys emv.CAKeys
	if o.caKeys == "" {
		if o.caKeys = defaultCAKeys(); o.caKeys != "" {
			fmt.Fprintf(stderr, "Trusting the TEST CA of %s (give --ca-keys or %s for real cards).\n", o.caKeys, envCAKeys)
		}
	}
	if o.caKeys != "" {
		var err error
		if keys, err = emv.LoadCAKeys(o.caKeys); err != nil {
			return withExit(exitUsage, err)
		}
	}
	if o.timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, o.timeout)
		defer cancel()
	}
	r, err := openReaders(ctx)
	if err != nil {
		return err
	}
	defer r.Close()

	reader := o.reader
	if reader == "" {
		if _, err := firstReader(ctx, r); err != nil {
			return err
		}
		fmt.Fprintln(stderr, "Waiting for a card (Ctrl-C to stop)...")
		if reader, err = r.WaitForAnyCard(ctx); err != nil {
			return waitError(err)
		}
	} else {
		fmt.Fprintf(stderr, "Waiting for a card in %q (Ctrl-C to stop)...\n", reader)
		if err := r.WaitForCard(ctx, reader); err != nil {
			return waitError(err)
		}
	}

	card, err := r.Connect(ctx, reader, cardio.ShareExclusive)
	if err != nil {
		return deviceError(err)
	}
	defer func() {
		dctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		_ = card.Disconnect(dctx)
	}()

	facts, err := emv.Read(ctx, card, emv.Options{CAKeys: keys, Fast: o.fast})
	var odaErr *emv.ODAError
	if err != nil && !errors.As(err, &odaErr) {
		switch {
		case errors.Is(err, cardio.ErrCardRemoved):
			return withExit(exitNoDevice, fmt.Errorf("the card was removed during the read; insert it again: %w", err))
		case errors.Is(err, emv.ErrNotFinancialCard):
			return withExit(exitFailure, fmt.Errorf("not a bank chip card (no PBOC/EMV application): %w", err))
		case errors.Is(err, context.DeadlineExceeded):
			return withExit(exitNoDevice, fmt.Errorf("the card did not answer within --timeout: %w", err))
		}
		return withExit(exitFailure, fmt.Errorf("read card: %w", err))
	}
	if err := printFacts(stdout, reader, facts, o.asJSON); err != nil {
		return err
	}
	if odaErr != nil {
		return withExit(exitFailure, fmt.Errorf("the card failed offline data authentication (not genuine?): %w", odaErr))
	}
	return nil
}

// waitError explains why waiting for a card ended.
func waitError(err error) error {
	switch {
	case errors.Is(err, context.DeadlineExceeded):
		return withExit(exitNoDevice, errors.New("no card presented within --timeout"))
	case errors.Is(err, context.Canceled):
		return withExit(exitFailure, errors.New("cancelled"))
	}
	return deviceError(err)
}

// readResult is the --json output: only masked card data.
type readResult struct {
	Reader        string        `json:"reader"`
	AID           string        `json:"aid"`
	Selection     string        `json:"selection"`
	Label         string        `json:"label,omitempty"`
	PreferredName string        `json:"preferred_name,omitempty"`
	PAN           string        `json:"pan"`
	PSN           string        `json:"psn,omitempty"`
	Name          string        `json:"cardholder_name,omitempty"`
	IDType        string        `json:"id_type,omitempty"`
	IDNumber      string        `json:"id_number,omitempty"`
	Effective     string        `json:"effective,omitempty"`
	Expiry        string        `json:"expiry"`
	IssuerCountry int           `json:"issuer_country,omitempty"`
	ATC           *int          `json:"atc,omitempty"`
	PINTries      *int          `json:"pin_tries_left,omitempty"`
	ODA           emv.ODAResult `json:"oda"`
	APDUs         int           `json:"apdus"`
}

func newReadResult(reader string, f *emv.CardFacts) readResult {
	res := readResult{
		Reader:        reader,
		AID:           f.AID.String(),
		Selection:     f.Selection,
		Label:         f.Label,
		PreferredName: f.PreferredName,
		PAN:           f.PAN.String(),
		PSN:           f.PSN,
		Name:          f.CardholderName,
		Expiry:        monthOf(f.Expiry),
		Effective:     monthOf(f.Effective),
		IssuerCountry: f.IssuerCountry,
		ATC:           f.ATC,
		PINTries:      f.PINTryCounter,
		ODA:           f.ODA,
		APDUs:         f.APDUs,
	}
	if res.Name == "" {
		res.Name = f.CardholderNameLatin
	}
	if f.IDType != nil {
		res.IDType = f.IDType.String()
	}
	if !f.IDNumber.IsZero() {
		res.IDNumber = f.IDNumber.String()
	}
	return res
}

func monthOf(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.Format("2006-01")
}

func printFacts(w io.Writer, reader string, f *emv.CardFacts, asJSON bool) error {
	res := newReadResult(reader, f)
	if asJSON {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(res)
	}
	oda := string(res.ODA.Method) + " verified"
	if !res.ODA.Verified {
		oda = fmt.Sprintf("%s FAILED: %s", res.ODA.Method, res.ODA.Failure)
	}
	rows := [][2]string{
		{"Reader", res.Reader},
		{"Application", fmt.Sprintf("%s (%s)", res.AID, res.Selection)},
		{"Label", res.Label},
		{"Preferred name", res.PreferredName},
		{"PAN", res.PAN},
		{"PSN", res.PSN},
		{"Cardholder", res.Name},
		{"ID type", res.IDType},
		{"ID number", res.IDNumber},
		{"Effective", res.Effective},
		{"Expiry", res.Expiry},
		{"Offline auth", oda},
	}
	if res.PINTries != nil {
		rows = append(rows, [2]string{"PIN tries left", fmt.Sprint(*res.PINTries)})
	}
	if res.ATC != nil {
		rows = append(rows, [2]string{"Transactions", fmt.Sprint(*res.ATC)})
	}
	rows = append(rows, [2]string{"APDUs", fmt.Sprint(res.APDUs)})
	for _, r := range rows {
		if r[1] == "" {
			continue
		}
		if _, err := fmt.Fprintf(w, "%-15s %s\n", r[0]+":", r[1]); err != nil {
			return err
		}
	}
	return nil
}
