package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"

	"github.com/spf13/cobra"

	"github.com/volcard/volcard/issuance"
	"github.com/volcard/volcard/issuance/seed"
	"github.com/volcard/volcard/issuance/store"
)

func init() { rootCmd.AddCommand(newSeedCmd()) }

func newSeedCmd() *cobra.Command {
	cfg := loadConfig()
	var demo bool
	var volunteers int64
	cmd := &cobra.Command{
		Use:   "seed --demo [--volunteers N]",
		Short: "Load demonstration data (Guangdong cities, universities, banks, products, branches)",
		Long: `seed --demo loads Guangdong's 21 prefecture-level cities (GB/T 2260 codes,
approximate 2016 year-end resident populations, not yet checked against the
Guangdong Statistical Yearbook 2017), Meizhou's counties, a few universities,
the partner banks (BOC, CEB, CCB, PSBC), the card products and one branch with
a contact per city and bank.
It migrates first and is idempotent: running it again changes nothing.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := cfg.check(); err != nil {
				return err
			}
			if !demo && volunteers <= 0 {
				return withExit(exitUsage, errors.New("nothing to seed: pass --demo and/or --volunteers N"))
			}
			ctx := cmd.Context()
			svc, st, err := cfg.openService(ctx, cfg.newLogger(cmd.ErrOrStderr()))
			if err != nil {
				return err
			}
			defer st.Close()
			res, err := seed.Demo(ctx, svc)
			if err != nil {
				return fmt.Errorf("seed: %w", err)
			}
			fmt.Fprintf(cmd.OutOrStdout(), "seeded: %d organisations, %d banks, %d products, %d branches created\n",
				res.Orgs, res.Banks, res.Products, res.Branches)
			return seedReports(ctx, cmd.OutOrStdout(), svc, st, volunteers) // targets, demo figures (reports.go)
		},
	}
	cfg.bindFlags(cmd.Flags(), false)
	cmd.Flags().BoolVar(&demo, "demo", false, "load the demonstration data set")
	cmd.Flags().Int64Var(&volunteers, "volunteers", 0, "also bulk-load N generated volunteers (COPY on PostgreSQL)")
	return cmd
}

// seedDemoIfEmpty loads the demo data when the database has no province
// organisation yet (serve --seed-demo, used by make run). st is accepted for
// symmetry with the other start-up steps.
func seedDemoIfEmpty(ctx context.Context, svc *issuance.Service, st *store.Store, log *slog.Logger) error {
	_, err := svc.FindOrg(ctx, issuance.SystemActor(), 0, seed.ProvinceName)
	switch {
	case err == nil:
		return nil
	case !errors.Is(err, issuance.ErrNotFound):
		return fmt.Errorf("seed check: %w", err)
	}
	res, err := seed.Demo(ctx, svc)
	if err != nil {
		return fmt.Errorf("seed demo data: %w", err)
	}
	log.Info("loaded demo data", slog.Int("orgs", res.Orgs), slog.Int("products", res.Products),
		slog.Int("branches", res.Branches))
	return seedTargetsQuietly(ctx, svc, st, log)
}
