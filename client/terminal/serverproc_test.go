package terminal_test

import (
	"os"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/volcard/volcard/cardio/pcsc/pcsctest"
	"github.com/volcard/volcard/client"
	"github.com/volcard/volcard/internal/testproc"
	"github.com/volcard/volcard/issuance/store/storetest"
)

func TestMain(m *testing.M) {
	pcsctest.ServeCardProcess() // BenchmarkTapPCSC's card process
	os.Exit(m.Run())
}

// serverProcEnv marks the server process of BenchmarkTapPCSC: the test
// binary re-executed to run TestServerProcess only, as the server. In
// production the terminal and the server are different machines; in one
// process the server's garbage collection and goroutines would land in the
// middle of the card reads the benchmark times.
const serverProcEnv = "VOLCARD_TERMINAL_BENCH_SERVER"

// procServer is what the server process tells the benchmark.
type procServer struct {
	URL        string `json:"url"`
	Token      string `json:"token"`
	ActivityID int64  `json:"activity_id"`
}

// TestServerProcess checks the server process BenchmarkTapPCSC runs:
// started as the benchmark starts it, it hands the terminal a challenge.
// In that child process (serverProcEnv set) the same test is the server:
// newServer on PostgreSQL, serving until its standard input closes.
func TestServerProcess(t *testing.T) {
	if os.Getenv(serverProcEnv) != "" {
		s := newServer(t, storetest.Postgres(t))
		s.clock.set(time.Date(2026, 11, 23, 10, 0, 0, 0, cst))
		require.NoError(t, testproc.Serve(procServer{URL: s.ts.URL, Token: s.token, ActivityID: s.act.ID}))
		return
	}
	storetest.PostgresURL(t) // the child needs PostgreSQL: skip or fail as every PostgreSQL test does
	srv := startServerProcess(t)
	cl, err := client.New(srv.URL, srv.Token)
	require.NoError(t, err)
	ch, err := cl.Challenge(t.Context())
	require.NoError(t, err)
	require.Len(t, ch.UN, 4)
}

// startServerProcess runs the check-in server in a child process and
// returns where it listens; the child stops when the test ends.
func startServerProcess(t testing.TB) procServer {
	t.Helper()
	var ps procServer
	testproc.Start(t, "^TestServerProcess$", []string{serverProcEnv + "=1"}, &ps)
	return ps
}
