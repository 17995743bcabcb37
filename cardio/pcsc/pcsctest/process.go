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
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/volcard/volcard/cardio/cardsim"
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

// serveCard runs the card process: it loads the image and obeys "insert"
// and "remove" lines on in, answering "ok" or the error on out, until in
// closes; then the card is pulled out.
func serveCard(addr, image string, in io.Reader, out io.Writer) error {
	card, err := cardsim.Load(image)
	if err != nil {
		return err
	}
	s, err := vpcd.NewSlot(addr, card, vpcd.WithLogger(slog.New(slog.DiscardHandler)),
		vpcd.WithRetryInterval(10*time.Millisecond))
	if err != nil {
		return err
	}
	defer func() { _ = s.Remove() }()
	sc := bufio.NewScanner(in)
	for sc.Scan() {
		var err error
		switch sc.Text() {
		case "insert":
			ctx, cancel := context.WithTimeout(context.Background(), StepTimeout)
			err = s.Insert(ctx)
			cancel()
		case "remove":
			err = s.Remove()
		default:
			err = fmt.Errorf("unknown request %q", sc.Text())
		}
		reply := "ok"
		if err != nil {
			reply = strings.ReplaceAll(err.Error(), "\n", " ")
		}
		if _, err := fmt.Fprintln(out, reply); err != nil {
			return err
		}
	}
	return sc.Err()
}

// CardProcess is a software card served by a child process: the card is a
// separate device, as a real one is, so its computation (an RSA signature
// for INTERNAL AUTHENTICATE) does not share the Go runtime, the garbage
// collector and the scheduler of the terminal code a test measures.
type CardProcess struct {
	cmd *exec.Cmd
	in  io.WriteCloser
	out *bufio.Reader
	mu  sync.Mutex
}

// InsertProcess is Insert with the card img served by a child process
// (this test binary, re-executed: the package's TestMain must call
// ServeCardProcess first). The card process ends with the test.
func InsertProcess(t testing.TB, slot SlotInfo, img cardsim.Image) *CardProcess {
	t.Helper()
	raw, err := json.Marshal(img)
	if err != nil {
		t.Fatalf("pcsctest: card image: %v", err)
	}
	file := filepath.Join(t.TempDir(), "card.json")
	if err := os.WriteFile(file, raw, 0o600); err != nil {
		t.Fatalf("pcsctest: %v", err)
	}
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), cardAddrEnv+"="+slot.Addr, cardImageEnv+"="+file)
	cmd.Stderr = os.Stderr
	p := &CardProcess{cmd: cmd}
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
	t.Cleanup(func() {
		_ = p.in.Close()
		_ = cmd.Wait()
	})
	insert(t, slot, p)
	return p
}

// Insert puts the card into the reader (see vpcd.Slot.Insert).
func (p *CardProcess) Insert(context.Context) error { return p.ask("insert") }

// Remove pulls the card out (see vpcd.Slot.Remove).
func (p *CardProcess) Remove() error { return p.ask("remove") }

func (p *CardProcess) ask(req string) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if _, err := fmt.Fprintln(p.in, req); err != nil {
		return fmt.Errorf("pcsctest: card process: %w", err)
	}
	line, err := p.out.ReadString('\n')
	if err != nil {
		return fmt.Errorf("pcsctest: card process: %w", err)
	}
	if line = strings.TrimSpace(line); line != "ok" {
		return errors.New("pcsctest: card process: " + line)
	}
	return nil
}
