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
	cmd := &cobra.Command{
		Use:   "seed --demo",
		Short: "Load demonstration data (Guangdong cities, universities, banks, products, branches)",
		Long: `seed --demo loads Guangdong's 21 prefecture-level cities (GB/T 2260 codes,
2016 year-end resident population from the Guangdong Statistical Yearbook
2017), Meizhou's counties, a few universities, the partner banks (BOC, CEB,
CCB, PSBC), the card products and one branch with a contact per city and bank.
It migrates first and is idempotent: running it again changes nothing.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := cfg.check(); err != nil {
				return err
			}
			if !demo {
				return withExit(exitUsage, errors.New("nothing to seed: pass --demo"))
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
			return nil
		},
	}
	cfg.bindFlags(cmd.Flags(), false)
	cmd.Flags().BoolVar(&demo, "demo", false, "load the demonstration data set")
	return cmd
}

// seedDemoIfEmpty loads the demo data when the database has no province
// organisation yet (serve --seed-demo, used by make run). st is accepted for
// symmetry with the other start-up steps.
func seedDemoIfEmpty(ctx context.Context, svc *issuance.Service, _ *store.Store, log *slog.Logger) error {
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
	return nil
}
