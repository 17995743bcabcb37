package pcsctest

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/volcard/volcard/cardio"
	"github.com/volcard/volcard/cardio/pcsc"
	"github.com/volcard/volcard/cardio/vpcd"
	"github.com/volcard/volcard/internal/ci"
)

// SlotInfo is one vpcd reader: the driver address a card connects to and
// the reader name pcscd shows for it.
type SlotInfo struct {
	Addr   string
	Reader string
}

// Slots are the two readers of the Debian vpcd configuration
// (/etc/reader.conf.d/vpcd).
var Slots = []SlotInfo{
	{Addr: "127.0.0.1:35963", Reader: "Virtual PCD 00 00"},
	{Addr: "127.0.0.1:35964", Reader: "Virtual PCD 00 01"},
}

// Driver and lock locations.
const (
	vpcdDriver   = "/usr/lib/pcsc/drivers/serial/libifdvpcd.so"
	pcscdSocket  = "/run/pcscd/pcscd.comm"
	startLock    = "volcard-pcscd-start.lock"
	slotLockFmt  = "volcard-vpcd-%s.lock"
	startTimeout = 10 * time.Second
)

// StepTimeout bounds each harness step (inserting a card, waiting for
// pcscd to notice a removal).
var StepTimeout = 10 * time.Second

// unavailable skips the test, or fails it under CI=true.
func unavailable(t testing.TB, format string, args ...any) {
	t.Helper()
	msg := fmt.Sprintf(format, args...)
	if ci.Enabled() {
		t.Fatalf("pcsctest: %s (CI set: a missing pcscd/vpcd is a failure)", msg)
	}
	t.Skipf("pcsctest: %s", msg)
}

// Start makes sure pcscd runs and shows the vpcd readers, starting it
// (it daemonizes and stays up for later tests) when none runs. It returns
// a connected *pcsc.Readers, closed when the test ends.
func Start(t testing.TB) *pcsc.Readers {
	t.Helper()
	if _, err := os.Stat(vpcdDriver); err != nil {
		unavailable(t, "vpcd driver %s missing: install vsmartcard-vpcd", vpcdDriver)
	}
	unlock, err := lockFile(context.Background(), filepath.Join(os.TempDir(), startLock), true)
	if err != nil {
		t.Fatalf("pcsctest: %v", err)
	}
	defer unlock()

	r, err := readersWithVPCD(t.Context())
	if err != nil && !pcscdRunning() {
		path, lerr := exec.LookPath("pcscd")
		if lerr != nil {
			unavailable(t, "pcscd not running and not installed: install pcscd")
		}
		r, err = startPCSCD(t, path)
	}
	if err != nil {
		unavailable(t, "pcscd with the vpcd readers not usable: %v", err)
	}
	t.Cleanup(func() { r.Close() })
	return r
}

// pcscdRunning reports whether a pcscd process exists. The socket file alone
// proves nothing: a pcscd that died leaves it behind, and then it is removed
// (with the pid file) so that a new pcscd can start.
func pcscdRunning() bool {
	out, err := exec.Command("pidof", "pcscd").Output()
	if err == nil && len(out) > 0 {
		return true
	}
	_ = os.Remove(pcscdSocket)
	_ = os.Remove(filepath.Join(filepath.Dir(pcscdSocket), "pcscd.pid"))
	return false
}

// startPCSCD starts the daemon and waits until it shows the vpcd readers.
// pcsc-lite built with polkit may refuse clients; then it retries with
// --disable-polkit (a flag only such builds know).
func startPCSCD(t testing.TB, path string) (*pcsc.Readers, error) {
	var lastErr error
	for _, args := range [][]string{nil, {"--disable-polkit"}} {
		out, err := exec.Command(path, args...).CombinedOutput()
		if err != nil {
			lastErr = fmt.Errorf("%s %v: %w: %s", path, args, err, out)
			continue
		}
		t.Logf("pcsctest: started %s %v", path, args)
		ctx, cancel := context.WithTimeout(t.Context(), startTimeout)
		for {
			var r *pcsc.Readers
			r, lastErr = readersWithVPCD(ctx)
			if lastErr == nil {
				cancel()
				return r, nil
			}
			if ctx.Err() != nil {
				break
			}
			time.Sleep(50 * time.Millisecond)
		}
		cancel()
	}
	return nil, lastErr
}

// readersWithVPCD connects to pcscd and checks the vpcd readers are there.
func readersWithVPCD(ctx context.Context) (*pcsc.Readers, error) {
	r, err := pcsc.New(ctx)
	if err != nil {
		return nil, err
	}
	names, err := r.List(ctx)
	if err == nil && !slices.Contains(names, Slots[0].Reader) {
		err = fmt.Errorf("reader %q not listed (have %q): is /etc/reader.conf.d/vpcd installed? restart pcscd", Slots[0].Reader, names)
	}
	if err != nil {
		r.Close()
		return nil, err
	}
	return r, nil
}

// Slot takes a free vpcd slot for the rest of the test. The lock is a file
// lock (flock) in os.TempDir(), so parallel test processes and parallel
// tests in one process never share a reader. It blocks until a slot is
// free.
func Slot(t testing.TB) SlotInfo {
	t.Helper()
	ctx := t.Context()
	if dl, ok := t.(interface{ Deadline() (time.Time, bool) }); ok {
		if d, ok := dl.Deadline(); ok {
			var cancel context.CancelFunc
			ctx, cancel = context.WithDeadline(ctx, d)
			defer cancel()
		}
	}
	for {
		for _, s := range Slots {
			_, port, err := net.SplitHostPort(s.Addr)
			if err != nil {
				t.Fatalf("pcsctest: slot address %q: %v", s.Addr, err)
			}
			unlock, err := lockFile(ctx, filepath.Join(os.TempDir(), fmt.Sprintf(slotLockFmt, port)), false)
			if errors.Is(err, errBusy) {
				continue
			}
			if err != nil {
				t.Fatalf("pcsctest: %v", err)
			}
			t.Cleanup(unlock)
			return s
		}
		select {
		case <-ctx.Done():
			t.Fatalf("pcsctest: no free vpcd slot: %v", ctx.Err())
		case <-time.After(20 * time.Millisecond):
		}
	}
}

var errBusy = errors.New("pcsctest: lock busy")

// lockFile takes an exclusive flock on path; blocking waits for it,
// otherwise a held lock gives errBusy.
func lockFile(ctx context.Context, path string, blocking bool) (func(), error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, fs.FileMode(0o666))
	if err != nil {
		return nil, fmt.Errorf("open lock %s: %w", path, err)
	}
	how := unix.LOCK_EX | unix.LOCK_NB
	for {
		err = unix.Flock(int(f.Fd()), how)
		if err == nil {
			return func() {
				_ = unix.Flock(int(f.Fd()), unix.LOCK_UN)
				f.Close()
			}, nil
		}
		if !errors.Is(err, unix.EWOULDBLOCK) {
			f.Close()
			return nil, fmt.Errorf("lock %s: %w", path, err)
		}
		if !blocking {
			f.Close()
			return nil, errBusy
		}
		select {
		case <-ctx.Done():
			f.Close()
			return nil, fmt.Errorf("lock %s: %w", path, ctx.Err())
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// Insert puts card into slot's reader and returns once pcscd reports a
// card present there. The returned vpcd.Slot lets the test remove and
// re-insert the card. When the test ends the card is removed and Insert
// waits until pcscd has seen the reader empty, so the next holder of the
// slot starts clean.
func Insert(t testing.TB, slot SlotInfo, card vpcd.Responder) *vpcd.Slot {
	t.Helper()
	s, err := vpcd.NewSlot(slot.Addr, card, vpcd.WithLogger(slog.New(slog.DiscardHandler)),
		vpcd.WithRetryInterval(10*time.Millisecond))
	if err != nil {
		t.Fatalf("pcsctest: %v", err)
	}
	insert(t, slot, s)
	r := Start(t)
	t.Cleanup(func() { pull(t, r, slot, s) })
	return s
}

// cardSlot is what insert drives: a vpcd.Slot in this process or a
// CardProcess.
type cardSlot interface {
	Insert(ctx context.Context) error
	Remove() error
}

// pull removes the card and waits until pcscd has seen the reader empty,
// so the next holder of the slot starts clean.
func pull(t testing.TB, r *pcsc.Readers, slot SlotInfo, s cardSlot) {
	_ = s.Remove()
	ctx, cancel := context.WithTimeout(context.Background(), StepTimeout)
	defer cancel()
	if err := r.WaitForRemoval(ctx, slot.Reader); err != nil {
		t.Errorf("pcsctest: reader %q still shows a card after removal: %v", slot.Reader, err)
	}
}

// insert puts the card of s into slot's reader and returns once pcscd
// reports it present.
func insert(t testing.TB, slot SlotInfo, s cardSlot) {
	t.Helper()
	r := Start(t)
	ctx, cancel := context.WithTimeout(t.Context(), StepTimeout)
	defer cancel()
	// pcscd polls the vpcd driver every 400 ms. Right after a card
	// vanished mid-command the driver can miss a new connection, so a card
	// not seen within a few polls is pulled and inserted again.
	for attempt := 1; ; attempt++ {
		// A card left by a crashed test process may still show as present.
		if err := r.WaitForRemoval(ctx, slot.Reader); err != nil {
			t.Fatalf("pcsctest: reader %q not empty before insert: %v", slot.Reader, err)
		}
		if err := s.Insert(ctx); err != nil {
			t.Fatalf("pcsctest: %v", err)
		}
		wctx, wcancel := context.WithTimeout(ctx, insertPatience)
		err := r.WaitForCard(wctx, slot.Reader)
		wcancel()
		if err == nil {
			return
		}
		if ctx.Err() != nil {
			t.Fatalf("pcsctest: card never seen in %q after %d attempts: %v", slot.Reader, attempt, err)
		}
		t.Logf("pcsctest: card not seen in %q after %v; inserting again", slot.Reader, insertPatience)
		_ = s.Remove()
	}
}

// insertPatience is how long Insert waits for pcscd to see a card before
// it pulls the card and tries again.
const insertPatience = 2 * time.Second

// EchoCard is a trivial card for transport tests: it answers every
// command with the command's data field followed by 9000, and counts
// commands and resets. It is not a financial card.
type EchoCard struct {
	// RemoveAfter, when positive, pulls the card out on that command.
	RemoveAfter int
	// Delay makes every answer wait this long (a slow or hung card).
	Delay    time.Duration
	commands int
}

// EchoATR is the ATR of EchoCard.
var EchoATR = []byte{0x3B, 0x80, 0x80, 0x01, 0x01}

// ATR returns EchoATR.
func (c *EchoCard) ATR() []byte { return EchoATR }

// Reset does nothing: EchoCard has no state worth resetting.
func (c *EchoCard) Reset() {}

// Process echoes the command's data field with 9000.
func (c *EchoCard) Process(cmd []byte) ([]byte, error) {
	c.commands++
	if c.RemoveAfter > 0 && c.commands >= c.RemoveAfter {
		return nil, cardio.ErrCardRemoved
	}
	if c.Delay > 0 {
		time.Sleep(c.Delay)
	}
	var data []byte
	if len(cmd) > 5 {
		data = cmd[5:]
	}
	return append(append([]byte{}, data...), 0x90, 0x00), nil
}
