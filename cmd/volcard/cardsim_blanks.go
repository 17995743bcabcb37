package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/volcard/volcard/cardio/cardsim"
	"github.com/volcard/volcard/personalization/dataprep"
)

// blanksOptions are the flags of "volcard card-sim blanks".
type blanksOptions struct {
	count  int
	serial string
	out    string
	kmc    string
	force  bool
	asJSON bool
}

func newCardSimBlanksCmd() *cobra.Command {
	var o blanksOptions
	cmd := &cobra.Command{
		Use:   "blanks --count N --serial HEX --out DIR",
		Short: "Write new blank software cards, each with its own chip serial",
		Long: `blanks writes N blank card files blank-<serial>.json into DIR, with the
consecutive chip serials from --serial (8 hex digits): each card has its own
CPLC, key diversification data and security domain keys, diversified from the
KMC (--kmc; default: kmc.json of VOLCARD_CARD_KEYS_DIR, else the test KMC
testdata/keys/kmc.json of a checkout, the one "volcard serve" uses there).

The server issues a chip serial once: copies of one blank file are the same
chip, and every card after the first would be written and then refused. Give
each batch of blanks its own serial range. The same KMC and serials always give
the same files (tests and demos are reproducible).

Put a card in a reader with "volcard card-sim --image DIR/blank-<serial>.json
--save DIR/card-<serial>.json" so that it stays personalized.

Exit codes: 0 written; 1 a file exists already (nothing is overwritten without
--force) or could not be written; 2 bad flags or an unreadable KMC file.`,
		Example: `  volcard card-sim blanks --count 5 --serial 00A00001 --out cards/
  volcard card-sim blanks --count 40 --serial 00B00001 --out /tmp/batch7 --kmc /etc/volcard/keys/kmc.json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runCardSimBlanks(o, cmd.OutOrStdout())
		},
	}
	f := cmd.Flags()
	f.IntVar(&o.count, "count", 1, fmt.Sprintf("how many blank cards (1 to %d)", cardsim.MaxBlankSeries))
	f.StringVar(&o.serial, "serial", "", "chip serial of the first card, 8 hex digits, e.g. 00A00001 (required)")
	f.StringVar(&o.out, "out", "", "directory to write the card files into, created if missing (required)")
	f.StringVar(&o.kmc, "kmc", "", "KMC file the cards' keys are diversified from (default: "+envCardKeys+"/kmc.json, else testdata/keys/kmc.json)")
	f.BoolVar(&o.force, "force", false, "overwrite card files that exist")
	f.BoolVar(&o.asJSON, "json", false, "print the cards written as JSON")
	return cmd
}

// blankFile is one card written, as printed.
type blankFile struct {
	File       string `json:"file"`
	ChipSerial string `json:"chip_serial"`
}

// parseChipSerial reads the --serial flag: 8 hex digits (an optional 0x).
func parseChipSerial(s string) (uint32, error) {
	h := strings.TrimPrefix(strings.TrimPrefix(strings.TrimSpace(s), "0x"), "0X")
	if len(h) != 8 {
		return 0, fmt.Errorf("--serial %q: want 8 hex digits, e.g. 00A00001", s)
	}
	n, err := strconv.ParseUint(h, 16, 32)
	if err != nil {
		return 0, fmt.Errorf("--serial %q: want 8 hex digits, e.g. 00A00001", s)
	}
	return uint32(n), nil
}

// kmcFile returns the KMC file to use: the flag, the key store directory,
// or a checkout's test KMC.
func kmcFile(flag string) string {
	if flag != "" {
		return flag
	}
	if dir := os.Getenv(envCardKeys); dir != "" {
		return filepath.Join(dir, "kmc.json")
	}
	return filepath.Join(defaultCardKeys, "kmc.json")
}

func runCardSimBlanks(o blanksOptions, stdout io.Writer) error {
	if o.serial == "" || o.out == "" {
		return withExit(exitUsage, errors.New("--serial and --out are required (e.g. --serial 00A00001 --out cards/)"))
	}
	serial, err := parseChipSerial(o.serial)
	if err != nil {
		return withExit(exitUsage, err)
	}
	if o.count < 1 || o.count > cardsim.MaxBlankSeries {
		return withExit(exitUsage, fmt.Errorf("--count %d: give 1 to %d", o.count, cardsim.MaxBlankSeries))
	}
	path := kmcFile(o.kmc)
	kmc, err := dataprep.LoadKMC(path)
	if err != nil {
		return withExit(exitUsage, fmt.Errorf("KMC %s: %w (give --kmc FILE or set %s)", path, err, envCardKeys))
	}
	imgs, err := cardsim.NewBlankImages(cardsim.BlankOptions{KMC: kmc.Key, Diversification: kmc.Diversification,
		KeyVersion: kmc.Version, Serial: serial}, o.count)
	if err != nil {
		return withExit(exitUsage, err)
	}
	if err := os.MkdirAll(o.out, 0o755); err != nil {
		return withExit(exitFailure, err)
	}
	files := make([]blankFile, len(imgs))
	for i := range imgs {
		s := fmt.Sprintf("%08X", serial+uint32(i))
		files[i] = blankFile{File: filepath.Join(o.out, "blank-"+s+".json"), ChipSerial: imgs[i].GP.CPLC[:4].String() + s}
		if _, err := os.Stat(files[i].File); err == nil && !o.force {
			return withExit(exitFailure, fmt.Errorf("%s exists: nothing written; choose another --serial or --out, or --force to overwrite", files[i].File))
		} else if err != nil && !errors.Is(err, fs.ErrNotExist) {
			return withExit(exitFailure, err)
		}
	}
	for i, img := range imgs {
		if err := img.Save(files[i].File); err != nil {
			return withExit(exitFailure, err)
		}
	}
	if o.asJSON {
		return json.NewEncoder(stdout).Encode(files)
	}
	for _, f := range files {
		fmt.Fprintf(stdout, "%s  chip %s\n", f.File, f.ChipSerial)
	}
	return nil
}
