package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/volcard/volcard/client"
	"github.com/volcard/volcard/client/importer"
)

func init() { rootCmd.AddCommand(newImportCmd()) }

type importFlags struct {
	server, token, rejectedOut, importID, encoding, format string
	batch, concurrency, every                              int
	retryFor                                               time.Duration
	json                                                   bool
}

func newImportCmd() *cobra.Command {
	f := &importFlags{}
	cmd := &cobra.Command{
		Use:   "import",
		Short: "Import the volunteer platform's volunteers or service hours through a running serve",
		Long: `import streams a file of the provincial volunteer platform's export (JSONL, or
CSV in UTF-8 or GB18030 with a header row) to a running volcard server in
batches (docs/platform-interface.md section 4). Each row is validated,
encrypted and blind-indexed by the server; the import is idempotent by the
platform number, and each batch is applied once: a batch whose answer is
lost (the server killed, the network down) is sent again until the server
answers (--retry-for), and a re-run of the same file skips the batches
already committed. Rejected rows are written with their line and reason to
--rejected-out (default FILE.rejected.csv); nothing is dropped silently.
A progress bar shows on a terminal; otherwise one line every --every rows.

The server and token come from --server/--token or VOLCARD_SERVER/VOLCARD_TOKEN
(a province_admin or platform token).`,
	}
	pf := cmd.PersistentFlags()
	pf.StringVar(&f.server, "server", envOr("VOLCARD_SERVER", "http://127.0.0.1:8080"), "server URL (VOLCARD_SERVER)")
	pf.StringVar(&f.token, "token", os.Getenv("VOLCARD_TOKEN"), "API token (VOLCARD_TOKEN)")
	pf.StringVar(&f.rejectedOut, "rejected-out", "", "report of rejected rows (CSV; default FILE.rejected.csv)")
	pf.StringVar(&f.importID, "import-id", "", "name of the import (default: from the file's SHA-256 and --batch, so a re-run resumes)")
	pf.StringVar(&f.format, "format", "", "jsonl or csv (default by the file's extension: .csv is CSV, else JSONL)")
	pf.StringVar(&f.encoding, "encoding", "", "CSV encoding: utf-8 or gb18030 (default: UTF-8 when the file is valid UTF-8, else GB18030)")
	pf.IntVar(&f.batch, "batch", 5000, "rows per batch (1–10000)")
	pf.IntVar(&f.concurrency, "concurrency", 2, "batches in flight (1–16)")
	pf.IntVar(&f.every, "every", 100000, "without a terminal: a progress line every this many rows")
	pf.DurationVar(&f.retryFor, "retry-for", 5*time.Minute, "how long a batch is sent again while the server is unreachable or busy")
	pf.BoolVar(&f.json, "json", false, "print the summary as JSON")
	cmd.AddCommand(f.kindCmd(importer.Volunteers, "volunteers FILE", "Import the platform's volunteers (idempotent by platform number)"),
		f.kindCmd(importer.Hours, "hours FILE", "Import the platform's service hours per volunteer (total, replacing the last import)"))
	return cmd
}

func (f *importFlags) kindCmd(kind importer.Kind, use, short string) *cobra.Command {
	return &cobra.Command{
		Use:   use,
		Short: short,
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			path := args[0]
			if f.batch < 1 || f.batch > 10000 {
				return withExit(exitUsage, errors.New("--batch: want 1–10000"))
			}
			if f.concurrency < 1 || f.concurrency > 16 {
				return withExit(exitUsage, errors.New("--concurrency: want 1–16"))
			}
			switch f.format {
			case "", "jsonl", "csv":
			default:
				return withExit(exitUsage, fmt.Errorf("--format %q: want jsonl or csv", f.format))
			}
			switch f.encoding {
			case "", "utf-8", "gb18030":
			default:
				return withExit(exitUsage, fmt.Errorf("--encoding %q: want utf-8 or gb18030", f.encoding))
			}
			c, err := client.New(f.server, f.token, client.WithHTTPClient(&http.Client{Timeout: 2 * time.Minute}))
			if err != nil {
				return withExit(exitUsage, err)
			}
			if _, err := os.Stat(path); err != nil {
				return withExit(exitUsage, err)
			}
			out := f.rejectedOut
			if out == "" {
				out = path + ".rejected.csv"
			}
			rep, err := os.OpenFile(out, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o600)
			if err != nil {
				return withExit(exitUsage, fmt.Errorf("--rejected-out: %w", err))
			}
			defer rep.Close()
			tty := false
			if fh, ok := cmd.ErrOrStderr().(*os.File); ok {
				tty = term.IsTerminal(int(fh.Fd()))
			}
			sum, err := importer.Run(cmd.Context(), importer.Config{API: c, Kind: kind, Path: path,
				Format: importer.Format(f.format), Encoding: importer.Encoding(f.encoding), BatchSize: f.batch,
				ImportID: f.importID, Concurrency: f.concurrency, Rejected: rep, Progress: cmd.ErrOrStderr(), TTY: tty,
				Every: f.every, RetryFor: f.retryFor})
			if cerr := rep.Close(); err == nil && cerr != nil {
				err = cerr
			}
			w := cmd.OutOrStdout()
			if f.json {
				enc := json.NewEncoder(w)
				enc.SetIndent("", "  ")
				_ = enc.Encode(map[string]any{"import_id": sum.ImportID, "records": sum.Records, "batches": sum.Batches,
					"skipped_batches": sum.Skipped, "created": sum.Created, "updated": sum.Updated, "rejected": sum.Rejected,
					"rejected_out": out})
			} else {
				fmt.Fprintf(w, "import %s: %d records in %d batches (%d skipped, committed before): %d created, %d updated, %d rejected (%s)\n",
					sum.ImportID, sum.Records, sum.Batches, sum.Skipped, sum.Created, sum.Updated, sum.Rejected, out)
			}
			switch {
			case err == nil:
				return nil
			case errors.Is(err, importer.ErrFile):
				return withExit(exitUsage, err)
			case errors.Is(err, client.ErrUnreachable):
				return withExit(exitNoDevice, fmt.Errorf("%w (run the same command again to resume)", err))
			}
			return fmt.Errorf("%w (run the same command again to resume)", err)
		},
	}
}
