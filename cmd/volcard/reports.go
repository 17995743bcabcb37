package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/spf13/cobra"

	"github.com/volcard/volcard/issuance"
	"github.com/volcard/volcard/issuance/reports"
	"github.com/volcard/volcard/issuance/seed"
	"github.com/volcard/volcard/issuance/store"
)

func init() { rootCmd.AddCommand(newReportsCmd()) }

func newReportsCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "reports",
		Short: "Targets report and maintenance of the report counters",
	}
	cmd.AddCommand(newReportsCountersCmd("rebuild-counters",
		"Recompute the per-organisation, per-year counters from the volunteers and applications", true))
	cmd.AddCommand(newReportsCountersCmd("check-counters",
		"Compare the counters with a full recount (exit 1 when they differ)", false))
	cmd.AddCommand(newReportsTargetsCmd())
	return cmd
}

func newReportsCountersCmd(use, short string, rebuild bool) *cobra.Command {
	cfg := loadConfig()
	cmd := &cobra.Command{
		Use: use, Short: short, Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := cfg.check(); err != nil {
				return err
			}
			ctx := cmd.Context()
			svc, st, err := cfg.openService(ctx, cfg.newLogger(cmd.ErrOrStderr()))
			if err != nil {
				return err
			}
			defer st.Close()
			rs, err := reports.New(svc, st)
			if err != nil {
				return err
			}
			sys := issuance.SystemActor()
			start := time.Now()
			if rebuild {
				if err := rs.RebuildCounters(ctx, sys); err != nil {
					return err
				}
				fmt.Fprintf(cmd.OutOrStdout(), "counters rebuilt in %s\n", time.Since(start).Round(time.Millisecond))
				return nil
			}
			diff, err := rs.CheckCounters(ctx, sys)
			if err != nil {
				return err
			}
			for _, d := range diff {
				fmt.Fprintf(cmd.OutOrStdout(), "org %d year %d: kept %+v recount %+v\n", d.OrgID, d.Year, d.Kept, d.Recount)
			}
			if len(diff) > 0 {
				return withExit(exitFailure, fmt.Errorf("%d (org, year) counters differ from a recount; run reports rebuild-counters", len(diff)))
			}
			fmt.Fprintf(cmd.OutOrStdout(), "counters consistent (checked in %s)\n", time.Since(start).Round(time.Millisecond))
			return nil
		},
	}
	cfg.bindFlags(cmd.Flags(), false)
	return cmd
}

func newReportsTargetsCmd() *cobra.Command {
	cfg := loadConfig()
	var year int
	var org int64
	cmd := &cobra.Command{
		Use: "targets", Short: "Print the targets report of an organisation (default the province)", Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := cfg.check(); err != nil {
				return err
			}
			ctx := cmd.Context()
			svc, st, err := cfg.openService(ctx, cfg.newLogger(cmd.ErrOrStderr()))
			if err != nil {
				return err
			}
			defer st.Close()
			rs, err := reports.New(svc, st)
			if err != nil {
				return err
			}
			start := time.Now()
			rep, err := rs.TargetsReport(ctx, issuance.SystemActor(), year, org)
			if err != nil {
				return err
			}
			took := time.Since(start)
			w := cmd.OutOrStdout()
			for _, r := range rep.Rows {
				fmt.Fprintf(w, "%*s%s registered=%d holders=%d", r.Depth*2, "", r.Name, r.Registered, r.Holders)
				for _, v := range r.Indicators {
					if v.HasValue {
						fmt.Fprintf(w, " %s=%.2f%%(%s)", v.Indicator, v.Value*100, v.Rating)
					}
				}
				fmt.Fprintln(w)
			}
			fmt.Fprintf(w, "report took %s\n", took.Round(time.Microsecond))
			return nil
		},
	}
	cfg.bindFlags(cmd.Flags(), false)
	cmd.Flags().IntVar(&year, "year", time.Now().Year(), "report year")
	cmd.Flags().Int64Var(&org, "org", 0, "organisation id (0: the province)")
	return cmd
}

// seedReports writes the targets and demo figures and, when volunteers > 0,
// bulk-loads that many generated volunteers (seed --volunteers N).
func seedReports(ctx context.Context, w io.Writer, svc *issuance.Service, st *store.Store, volunteers int64) error {
	orgs, err := st.ListOrgs(ctx, "")
	if err != nil {
		return err
	}
	rs, err := reports.New(svc, st)
	if err != nil {
		return err
	}
	tr, err := seed.SeedTargets(ctx, rs, orgs)
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "seeded: %d target rules, %d organisations' demo figures\n", tr.Targets, tr.Figures)
	if volunteers <= 0 {
		return nil
	}
	last := time.Now()
	res, err := seed.Volunteers(ctx, svc, st, volunteers, seed.VolunteersOptions{Progress: func(done int64) {
		if time.Since(last) > 5*time.Second {
			last = time.Now()
			fmt.Fprintf(w, "  %d volunteers…\n", done)
		}
	}})
	if err != nil {
		return fmt.Errorf("seed volunteers: %w", err)
	}
	fmt.Fprintf(w, "seeded: %d volunteers, %d applications in %s (%.0f volunteers/s); counters consistent\n",
		res.Volunteers, res.Applications, res.Elapsed.Round(time.Millisecond),
		float64(res.Volunteers)/res.Elapsed.Seconds())
	return nil
}

// seedTargetsQuietly is seedReports without volunteers for serve --seed-demo.
func seedTargetsQuietly(ctx context.Context, svc *issuance.Service, st *store.Store, log *slog.Logger) error {
	return seedReports(ctx, io.Discard, svc, st, 0)
}
