package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/volcard/volcard/cardio"
	"github.com/volcard/volcard/cardio/cardsim"
	"github.com/volcard/volcard/cardio/vpcd"
)

func init() { rootCmd.AddCommand(newCardSimCmd()) }

// cardSimOptions are the flags of "volcard card-sim".
type cardSimOptions struct {
	vpcdAddr    string
	image       string
	removeAfter int
	delay       time.Duration
	failSW      []string
	reinsert    time.Duration
}

func newCardSimCmd() *cobra.Command {
	var o cardSimOptions
	cmd := &cobra.Command{
		Use:   "card-sim",
		Short: "Serve a software PBOC card to pcscd through the vpcd virtual reader",
		Long: `card-sim loads a card image (JSON, see testdata/cards/ and docs/card-profile.md)
and inserts the software card into a vsmartcard vpcd virtual reader, so that
the real pcscd, "volcard readers", "volcard read" and any PC/SC application see
it: port 35963 is the reader "Virtual PCD 00 00", 35964 "Virtual PCD 00 01".
It keeps retrying while pcscd is not running and serves until Ctrl-C, which
removes the card.

Fault injection, for testing terminals:
  --remove-after N   answer N APDUs, then the card is pulled out
  --delay D          every APDU takes at least D (a slow card)
  --fail PREFIX=SW   answer commands starting with the hex PREFIX with status
                     word SW (e.g. --fail 80A8=6985 makes GPO fail); repeatable
  --reinsert D       after the card pulled itself out, insert a fresh copy of
                     the image D later instead of exiting

Requires the packages pcscd and vsmartcard-vpcd.`,
		Example: `  volcard card-sim --vpcd 127.0.0.1:35963 --image testdata/cards/default.json
  volcard card-sim --image card.json --remove-after 4 --reinsert 2s
  volcard card-sim --image card.json --delay 200ms --fail 0020=6983`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if o.image == "" {
				return withExit(exitUsage, errors.New("--image is required"))
			}
			if o.removeAfter < 0 || o.delay < 0 || o.reinsert < 0 {
				return withExit(exitUsage, errors.New("--remove-after, --delay and --reinsert must not be negative"))
			}
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			return runCardSim(ctx, o, cmd.ErrOrStderr())
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.vpcdAddr, "vpcd", "127.0.0.1:35963", "address of the vpcd driver inside pcscd (35963: \"Virtual PCD 00 00\", 35964: \"Virtual PCD 00 01\")")
	f.StringVar(&o.image, "image", "", "card image JSON file (required)")
	f.IntVar(&o.removeAfter, "remove-after", 0, "pull the card out after this many APDUs (0: never)")
	f.DurationVar(&o.delay, "delay", 0, "minimum time the card takes for every APDU")
	f.StringArrayVar(&o.failSW, "fail", nil, "PREFIX=SW: answer commands starting with hex PREFIX with status word SW (repeatable)")
	f.DurationVar(&o.reinsert, "reinsert", 0, "after the card pulled itself out, insert a fresh card this much later (0: exit)")
	return cmd
}

// failRule is one parsed --fail flag.
type failRule struct {
	prefix []byte
	sw     uint16
}

func parseFailRules(specs []string) ([]failRule, error) {
	rules := make([]failRule, 0, len(specs))
	for _, s := range specs {
		p, w, ok := strings.Cut(s, "=")
		if !ok {
			return nil, fmt.Errorf("--fail %q: want PREFIX=SW, e.g. 80A8=6985", s)
		}
		prefix, err := cardio.ParseHex(p)
		if err != nil || len(prefix) == 0 {
			return nil, fmt.Errorf("--fail %q: prefix must be hex bytes", s)
		}
		sw, err := strconv.ParseUint(w, 16, 16)
		if err != nil || len(w) != 4 {
			return nil, fmt.Errorf("--fail %q: status word must be 4 hex digits", s)
		}
		rules = append(rules, failRule{prefix: prefix, sw: uint16(sw)})
	}
	return rules, nil
}

// loadSimCard builds a fresh card from the image with the faults set.
func loadSimCard(o cardSimOptions, rules []failRule) (*cardsim.Card, error) {
	card, err := cardsim.Load(o.image)
	if err != nil {
		return nil, err
	}
	if o.removeAfter > 0 {
		card.RemoveAfter(o.removeAfter)
	}
	if o.delay > 0 {
		card.SetDelay(o.delay)
	}
	for _, r := range rules {
		card.FailCommand(r.prefix, r.sw)
	}
	return card, nil
}

func runCardSim(ctx context.Context, o cardSimOptions, stderr io.Writer) error {
	rules, err := parseFailRules(o.failSW)
	if err != nil {
		return withExit(exitUsage, err)
	}
	log := slog.New(slog.NewTextHandler(stderr, nil))
	for {
		card, err := loadSimCard(o, rules)
		if err != nil {
			return withExit(exitUsage, fmt.Errorf("card image: %w", err))
		}
		log.Info("card-sim: serving card", "image", o.image, "vpcd", o.vpcdAddr)
		err = vpcd.Serve(ctx, o.vpcdAddr, card, vpcd.WithLogger(log))
		switch {
		case err == nil:
			return nil // Ctrl-C
		case errors.Is(err, cardio.ErrCardRemoved) && o.reinsert > 0:
			log.Info("card-sim: card pulled out; inserting a fresh one", "after", o.reinsert)
			select {
			case <-ctx.Done():
				return nil
			case <-time.After(o.reinsert):
			}
		case errors.Is(err, cardio.ErrCardRemoved):
			log.Info("card-sim: card pulled out (--remove-after); exiting")
			return nil
		default:
			return withExit(exitNoDevice, err)
		}
	}
}
