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
	save        string
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

A card keeps its state only with --save FILE: the file is written whenever the
card changes (personalization, the transaction counter, PIN tries, the secure
channel counter) and when card-sim stops, and a later run puts the same card
back in a reader with --image FILE. FILE may be the --image file itself. Without
--save every run starts from the image: a card personalized at the branch is
blank again next time. "volcard card-sim blanks" writes new blank cards, each
with its own chip serial (copies of one blank file are one chip to the server,
which issues a chip once).

Fault injection, for testing terminals:
  --remove-after N   answer N APDUs, then the card is pulled out
  --delay D          every APDU takes at least D (a slow card)
  --fail PREFIX=SW   answer commands starting with the hex PREFIX with status
                     word SW (e.g. --fail 80A8=6985 makes GPO fail); repeatable
  --reinsert D       after the card pulled itself out, insert it again D later
                     instead of exiting (a fresh copy of the image, or the
                     --save file when there is one)

Requires the packages pcscd and vsmartcard-vpcd.`,
		Example: `  volcard card-sim --vpcd 127.0.0.1:35963 --image testdata/cards/default.json
  volcard card-sim blanks --count 5 --serial 00A00001 --out cards/
  volcard card-sim --image cards/blank-00A00001.json --save cards/card-00A00001.json
  volcard card-sim --image cards/card-00A00001.json --save cards/card-00A00001.json
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
	f.DurationVar(&o.reinsert, "reinsert", 0, "after the card pulled itself out, insert it again this much later (0: exit)")
	f.StringVar(&o.save, "save", "", "keep the card's state in this card file (written on every change and at exit; may be the --image file)")
	cmd.AddCommand(newCardSimBlanksCmd())
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

// loadSimCard builds the card with the faults set: from the --save file
// when a card pulled out goes back in (its state kept), else from the image.
func loadSimCard(o cardSimOptions, rules []failRule, again bool) (*cardsim.Card, error) {
	path := o.image
	if again && o.save != "" {
		if _, err := os.Stat(o.save); err == nil {
			path = o.save
		}
	}
	card, err := cardsim.Load(path)
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
	for again := false; ; again = true {
		card, err := loadSimCard(o, rules, again)
		if err != nil {
			return withExit(exitUsage, fmt.Errorf("card image: %w (a card file from \"volcard card-sim blanks\", --save or testdata/cards/)", err))
		}
		var resp vpcd.Responder = card
		var kept *keptCard
		if o.save != "" {
			kept = &keptCard{Card: card, path: o.save, log: log}
			resp = kept
		}
		log.Info("card-sim: serving card", "image", o.image, "vpcd", o.vpcdAddr, "save", o.save)
		err = vpcd.Serve(ctx, o.vpcdAddr, resp, vpcd.WithLogger(log))
		if kept != nil {
			if serr := kept.save(); serr != nil {
				return withExit(exitFailure, fmt.Errorf("the card's state was not saved to %s: %w", o.save, serr))
			}
			log.Info("card-sim: card saved", "file", o.save)
		}
		switch {
		case err == nil:
			return nil // Ctrl-C
		case errors.Is(err, cardio.ErrCardRemoved) && o.reinsert > 0:
			log.Info("card-sim: card pulled out; inserting it again", "after", o.reinsert)
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

// keptCard is a card whose state card-sim keeps in a card file: it is
// saved after every command that changed it (cardsim.Card.Changes), so a
// card-sim killed outright loses nothing the card had answered for.
type keptCard struct {
	*cardsim.Card
	path  string
	log   *slog.Logger
	saved uint64
}

// Process answers the command and saves the card if it changed.
func (k *keptCard) Process(command []byte) ([]byte, error) {
	resp, err := k.Card.Process(command)
	if n := k.Card.Changes(); n != k.saved {
		if serr := k.Card.Save(k.path); serr != nil {
			k.log.Warn("card-sim: card not saved", "file", k.path, "err", serr)
		} else {
			k.saved = n
		}
	}
	return resp, err
}

// save writes the card once more (card-sim stops or the card was pulled).
func (k *keptCard) save() error {
	if err := k.Card.Save(k.path); err != nil {
		return err
	}
	k.saved = k.Card.Changes()
	return nil
}
