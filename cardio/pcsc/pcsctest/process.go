package pcsctest

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/volcard/volcard/cardio/cardsim"
	"github.com/volcard/volcard/cardio/pcsc"
	"github.com/volcard/volcard/cardio/vpcd"
)

// The card process: the test binary re-executed with these variables set
// serves one software card instead of running tests.
const (
	cardAddrEnv  = "VOLCARD_PCSCTEST_CARD_ADDR"
	cardImageEnv = "VOLCARD_PCSCTEST_CARD_IMAGE"
)

// ServeCardProcess must be the first call in TestMain of a package that
// uses InsertProcess. In the card process it serves the card and exits;
// otherwise it returns at once.
func ServeCardProcess() {
	addr := os.Getenv(cardAddrEnv)
	if addr == "" {
		return
	}
	if err := serveCard(addr, os.Getenv(cardImageEnv), os.Stdin, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "pcsctest card process:", err)
		os.Exit(1)
	}
	os.Exit(0)
}

// serveCard runs the card process: it loads the image and obeys
// "insert", "remove", "load FILE" (another card, out of the reader) and
// "busy" (the time the card has spent answering commands since it was
// loaded) lines on in, answering "ok" (for "busy", "ok" and nanoseconds)
// or the error on out, until in closes; then the card is pulled out.
func serveCard(addr, image string, in io.Reader, out io.Writer) error {
	var s *vpcd.Slot
	var card *timedCard
	load := func(image string) error {
		c, err := cardsim.Load(image)
		if err != nil {
			return err
		}
		if s != nil {
			if err := s.Remove(); err != nil {
				return err
			}
		}
		card = &timedCard{Card: c}
		s, err = vpcd.NewSlot(addr, card, vpcd.WithLogger(slog.New(slog.DiscardHandler)),
			vpcd.WithRetryInterval(10*time.Millisecond))
		return err
	}
	if err := load(image); err != nil {
		return err
	}
	defer func() { _ = s.Remove() }()
	sc := bufio.NewScanner(in)
	for sc.Scan() {
		var err error
		reply := "ok"
		switch req := sc.Text(); {
		case strings.HasPrefix(req, "load "):
			err = load(strings.TrimPrefix(req, "load "))
		case req == "insert":
			ctx, cancel := context.WithTimeout(context.Background(), StepTimeout)
			err = s.Insert(ctx)
			cancel()
		case req == "remove":
			err = s.Remove()
		case req == "busy":
			reply = fmt.Sprintf("ok %d", card.busy.Load())
		default:
			err = fmt.Errorf("unknown request %q", sc.Text())
		}
		if err != nil {
			reply = strings.ReplaceAll(err.Error(), "\n", " ")
		}
		if _, err := fmt.Fprintln(out, reply); err != nil {
			return err
		}
	}
	return sc.Err()
}

// timedCard counts the time the card spends answering commands: its own
// computation, apart from the transport around it.
type timedCard struct {
	*cardsim.Card
	busy atomic.Int64 // nanoseconds
}

func (c *timedCard) Process(command []byte) ([]byte, error) {
	t := time.Now()
	defer func() { c.busy.Add(int64(time.Since(t))) }()
	return c.Card.Process(command)
}

// CardProcess is a software card served by a child process: the card is a
// separate device, as a real one is, so its computation (an RSA signature
// for INTERNAL AUTHENTICATE) does not share the Go runtime, the garbage
// collector and the scheduler of the terminal code a test measures.
type CardProcess struct {
	readers *pcsc.Readers
	slot    SlotInfo
	dir     string
	cmd     *exec.Cmd
	in      io.WriteCloser
	out     *bufio.Reader
	mu      sync.Mutex
}

// InsertProcess is Insert with the card img served by a child process
// (this test binary, re-executed: the package's TestMain must call
// ServeCardProcess first). The card process ends with the test.
func InsertProcess(t testing.TB, slot SlotInfo, img cardsim.Image) *CardProcess {
	t.Helper()
	p := &CardProcess{slot: slot, dir: t.TempDir()}
	file := p.write(t, img)
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), cardAddrEnv+"="+slot.Addr, cardImageEnv+"="+file)
	cmd.Stderr = os.Stderr
	p.cmd = cmd
	var err error
	if p.in, err = cmd.StdinPipe(); err != nil {
		t.Fatalf("pcsctest: %v", err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatalf("pcsctest: %v", err)
	}
	p.out = bufio.NewReader(stdout)
	if err := cmd.Start(); err != nil {
		t.Fatalf("pcsctest: start the card process: %v", err)
	}
	t.Cleanup(p.Close)
	insert(t, slot, p)
	p.readers = Start(t)
	t.Cleanup(func() { pull(t, p.readers, slot, p) })
	return p
}

// write stores img as a new file for the card process.
func (p *CardProcess) write(t testing.TB, img cardsim.Image) string {
	t.Helper()
	raw, err := json.Marshal(img)
	if err != nil {
		t.Fatalf("pcsctest: card image: %v", err)
	}
	f, err := os.CreateTemp(p.dir, "card-*.json")
	if err != nil {
		t.Fatalf("pcsctest: %v", err)
	}
	defer f.Close()
	if _, err := f.Write(raw); err != nil {
		t.Fatalf("pcsctest: %v", err)
	}
	return f.Name()
}

// Swap pulls the card out, waits until pcscd has seen the reader empty and
// inserts a card made from img, in the same process (whose Go runtime is
// then warm, as a long-running simulator's is).
func (p *CardProcess) Swap(t testing.TB, img cardsim.Image) {
	t.Helper()
	pull(t, p.readers, p.slot, p)
	if err := p.ask("load " + p.write(t, img)); err != nil {
		t.Fatalf("%v", err)
	}
	insert(t, p.slot, p)
}

// Busy returns the time the card has spent computing its answers since
// it was inserted by InsertProcess or Swap (measured in the card process,
// around each command).
func (p *CardProcess) Busy(t testing.TB) time.Duration {
	t.Helper()
	out, err := p.query("busy")
	if err != nil {
		t.Fatalf("%v", err)
	}
	ns, err := strconv.ParseInt(out, 10, 64)
	if err != nil {
		t.Fatalf("pcsctest: card process said %q to busy", out)
	}
	return time.Duration(ns)
}

// Close pulls the card out and ends the card process (also done when the
// test ends).
func (p *CardProcess) Close() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.in == nil {
		return
	}
	_ = p.in.Close()
	_ = p.cmd.Wait()
	p.in = nil
}

// Insert puts the card into the reader (see vpcd.Slot.Insert).
func (p *CardProcess) Insert(context.Context) error { return p.ask("insert") }

// Remove pulls the card out (see vpcd.Slot.Remove).
func (p *CardProcess) Remove() error { return p.ask("remove") }

func (p *CardProcess) ask(req string) error {
	_, err := p.query(req)
	return err
}

// query sends req and returns what followed "ok" in the answer.
func (p *CardProcess) query(req string) (string, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.in == nil {
		if req == "remove" {
			return "", nil // the process ended with its card out
		}
		return "", errors.New("pcsctest: card process closed")
	}
	if _, err := fmt.Fprintln(p.in, req); err != nil {
		return "", fmt.Errorf("pcsctest: card process: %w", err)
	}
	line, err := p.out.ReadString('\n')
	if err != nil {
		return "", fmt.Errorf("pcsctest: card process: %w", err)
	}
	line = strings.TrimSpace(line)
	rest, ok := strings.CutPrefix(line, "ok")
	if !ok || rest != "" && rest[0] != ' ' {
		return "", errors.New("pcsctest: card process: " + line)
	}
	return strings.TrimSpace(rest), nil
}
