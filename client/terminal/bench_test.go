package terminal_test

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"runtime"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/volcard/volcard/api"
	"github.com/volcard/volcard/cardio"
	"github.com/volcard/volcard/cardio/cardsim"
	"github.com/volcard/volcard/cardio/emv"
	"github.com/volcard/volcard/cardio/pcsc/pcsctest"
	"github.com/volcard/volcard/client"
	"github.com/volcard/volcard/client/terminal"
	"github.com/volcard/volcard/internal/testcards"
	"github.com/volcard/volcard/issuance"
	"github.com/volcard/volcard/issuance/store"
	"github.com/volcard/volcard/issuance/store/storetest"
	"github.com/volcard/volcard/wire"
)

// BenchmarkTapPCSC measures one tap through the terminal code path: a
// challenge from the server (PostgreSQL, real HTTP), the card read through
// pcscd + vpcd, the tap posted and decided. As in production, the server
// and the card are not in the terminal's process: each runs in a child
// process (this test binary re-executed), so neither's garbage collection
// nor goroutines land in the middle of the card reads the benchmark times.
// It reports the APDUs per tap, the card time and the server time apart,
// the APDU round trip (a 2-byte command on the same connection, measured
// between taps), and the ratio card time ÷ (APDUs × round trip), card/floor;
// also the software card's own computation in a tap (card-busy-ms/tap,
// measured in the card process, as BenchmarkPersonalizePCSC does) and
// (card−busy)/floor, what the terminal code, pcscd and the driver add to the
// floor. The goal is (card−busy)/floor ≤ 1.25: the exchanges without the
// software card's own computation, which a real card does in its own
// hardware; card/floor stays reported.
func BenchmarkTapPCSC(b *testing.B) {
	r := pcsctest.Start(b)
	slot := pcsctest.Slot(b)
	img, err := cardsim.LoadImage(filepath.Join("..", "..", "testdata", "cards", "default.json"))
	require.NoError(b, err)
	cp := pcsctest.InsertProcess(b, slot, img)
	srv := startServerProcess(b)
	cl, err := client.New(srv.URL, srv.Token)
	require.NoError(b, err)
	q, err := terminal.OpenQueue(b.Context(), filepath.Join(b.TempDir(), "queue.db"), []byte(srv.Token))
	require.NoError(b, err)
	defer q.Close()
	term, err := terminal.New(terminal.Config{API: cl, Queue: q, ActivityID: srv.ActivityID})
	require.NoError(b, err)
	ctx := b.Context()
	card, err := r.Connect(ctx, slot.Reader, cardio.ShareExclusive)
	require.NoError(b, err)
	defer card.Disconnect(context.Background())

	var apdus int
	var cardT, serverT, rtT, busy time.Duration
	var rtN int
	n := 0
	last := cp.Busy(b)
	for b.Loop() {
		o, err := term.TapCard(ctx, card)
		if err != nil || o.Status != terminal.StatusOK {
			b.Fatalf("tap: %v %+v", err, o)
		}
		n++
		apdus, cardT, serverT = o.APDUs, cardT+o.CardTime, serverT+o.ServerTime
		b.StopTimer()
		now := cp.Busy(b)
		busy += now - last
		for range apdus {
			start := time.Now()
			if _, err := card.Transmit(ctx, []byte{0x00, 0x00}); err != nil {
				b.Fatal(err)
			}
			rtT += time.Since(start)
			rtN++
		}
		last = cp.Busy(b)
		b.StartTimer()
	}
	rt := float64(rtT.Nanoseconds()) / float64(rtN)
	cardPer := float64(cardT.Nanoseconds()) / float64(n)
	b.ReportMetric(float64(apdus), "apdus/tap")
	b.ReportMetric(cardPer/1e6, "card-ms/tap")
	b.ReportMetric(float64(serverT.Nanoseconds())/float64(n)/1e6, "server-ms/tap")
	b.ReportMetric(rt/1e3, "rtt-µs")
	b.ReportMetric(cardPer/(float64(apdus)*rt), "card/floor")
	busyPer := float64(busy.Nanoseconds()) / float64(n)
	b.ReportMetric(busyPer/1e6, "card-busy-ms/tap")
	b.ReportMetric((cardPer-busyPer)/(float64(apdus)*rt), "(card−busy)/floor")
}

// BenchmarkTapsHTTP measures the server: taps per second over real HTTP on
// PostgreSQL, 64 different cards (holders) tapped by 8 and by 32
// concurrent terminals (a busy site's gate and a whole venue), each tap
// with its own challenge, through the production default connection pool
// (four per CPU). Challenges and card
// signatures are made before the timer; the timed part is POST
// /v1/activities/{id}/taps (verification of the certificate chain and the
// signature, card lookup, attendance, hours, stars, tap record). Reports
// taps/s and the p50 and p99 latencies.
func BenchmarkTapsHTTP(b *testing.B) {
	for _, workers := range []int{8, 32} {
		b.Run(fmt.Sprintf("terminals=%d", workers), func(b *testing.B) { benchTapsHTTP(b, workers) })
	}
}

func benchTapsHTTP(b *testing.B, workers int) {
	ctx := context.Background()
	dbURL := storetest.PostgresDatabaseURL(b)
	// The pool `volcard serve` opens by default: four connections per CPU
	// (eight on the 2-core reference machine). A bigger pool only moves
	// the queue into PostgreSQL, where the taps then contend for the CPU
	// with each other and with the benchmark's own client.
	st, err := store.Open(ctx, dbURL, store.Options{MaxOpenConns: max(4, 4*runtime.GOMAXPROCS(0))})
	require.NoError(b, err)
	defer st.Close()
	s := newServer(b, st)
	const cards = 64
	var sims []*cardsim.Card
	for i := range cards {
		c, id := testcards.Clone(b, i)
		sims = append(sims, c)
		_, err := s.svc.RegisterVolunteer(ctx, issuance.SystemActor(), issuance.NewVolunteer{OrgID: s.act.OrgID,
			Name: "志愿者", EmbossName: "VOLUNTEER", IDNumber: id, Phone: "13812345678"})
		require.NoError(b, err)
	}
	// A server with less logging and a bigger connection pool than the e2e one.
	srv, err := api.New(api.Options{Service: s.svc, Logger: slog.New(slog.DiscardHandler)})
	require.NoError(b, err)
	require.NoError(b, srv.EnableCheckin(s.ck))
	ts := httptest.NewServer(srv)
	defer ts.Close()
	hc := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
	cl, err := client.New(ts.URL, s.token, client.WithHTTPClient(hc))
	require.NoError(b, err)

	type job struct {
		card int
		req  wire.TapRequest
	}
	conns := make([]cardio.Card, cards)
	for i, c := range sims {
		conns[i], err = cardsim.NewReaders(c).Connect(ctx, cardsim.ReaderName, cardio.ShareExclusive)
		require.NoError(b, err)
	}
	seq := int64(0)
	makeJobs := func(n int) []job {
		jobs := make([]job, n)
		for i := range jobs {
			ch, err := cl.Challenge(ctx)
			require.NoError(b, err)
			_, ev, err := terminal.ReadCard(ctx, conns[i%cards], ch.UN, emv.Options{})
			require.NoError(b, err)
			seq++
			jobs[i] = job{card: i % cards, req: wire.TapRequest{Seq: seq, ChallengeID: ch.ID, Card: ev}}
		}
		return jobs
	}
	b.ResetTimer()
	b.StopTimer()
	jobs := makeJobs(b.N)
	lat := make([]time.Duration, b.N)
	b.StartTimer()
	start := time.Now()
	// Worker w taps the cards w, w+workers, ...: one card is never tapped
	// twice at once (a card is in one reader at a time).
	var wg sync.WaitGroup
	var failed sync.Once
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range jobs {
				if jobs[i].card%workers != w {
					continue
				}
				t0 := time.Now()
				if _, err := cl.Tap(ctx, s.act.ID, jobs[i].req); err != nil {
					failed.Do(func() { b.Error(err) })
				}
				lat[i] = time.Since(t0)
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	b.StopTimer()
	slices.Sort(lat)
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "taps/s")
	b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1e3, "p50-ms")
	b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1e3, "p99-ms")
}
