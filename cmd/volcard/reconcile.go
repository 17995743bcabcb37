package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/volcard/volcard/bankgw/settlement"
	"github.com/volcard/volcard/internal/jobs"
	"github.com/volcard/volcard/issuance"
	"github.com/volcard/volcard/issuance/reconcile"
	"github.com/volcard/volcard/issuance/store"
	"github.com/volcard/volcard/pii"
)

// Environment variables of reconciliation (README.md, docs/operations.md).
const (
	// envReconDir is the drop directory of the banks' settlement files:
	// <dir>/<BANK>/<YYYY-MM-DD>.csv. Empty: serve schedules no
	// reconciliation.
	envReconDir = "VOLCARD_RECON_DIR"
	// envReconKeyPrefix + bank code is the bank's 32-byte reconciliation
	// key, hex or base64 (VOLCARD_RECON_KEY_BOC).
	envReconKeyPrefix = "VOLCARD_RECON_KEY_"
)

// reconKeyEnv names the variable of a bank's reconciliation key.
func reconKeyEnv(bank string) string { return envReconKeyPrefix + strings.ToUpper(bank) }

// reconKeys returns the settlement keys of bank from its variable.
func reconKeys(getenv func(string) string, bank string) (settlement.Keys, error) {
	name := reconKeyEnv(bank)
	v := getenv(name)
	if v == "" {
		return settlement.Keys{}, fmt.Errorf("%s is not set: give the 32-byte reconciliation key agreed with bank %s (hex or base64)", name, bank)
	}
	raw, err := pii.ParseDataKey(v)
	if err != nil {
		return settlement.Keys{}, fmt.Errorf("%s: %w", name, err)
	}
	return settlement.DeriveKeys(raw)
}

// errFileMismatch means a file's header names another bank or date.
var errFileMismatch = errors.New("settlement file is for another bank or date")

// reconcileFile reconciles bank's business date from the settlement file
// at path with keys k, as the system actor.
func reconcileFile(ctx context.Context, rec *reconcile.Service, bank string, date time.Time, path string, k settlement.Keys) (reconcile.Report, error) {
	f, err := os.Open(path)
	if err != nil {
		return reconcile.Report{}, err
	}
	defer f.Close()
	r, err := settlement.NewReader(f, k)
	if err != nil {
		return reconcile.Report{}, fmt.Errorf("%s: %w", path, err)
	}
	h := r.Header()
	if h.BankCode != bank || !h.Date.Equal(date) {
		return reconcile.Report{}, fmt.Errorf("%s: %w: it is %s's of %s, not %s's of %s", path, errFileMismatch,
			h.BankCode, h.Date.Format(time.DateOnly), bank, date.Format(time.DateOnly))
	}
	rep, err := rec.Reconcile(ctx, issuance.SystemActor(), reconcile.Input{BankCode: bank, Date: date,
		Source: filepath.Base(filepath.Dir(path)) + "/" + filepath.Base(path), PANMAC: k.PANMAC, Rows: r.Cards()})
	if err != nil {
		return reconcile.Report{}, fmt.Errorf("%s: %w", path, err)
	}
	return rep, nil
}

// reconPath is the drop directory's file of bank and date.
func reconPath(dir, bank string, date time.Time) string {
	return filepath.Join(dir, bank, date.Format(time.DateOnly)+".csv")
}

func init() { rootCmd.AddCommand(newReconcileCmd()) }

func newReconcileCmd() *cobra.Command {
	cfg := loadConfig()
	var bank, dateS, file, out string
	cmd := &cobra.Command{
		Use:   "reconcile --bank BANK [--date YYYY-MM-DD] [--file FILE] [--out report.csv|report.xlsx]",
		Short: "Compare a bank's daily settlement file with volcard's cards of that bank and store a report",
		Long: `reconcile reads the settlement file a partner bank drops for one business
date (docs/bank-interface.md, "Daily settlement file"), checks its row count
and MAC, compares every card the bank lists with volcard's cards of that bank
that existed by the end of the date (midnight UTC+8), and stores a report of
the differences: state differs, PAN or product differs, a card or an
application one side does not know, a card listed twice. Nothing is changed:
differences are for people to resolve.

The file is --file, or $VOLCARD_RECON_DIR/BANK/YYYY-MM-DD.csv. The bank's
reconciliation key is read from VOLCARD_RECON_KEY_BANK (e.g.
VOLCARD_RECON_KEY_BOC), 32 bytes in hex or base64, agreed with the bank.
--out also writes the differences to a CSV or XLSX file (by its extension).
Reports are kept and served by the API (GET /v1/admin/reconciliations).

Exit codes: 0 no differences, 1 differences found (the report is stored) or
the file failed its checks (nothing stored), 2 bad flags, a missing key or a
file of another bank or date, 3 the database is unreachable.`,
		Example: `  volcard reconcile --bank BOC --date 2026-12-06
  volcard reconcile --bank CCB --date 2026-12-06 --file ccb-20261206.csv --out ccb.xlsx`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := cfg.check(); err != nil {
				return err
			}
			bank = strings.ToUpper(strings.TrimSpace(bank))
			if bank == "" {
				return withExit(exitUsage, errors.New("--bank is required (a bank code such as BOC, CEB, CCB, PSBC)"))
			}
			date := time.Now().In(issuance.ChinaTime).AddDate(0, 0, -1)
			if dateS != "" {
				d, err := time.Parse(time.DateOnly, dateS)
				if err != nil {
					return withExit(exitUsage, fmt.Errorf("--date %q: want YYYY-MM-DD", dateS))
				}
				date = d
			}
			y, m, d := date.Date()
			date = time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
			if out != "" && !strings.HasSuffix(out, ".csv") && !strings.HasSuffix(out, ".xlsx") {
				return withExit(exitUsage, fmt.Errorf("--out %q: want a file name ending .csv or .xlsx", out))
			}
			if file == "" {
				dir := os.Getenv(envReconDir)
				if dir == "" {
					return withExit(exitUsage, fmt.Errorf("give --file, or set %s to the drop directory (DIR/%s/%s.csv)", envReconDir, bank, date.Format(time.DateOnly)))
				}
				file = reconPath(dir, bank, date)
			}
			k, err := reconKeys(os.Getenv, bank)
			if err != nil {
				return withExit(exitUsage, err)
			}
			if _, err := os.Stat(file); err != nil {
				return withExit(exitUsage, fmt.Errorf("settlement file: %w (check --file or %s)", err, envReconDir))
			}
			ctx := cmd.Context()
			svc, st, err := cfg.openService(ctx, cfg.newLogger(cmd.ErrOrStderr()))
			if err != nil {
				return err
			}
			defer st.Close()
			rec, err := reconcile.New(svc, st)
			if err != nil {
				return err
			}
			rep, err := reconcileFile(ctx, rec, bank, date, file, k)
			switch {
			case errors.Is(err, errFileMismatch):
				return withExit(exitUsage, err)
			case errors.Is(err, settlement.ErrFormat) || errors.Is(err, settlement.ErrFileMAC):
				return withExit(exitFailure, fmt.Errorf("%w; nothing stored: ask the bank for a corrected file", err))
			case err != nil:
				return withExit(exitFailure, err)
			}
			w := cmd.OutOrStdout()
			printReport(w, rep)
			if out != "" {
				if err := writeReportFile(ctx, rec, rep.ID, out); err != nil {
					return withExit(exitFailure, err)
				}
				fmt.Fprintf(w, "differences written to %s\n", out)
			}
			if rep.Differences > 0 {
				return withExit(exitFailure, fmt.Errorf("%d differences with bank %s on %s: see report %d (volcard changed nothing)",
					rep.Differences, bank, date.Format(time.DateOnly), rep.ID))
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&bank, "bank", "", "bank code (BOC, CEB, CCB, PSBC)")
	f.StringVar(&dateS, "date", "", "business date YYYY-MM-DD (default: yesterday in China)")
	f.StringVar(&file, "file", "", "the bank's settlement file (default $"+envReconDir+"/BANK/DATE.csv)")
	f.StringVar(&out, "out", "", "also write the differences to this .csv or .xlsx file")
	cfg.bindFlags(f, false)
	return cmd
}

// printReport prints a report's summary.
func printReport(w io.Writer, r reconcile.Report) {
	fmt.Fprintf(w, "report %d: bank %s, business date %s, source %s\n", r.ID, r.BankCode,
		r.BusinessDate.Format(time.DateOnly), r.Source)
	fmt.Fprintf(w, "  bank cards %d, volcard cards %d, matched %d, differences %d\n", r.BankCards, r.OurCards,
		r.Matched, r.Differences)
	for _, k := range reconcile.Kinds {
		if n := r.ByKind[k]; n > 0 {
			fmt.Fprintf(w, "  %-24s %d\n", k, n)
		}
	}
}

// writeReportFile writes report id's differences to path (.csv or .xlsx).
func writeReportFile(ctx context.Context, rec *reconcile.Service, id int64, path string) error {
	rep, diffs, err := rec.Get(ctx, issuance.SystemActor(), id)
	if err != nil {
		return err
	}
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o600)
	if err != nil {
		return err
	}
	if strings.HasSuffix(path, ".xlsx") {
		err = reconcile.WriteXLSX(f, rep, diffs)
	} else {
		err = reconcile.WriteCSV(f, diffs)
	}
	return errors.Join(err, f.Close())
}

// reconcileLookback is how many past business dates the scheduled job
// looks for files of (a file dropped late is still reconciled).
const reconcileLookback = 7

// reconcileJobs is serve's scheduled reconciliation: every 15 minutes,
// each bank directory under $VOLCARD_RECON_DIR, each of the last seven
// business dates whose file is there and not yet reconciled. None when the
// variable is unset; an unreadable directory is refused at start.
func reconcileJobs(getenv func(string) string, svc *issuance.Service, st *store.Store, log *slog.Logger) ([]jobs.Job, error) {
	dir := getenv(envReconDir)
	if dir == "" {
		return nil, nil
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, withExit(exitUsage, fmt.Errorf("%s: %w", envReconDir, err))
	}
	for _, e := range entries { // a bank directory without its key is refused at start
		if e.IsDir() {
			if _, err := reconKeys(getenv, e.Name()); err != nil {
				return nil, withExit(exitUsage, err)
			}
		}
	}
	rec, err := reconcile.New(svc, st)
	if err != nil {
		return nil, err
	}
	run := func(ctx context.Context) error {
		return reconcileDropDir(ctx, getenv, rec, dir, time.Now(), log)
	}
	return []jobs.Job{{Name: "reconcile-banks", Every: 15 * time.Minute, Run: run}}, nil
}

// reconcileDropDir reconciles every file of dir not reconciled yet.
func reconcileDropDir(ctx context.Context, getenv func(string) string, rec *reconcile.Service, dir string, now time.Time, log *slog.Logger) error {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return fmt.Errorf("%s: %w", envReconDir, err)
	}
	var errs []error
	for _, e := range entries {
		if !e.IsDir() {
			continue
		}
		bank := e.Name()
		done, err := rec.List(ctx, issuance.SystemActor(), bank, 500)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		have := map[string]bool{}
		for _, r := range done {
			have[r.BusinessDate.Format(time.DateOnly)] = true
		}
		today := now.In(issuance.ChinaTime)
		for i := 1; i <= reconcileLookback; i++ {
			y, m, d := today.AddDate(0, 0, -i).Date()
			date := time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
			path := reconPath(dir, bank, date)
			if have[date.Format(time.DateOnly)] {
				continue
			}
			if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) {
				continue
			}
			k, err := reconKeys(getenv, bank)
			if err != nil {
				errs = append(errs, err)
				break
			}
			rep, err := reconcileFile(ctx, rec, bank, date, path, k)
			if err != nil {
				log.Error("reconciliation failed; nothing stored", slog.String("bank", bank),
					slog.String("date", date.Format(time.DateOnly)), slog.Any("err", err))
				errs = append(errs, err)
				continue
			}
			lvl := slog.LevelInfo
			if rep.Differences > 0 {
				lvl = slog.LevelWarn
			}
			log.Log(ctx, lvl, "reconciled", slog.String("bank", bank), slog.String("date", date.Format(time.DateOnly)),
				slog.Int64("report", rep.ID), slog.Int("bank_cards", rep.BankCards), slog.Int("volcard_cards", rep.OurCards),
				slog.Int("differences", rep.Differences))
		}
	}
	return errors.Join(errs...)
}
