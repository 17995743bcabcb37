package terminal_test

import (
	"context"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/volcard/volcard/cardio/pcsc/pcsctest"
	"github.com/volcard/volcard/internal/testproc"
	"github.com/volcard/volcard/issuance/store"
	"github.com/volcard/volcard/issuance/store/storetest"
)

// serverProcEnv, when set to a database URL, makes this test binary serve
// the check-in API on that database instead of running tests: the
// server process of BenchmarkTapPCSC. In production the terminal and the
// server are different machines; in one process the server's garbage
// collection and goroutines would land in the middle of the card reads the
// benchmark times.
const serverProcEnv = "VOLCARD_TERMINAL_BENCH_SERVER"

func TestMain(m *testing.M) {
	pcsctest.ServeCardProcess() // BenchmarkTapPCSC's card process
	if dsn := os.Getenv(serverProcEnv); dsn != "" {
		os.Exit(serveProcess(dsn))
	}
	os.Exit(m.Run())
}

// procServer is what the server process tells the benchmark on its first
// line of output.
type procServer struct {
	URL        string `json:"url"`
	Token      string `json:"token"`
	ActivityID int64  `json:"activity_id"`
}

// serveProcess sets up the same server as newServer on dsn, prints a
// procServer line and serves until its standard input closes.
func serveProcess(dsn string) int {
	p := &procTB{}
	defer p.cleanup()
	st, err := store.Open(context.Background(), dsn)
	if err != nil {
		fmt.Fprintln(os.Stderr, "server process:", err)
		return 1
	}
	p.Cleanup(func() { st.Close() })
	s := newServer(p, st)
	s.clock.set(time.Date(2026, 11, 23, 10, 0, 0, 0, cst))
	if err := testproc.Serve(procServer{URL: s.ts.URL, Token: s.token, ActivityID: s.act.ID}); err != nil {
		return 1
	}
	return 0
}

// procTB stands in for testing.TB in the server process: a failed
// requirement prints the message and exits 1.
type procTB struct{ cleanups []func() }

func (p *procTB) Errorf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "server process: "+format+"\n", args...)
}
func (p *procTB) FailNow()         { p.cleanup(); os.Exit(1) }
func (p *procTB) Helper()          {}
func (p *procTB) Cleanup(f func()) { p.cleanups = append(p.cleanups, f) }
func (p *procTB) cleanup() {
	for i := len(p.cleanups) - 1; i >= 0; i-- {
		p.cleanups[i]()
	}
	p.cleanups = nil
}

// startServerProcess runs the check-in server in a child process on a
// fresh database and returns where it listens; the child stops when the
// benchmark ends.
func startServerProcess(b *testing.B) procServer {
	b.Helper()
	var ps procServer
	testproc.Start(b, "^$", []string{serverProcEnv + "=" + storetest.PostgresDatabaseURL(b)}, &ps)
	return ps
}
