package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/volcard/volcard/issuance"
)

func init() { rootCmd.AddCommand(newCardsCmd()) }

func newCardsCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "cards",
		Short: "Card expiry, renewal and closing: the expiring-soon list, marking expired cards, renewal batches, closing a card",
		Long: `Card expiry (the API has the same list at GET /v1/orgs/{id}/cards/expiring).

A card is valid through the last day of its expiry month, China time. serve's daily
expire-cards job marks the cards past it expired; "volcard cards expire" does the same
at once (safe to run at any time, also while serve runs). "volcard cards renew" renews
an organisation's expiring or expired cards through their banks as one batch, "volcard
cards renewal" shows a batch, and "volcard cards close" closes a card at its bank.`,
	}
	cmd.AddCommand(newCardsExpiringCmd(), newCardsExpireCmd(), newCardsRenewCmd(), newCardsRenewalCmd(), newCardsCloseCmd())
	return cmd
}

func newCardsExpiringCmd() *cobra.Command {
	cfg := loadConfig()
	var org int64
	var within string
	cmd := &cobra.Command{
		Use:   "expiring --org ID [--within 90d]",
		Short: "List an organisation's cards (and its subtree's) whose validity ends within the given days",
		Long: `List the current cards (issued, active, blocked) of an organisation and its subtree
whose validity ends within --within days, soonest first: one line per card with the
application number, the masked PAN, the expiry month (YYMM), the last valid day and the
state. Cards already past their month that the daily job has not marked are included.
Exit 0 with the list (possibly empty), 2 for bad flags, 1 when the organisation does not exist.`,
		Example: "  volcard cards expiring --org 12 --within 60d",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := cfg.check(); err != nil {
				return err
			}
			if org <= 0 {
				return withExit(exitUsage, fmt.Errorf("--org is required: the organisation id (see GET /v1/orgs)"))
			}
			d, err := issuance.ParseWithin(within)
			if err != nil {
				return withExit(exitUsage, fmt.Errorf("--within %q: a number of days from 1d to 732d, e.g. 90d", within))
			}
			ctx := cmd.Context()
			svc, st, err := cfg.openService(ctx, cfg.newLogger(cmd.ErrOrStderr()))
			if err != nil {
				return err
			}
			defer st.Close()
			cards, err := svc.ExpiringCards(ctx, issuance.SystemActor(), org, d)
			if err != nil {
				return withExit(exitFailure, fmt.Errorf("expiring cards of organisation %d: %w", org, err))
			}
			w := cmd.OutOrStdout()
			for _, c := range cards {
				through := ""
				if end, err := issuance.ExpiryEnd(c.Expiry); err == nil {
					through = end.AddDate(0, 0, -1).Format("2006-01-02")
				}
				fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\n", c.ApplicationNumber, c.MaskedPAN, c.Expiry, through, c.DisplayState())
			}
			fmt.Fprintf(w, "%d cards expiring within %s\n", len(cards), within)
			return nil
		},
	}
	cfg.bindFlags(cmd.Flags(), false)
	cmd.Flags().Int64Var(&org, "org", 0, "organisation id (its subtree is included)")
	cmd.Flags().StringVar(&within, "within", issuance.DefaultExpiringWithin, "look-ahead in days, 1d to 732d")
	return cmd
}

func newCardsExpireCmd() *cobra.Command {
	cfg := loadConfig()
	cmd := &cobra.Command{
		Use:   "expire",
		Short: "Mark the cards past their expiry month expired now (what serve's daily expire-cards job does)",
		Long: `Mark every current card whose expiry month has ended (China time) expired, with a
card event each, and print how many. Idempotent: a second run marks nothing. Cards with
a change on its way to the bank are left for a later run. Exit 0 on success, 3 when the
database is unreachable.`,
		Args: cobra.NoArgs,
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
			n, err := svc.ExpireCards(ctx, issuance.SystemActor())
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "%d cards marked expired\n", n)
			return nil
		},
	}
	cfg.bindFlags(cmd.Flags(), false)
	return cmd
}
