package main

// Insurance and donation rebates (issue 18, docs/insurance-and-rebates.md):
// `volcard insurance file`, `volcard rebates statements|check`, and serve's
// insurance-file and rebate-statements jobs.

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/volcard/volcard/internal/jobs"
	"github.com/volcard/volcard/issuance"
	"github.com/volcard/volcard/issuance/insurance"
	"github.com/volcard/volcard/issuance/rebates"
	"github.com/volcard/volcard/issuance/store"
)

func init() {
	rootCmd.AddCommand(newInsuranceCmd())
	rootCmd.AddCommand(newRebatesCmd())
}

// insuranceDir is where serve's job writes the insurer's daily files.
func insuranceDir(dataDir string) string { return filepath.Join(dataDir, "insurance") }

// insuranceFileName is the file of a day: VOLCARD-INS-YYYYMMDD.txt.
func insuranceFileName(day string) string {
	return "VOLCARD-INS-" + strings.ReplaceAll(day, "-", "") + ".txt"
}

// writeInsuranceFile writes day's file to path, created 0600 (it holds
// names and ID numbers: never log it), through a temporary file renamed
// into place.
func writeInsuranceFile(ctx context.Context, ins *insurance.Service, day, path string) (adds, terms int, err error) {
	var buf bytes.Buffer
	adds, terms, err = ins.DailyFile(ctx, issuance.SystemActor(), day, &buf)
	if err != nil {
		return 0, 0, err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return 0, 0, err
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, buf.Bytes(), 0o600); err != nil {
		return 0, 0, err
	}
	if err := os.Chmod(tmp, 0o600); err != nil { // an old tmp may have had other bits
		return 0, 0, err
	}
	return adds, terms, os.Rename(tmp, path)
}

func newInsuranceCmd() *cobra.Command {
	root := &cobra.Command{Use: "insurance", Short: "Basic volunteer insurance: the insurer's daily file"}
	cfg := loadConfig()
	var day, out string
	file := &cobra.Command{
		Use:   "file [--date YYYY-MM-DD] [--out FILE]",
		Short: "Write the insurer's file of one day (additions and terminations of cover)",
		Long: `file writes the insurer's daily file of a China date (default yesterday): the
holders whose cover started that day and those whose cover's end was recorded
that day, in the format of docs/insurance-and-rebates.md (UTF-8, "|"-separated,
header, trailer with counts and SHA-256). The file holds names and ID numbers:
it is created with mode 0600 and never printed or logged; --out - writes it to
standard output for a pipe. Default --out: DATA_DIR/insurance/VOLCARD-INS-YYYYMMDD.txt.`,
		Example: "  volcard insurance file --date 2026-11-23\n  volcard insurance file --date 2026-11-23 --out - | sftp-upload",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := cfg.check(); err != nil {
				return err
			}
			if day == "" {
				day = insurance.Day(time.Now().AddDate(0, 0, -1))
			}
			if _, err := time.Parse(time.DateOnly, day); err != nil {
				return withExit(exitUsage, fmt.Errorf("--date %q: want YYYY-MM-DD", day))
			}
			ctx := cmd.Context()
			svc, st, err := cfg.openService(ctx, cfg.newLogger(cmd.ErrOrStderr()))
			if err != nil {
				return err
			}
			defer st.Close()
			ins, err := insurance.New(svc, st)
			if err != nil {
				return err
			}
			if out == "-" {
				_, _, err := ins.DailyFile(ctx, issuance.SystemActor(), day, cmd.OutOrStdout())
				return err
			}
			if out == "" {
				out = filepath.Join(insuranceDir(cfg.DataDir), insuranceFileName(day))
			}
			adds, terms, err := writeInsuranceFile(ctx, ins, day, out)
			if err != nil {
				return withExit(exitFailure, err)
			}
			fmt.Fprintf(cmd.OutOrStdout(), "insurance file of %s: %d additions, %d terminations, written to %s (mode 0600)\n",
				day, adds, terms, out)
			return nil
		},
	}
	file.Flags().StringVar(&day, "date", "", "China date YYYY-MM-DD (default yesterday)")
	file.Flags().StringVar(&out, "out", "", "output file, or - for standard output (default DATA_DIR/insurance/VOLCARD-INS-YYYYMMDD.txt)")
	cfg.bindFlags(file.Flags(), false)
	root.AddCommand(file)
	return root
}

func newRebatesCmd() *cobra.Command {
	root := &cobra.Command{Use: "rebates", Short: "Donation rebates: monthly statements per city and university"}
	cfg := loadConfig()
	var month, out string
	open := func(cmd *cobra.Command) (*rebates.Service, *store.Store, error) {
		if err := cfg.check(); err != nil {
			return nil, nil, err
		}
		if _, _, _, err := rebates.MonthRange(month); err != nil {
			return nil, nil, withExit(exitUsage, fmt.Errorf("--month %q: want YYYY-MM", month))
		}
		svc, st, err := cfg.openService(cmd.Context(), cfg.newLogger(cmd.ErrOrStderr()))
		if err != nil {
			return nil, nil, err
		}
		reb, err := rebates.New(svc, st)
		if err != nil {
			_ = st.Close()
			return nil, nil, err
		}
		return reb, st, nil
	}
	statements := &cobra.Command{
		Use:   "statements --month YYYY-MM [--out FILE.csv|FILE.xlsx]",
		Short: "Generate (once) and print a month's statements; --out exports them",
		Long: `statements generates the donation-rebate statements of an ended month (China
time) from the spending advices, unless they were generated before (then it
prints what is stored: statements never change), and prints one line per city
and university. --out writes them as CSV or XLSX (by the extension). A month
whose advices need a rate that is not set fails naming bank, product and day
(set it: POST /v1/admin/rebates/rates). Exit codes: 0 done, 1 failed, 2 bad flags.`,
		Example: "  volcard rebates statements --month 2026-11\n  volcard rebates statements --month 2026-11 --out 2026-11.xlsx",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if out != "" && !strings.HasSuffix(out, ".csv") && !strings.HasSuffix(out, ".xlsx") {
				return withExit(exitUsage, fmt.Errorf("--out %q: want a file name ending .csv or .xlsx", out))
			}
			reb, st, err := open(cmd)
			if err != nil {
				return err
			}
			defer st.Close()
			ctx := cmd.Context()
			m, generated, err := reb.Generate(ctx, issuance.SystemActor(), month)
			if err != nil {
				return withExit(exitFailure, err)
			}
			_, sts, err := reb.Statements(ctx, issuance.SystemActor(), month)
			if err != nil {
				return withExit(exitFailure, err)
			}
			w := cmd.OutOrStdout()
			state := "stored before"
			if generated {
				state = "generated now"
			}
			fmt.Fprintf(w, "month %s (%s): %d advices, %d unattributed, %d statements, net %s CNY\n", m.Month, state,
				m.Advices, m.Unattributed, m.Statements, yuan(m.NetFen))
			for _, s := range sts {
				fmt.Fprintf(w, "  %-10s %-24s net %14s  donation %12s  foundation %12s  returned %12s\n", s.OrgKind, s.OrgName,
					yuan(s.Totals.NetFen), yuan(s.Totals.DonationFen), yuan(s.Totals.FoundationFen), yuan(s.Totals.ReturnedFen))
			}
			if out == "" {
				return nil
			}
			f, err := os.OpenFile(out, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o600)
			if err != nil {
				return withExit(exitFailure, err)
			}
			if strings.HasSuffix(out, ".xlsx") {
				err = rebates.WriteXLSX(f, sts)
			} else {
				err = rebates.WriteCSV(f, sts)
			}
			if err := errors.Join(err, f.Close()); err != nil {
				return withExit(exitFailure, err)
			}
			fmt.Fprintf(w, "statements written to %s\n", out)
			return nil
		},
	}
	statements.Flags().StringVar(&month, "month", "", "the month YYYY-MM (China time)")
	statements.Flags().StringVar(&out, "out", "", "also write the statements to this .csv or .xlsx file")
	cfg.bindFlags(statements.Flags(), false)
	check := &cobra.Command{
		Use:   "check --month YYYY-MM",
		Short: "Recompute a generated month advice by advice and compare with its statements",
		Long: `check reads every spending advice of the month one by one, recomputes the
statements with the same rule and compares every line and total with the stored
statements. Exit codes: 0 they reconcile exactly, 1 differences (listed) or
failure, 2 bad flags.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			reb, st, err := open(cmd)
			if err != nil {
				return err
			}
			defer st.Close()
			mis, err := reb.CheckMonth(cmd.Context(), issuance.SystemActor(), month)
			if err != nil {
				return withExit(exitFailure, err)
			}
			for _, m := range mis {
				fmt.Fprintf(cmd.OutOrStdout(), "org %d: %s\n", m.OrgID, m.Detail)
			}
			if len(mis) > 0 {
				return withExit(exitFailure, fmt.Errorf("%d statements of %s do not reconcile with their advices", len(mis), month))
			}
			fmt.Fprintf(cmd.OutOrStdout(), "month %s: every statement reconciles with its advices\n", month)
			return nil
		},
	}
	check.Flags().StringVar(&month, "month", "", "the month YYYY-MM (China time)")
	cfg.bindFlags(check.Flags(), false)
	root.AddCommand(statements, check)
	return root
}

// yuan formats fen as yuan with two decimals.
func yuan(fen int64) string {
	sign := ""
	if fen < 0 {
		sign, fen = "-", -fen
	}
	return fmt.Sprintf("%s%d.%02d", sign, fen/100, fen%100)
}

// insuranceLookback is how many past days the insurance-file job writes
// when their file is missing (a day the service was down is caught up).
const insuranceLookback = 7

// moneyJobs is serve's schedule for insurance and rebates: every hour the
// insurer's files of the last seven ended days that no serve process has
// written (recorded in the database) under DATA_DIR/insurance (0600), and the statements of the last ended month
// unless generated (a missing rate fails the run, logged, retried).
func moneyJobs(dataDir string, svc *issuance.Service, st *store.Store, log *slog.Logger) ([]jobs.Job, error) {
	ins, err := insurance.New(svc, st)
	if err != nil {
		return nil, err
	}
	reb, err := rebates.New(svc, st)
	if err != nil {
		return nil, err
	}
	dir := insuranceDir(dataDir)
	host, _ := os.Hostname()
	owner := fmt.Sprintf("%s-%d", host, os.Getpid())
	files := func(ctx context.Context) error {
		return insuranceFiles(ctx, ins, dir, owner, time.Now(), log)
	}
	statements := func(ctx context.Context) error {
		month := rebates.PreviousMonth(time.Now().Add(-rebates.Grace)) // the month before until Grace after the end
		m, generated, err := reb.Generate(ctx, issuance.SystemActor(), month)
		if err != nil {
			return err
		}
		if generated {
			log.Info("rebate statements generated", slog.String("month", month), slog.Int("statements", m.Statements),
				slog.Int64("advices", m.Advices))
		}
		return nil
	}
	return []jobs.Job{
		{Name: "insurance-file", Every: time.Hour, Run: files},
		{Name: "rebate-statements", Every: time.Hour, Run: statements},
	}, nil
}

// insuranceFiles writes, under dir, the files of the last
// insuranceLookback ended days that no serve process has written yet:
// each day is claimed in the database (insurance_files) before its file
// is written and recorded written after, so several serve processes
// sharing the database write each day's file once, into the directory of
// the one that claimed it (share DATA_DIR/insurance between them, or
// fetch the file through GET /v1/admin/insurance/files/{date}). owner
// names this process.
func insuranceFiles(ctx context.Context, ins *insurance.Service, dir, owner string, now time.Time, log *slog.Logger) error {
	var errs []error
	sys := issuance.SystemActor()
	for i := insuranceLookback; i >= 1; i-- {
		day := insurance.Day(now.AddDate(0, 0, -i))
		mine, err := ins.ClaimFile(ctx, sys, day, owner)
		if err != nil {
			errs = append(errs, fmt.Errorf("insurance file %s: %w", day, err))
			continue
		}
		if !mine {
			continue // written already, or being written by another process
		}
		path := filepath.Join(dir, insuranceFileName(day))
		adds, terms, err := writeInsuranceFile(ctx, ins, day, path)
		if err != nil {
			errs = append(errs, fmt.Errorf("insurance file %s: %w", day, err)) // the claim goes stale and is retried
			continue
		}
		if err := ins.FileWritten(ctx, sys, day, owner, adds, terms); err != nil {
			errs = append(errs, fmt.Errorf("insurance file %s: %w", day, err))
			continue
		}
		log.Info("insurance file written", slog.String("day", day), slog.Int("additions", adds),
			slog.Int("terminations", terms), slog.String("file", filepath.Base(path)))
	}
	return errors.Join(errs...)
}
