package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/volcard/volcard/bankgw/banksim"
	"github.com/volcard/volcard/issuance"
	"github.com/volcard/volcard/issuance/store"
	"github.com/volcard/volcard/issuance/store/storetest"
)

// clusterChildEnv makes the test binary a serve process (the cluster and
// soak tests start two and kill one).
const clusterChildEnv = "VOLCARD_CLUSTER_SERVE"

// serveChild runs serve from the environment until SIGTERM or SIGKILL.
func serveChild(t *testing.T) {
	cfg, err := configFromEnv(os.Getenv)
	require.NoError(t, err)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	require.NoError(t, runServe(ctx, cfg, false, io.Discard, os.Stderr))
}

// cluster is a PostgreSQL database, a bank simulator over TCP and the serve
// processes started on them, as docs/operations.md describes a deployment.
type cluster struct {
	t     testing.TB
	dir   string
	env   []string // shared by every process
	st    *store.Store
	svc   *issuance.Service
	sim   *banksim.Sim
	token string // the first province_admin token
}

// newCluster migrates and seeds a fresh database (the demo catalogue), and
// starts the bank simulator with the catalogue's BINs.
func newCluster(t testing.TB) *cluster {
	t.Helper()
	dbURL := storetest.PostgresDatabaseURL(t)
	key := make([]byte, 32)
	_, _ = rand.Read(key)
	c := &cluster{t: t, dir: t.TempDir()}
	c.env = []string{clusterChildEnv + "=1", envDatabaseURL + "=" + dbURL, envDataKey + "=" + hex.EncodeToString(key),
		envBankPoll + "=50ms", envBankTimeout + "=5s", envLogFormat + "=text"}
	cfg, err := configFromEnv(func(k string) string {
		for _, kv := range c.env {
			if v, ok := strings.CutPrefix(kv, k+"="); ok {
				return v
			}
		}
		return ""
	})
	require.NoError(t, err)
	cfg.DataDir = filepath.Join(c.dir, "seed")
	log := slog.New(slog.DiscardHandler)
	c.svc, c.st, err = cfg.openService(t.Context(), log)
	require.NoError(t, err)
	t.Cleanup(func() { _ = c.st.Close() })
	require.NoError(t, seedDemoIfEmpty(t.Context(), c.svc, c.st, log))
	bins, err := bankProductBINs(t.Context(), c.svc)
	require.NoError(t, err)
	c.sim, err = banksim.New(banksim.Config{ProductBINs: bins, Logger: log})
	require.NoError(t, err)
	require.NoError(t, c.sim.Start("127.0.0.1:0"))
	t.Cleanup(c.sim.Close)
	c.env = append(c.env, envBankAddr+"="+c.sim.Addr())
	return c
}

// serveProc is one serve process of the cluster.
type serveProc struct {
	name string
	cmd  *exec.Cmd
	base string
	log  *os.File
	done chan struct{}
}

// start runs a serve process (the test binary as serveChild) and waits
// until it is ready. The first one creates the admin token.
func (c *cluster) start(name string) *serveProc {
	c.t.Helper()
	return c.startAt(name, freeAddr(c.t.(*testing.T)))
}

// startAt is start on a given address (a process restarted where its
// clients expect it).
func (c *cluster) startAt(name, addr string) *serveProc {
	c.t.Helper()
	logf, err := os.Create(filepath.Join(c.dir, name+".log"))
	require.NoError(c.t, err)
	cmd := exec.Command(os.Args[0], "-test.run=^TestCluster$", "-test.count=1")
	cmd.Env = append(append(os.Environ(), c.env...), envListen+"="+addr, envDataDir+"="+filepath.Join(c.dir, name))
	cmd.Stdout, cmd.Stderr = logf, logf
	require.NoError(c.t, cmd.Start())
	p := &serveProc{name: name, cmd: cmd, base: "http://" + addr, log: logf, done: make(chan struct{})}
	go func() { _ = cmd.Wait(); close(p.done) }()
	c.t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-p.done:
		case <-time.After(20 * time.Second):
			_ = cmd.Process.Kill()
			<-p.done
		}
		_ = logf.Close()
		if c.t.Failed() {
			b, _ := os.ReadFile(logf.Name())
			c.t.Logf("%s log (last 4 KB):\n%s", name, b[max(0, len(b)-4096):])
		}
	})
	require.Eventually(c.t, func() bool {
		select {
		case <-p.done:
			b, _ := os.ReadFile(logf.Name())
			c.t.Fatalf("%s exited at start:\n%s", name, b)
		default:
		}
		res, err := http.Get(p.base + "/readyz")
		if err != nil {
			return false
		}
		res.Body.Close()
		return res.StatusCode == http.StatusOK
	}, 60*time.Second, 50*time.Millisecond, "%s ready", name)
	if c.token == "" {
		b, err := os.ReadFile(filepath.Join(c.dir, name, adminTokenFile))
		require.NoError(c.t, err)
		c.token = strings.TrimSpace(string(b))
	}
	return p
}

// kill ends p with SIGKILL: no shutdown, no lease released.
func (p *serveProc) kill(t testing.TB) {
	require.NoError(t, p.cmd.Process.Kill())
	<-p.done
}

// call makes one API request as the admin and decodes a JSON answer.
func (c *cluster) call(p *serveProc, method, path string, body, out any) (int, error) {
	var rd io.Reader
	if body != nil {
		j, err := json.Marshal(body)
		if err != nil {
			return 0, err
		}
		rd = bytes.NewReader(j)
	}
	req, err := http.NewRequest(method, p.base+path, rd)
	if err != nil {
		return 0, err
	}
	req.Header.Set("Authorization", "Bearer "+c.token)
	req.Header.Set("Content-Type", "application/json")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, err
	}
	defer res.Body.Close()
	if out != nil && res.StatusCode < 300 {
		if err := json.NewDecoder(res.Body).Decode(out); err != nil {
			return res.StatusCode, err
		}
	}
	return res.StatusCode, nil
}

// residentID returns a valid resident ID number, distinct for each n below
// 336,000 (born in 1990: the month, the day and the sequence number vary).
func residentID(n int) string {
	body := fmt.Sprintf("4401021990%02d%02d%03d", 1+(n/28000)%12, 1+(n/1000)%28, n%1000)
	return body + string(issuance.ResidentIDCheckChar(body))
}

// apply registers volunteer n and submits an application through p,
// returning its id.
func (c *cluster) apply(t testing.TB, p *serveProc, n int) int64 {
	t.Helper()
	var vol struct{ ID int64 }
	code, err := c.call(p, "POST", "/v1/volunteers", map[string]any{
		"name": "志愿者" + fmt.Sprint(n), "id_number": residentID(n), "phone": "13812345678", "org_id": 2, "clothing_size": "M"}, &vol)
	require.NoError(t, err)
	require.Equal(t, http.StatusCreated, code)
	var app struct{ ID int64 }
	code, err = c.call(p, "POST", "/v1/applications", map[string]any{"volunteer_id": vol.ID, "product": "GD-RV-BOC", "channel": "online"}, &app)
	require.NoError(t, err)
	require.Equal(t, http.StatusCreated, code)
	return app.ID
}

// approveAll approves the applications at once, spread over the processes:
// their bank requests are due together.
func (c *cluster) approveAll(t testing.TB, ids []int64, procs ...*serveProc) {
	t.Helper()
	var wg sync.WaitGroup
	for i, id := range ids {
		wg.Go(func() {
			code, err := c.call(procs[i%len(procs)], "POST", fmt.Sprintf("/v1/applications/%d/approve", id), nil, nil)
			if err != nil || code != http.StatusOK {
				t.Errorf("approve %d: %d %v", id, code, err)
			}
		})
	}
	wg.Wait()
}

type leasedRow struct {
	ID           int64
	LeaseOwner   string
	LeaseUntilMs int64
	State        string
}

// rows returns the bank requests in flight or since resolved, by id.
func (c *cluster) rows(t testing.TB) map[int64]leasedRow {
	t.Helper()
	var rows []leasedRow
	require.NoError(t, c.st.DB(t.Context()).Raw(`SELECT id, lease_owner, lease_until_ms, state FROM bank_requests`).Scan(&rows).Error)
	out := map[int64]leasedRow{}
	for _, r := range rows {
		out[r.ID] = r
	}
	return out
}

// checkOneCardEach checks that every application ended bank_approved once,
// with one card at the bank: nothing lost, nothing doubled.
func (c *cluster) checkOneCardEach(t testing.TB, ids []int64) {
	t.Helper()
	ledger := c.sim.Ledger()
	require.Len(t, ledger.Cards, len(ids), "one card per application at the bank")
	for _, id := range ids {
		ev, err := c.svc.Events(t.Context(), issuance.SystemActor(), id)
		require.NoError(t, err)
		n := 0
		for _, e := range ev {
			if e.To == issuance.StatusBankApproved {
				n++
			}
		}
		require.Equal(t, 1, n, "application %d: one bank_approved event", id)
	}
}

// TestCluster runs two serve processes on one PostgreSQL and one bank
// simulator over TCP (issue 20): the public progress limit holds across
// both; one is killed with SIGKILL while it holds bank requests in flight,
// and the other takes them over at once (long before their lease would have
// run out), with nothing lost and nothing doubled.
func TestCluster(t *testing.T) {
	if os.Getenv(clusterChildEnv) != "" {
		serveChild(t)
		return
	}
	c := newCluster(t)
	a := c.start("a")
	b := c.start("b")

	t.Run("the progress limit holds across both processes", func(t *testing.T) {
		passed := 0
		for i := range 12 {
			p := []*serveProc{a, b}[i%2]
			res, err := http.Get(p.base + "/v1/progress?number=X&id_number=Y")
			require.NoError(t, err)
			res.Body.Close()
			if res.StatusCode != http.StatusTooManyRequests {
				passed++
			}
		}
		require.Equal(t, progressBurst, passed, "one burst for the address, not one per process")
	})

	t.Run("a process with another data key refuses to start", func(t *testing.T) {
		other := make([]byte, 32)
		_, _ = rand.Read(other)
		cmd := exec.Command(os.Args[0], "-test.run=^TestCluster$", "-test.count=1")
		cmd.Env = append(append(os.Environ(), c.env...), envListen+"="+freeAddr(t),
			envDataDir+"="+filepath.Join(c.dir, "wrongkey"), envDataKey+"="+hex.EncodeToString(other))
		out, err := cmd.CombinedOutput()
		require.Error(t, err, "serve exits")
		require.Contains(t, string(out), "sealed with another data key")
		require.Contains(t, string(out), envDataKey)
	})

	// The bank answers slowly, so that requests stay in flight.
	c.sim.SetFaults(banksim.Faults{Latency: 1500 * time.Millisecond})
	var ids []int64
	for i := range 24 {
		ids = append(ids, c.apply(t, []*serveProc{a, b}[i%2], i))
	}
	c.approveAll(t, ids, a, b)
	time.Sleep(100 * time.Millisecond) // both workers claim (they poll every 50 ms)
	aOwner := fmt.Sprintf("-%d-", a.cmd.Process.Pid)
	var held map[int64]leasedRow
	require.Eventually(t, func() bool {
		held = map[int64]leasedRow{}
		for id, r := range c.rows(t) {
			if r.State == "in_flight" && strings.Contains(r.LeaseOwner, aOwner) {
				held[id] = r
			}
		}
		return len(held) > 0
	}, 30*time.Second, 10*time.Millisecond, "process a leases bank requests")
	a.kill(t)
	killed := time.Now()
	t.Logf("killed a holding %d bank requests in flight", len(held))

	for {
		now := time.Now().UnixMilli()
		rows, waiting := c.rows(t), 0
		for id, was := range held {
			if r := rows[id]; r.State == "in_flight" && r.LeaseOwner == was.LeaseOwner {
				require.Less(t, now, was.LeaseUntilMs, "row %d waited for the dead process's lease to run out", id)
				waiting++
			}
		}
		if waiting == 0 {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Logf("process b took them over in %v (their leases had %v left)", time.Since(killed).Round(time.Millisecond),
		time.Until(time.UnixMilli(minLease(held))).Round(time.Second))

	c.sim.SetFaults(banksim.Faults{})
	require.Eventually(t, func() bool {
		for _, id := range ids {
			app, err := c.svc.GetApplication(t.Context(), issuance.SystemActor(), id)
			require.NoError(t, err)
			if app.Status != issuance.StatusBankApproved {
				return false
			}
		}
		return true
	}, 60*time.Second, 50*time.Millisecond, "every application reaches bank_approved")
	c.checkOneCardEach(t, ids)
}

func minLease(rows map[int64]leasedRow) int64 {
	m := int64(0)
	for _, r := range rows {
		if m == 0 || r.LeaseUntilMs < m {
			m = r.LeaseUntilMs
		}
	}
	return m
}
