package personalize_test

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"os"
	"os/exec"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/volcard/volcard/api/client"
	"github.com/volcard/volcard/cardio/pcsc/pcsctest"
	"github.com/volcard/volcard/issuance"
	"github.com/volcard/volcard/issuance/dataprep"
)

func TestMain(m *testing.M) {
	pcsctest.ServeCardProcess() // BenchmarkPersonalizePCSC's card process
	os.Exit(m.Run())
}

// serverProcEnv marks the server process of BenchmarkPersonalizePCSC: the
// test binary re-executed to run TestServerProcess only. In production the
// branch client and the server are different machines; in one process the
// server's garbage collection (each script is some hundred kilobytes of
// allocations) and its database work would land in the middle of the card
// exchanges the benchmark times.
const serverProcEnv = "VOLCARD_PERSONALIZE_BENCH_SERVER"

// procWorld is what the server process tells the benchmark.
type procWorld struct {
	URL    string `json:"url"`
	Admin  string `json:"admin"`
	Staff  string `json:"staff"`
	CityID int64  `json:"city_id"`
}

// TestServerProcess is not a test of its own: it is the entry point of
// BenchmarkPersonalizePCSC's server process (newWorld: PostgreSQL, banksim,
// the outbox, the HTTP server), and returns at once in a normal test run.
// It prints a procWorld line and serves until its standard input closes.
func TestServerProcess(t *testing.T) {
	if os.Getenv(serverProcEnv) == "" {
		t.Skip("the server process of BenchmarkPersonalizePCSC; runs only when the benchmark starts it")
	}
	// The outbox polls every 100 ms, not 10: a poll is a query in this
	// process and in PostgreSQL, on the two cores the card exchanges use.
	w := newWorldPolling(t, 100*time.Millisecond)
	require.NoError(t, json.NewEncoder(os.Stdout).Encode(procWorld{URL: w.url, Admin: w.admin, Staff: w.staff, CityID: w.city.ID}))
	_, _ = io.Copy(io.Discard, os.Stdin)
}

// startServerProcess runs newWorld in a child process and returns a world
// that reaches it over HTTP (apply, status, the personalization client);
// the child ends with the benchmark.
func startServerProcess(b *testing.B) *world {
	b.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestServerProcess$")
	cmd.Env = append(os.Environ(), serverProcEnv+"=1")
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	require.NoError(b, err)
	stdout, err := cmd.StdoutPipe()
	require.NoError(b, err)
	require.NoError(b, cmd.Start())
	b.Cleanup(func() {
		_ = stdin.Close()
		_ = cmd.Wait()
	})
	line, err := bufio.NewReader(stdout).ReadBytes('\n')
	require.NoError(b, err, "the server process exited before it was ready")
	var pw procWorld
	require.NoError(b, json.Unmarshal(line, &pw))
	w := &world{t: b, url: pw.URL, admin: pw.Admin, staff: pw.Staff, city: issuance.Org{ID: pw.CityID}}
	// The blank cards' KMC comes from the same test key files the server uses.
	ks, err := dataprep.LoadSoftKeyStore(dataprep.SoftKeyStoreConfig{Dir: keysDir, ProductBINs: map[string]string{productCode: productBIN}})
	require.NoError(b, err)
	w.kmc, err = ks.KMC(context.Background(), 0)
	require.NoError(b, err)
	w.api, err = client.New(w.url, w.staff)
	require.NoError(b, err)
	return w
}
