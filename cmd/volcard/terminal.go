package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/volcard/volcard/cardio"
	"github.com/volcard/volcard/cardio/cardsim"
	"github.com/volcard/volcard/client"
	"github.com/volcard/volcard/client/terminal"
)

func init() { rootCmd.AddCommand(newTerminalCmd()) }

// terminalOptions are the flags of "volcard terminal".
type terminalOptions struct {
	server   string
	token    string
	activity int64
	reader   string
	asJSON   bool
	queue    string
	simImage string
}

func newTerminalCmd() *cobra.Command {
	var o terminalOptions
	cmd := &cobra.Command{
		Use:   "terminal",
		Short: "Run a check-in terminal at an activity",
		Long: `terminal is the check-in terminal of a service site. It waits for a card in the
reader, asks the server for a challenge, reads the card (fast read and DDA over
the challenge, 8 APDUs on a standard card), posts the tap and shows the result:

  ✓ 张三 签到 09:02 ★★★        (check-in)
  ✓ 张三 签退 3.5 h ★★★        (check-out, hours credited)

then waits for the card to leave. Unknown, blocked, forged and non-financial
cards get a clear message. When the server cannot be reached the terminal
uses its own unpredictable number and keeps the tap in the local queue file
(--queue, SQLite); queued taps are sent in order when the server is back,
each exactly once (sequence numbers are persisted in the same file).

The token (a "terminal" role token, see "volcard token create") may come from
VOLCARD_TOKEN instead of --token. --reader sim uses the in-process software
card (--sim-image).

Exit status: 0 stopped with Ctrl-C; 2 bad flags; 3 no reader or pcscd not running.`,
		Example: `  volcard terminal --server https://volcard.example --token vc_... --activity 12
  volcard terminal --server http://127.0.0.1:8080 --activity 12 --reader "Virtual PCD 00 00" --json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if o.token == "" {
				o.token = os.Getenv("VOLCARD_TOKEN")
			}
			if o.server == "" || o.token == "" || o.activity <= 0 {
				return withExit(exitUsage, errors.New("--server, --token (or VOLCARD_TOKEN) and --activity are required"))
			}
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			return runTerminal(ctx, o, cmd.OutOrStdout(), cmd.ErrOrStderr())
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.server, "server", envOr("VOLCARD_SERVER", "http://127.0.0.1:8080"), "server URL (VOLCARD_SERVER)")
	f.StringVar(&o.token, "token", "", "terminal token (default $VOLCARD_TOKEN)")
	f.Int64Var(&o.activity, "activity", 0, "activity id the taps are recorded at")
	f.StringVar(&o.reader, "reader", "", "reader name (default: the first reader); \"sim\" for the in-process software card")
	f.BoolVar(&o.asJSON, "json", false, "print one JSON object per tap")
	f.StringVar(&o.queue, "queue", filepath.Join("data", "terminal-queue.db"), "local queue file (SQLite) for offline taps and sequence numbers")
	f.StringVar(&o.simImage, "sim-image", filepath.Join("testdata", "cards", "default.json"), "card image for --reader sim")
	return cmd
}

func runTerminal(ctx context.Context, o terminalOptions, stdout, stderr io.Writer) error {
	api, err := client.New(o.server, o.token)
	if err != nil {
		return withExit(exitUsage, err)
	}
	q, err := terminal.OpenQueue(ctx, o.queue, []byte(o.token))
	if err != nil {
		return withExit(exitUsage, err)
	}
	defer q.Close()
	var readers cardio.Readers
	if o.reader == cardsim.ReaderName {
		card, err := cardsim.Load(o.simImage)
		if err != nil {
			return withExit(exitUsage, err)
		}
		readers = cardsim.NewReaders(card)
	} else {
		r, err := openReaders(ctx)
		if err != nil {
			return err
		}
		defer r.Close()
		readers = r
	}
	t, err := terminal.New(terminal.Config{API: api, Queue: q, ActivityID: o.activity, Readers: readers,
		Reader: o.reader, Out: stdout, JSON: o.asJSON})
	if err != nil {
		return withExit(exitUsage, err)
	}
	if n, err := q.Len(ctx); err == nil && n > 0 {
		fmt.Fprintf(stderr, "%d queued tap(s) will be sent when the server answers\n", n)
	}
	if n, err := q.Held(ctx); err == nil && n > 0 {
		fmt.Fprintf(stderr, "%d queued tap(s) are kept aside: sealed under another terminal token or damaged; "+
			"run the terminal with the token they were queued under to send them\n", n)
	}
	fmt.Fprintln(stderr, "Waiting for cards (Ctrl-C to stop)...")
	if err := t.Run(ctx); err != nil {
		return deviceError(err)
	}
	return nil
}
