package main

import (
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"strconv"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/volcard/volcard/issuance"
	"github.com/volcard/volcard/issuance/platformlink"
	"github.com/volcard/volcard/platform/platformsim"
)

func init() { rootCmd.AddCommand(newPlatformCmd(), newPlatformSimCmd()) }

func newPlatformCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "platform",
		Short: "Registration requests to the volunteer platform (directly in the database)",
		Long: `platform lists the registration requests sent to the provincial volunteer
platform for people registered at a bank branch or on site, and sends a
failed one again (docs/platform-interface.md section 3; docs/operations.md,
"Platform link"). It works on the database directly, like "volcard outbox",
and shows volunteer ids, never personal data.`,
	}
	cmd.AddCommand(newPlatformListCmd(), newPlatformRetryCmd())
	return cmd
}

func newPlatformListCmd() *cobra.Command {
	cfg := loadConfig()
	var (
		state  string
		limit  int
		asJSON bool
	)
	cmd := &cobra.Command{
		Use:     "list [--state failed] [--limit N] [--json]",
		Short:   "List registration requests, newest first",
		Example: "  volcard platform list --state failed",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := cfg.check(); err != nil {
				return err
			}
			switch platformlink.State(state) {
			case "", platformlink.StatePending, platformlink.StateInFlight, platformlink.StateDone, platformlink.StateFailed:
			default:
				return withExit(exitUsage, fmt.Errorf("--state %q: want pending, in_flight, done or failed", state))
			}
			if limit < 1 || limit > 1000 {
				return withExit(exitUsage, errors.New("--limit: want 1–1000"))
			}
			ctx := cmd.Context()
			svc, st, err := cfg.openService(ctx, cfg.newLogger(cmd.ErrOrStderr()))
			if err != nil {
				return err
			}
			defer st.Close()
			pl, err := platformlink.New(svc, st)
			if err != nil {
				return err
			}
			rows, err := pl.List(ctx, issuance.SystemActor(), platformlink.Filter{State: platformlink.State(state), Limit: limit})
			if err != nil {
				return err
			}
			w := cmd.OutOrStdout()
			if asJSON {
				enc := json.NewEncoder(w)
				enc.SetIndent("", "  ")
				return enc.Encode(platformRows(rows))
			}
			tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "ID\tVOLUNTEER\tSTATE\tATTEMPTS\tNUMBER\tMATCHED\tUPDATED\tLAST ERROR")
			for _, r := range rows {
				fmt.Fprintf(tw, "%d\t%d\t%s\t%d\t%s\t%t\t%s\t%s\n", r.ID, r.VolunteerID, r.State, r.Attempts, r.Number, r.Matched,
					r.UpdatedAt.UTC().Format(time.RFC3339), r.LastError)
			}
			return tw.Flush()
		},
	}
	cfg.bindFlags(cmd.Flags(), false)
	fl := cmd.Flags()
	fl.StringVar(&state, "state", "", "pending, in_flight, done or failed (default all)")
	fl.IntVar(&limit, "limit", 100, "at most this many (1–1000)")
	fl.BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}

type platformRow struct {
	ID              int64  `json:"id"`
	VolunteerID     int64  `json:"volunteer_id"`
	State           string `json:"state"`
	Attempts        int    `json:"attempts"`
	VolunteerNumber string `json:"volunteer_number,omitempty"`
	Matched         bool   `json:"matched"`
	LastError       string `json:"last_error,omitempty"`
	UpdatedAt       string `json:"updated_at"`
}

func platformRows(rs []platformlink.Request) []platformRow {
	out := make([]platformRow, len(rs))
	for i, r := range rs {
		out[i] = platformRow{ID: r.ID, VolunteerID: r.VolunteerID, State: string(r.State), Attempts: r.Attempts,
			VolunteerNumber: r.Number, Matched: r.Matched, LastError: r.LastError, UpdatedAt: r.UpdatedAt.UTC().Format(time.RFC3339)}
	}
	return out
}

func newPlatformRetryCmd() *cobra.Command {
	cfg := loadConfig()
	var reason string
	cmd := &cobra.Command{
		Use:   "retry ID [--reason TEXT]",
		Short: "Send a failed registration request again now",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := cfg.check(); err != nil {
				return err
			}
			id, err := strconv.ParseInt(args[0], 10, 64)
			if err != nil || id <= 0 {
				return withExit(exitUsage, fmt.Errorf("ID %q: want a request id", args[0]))
			}
			ctx := cmd.Context()
			svc, st, err := cfg.openService(ctx, cfg.newLogger(cmd.ErrOrStderr()))
			if err != nil {
				return err
			}
			defer st.Close()
			pl, err := platformlink.New(svc, st)
			if err != nil {
				return err
			}
			r, err := pl.Retry(ctx, issuance.SystemActor(), id, reason)
			switch {
			case errors.Is(err, issuance.ErrNotFound):
				return withExit(exitUsage, fmt.Errorf("request %d: %w (see volcard platform list)", id, err))
			case errors.Is(err, platformlink.ErrNotFailed), errors.Is(err, issuance.ErrInvalid):
				return withExit(exitUsage, err)
			case err != nil:
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "request %d: %s, due now (a running serve sends it within its poll interval)\n", r.ID, r.State)
			return nil
		},
	}
	cfg.bindFlags(cmd.Flags(), false)
	cmd.Flags().StringVar(&reason, "reason", "", "why (kept in the request's last error)")
	return cmd
}

func newPlatformSimCmd() *cobra.Command {
	var listen, token, prefix, tlsCert, tlsKey string
	var first int64
	var latency time.Duration
	cmd := &cobra.Command{
		Use:   "platform-sim [--listen 127.0.0.1:8586] [--token T] [--prefix IZY] [--tls-cert F --tls-key F]",
		Short: "Run the volunteer platform simulator (registration API of docs/platform-interface.md)",
		Long: `platform-sim runs the simulator of the provincial volunteer platform's
registration API (docs/platform-interface.md section 3), the one "volcard
serve" embeds when VOLCARD_PLATFORM_URL is empty: it registers people under
numbers PREFIX + 9 digits, matches people it holds by ID type and number,
answers a repeated Idempotency-Key with its first answer, and refuses an ID
number it holds under another name (409). It keeps its people in memory.
The token comes from --token or VOLCARD_PLATFORM_TOKEN (the variable serve
reads, so one env file serves both).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if token == "" {
				token = os.Getenv(envPlatformToken)
			}
			if token == "" {
				return withExit(exitUsage, errors.New("--token (or "+envPlatformToken+") required"))
			}
			sim, err := platformsim.New(platformsim.Config{Token: token, Prefix: prefix, First: first, Latency: latency})
			if err != nil {
				return withExit(exitUsage, err)
			}
			tlsCfg, err := serverTLS(tlsCert, tlsKey)
			if err != nil {
				return withExit(exitUsage, err)
			}
			if err := sim.Start(listen, tlsCfg); err != nil {
				return withExit(exitUsage, err)
			}
			defer sim.Close()
			scheme := "http"
			if tlsCfg != nil {
				scheme = "https"
			}
			fmt.Fprintf(cmd.OutOrStdout(), "platform simulator on %s://%s\n", scheme, sim.Addr())
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			<-ctx.Done()
			return nil
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&listen, "listen", "127.0.0.1:8586", "listen address")
	fl.StringVar(&token, "token", "", "bearer token callers must present ("+envPlatformToken+")")
	fl.StringVar(&prefix, "prefix", "IZY", "prefix of the volunteer numbers it hands out")
	fl.Int64Var(&first, "first", 1, "first number's digits")
	fl.DurationVar(&latency, "latency", 0, "delay every answer")
	fl.StringVar(&tlsCert, "tls-cert", "", "serve HTTPS with this certificate (PEM) …")
	fl.StringVar(&tlsKey, "tls-key", "", "… and key")
	return cmd
}

// serverTLS loads a certificate and key for a simulator's HTTPS (both or
// neither).
func serverTLS(cert, key string) (*tls.Config, error) {
	if cert == "" && key == "" {
		return nil, nil
	}
	if cert == "" || key == "" {
		return nil, errors.New("--tls-cert and --tls-key go together")
	}
	kp, err := tls.LoadX509KeyPair(cert, key)
	if err != nil {
		return nil, fmt.Errorf("TLS certificate: %w", err)
	}
	return &tls.Config{Certificates: []tls.Certificate{kp}, MinVersion: tls.VersionTLS12}, nil
}
