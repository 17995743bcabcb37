package main

// volcard test-bank activate | spend (issue 18): the test helpers of the
// embedded bank simulator, through a running serve's API (the simulators
// live in serve's process).

import (
	"errors"
	"fmt"
	"os"

	"github.com/spf13/cobra"

	"github.com/volcard/volcard/client"
	"github.com/volcard/volcard/wire"
)

func init() { rootCmd.AddCommand(newTestBankCmd()) }

// testBankFlags are the flags every test-bank subcommand takes.
type testBankFlags struct {
	server, token string
	card          int64
}

func newTestBankCmd() *cobra.Command {
	var f testBankFlags
	cmd := &cobra.Command{
		Use:   "test-bank",
		Short: "Test helpers on the embedded bank simulator: activate a card, post spending",
		Long: `Make the embedded bank simulator of a card's bank send a real 0220 advice over its
link to serve, which records it on the normal advice path: an activation (the card
becomes active), or spending (a purchase, refund or reversal, amount in fen). Only for
banks served by serve's embedded simulator (no VOLCARD_BANKS_FILE nor VOLCARD_BANK_ADDR):
a card of a real bank is refused (test-bank-unavailable) and nothing is sent.
The token is a province_admin or bank_staff token (POST /v1/test/cards/{id}/...).
The server and token come from --server/--token or VOLCARD_SERVER/VOLCARD_TOKEN.
Exit 0 when the advice was recorded, 1 when refused, 2 for bad flags.`,
	}
	pf := cmd.PersistentFlags()
	pf.StringVar(&f.server, "server", envOr("VOLCARD_SERVER", "http://127.0.0.1:8080"), "server URL (VOLCARD_SERVER)")
	pf.StringVar(&f.token, "token", os.Getenv("VOLCARD_TOKEN"), "API token (VOLCARD_TOKEN)")
	pf.Int64Var(&f.card, "card", 0, "card id")
	cmd.AddCommand(newTestBankActivateCmd(&f), newTestBankSpendCmd(&f))
	return cmd
}

func (f *testBankFlags) client() (*client.Client, error) {
	if f.card <= 0 {
		return nil, withExit(exitUsage, errors.New("--card is required"))
	}
	if f.token == "" {
		return nil, withExit(exitUsage, errors.New("--token (or VOLCARD_TOKEN) is required"))
	}
	c, err := client.New(f.server, f.token)
	if err != nil {
		return nil, withExit(exitUsage, err)
	}
	return c, nil
}

// testBankError gives a refused helper its exit code and a plain message.
func testBankError(err error) error {
	var pe *client.ProblemError
	if errors.As(err, &pe) {
		if pe.Type == wire.ProblemValidation {
			return withExit(exitUsage, fmt.Errorf("%s", pe.Detail))
		}
		return withExit(exitFailure, fmt.Errorf("%s", pe.Detail))
	}
	return withExit(exitNoDevice, err)
}

func printAdvice(cmd *cobra.Command, r wire.TestAdviceResult) error {
	fmt.Fprintf(cmd.OutOrStdout(), "card %d: %s advice sent, RRN %s, answered %s\n", r.CardID, r.Advice, r.RRN, r.ResponseCode)
	if r.ResponseCode != "00" {
		return withExit(exitFailure, fmt.Errorf("the advice was answered %s, not recorded", r.ResponseCode))
	}
	return nil
}

func newTestBankActivateCmd(f *testBankFlags) *cobra.Command {
	return &cobra.Command{
		Use:     "activate --card ID",
		Short:   "The embedded bank sends the card's activation advice",
		Example: "  volcard test-bank activate --card 42 --token $TOKEN",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := f.client()
			if err != nil {
				return err
			}
			r, err := c.TestActivateCard(cmd.Context(), f.card)
			if err != nil {
				return testBankError(err)
			}
			return printAdvice(cmd, r)
		},
	}
}

func newTestBankSpendCmd(f *testBankFlags) *cobra.Command {
	var in wire.TestSpending
	cmd := &cobra.Command{
		Use:     "spend --card ID --amount-fen N [--kind purchase|refund|reversal] [--merchant NAME]",
		Short:   "The embedded bank sends a spending advice for the card",
		Example: "  volcard test-bank spend --card 42 --amount-fen 12345 --merchant \"爱心商户 梅州\"\n  volcard test-bank spend --card 42 --amount-fen 2000 --kind refund",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := f.client()
			if err != nil {
				return err
			}
			if in.AmountFen <= 0 {
				return withExit(exitUsage, errors.New("--amount-fen is required: the amount in fen (1 to 100000000)"))
			}
			r, err := c.TestSpendCard(cmd.Context(), f.card, in)
			if err != nil {
				return testBankError(err)
			}
			return printAdvice(cmd, r)
		},
	}
	cmd.Flags().Int64Var(&in.AmountFen, "amount-fen", 0, "amount in fen")
	cmd.Flags().StringVar(&in.Kind, "kind", "purchase", "purchase, refund or reversal")
	cmd.Flags().StringVar(&in.Merchant, "merchant", "", "merchant name (at most 40 characters; default the simulator's)")
	return cmd
}
