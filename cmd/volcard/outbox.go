package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/volcard/volcard/bankgw/outbox"
	"github.com/volcard/volcard/issuance"
	"github.com/volcard/volcard/issuance/store"
)

func init() { rootCmd.AddCommand(newOutboxCmd()) }

func newOutboxCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "outbox",
		Short: "Inspect the bank outbox and settle failed rows (directly in the database)",
		Long: `outbox lists the requests to the partner bank (docs/operations.md, "Failed
outbox rows") and sends a failed one again or gives it up. It works on the
database directly, like "volcard token", and shows no card or personal data:
only application numbers and the last four digits of cards.`,
	}
	cmd.AddCommand(newOutboxListCmd(), newOutboxRetryCmd(), newOutboxCancelCmd())
	return cmd
}

// outboxRow is a row as the command prints it in JSON.
type outboxRow struct {
	ID                int64  `json:"id"`
	Kind              string `json:"kind"`
	State             string `json:"state"`
	ApplicationNumber string `json:"application_number"`
	CardLastFour      string `json:"card_last_four,omitempty"`
	ParentID          int64  `json:"parent_id,omitempty"`
	Attempts          int    `json:"attempts"`
	Repeats           int    `json:"repeats"`
	STAN              string `json:"stan,omitempty"`
	RRN               string `json:"rrn,omitempty"`
	ResultCode        string `json:"result_code,omitempty"`
	LastError         string `json:"last_error,omitempty"`
	NextAttemptAt     string `json:"next_attempt_at,omitempty"`
	CreatedAt         string `json:"created_at"`
	UpdatedAt         string `json:"updated_at"`
}

func toOutboxRow(v outbox.View) outboxRow {
	r := v.Request
	o := outboxRow{ID: r.ID, Kind: string(r.Kind), State: string(r.State), ApplicationNumber: r.ApplicationNumber,
		CardLastFour: v.CardLastFour, ParentID: r.ParentID, Attempts: r.Attempts, Repeats: r.Repeats,
		STAN: r.Trace.STAN, RRN: r.Trace.RRN, ResultCode: r.ResultCode, LastError: r.LastError,
		CreatedAt: r.CreatedAt.UTC().Format(time.RFC3339), UpdatedAt: r.UpdatedAt.UTC().Format(time.RFC3339)}
	if !r.NextAttemptAt.IsZero() && (r.State == outbox.StatePending || r.State == outbox.StateSent) {
		o.NextAttemptAt = r.NextAttemptAt.UTC().Format(time.RFC3339)
	}
	return o
}

func printOutboxRows(w io.Writer, rows []outbox.View, asJSON bool) error {
	if asJSON {
		out := make([]outboxRow, len(rows))
		for i, r := range rows {
			out[i] = toOutboxRow(r)
		}
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(out)
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tKIND\tSTATE\tAPPLICATION\tCARD\tATTEMPTS\tRC\tUPDATED\tLAST ERROR")
	for _, v := range rows {
		r := toOutboxRow(v)
		card := "-"
		if r.CardLastFour != "" {
			card = "…" + r.CardLastFour
		}
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%d\t%s\t%s\t%s\n", r.ID, r.Kind, r.State, r.ApplicationNumber, card,
			r.Attempts, dash(r.ResultCode), r.UpdatedAt, dash(r.LastError))
	}
	return tw.Flush()
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func newOutboxListCmd() *cobra.Command {
	cfg := loadConfig()
	var (
		state, kind, bank string
		limit             int
		asJSON            bool
	)
	cmd := &cobra.Command{
		Use:   "list [--state failed] [--kind apply|reversal|status_change] [--bank CODE] [--limit N] [--json]",
		Short: "List outbox rows, newest first",
		Long: `List the bank outbox rows (requests to the partner banks), newest first.
--bank keeps one bank's rows (the bank of each row's application): with one
link per bank, a bank that is down holds only its own rows.`,
		Example: `  volcard outbox list --state failed
  volcard outbox list --bank PSBC --state pending
  volcard outbox list --state failed --json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := cfg.check(); err != nil {
				return err
			}
			f := outbox.Filter{State: outbox.State(state), Kind: outbox.Kind(kind), Bank: strings.ToUpper(strings.TrimSpace(bank)), Limit: limit}
			if err := checkOutboxFilter(f); err != nil {
				return withExit(exitUsage, err)
			}
			ctx := cmd.Context()
			admin, st, err := cfg.openOutboxAdmin(ctx, cfg.newLogger(cmd.ErrOrStderr()))
			if err != nil {
				return err
			}
			defer st.Close()
			rows, err := admin.List(ctx, issuance.SystemActor(), f)
			if err != nil {
				return outboxErr(err) // an unknown --bank is a usage error
			}
			return printOutboxRows(cmd.OutOrStdout(), rows, asJSON)
		},
	}
	cfg.bindFlags(cmd.Flags(), false)
	fl := cmd.Flags()
	fl.StringVar(&state, "state", "", "pending, in_flight, sent, waiting, done, failed or cancelled (default all)")
	fl.StringVar(&kind, "kind", "", "apply, reversal or status_change (default all)")
	fl.StringVar(&bank, "bank", "", "only the rows of this bank code: BOC, CEB, CCB, PSBC (default all)")
	fl.IntVar(&limit, "limit", 100, "at most this many rows (1–1000)")
	fl.BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}

// checkOutboxFilter refuses unknown states and kinds (a typo would list
// nothing and look like good news).
func checkOutboxFilter(f outbox.Filter) error {
	switch f.State {
	case "", outbox.StatePending, outbox.StateInFlight, outbox.StateSent, outbox.StateWaiting, outbox.StateDone,
		outbox.StateFailed, outbox.StateCancelled:
	default:
		return fmt.Errorf("--state %q: want pending, in_flight, sent, waiting, done, failed or cancelled", f.State)
	}
	switch f.Kind {
	case "", outbox.KindApply, outbox.KindReversal, outbox.KindStatusChange, outbox.KindHolderUpdate, outbox.KindInquiry:
	default:
		return fmt.Errorf("--kind %q: want apply, reversal, status_change or inquiry", f.Kind)
	}
	if f.Limit < 1 || f.Limit > 1000 {
		return fmt.Errorf("--limit %d: want 1 to 1000", f.Limit)
	}
	return nil
}

func outboxID(arg string) (int64, error) {
	id, err := strconv.ParseInt(arg, 10, 64)
	if err != nil || id <= 0 {
		return 0, withExit(exitUsage, fmt.Errorf("row id %q: want a positive integer", arg))
	}
	return id, nil
}

// outboxErr gives a refused retry or cancel its exit code: an unknown row
// or a row that is not failed is a usage error.
func outboxErr(err error) error {
	switch {
	case errors.Is(err, issuance.ErrNotFound):
		return withExit(exitUsage, fmt.Errorf("%w (see volcard outbox list)", err))
	case errors.Is(err, issuance.ErrConflict):
		return withExit(exitUsage, fmt.Errorf("%w: only failed rows can be retried or cancelled", err))
	case errors.Is(err, issuance.ErrInvalid):
		return withExit(exitUsage, err)
	}
	return err
}

func newOutboxRetryCmd() *cobra.Command {
	return newOutboxActionCmd(&cobra.Command{
		Use:   "retry ID [--reason TEXT]",
		Short: "Send a failed row again (a new request, new STAN; the bank deduplicates)",
		Long: `retry makes a failed row pending and due at once, with a fresh trace: a running
serve sends it within its poll interval as a new request (new STAN, field 7 and
RRN; a reversal keeps its original's RRN). The bank deduplicates adds by
application number and status changes by target state, so this is safe.`,
	}, false, "why (kept in the row's last error and the log)", "pending again", (*outbox.Admin).Retry)
}

func newOutboxCancelCmd() *cobra.Command {
	return newOutboxActionCmd(&cobra.Command{
		Use:   "cancel ID --reason TEXT",
		Short: "Give up a failed row for good",
		Long: `cancel moves a failed row to cancelled; it is never sent again. A cancelled
status change drops the card's pending change (the card keeps its state); a
cancelled reversal sends its add afresh (the bank returns the same card); a
cancelled add leaves the application in bank_pending, where nothing moves it
any more: prefer retry once the cause is fixed.`,
	}, true, "why (required; kept in the row and the log)", "cancelled", (*outbox.Admin).Cancel)
}

// outboxAction is what retry or cancel does to one outbox row.
type outboxAction func(admin *outbox.Admin, ctx context.Context, a issuance.Actor, id int64, reason string) (outbox.Request, error)

// newOutboxActionCmd completes cmd (its Use and help) as retry or cancel:
// one row ID, --reason (refused when empty and reasonRequired), --json and
// the database flags; on success it prints the row, which is now done
// ("pending again", "cancelled").
func newOutboxActionCmd(cmd *cobra.Command, reasonRequired bool, reasonUsage, done string, act outboxAction) *cobra.Command {
	cfg := loadConfig()
	var reason string
	var asJSON bool
	cmd.Args = cobra.ExactArgs(1)
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		if err := cfg.check(); err != nil {
			return err
		}
		id, err := outboxID(args[0])
		if err != nil {
			return err
		}
		if reasonRequired && strings.TrimSpace(reason) == "" {
			return withExit(exitUsage, errors.New("--reason is required"))
		}
		ctx := cmd.Context()
		admin, st, err := cfg.openOutboxAdmin(ctx, cfg.newLogger(cmd.ErrOrStderr()))
		if err != nil {
			return err
		}
		defer st.Close()
		r, err := act(admin, ctx, issuance.SystemActor(), id, reason)
		if err != nil {
			return outboxErr(err)
		}
		if asJSON {
			return printOutboxRows(cmd.OutOrStdout(), []outbox.View{{Request: r}}, true)
		}
		fmt.Fprintf(cmd.OutOrStdout(), "row %d (%s, application %s) is %s\n", r.ID, r.Kind, r.ApplicationNumber, done)
		return nil
	}
	cfg.bindFlags(cmd.Flags(), false)
	cmd.Flags().StringVar(&reason, "reason", "", reasonUsage)
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the row as JSON")
	return cmd
}

// openOutboxAdmin opens the Service (openService) and returns the outbox's
// operator commands over its store. The caller closes the store.
func (c config) openOutboxAdmin(ctx context.Context, log *slog.Logger) (*outbox.Admin, *store.Store, error) {
	svc, st, err := c.openService(ctx, log)
	if err != nil {
		return nil, nil, err
	}
	admin, err := outbox.NewAdmin(svc, st, log)
	if err != nil {
		_ = st.Close()
		return nil, nil, err
	}
	return admin, st, nil
}
