package main

// volcard cards renew / renewal / close (issue 18): renewal batches and
// closing through the bank, on the database like the other cards
// subcommands (the system actor); serve's bank outbox sends the requests.

import (
	"fmt"
	"io"
	"time"

	"github.com/spf13/cobra"

	"github.com/volcard/volcard/issuance"
)

func newCardsRenewCmd() *cobra.Command {
	cfg := loadConfig()
	var (
		org            int64
		expiringBefore string
		expired        bool
		note           string
	)
	cmd := &cobra.Command{
		Use:   "renew --org ID (--expiring-before YYYY-MM-DD | --expired) [--note TEXT]",
		Short: "Renew an organisation's expiring or expired cards through their banks, as one batch",
		Long: `Create a renewal batch (POST /v1/orgs/{id}/cards/renewals does the same): every current
card (issued, active, expired) of the organisation and its subtree whose validity ends
before --expiring-before (China time), or with --expired every card marked expired, gets
a renewal request to its bank (field 48 ST N) through the bank outbox, which serve sends.
A card with another change on its way to the bank is skipped (its reason is printed);
running the same batch again sends nothing twice. At most 2,000 cards per batch.

Each renewed card must be personalized again (the application goes back to
bank_approved). Follow the batch with "volcard cards renewal --batch ID".
Exit 0 with the batch, 2 for bad flags, 1 when the organisation does not exist.`,
		Example: "  volcard cards renew --org 12 --expiring-before 2027-03-01\n  volcard cards renew --org 12 --expired",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := cfg.check(); err != nil {
				return err
			}
			if org <= 0 {
				return withExit(exitUsage, fmt.Errorf("--org is required: the organisation id (see GET /v1/orgs)"))
			}
			if (expiringBefore == "") == !expired {
				return withExit(exitUsage, fmt.Errorf("give exactly one of --expiring-before and --expired"))
			}
			req := issuance.RenewalRequest{OrgID: org, ExpiredOnly: expired, Note: note}
			if expiringBefore != "" {
				d, err := time.ParseInLocation(time.DateOnly, expiringBefore, issuance.ChinaTime)
				if err != nil {
					return withExit(exitUsage, fmt.Errorf("--expiring-before %q: a date YYYY-MM-DD", expiringBefore))
				}
				req.ExpiringBefore = d
			}
			ctx := cmd.Context()
			svc, st, err := cfg.openService(ctx, cfg.newLogger(cmd.ErrOrStderr()))
			if err != nil {
				return err
			}
			defer st.Close()
			b, err := svc.RequestRenewals(ctx, issuance.SystemActor(), req)
			if err != nil {
				return withExit(exitFailure, fmt.Errorf("renew cards of organisation %d: %w", org, err))
			}
			printRenewalBatch(cmd.OutOrStdout(), b)
			return nil
		},
	}
	cfg.bindFlags(cmd.Flags(), false)
	f := cmd.Flags()
	f.Int64Var(&org, "org", 0, "organisation id (its subtree is included)")
	f.StringVar(&expiringBefore, "expiring-before", "", "renew the cards whose validity ends before this day (YYYY-MM-DD, China time)")
	f.BoolVar(&expired, "expired", false, "renew the cards marked expired")
	f.StringVar(&note, "note", "", "note kept on each card's event (at most 200 characters)")
	return cmd
}

func newCardsRenewalCmd() *cobra.Command {
	cfg := loadConfig()
	var batch int64
	cmd := &cobra.Command{
		Use:   "renewal --batch ID",
		Short: "Show a renewal batch: progress and each card's result",
		Long: `Show a renewal batch (GET /v1/renewals/{id}): one line per card with its last four
digits, its expiry before renewal, its state (pending at the bank, renewed, refused by
the bank, skipped) and the bank's code or the reason, then the counts.
Exit 0, 2 for bad flags, 1 when the batch does not exist.`,
		Example: "  volcard cards renewal --batch 3",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := cfg.check(); err != nil {
				return err
			}
			if batch <= 0 {
				return withExit(exitUsage, fmt.Errorf("--batch is required"))
			}
			ctx := cmd.Context()
			svc, st, err := cfg.openService(ctx, cfg.newLogger(cmd.ErrOrStderr()))
			if err != nil {
				return err
			}
			defer st.Close()
			b, err := svc.RenewalBatch(ctx, issuance.SystemActor(), batch)
			if err != nil {
				return withExit(exitFailure, err)
			}
			printRenewalBatch(cmd.OutOrStdout(), b)
			return nil
		},
	}
	cfg.bindFlags(cmd.Flags(), false)
	cmd.Flags().Int64Var(&batch, "batch", 0, "renewal batch id")
	return cmd
}

func printRenewalBatch(w io.Writer, b issuance.RenewalBatch) {
	for _, it := range b.Items {
		why := it.Reason
		if it.ResultCode != "" {
			why = it.ResultCode + " " + why
		}
		fmt.Fprintf(w, "card %d\t*%s\t%s\t%s\t%s\n", it.CardID, it.LastFour, it.Expiry, it.State, why)
	}
	p := b.Progress()
	fmt.Fprintf(w, "Renewal batch %d (organisation %d): %d cards, %d pending at the bank, %d renewed, %d refused, %d skipped\n",
		b.ID, b.OrgID, len(b.Items), p[issuance.RenewalPending], p[issuance.RenewalRenewed], p[issuance.RenewalRefused],
		p[issuance.RenewalSkipped])
}

func newCardsCloseCmd() *cobra.Command {
	cfg := loadConfig()
	var (
		card   int64
		reason string
		note   string
	)
	cmd := &cobra.Command{
		Use:   "close --card ID --reason REASON [--note TEXT]",
		Short: "Close a card at its bank for good (holder left, deceased, replaced, holder request)",
		Long: `Ask the card's bank to close it (field 48 ST C; POST /v1/cards/{id}/close does the same)
through the bank outbox, which serve sends. When the bank confirms, the card is closed
(check-in refuses it) and its application cancelled. --reason is one of holder_left,
deceased, replaced (given up for another card), holder_request.
Exit 0, 2 for bad flags, 1 when the card cannot be closed (the reason is printed).`,
		Example: "  volcard cards close --card 42 --reason holder_left --note 毕业离校",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := cfg.check(); err != nil {
				return err
			}
			if card <= 0 {
				return withExit(exitUsage, fmt.Errorf("--card is required"))
			}
			if !issuance.CloseReason(reason).Valid() {
				return withExit(exitUsage, fmt.Errorf("--reason %q: one of holder_left, deceased, replaced, holder_request", reason))
			}
			ctx := cmd.Context()
			svc, st, err := cfg.openService(ctx, cfg.newLogger(cmd.ErrOrStderr()))
			if err != nil {
				return err
			}
			defer st.Close()
			d, written, err := svc.CloseCard(ctx, issuance.SystemActor(), card, issuance.CloseReason(reason), note)
			if err != nil {
				return withExit(exitFailure, err)
			}
			if !written {
				fmt.Fprintf(cmd.OutOrStdout(), "card %d (%s): nothing to do, %s\n", card, d.MaskedPAN, d.DisplayState())
				return nil
			}
			fmt.Fprintf(cmd.OutOrStdout(), "card %d (%s): closing sent to bank %s (%s)\n", card, d.MaskedPAN, d.BankCode, d.DisplayState())
			return nil
		},
	}
	cfg.bindFlags(cmd.Flags(), false)
	f := cmd.Flags()
	f.Int64Var(&card, "card", 0, "card id")
	f.StringVar(&reason, "reason", "", "holder_left, deceased, replaced or holder_request")
	f.StringVar(&note, "note", "", "optional note (at most 200 characters)")
	return cmd
}
