package personalize_test

import (
	"context"
	"os"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/volcard/volcard/cardio/pcsc/pcsctest"
	"github.com/volcard/volcard/client"
	"github.com/volcard/volcard/internal/testproc"
	"github.com/volcard/volcard/issuance"
	"github.com/volcard/volcard/issuance/store/storetest"
	"github.com/volcard/volcard/personalization/dataprep"
)

func TestMain(m *testing.M) {
	pcsctest.ServeCardProcess() // BenchmarkPersonalizePCSC's card process
	os.Exit(m.Run())
}

// serverProcEnv marks the server process of BenchmarkPersonalizePCSC: the
// test binary re-executed to run TestServerProcess only, as the server. In
// production the branch client and the server are different machines; in
// one process the server's garbage collection (each script is some hundred
// kilobytes of allocations) and its database work would land in the middle
// of the card exchanges the benchmark times.
const serverProcEnv = "VOLCARD_PERSONALIZE_BENCH_SERVER"

// procWorld is what the server process tells the benchmark.
type procWorld struct {
	URL    string `json:"url"`
	Admin  string `json:"admin"`
	Staff  string `json:"staff"`
	CityID int64  `json:"city_id"`
}

// TestServerProcess checks the server process BenchmarkPersonalizePCSC
// runs: started as the benchmark starts it, it takes an application over
// HTTP to bank_approved. In that child process (serverProcEnv set) the same
// test is the server: newWorld, serving until its standard input closes.
func TestServerProcess(t *testing.T) {
	if os.Getenv(serverProcEnv) != "" {
		// The outbox polls every 100 ms, not 10: a poll is a query in this
		// process and in PostgreSQL, on the two cores the card exchanges use.
		w := newWorldPolling(t, 100*time.Millisecond)
		require.NoError(t, testproc.Serve(procWorld{URL: w.url, Admin: w.admin, Staff: w.staff, CityID: w.city.ID}))
		return
	}
	storetest.PostgresURL(t) // the child needs PostgreSQL: skip or fail as every PostgreSQL test does
	w := startServerProcess(t)
	v := w.apply("陈进程")
	w.waitBankApproved(v)
	require.Equal(t, issuance.StatusBankApproved, w.status(v.AppID))
}

// startServerProcess runs newWorld in a child process and returns a world
// that reaches it over HTTP (apply, status, the personalization client);
// the child ends with the test.
func startServerProcess(t testing.TB) *world {
	t.Helper()
	var pw procWorld
	testproc.Start(t, "^TestServerProcess$", []string{serverProcEnv + "=1"}, &pw)
	w := &world{t: t, url: pw.URL, admin: pw.Admin, staff: pw.Staff, city: issuance.Org{ID: pw.CityID}}
	// The blank cards' KMC comes from the same test key files the server uses.
	ks, err := dataprep.LoadSoftKeyStore(dataprep.SoftKeyStoreConfig{Dir: keysDir, ProductBINs: map[string]string{productCode: productBIN}})
	require.NoError(t, err)
	w.kmc, err = ks.KMC(context.Background(), 0)
	require.NoError(t, err)
	w.api, err = client.New(w.url, w.staff)
	require.NoError(t, err)
	return w
}
