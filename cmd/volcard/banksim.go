package main

import (
	"encoding/hex"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/volcard/volcard/bankgw/banksim"
	"github.com/volcard/volcard/personalization/dataprep"
)

func init() { rootCmd.AddCommand(newBankSimCmd()) }

// defaultIMKFile holds the TEST issuer master keys of a checkout.
const defaultIMKFile = "testdata/keys/issuer-master-keys.json"

func newBankSimCmd() *cobra.Command {
	var (
		listen, bin, macKeyHex, imkFile, renewal string
		deny                                     []string
		minAge                                   int
		productBINs                              map[string]string
		faults                                   banksim.Faults
		settle                                   settlementFlags
	)
	cmd := &cobra.Command{
		Use:   "bank-sim",
		Short: "Run the partner-bank simulator (ISO 8583 host of docs/bank-interface.md)",
		Long: `bank-sim runs the partner-bank host used by tests and by "volcard serve"
without a configured bank. It issues cards from the product BIN, never twice for
one application number, declines IDs on the deny list and applicants under 16,
and can inject faults into file updates and reversals.

With --issuer-master-keys (default: testdata/keys/issuer-master-keys.json when
it exists) it also answers chip authorizations (0100): it derives the card's
key from the issuer master key by PAN and PSN, checks the ARQC in field 55 and
answers with an ARPC the card accepts (docs/bank-interface.md, section 7.5).

With --settlement-dir it also writes its ledger as the daily settlement file
of docs/bank-interface.md ("Daily settlement file") to
DIR/BANK/YYYY-MM-DD.csv (today in China), every --settlement-every and when
it stops, under the reconciliation key of VOLCARD_RECON_KEY_BANK (or
--settlement-key): point serve's VOLCARD_RECON_DIR at DIR.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			var key []byte
			if macKeyHex == "" {
				macKeyHex = os.Getenv(envBankMACKey) // the same variable as serve's (one env file for both)
			}
			if macKeyHex != "" {
				var err error
				if key, err = hex.DecodeString(macKeyHex); err != nil {
					return withExit(exitUsage, fmt.Errorf("--mac-key: not hex"))
				}
			}
			logger := slog.New(slog.NewTextHandler(os.Stderr, nil))
			var imk []byte
			if imkFile == "" && !cmd.Flags().Changed("issuer-master-keys") {
				if _, err := os.Stat(defaultIMKFile); err == nil {
					imkFile = defaultIMKFile
				}
			}
			if imkFile != "" {
				ms, err := dataprep.LoadMasterKeys(imkFile)
				if err != nil {
					return withExit(exitUsage, fmt.Errorf("--issuer-master-keys: %w (give a file like testdata/keys/issuer-master-keys.json, or \"\" to decline chip authorizations)", err))
				}
				imk = ms.AC
			} else {
				logger.Warn("bank-sim: no issuer master keys: every chip authorization (0100) is declined")
			}
			sim, err := banksim.New(banksim.Config{BIN: bin, ProductBINs: productBINs, DenyIDs: deny, MinAge: minAge, MACKey: key, Logger: logger,
				MasterKeyAC: imk, Renewal: banksim.RenewalRule(renewal)})
			if err != nil {
				return withExit(exitUsage, err)
			}
			if err := sim.Start(listen); err != nil {
				return withExit(exitFailure, err)
			}
			defer sim.Close()
			sim.SetFaults(faults)
			stopSettle, err := settle.start(sim, logger)
			if err != nil {
				return err
			}
			defer stopSettle()
			logger.Info("bank-sim listening", slog.String("addr", sim.Addr()), slog.String("bin", bin))
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			<-ctx.Done()
			logger.Info("bank-sim stopping", slog.Int("cards_issued", sim.CardsIssued()))
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&listen, "listen", "127.0.0.1:8583", "address to listen on")
	f.StringVar(&bin, "bin", "621660", "product BIN the PANs start with")
	f.StringToStringVar(&productBINs, "product-bin", nil, "BIN of one bank product's PANs, CODE=BIN (repeatable; products not listed use --bin); serve refuses a card outside its product's BIN")
	f.StringSliceVar(&deny, "deny-id", nil, "ID numbers to decline with 62 (repeatable)")
	f.IntVar(&minAge, "min-age", 16, "minimum applicant age (younger: V1)")
	f.StringVar(&renewal, "renewal", string(banksim.RenewSamePAN), "renewal rule for ST N: same_pan (new expiry, next PSN) or new_pan")
	f.StringVar(&macKeyHex, "mac-key", "", "32-byte HMAC-SHA256 key for field 128, hex (default $VOLCARD_BANK_MAC_KEY; empty: no MAC)")
	f.StringVar(&imkFile, "issuer-master-keys", "", "issuer master keys file for checking ARQCs and making ARPCs (default "+defaultIMKFile+" when present; \"\" to decline chip authorizations)")
	f.DurationVar(&faults.Latency, "latency", 0, "fault: delay every answer")
	f.BoolVar(&faults.Drop, "drop", false, "fault: close the connection on each request")
	f.BoolVar(&faults.NoAnswer, "no-answer", false, "fault: process requests but never answer")
	f.BoolVar(&faults.Garbage, "garbage", false, "fault: answer with an unparsable frame")
	f.DurationVar(&faults.LateAnswer, "late", 0, "fault: answer after this delay")
	f.BoolVar(&faults.Duplicate, "duplicate", false, "fault: send every answer twice")
	f.StringVar(&settle.dir, "settlement-dir", "", "write the daily settlement file to DIR/BANK/YYYY-MM-DD.csv (empty: none)")
	f.StringVar(&settle.bank, "settlement-bank", "BOC", "bank code in the settlement file's header and path")
	f.StringVar(&settle.key, "settlement-key", "", "32-byte reconciliation key, hex or base64 (default $VOLCARD_RECON_KEY_BANK)")
	f.DurationVar(&settle.every, "settlement-every", time.Hour, "how often to rewrite today's settlement file")
	f.IntVar(&faults.Times, "fault-times", 0, "apply the faults to this many requests only (0: all)")
	return cmd
}
