package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"golang.org/x/time/rate"

	"github.com/volcard/volcard/cardio"
	"github.com/volcard/volcard/cardio/cardsim"
	"github.com/volcard/volcard/cardio/emv"
	"github.com/volcard/volcard/client"
	"github.com/volcard/volcard/client/terminal"
	"github.com/volcard/volcard/internal/testcards"
	"github.com/volcard/volcard/issuance"
	"github.com/volcard/volcard/issuance/checkin"
	"github.com/volcard/volcard/wire"
)

// soakEnv sets the soak's length (make soak: VOLCARD_SOAK=60s); the rates
// are VOLCARD_SOAK_APPS, _TAPS and _READS per second.
const soakEnv = "VOLCARD_SOAK"

// errRetry marks an answer worth sending again, to the other process.
var errRetry = errors.New("retry")

// soakStats are one kind of operation's figures.
type soakStats struct {
	mu      sync.Mutex
	lat     []time.Duration
	retries atomic.Int64
	failed  atomic.Int64
	lastErr atomic.Value
}

func (s *soakStats) done(d time.Duration) { s.mu.Lock(); s.lat = append(s.lat, d); s.mu.Unlock() }

func (s *soakStats) summary(name string, secs float64) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	slices.Sort(s.lat)
	q := func(p float64) time.Duration {
		if len(s.lat) == 0 {
			return 0
		}
		return s.lat[min(len(s.lat)-1, int(p*float64(len(s.lat))))].Round(100 * time.Microsecond)
	}
	return fmt.Sprintf("| %s | %d | %.0f/s | %v | %v | %v | %d | %d |", name, len(s.lat), float64(len(s.lat))/secs,
		q(0.5), q(0.99), q(1), s.retries.Load(), s.failed.Load())
}

// rss returns a process's resident set size in KiB.
func rss(t testing.TB, pid int) int {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	require.NoError(t, err)
	for _, l := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, "VmRSS:"); ok {
			n, err := strconv.Atoi(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")))
			require.NoError(t, err)
			return n
		}
	}
	t.Fatal("no VmRSS")
	return 0
}

// TestSoak (make soak) runs applications, taps and reads against two serve
// processes on one PostgreSQL for VOLCARD_SOAK, kills one with SIGKILL
// halfway, and checks: no operation fails (clients send again to the other
// process, with the same Idempotency-Key or tap sequence), nothing is lost
// or doubled (every application bank_approved once with one card, one
// volunteer per registration, one tap row per tap), and the survivor's
// memory is flat (RSS at the end ≤ 1.2 × after warm-up). The figures go to
// docs/benchmarks.md.
func TestSoak(t *testing.T) {
	if os.Getenv(clusterChildEnv) != "" {
		serveChild(t)
		return
	}
	length, err := time.ParseDuration(os.Getenv(soakEnv))
	if err != nil || length < 10*time.Second {
		t.Skipf("the soak runs with make soak (%s=60s; at least 10s); got %q", soakEnv, os.Getenv(soakEnv))
	}
	rateOf := func(name string, def float64) float64 {
		if v, err := strconv.ParseFloat(os.Getenv(name), 64); err == nil && v > 0 {
			return v
		}
		return def
	}
	appsRate, tapsRate, readsRate := rateOf(soakEnv+"_APPS", 40), rateOf(soakEnv+"_TAPS", 150), rateOf(soakEnv+"_READS", 150)

	c := newCluster(t)
	c.env = append(c.env, envCAKeys+"="+filepath.Join(testcards.Root(t), "testdata", "keys", "ca-public.json"),
		envLogLevel+"=warn")
	ctx := t.Context()
	a := c.start("soak-a")
	b := c.start("soak-b")
	procs := []*serveProc{a, b}

	// Check-in: an activity running now, one terminal token per tap worker,
	// 64 genuine cards whose holders are registered.
	sys := issuance.SystemActor()
	cas, err := emv.LoadCAKeys(filepath.Join(testcards.Root(t), "testdata", "keys", "ca-public.json"))
	require.NoError(t, err)
	ck, err := checkin.New(c.svc, c.st, checkin.Config{Verifier: emv.EvidenceVerifier{CAs: cas}})
	require.NoError(t, err)
	act, err := ck.CreateActivity(ctx, sys, checkin.NewActivity{OrgID: 2, Title: "压力测试志愿服务",
		StartsAt: time.Now().Add(-time.Hour), EndsAt: time.Now().Add(3 * time.Hour)})
	require.NoError(t, err)
	const tapWorkers, cardsPerWorker = 8, 8
	type tapWorker struct {
		clients []*client.Client // one per process
		cards   []cardio.Card
		seq     int64
	}
	workers := make([]*tapWorker, tapWorkers)
	for w := range workers {
		tok, _, err := c.svc.CreateToken(ctx, sys, issuance.NewToken{Name: fmt.Sprintf("soak gate %d", w), Role: issuance.RoleTerminal, OrgID: 2})
		require.NoError(t, err)
		tw := &tapWorker{}
		for _, p := range procs {
			cl, err := client.New(p.base, tok)
			require.NoError(t, err)
			tw.clients = append(tw.clients, cl)
		}
		for i := range cardsPerWorker {
			sim, id := testcards.Clone(t, w*cardsPerWorker+i)
			_, err := c.svc.RegisterVolunteer(ctx, sys, issuance.NewVolunteer{OrgID: 2, Name: "志愿者", EmbossName: "VOLUNTEER",
				IDNumber: id, Phone: "13812345678"})
			require.NoError(t, err)
			conn, err := cardsim.NewReaders(sim).Connect(ctx, cardsim.ReaderName, cardio.ShareExclusive)
			require.NoError(t, err)
			tw.cards = append(tw.cards, conn)
		}
		workers[w] = tw
	}
	var baseVolunteers int64
	require.NoError(t, c.st.DB(ctx).Raw(`SELECT count(*) FROM volunteers`).Scan(&baseVolunteers).Error)

	var dead atomic.Int32 // index+1 of the killed process
	// send tries op on the processes in turn, from a random one, skipping
	// the dead one, until it succeeds or the attempts run out.
	send := func(st *soakStats, op func(p int) error) error {
		start := time.Now()
		first := rand.IntN(len(procs))
		var err error
		for try := range 8 {
			p := (first + try) % len(procs)
			if int(dead.Load()) == p+1 {
				p = (p + 1) % len(procs)
			}
			if err = op(p); err == nil {
				st.done(time.Since(start))
				return nil
			}
			if !errors.Is(err, errRetry) {
				break
			}
			st.retries.Add(1)
			time.Sleep(time.Duration(try*20) * time.Millisecond)
		}
		st.failed.Add(1)
		st.lastErr.Store(err.Error())
		return err
	}
	// post makes one admin request with an Idempotency-Key.
	post := func(p int, method, path, key string, body, out any) error {
		var rd io.Reader
		if body != nil {
			j, _ := json.Marshal(body)
			rd = bytes.NewReader(j)
		}
		req, _ := http.NewRequestWithContext(ctx, method, procs[p].base+path, rd)
		req.Header.Set("Authorization", "Bearer "+c.token)
		req.Header.Set("Content-Type", "application/json")
		if key != "" {
			req.Header.Set("Idempotency-Key", key)
		}
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			return fmt.Errorf("%w: %v", errRetry, err)
		}
		defer res.Body.Close()
		raw, _ := io.ReadAll(res.Body)
		switch {
		case res.StatusCode >= 500, res.StatusCode == http.StatusConflict && strings.Contains(string(raw), "in-flight"):
			return fmt.Errorf("%w: %s %s: %d %s", errRetry, method, path, res.StatusCode, raw)
		case res.StatusCode >= 300:
			return fmt.Errorf("%s %s: %d %s", method, path, res.StatusCode, raw)
		}
		if out != nil {
			return json.Unmarshal(raw, out)
		}
		return nil
	}

	var appStats, tapStats, readStats soakStats
	var appIDs []int64
	var appMu sync.Mutex
	var taps atomic.Int64
	var nextVolunteer atomic.Int64
	runUntil := time.Now().Add(length)
	lctx, stop := context.WithDeadline(ctx, runUntil)
	defer stop()
	var wg sync.WaitGroup
	loop := func(perSec float64, n int, body func(w int)) {
		lim := rate.NewLimiter(rate.Limit(perSec), 1)
		for w := range n {
			wg.Go(func() {
				for lim.Wait(lctx) == nil {
					body(w)
				}
			})
		}
	}
	loop(appsRate, 4, func(int) {
		n := int(nextVolunteer.Add(1))
		var vol struct{ ID int64 }
		var app struct{ ID int64 }
		err := send(&appStats, func(p int) error {
			if vol.ID == 0 {
				if err := post(p, "POST", "/v1/volunteers", fmt.Sprintf("soak-vol-%d", n), map[string]any{
					"name": "志愿者" + strconv.Itoa(n), "id_number": residentID(n), "phone": "13812345678", "org_id": 2, "clothing_size": "M"}, &vol); err != nil {
					return err
				}
			}
			if app.ID == 0 {
				if err := post(p, "POST", "/v1/applications", fmt.Sprintf("soak-app-%d", n),
					map[string]any{"volunteer_id": vol.ID, "product": "GD-RV-BOC", "channel": "online"}, &app); err != nil {
					return err
				}
			}
			return post(p, "POST", fmt.Sprintf("/v1/applications/%d/approve", app.ID), fmt.Sprintf("soak-approve-%d", n), nil, nil)
		})
		if err == nil {
			appMu.Lock()
			appIDs = append(appIDs, app.ID)
			appMu.Unlock()
		}
	})
	loop(tapsRate, tapWorkers, func(w int) {
		tw := workers[w]
		card := tw.cards[rand.IntN(len(tw.cards))]
		tw.seq++
		seq := tw.seq
		var req *wire.TapRequest
		err := send(&tapStats, func(p int) error {
			if req == nil { // a challenge of any process: they are in the database
				ch, err := tw.clients[p].Challenge(ctx)
				if err != nil {
					return retryable(err)
				}
				_, ev, err := terminal.ReadCard(ctx, card, ch.UN, emv.Options{})
				if err != nil {
					return err
				}
				req = &wire.TapRequest{Seq: seq, ChallengeID: ch.ID, Card: ev}
			}
			_, err := tw.clients[p].Tap(ctx, act.ID, *req)
			return retryable(err)
		})
		if err == nil {
			taps.Add(1)
		}
	})
	loop(readsRate, 4, func(int) {
		appMu.Lock()
		if len(appIDs) == 0 {
			appMu.Unlock()
			return
		}
		id := appIDs[rand.IntN(len(appIDs))]
		appMu.Unlock()
		_ = send(&readStats, func(p int) error {
			return post(p, "GET", fmt.Sprintf("/v1/applications/%d", id), "", nil, nil)
		})
	})

	// Warm-up: a quarter of the run; the kill: halfway.
	time.Sleep(length / 4)
	warm := rss(t, b.cmd.Process.Pid)
	time.Sleep(length/2 - length/4)
	dead.Store(1)
	a.kill(t)
	killedAt := time.Now()
	wg.Wait()
	end := rss(t, b.cmd.Process.Pid)
	secs := length.Seconds()

	t.Logf("soak %v: rates asked apps %.0f/s, taps %.0f/s, reads %.0f/s; process a killed at %v", length,
		appsRate, tapsRate, readsRate, killedAt.Sub(runUntil.Add(-length)).Round(time.Second))
	t.Logf("| operation | done | rate | p50 | p99 | max | retried | failed |")
	t.Logf("%s", appStats.summary("application (register, apply, approve)", secs))
	t.Logf("%s", tapStats.summary("tap (challenge, card read, tap)", secs))
	t.Logf("%s", readStats.summary("read (GET application)", secs))
	t.Logf("survivor RSS: %d KiB after warm-up, %d KiB at the end (× %.2f)", warm, end, float64(end)/float64(warm))
	for name, s := range map[string]*soakStats{"application": &appStats, "tap": &tapStats, "read": &readStats} {
		if v := s.lastErr.Load(); v != nil {
			t.Logf("last %s error: %s", name, v)
		}
		require.Zero(t, s.failed.Load(), "%s operations failed", name)
	}

	// Nothing lost, nothing doubled.
	require.Eventually(t, func() bool {
		var open int64
		require.NoError(t, c.st.DB(ctx).Raw(`SELECT count(*) FROM applications WHERE id IN ? AND status <> ?`,
			appIDs, string(issuance.StatusBankApproved)).Scan(&open).Error)
		return open == 0
	}, 2*time.Minute, 200*time.Millisecond, "every application reaches bank_approved")
	c.checkOneCardEach(t, appIDs)
	var vols, tapRows int64
	require.NoError(t, c.st.DB(ctx).Raw(`SELECT count(*) FROM volunteers`).Scan(&vols).Error)
	require.EqualValues(t, int64(len(appIDs)), vols-baseVolunteers, "one volunteer per registration, none doubled by a retry")
	require.NoError(t, c.st.DB(ctx).Raw(`SELECT count(*) FROM taps WHERE activity_id = ?`, act.ID).Scan(&tapRows).Error)
	require.Equal(t, taps.Load(), tapRows, "one tap row per tap, none doubled by a retry")
	require.LessOrEqual(t, float64(end), 1.2*float64(warm), "the survivor's memory is flat")
}

// retryable marks the client's retryable errors (unreachable, 5xx, 429).
func retryable(err error) error {
	if err != nil && client.Retryable(err) {
		return fmt.Errorf("%w: %w", errRetry, err)
	}
	return err
}
