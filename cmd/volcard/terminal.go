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
	"time"

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
	mode     string
	pinFile  string
	offer    int64
}

// Terminal modes.
const (
	modeCheckin  = "checkin"
	modeBenefits = "benefits"
)

func newTerminalCmd() *cobra.Command {
	var o terminalOptions
	cmd := &cobra.Command{
		Use:   "terminal",
		Short: "Run a check-in terminal at an activity, or a benefits terminal at a merchant",
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

At start the terminal checks its token and activity with the server and stops
if the server refuses the token or does not know the activity (in the token's
organisation); when the server cannot be reached it starts anyway, offline.
Each terminal needs its own token: the server numbers taps per token, and a
terminal that finds its numbers used by another one says so and goes on past
them. Cards that cannot do DDA (SDA-only) are refused: they cannot sign the
server's challenge.

With --mode benefits it is the benefits terminal of a caring merchant (no
activity, no queue): each card is read and authenticated as at check-in, the
server answers the holder's tier and the offers of the terminal's organisation
(and those above it) for that tier, and when an offer requires it the holder's
PIN is verified offline on the card:

  ✓ 张*明 ★★ 星级志愿者
    ✓ 公交九折
    ✓ 超市九折（PIN 已验证 / PIN verified）
  or, on a wrong PIN:
    ✗ 超市九折（需验证 PIN：PIN 错误，还可尝试 2 次 / wrong PIN, 2 tries left）

The PIN is typed on the terminal's keyboard (no echo) when standard input is
a terminal, or read from the first line of --pin-file, read again at every
card. It goes to the card only: never shown, logged or sent to the server.
A blocked PIN is refused without asking for it. Benefit checks need the
server: with the server down each card gets a clear refusal. With --offer ID
the terminal is the till of that offer: when a card is granted it, the
redemption is recorded on the server with the cardholder verification
(offline_pin when the card verified the PIN, else none) and shown as
"已核销：书店八折（#12）"; GET /v1/offers/ID/redemptions lists them.

Exit status: 0 stopped with Ctrl-C; 1 the start-up check failed otherwise;
2 bad flags, or the server refuses the token (unknown, revoked, not a terminal
token) or does not know the activity; 3 no reader or pcscd not running.`,
		Example: `  volcard terminal --server https://volcard.example --token vc_... --activity 12
  volcard terminal --server http://127.0.0.1:8080 --activity 12 --reader "Virtual PCD 00 00" --json
  volcard terminal --mode benefits --server https://volcard.example --token vc_... --offer 7`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if o.token == "" {
				o.token = os.Getenv("VOLCARD_TOKEN")
			}
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			switch o.mode {
			case modeBenefits:
				if o.server == "" || o.token == "" {
					return withExit(exitUsage, errors.New("--server and --token (or VOLCARD_TOKEN) are required"))
				}
				return runBenefitsTerminal(ctx, o, cmd.InOrStdin(), cmd.OutOrStdout(), cmd.ErrOrStderr())
			case modeCheckin:
			default:
				return withExit(exitUsage, fmt.Errorf("--mode must be %s or %s", modeCheckin, modeBenefits))
			}
			if o.server == "" || o.token == "" || o.activity <= 0 {
				return withExit(exitUsage, errors.New("--server, --token (or VOLCARD_TOKEN) and --activity are required"))
			}
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
	f.StringVar(&o.mode, "mode", modeCheckin, "checkin (taps at an activity) or benefits (tier, offers and offline PIN at a merchant)")
	f.Int64Var(&o.offer, "offer", 0, "benefits mode: the offer this terminal redeems (recorded on the server when a card is granted it)")
	f.StringVar(&o.pinFile, "pin-file", "", "benefits mode: read the cardholder's PIN from the first line of this file at each card instead of the keyboard")
	return cmd
}

// terminalReaders opens the readers of the terminal: the in-process
// software card for --reader sim, else pcscd's. close releases them.
func terminalReaders(ctx context.Context, o terminalOptions) (cardio.Readers, func(), error) {
	if o.reader == cardsim.ReaderName {
		card, err := cardsim.Load(o.simImage)
		if err != nil {
			return nil, nil, withExit(exitUsage, err)
		}
		return cardsim.NewReaders(card), func() {}, nil
	}
	r, err := openReaders(ctx)
	if err != nil {
		return nil, nil, err
	}
	return r, func() { r.Close() }, nil
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
	readers, closeReaders, err := terminalReaders(ctx, o)
	if err != nil {
		return err
	}
	defer closeReaders()
	t, err := terminal.New(terminal.Config{API: api, Queue: q, ActivityID: o.activity, Readers: readers,
		Reader: o.reader, Out: stdout, JSON: o.asJSON, Notices: stderr})
	if err != nil {
		return withExit(exitUsage, err)
	}
	if err := startTerminal(ctx, t, o, stderr); err != nil {
		return err
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

// startTerminal runs the terminal's start-up check and says what it found:
// the activity, or what to do about the token or the activity (exit 2), or
// that the server cannot be reached and the terminal starts offline.
func startTerminal(ctx context.Context, t *terminal.Terminal, o terminalOptions, stderr io.Writer) error {
	info, err := t.Start(ctx)
	switch {
	case err == nil:
	case errors.Is(err, terminal.ErrTokenRefused):
		return withExit(exitUsage, errors.New("the server refuses this token (unknown or revoked): check --token or "+
			"VOLCARD_TOKEN; a terminal token is made with: volcard token create --role terminal --org ORG_ID"))
	case errors.Is(err, terminal.ErrNotTerminalToken):
		return withExit(exitUsage, errors.New("this token is not a terminal token (another role, or a terminal token "+
			"made without an organisation): make one with: volcard token create --role terminal --org ORG_ID"))
	case errors.Is(err, terminal.ErrActivityUnknown):
		return withExit(exitUsage, fmt.Errorf("activity %d does not exist or is not in this token's organisation: "+
			"check --activity (GET /v1/activities with this token lists the activities it may use)", o.activity))
	case client.Retryable(err):
		fmt.Fprintf(stderr, "warning: the server cannot be reached (%v): token and activity %d not checked; "+
			"taps are queued and sent when it answers\n", err, o.activity)
		return nil
	default:
		return withExit(exitFailure, fmt.Errorf("start-up check: %w", err))
	}
	cst := time.FixedZone("CST", 8*3600)
	a := info.Activity
	where := ""
	if a.Site != "" {
		where = " @ " + a.Site
	}
	fmt.Fprintf(stderr, "Activity %d: %s%s, %s – %s\n", a.ID, a.Title, where,
		a.StartsAt.In(cst).Format("2006-01-02 15:04"), a.EndsAt.In(cst).Format("2006-01-02 15:04 MST"))
	if now := time.Now(); a.EndsAt.Before(now) {
		fmt.Fprintf(stderr, "warning: activity %d has ended: taps are still recorded, but no hours are credited "+
			"after its end; check --activity\n", a.ID)
	}
	return nil
}
