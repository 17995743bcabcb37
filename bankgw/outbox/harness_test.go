package outbox_test

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"net"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/volcard/volcard/bankgw"
	"github.com/volcard/volcard/bankgw/banksim"
	"github.com/volcard/volcard/bankgw/outbox"
	"github.com/volcard/volcard/issuance"
	"github.com/volcard/volcard/issuance/store"
	"github.com/volcard/volcard/pii"
)

const (
	terminalID    = "VOLCARD1"
	institutionID = "VOLCARD00000001"
	productCode   = "GD-RV-BOC"
)

// quiet discards logs; OUTBOX_TEST_LOG=1 shows them (they are masked).
var quiet = func() *slog.Logger {
	if os.Getenv("OUTBOX_TEST_LOG") != "" {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return slog.New(slog.DiscardHandler)
}()

// env is a Service with the bank outbox on a store, a banksim over TCP on
// loopback, and what is needed to make approved applications.
type env struct {
	t        testing.TB
	st       *store.Store
	svc      *issuance.Service
	sim      *banksim.Sim
	simAddr  string
	handlers *outbox.Handlers
	province issuance.Org
	city     issuance.Org

	mu  sync.Mutex
	seq int
}

type envOpts struct {
	deny       []string
	noSim      bool // reserve the address but do not start the simulator
	simLatency time.Duration
	simBIN     string // the BIN the simulator issues PANs under; default the product's
}

func newEnv(t testing.TB, st *store.Store, o envOpts) *env {
	t.Helper()
	ctx := context.Background()
	keys, err := pii.New(bytes.Repeat([]byte{9}, 32))
	require.NoError(t, err)
	svc, err := issuance.NewService(st, keys, issuance.WithBankOutbox(st), issuance.WithLogger(quiet))
	require.NoError(t, err)
	e := &env{t: t, st: st, svc: svc}
	sys := issuance.SystemActor()
	e.province, err = svc.CreateOrg(ctx, sys, issuance.NewOrg{Kind: issuance.OrgProvince, Name: "广东省", RegionCode: "440000"})
	require.NoError(t, err)
	e.city, err = svc.CreateOrg(ctx, sys, issuance.NewOrg{ParentID: e.province.ID, Kind: issuance.OrgCity, Name: "广州市", RegionCode: "440100"})
	require.NoError(t, err)
	require.NoError(t, svc.PutBank(ctx, sys, issuance.Bank{Code: "BOC", Name: "中国银行"}))
	require.NoError(t, svc.PutProduct(ctx, sys, issuance.Product{Code: productCode, Name: "注册志愿者证（中国银行）",
		BankCode: "BOC", BIN: "621660", AID: "A000000333010101", Kind: issuance.CardDebit, OrgID: e.province.ID}))
	require.NoError(t, svc.PutBranch(ctx, sys, &issuance.Branch{BankCode: "BOC", OrgID: e.city.ID, Name: "中国银行广州分行"}))
	if o.simBIN == "" {
		o.simBIN = "621660"
	}
	e.sim, err = banksim.New(banksim.Config{BIN: o.simBIN, DenyIDs: o.deny, Logger: quiet})
	require.NoError(t, err)
	if o.noSim {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		require.NoError(t, err)
		e.simAddr = ln.Addr().String()
		require.NoError(t, ln.Close())
	} else {
		require.NoError(t, e.sim.Start("127.0.0.1:0"))
		e.simAddr = e.sim.Addr()
		t.Cleanup(e.sim.Close)
	}
	e.sim.SetFaults(banksim.Faults{Latency: o.simLatency})
	e.handlers, err = outbox.NewHandlers(svc, st, quiet)
	require.NoError(t, err)
	return e
}

// startSim starts the simulator on the reserved address.
func (e *env) startSim() {
	e.t.Helper()
	require.NoError(e.t, e.sim.Start(e.simAddr))
	e.t.Cleanup(e.sim.Close)
}

// client returns a connected gateway client using the database STANs.
func (e *env) client(timeout time.Duration, mods ...func(*bankgw.Config)) *bankgw.Client {
	e.t.Helper()
	stan, err := e.st.STAN(terminalID)
	require.NoError(e.t, err)
	cfg := bankgw.DefaultConfig([]string{e.simAddr}, terminalID, institutionID)
	cfg.STAN = stan
	cfg.Logger = quiet
	cfg.RequestTimeout = timeout
	cfg.ReconnectWait, cfg.MaxReconnectWait = 20*time.Millisecond, 100*time.Millisecond
	cfg.MaxInFlight = 256
	cfg.AdviceHandler = e.handlers.Advice
	cfg.LateResponseHandler = e.handlers.LateResponse
	for _, mod := range mods {
		mod(&cfg)
	}
	c, err := bankgw.NewClient(cfg)
	require.NoError(e.t, err)
	require.NoError(e.t, c.Connect(context.Background()))
	e.t.Cleanup(func() { _ = c.Close(context.Background()) })
	return c
}

// worker returns a worker over gw with fast test timings.
func (e *env) worker(gw outbox.Gateway, mod func(*outbox.Config)) *outbox.Worker {
	e.t.Helper()
	cfg := outbox.Config{Gateway: gw, Service: e.svc, Outbox: e.st, Workers: 2, Batch: 16,
		PollInterval: 10 * time.Millisecond, Lease: 2 * time.Second, RetryBase: 20 * time.Millisecond,
		RetryMax: 200 * time.Millisecond, Logger: quiet}
	if mod != nil {
		mod(&cfg)
	}
	w, err := outbox.New(cfg)
	require.NoError(e.t, err)
	return w
}

// run runs w until the returned stop is called; stop returns Run's error.
func run(w *outbox.Worker) (stop func() error) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- w.Run(ctx) }()
	return func() error {
		cancel()
		return <-done
	}
}

// residentID returns a valid adult resident ID number, distinct for each n.
func residentID(n int) string {
	birth := time.Date(1990, 1, 1, 0, 0, 0, 0, time.UTC).AddDate(0, 0, n/900)
	body := fmt.Sprintf("440102%s%03d", birth.Format("20060102"), 100+n%900)
	return body + string(issuance.ResidentIDCheckChar(body))
}

// approved registers a volunteer and returns an approved application.
func (e *env) approved(ctx context.Context) (issuance.Application, string) {
	e.t.Helper()
	e.mu.Lock()
	e.seq++
	n := e.seq
	e.mu.Unlock()
	id := residentID(n)
	return e.approvedFor(ctx, id), id
}

func (e *env) approvedFor(ctx context.Context, idNumber string) issuance.Application {
	e.t.Helper()
	sys := issuance.SystemActor()
	v, err := e.svc.RegisterVolunteer(ctx, sys, issuance.NewVolunteer{OrgID: e.city.ID, Name: "张三",
		IDNumber: idNumber, Phone: "13812345678", ClothingSize: "L"})
	require.NoError(e.t, err)
	app, err := e.svc.Apply(ctx, sys, v.ID, productCode, issuance.ChannelOnline)
	require.NoError(e.t, err)
	app, err = e.svc.Approve(ctx, sys, app.ID)
	require.NoError(e.t, err)
	return app
}

// status returns an application's current status.
func (e *env) status(ctx context.Context, id int64) issuance.Status {
	e.t.Helper()
	app, err := e.svc.GetApplication(ctx, issuance.SystemActor(), id)
	require.NoError(e.t, err)
	return app.Status
}

// waitStatus waits (up to a generous limit) until every application is
// in one of the final bank statuses and returns their statuses.
func (e *env) waitResolved(ctx context.Context, ids ...int64) map[int64]issuance.Status {
	e.t.Helper()
	out := map[int64]issuance.Status{}
	deadline := time.Now().Add(60 * time.Second)
	for {
		pending := 0
		for _, id := range ids {
			st := e.status(ctx, id)
			out[id] = st
			if st != issuance.StatusBankApproved && st != issuance.StatusBankDeclined {
				pending++
			}
		}
		if pending == 0 {
			return out
		}
		if time.Now().After(deadline) {
			for _, id := range ids {
				if s := out[id]; s != issuance.StatusBankApproved && s != issuance.StatusBankDeclined {
					reqs, _ := e.st.BankRequests(ctx, id)
					for _, r := range reqs {
						e.t.Logf("application %d (%s): row %d %s %s attempts %d repeats %d maybe_sent %v trace %+v lease %s until %s next %s err %q",
							id, s, r.ID, r.Kind, r.State, r.Attempts, r.Repeats, r.MaybeSent, r.Trace, r.LeaseOwner,
							r.LeaseUntil.Format(time.StampMilli), r.NextAttemptAt.Format(time.StampMilli), r.LastError)
					}
				}
			}
			e.t.Fatalf("%d of %d applications still unresolved (now %s)", pending, len(ids), time.Now().Format(time.StampMilli))
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// checkCard checks the application's card against the bank's ledger:
// exactly one card at the bank, our token is the token of its PAN, the last
// four match, and the sealed PAN opens to it.
func (e *env) checkCard(ctx context.Context, ledger banksim.Ledger, app issuance.Application) {
	e.t.Helper()
	cards := ledger.CardsFor(app.Number)
	require.Len(e.t, cards, 1, "cards at the bank for %s", app.Number)
	require.Equal(e.t, bankgw.CardIssued, cards[0].State, "bank card state for %s", app.Number)
	c, err := e.svc.CardOf(ctx, app.ID)
	require.NoError(e.t, err)
	pan := cards[0].PAN
	require.Equal(e.t, e.svc.PANToken(pan), c.PANToken)
	require.Equal(e.t, pan[len(pan)-4:], c.LastFour)
	require.Equal(e.t, cards[0].Expiry, c.Expiry)
	require.Equal(e.t, cards[0].PSN, c.PSN)
	require.Equal(e.t, cards[0].Reference, c.BankReference)
	open, err := e.svc.OpenPAN(c)
	require.NoError(e.t, err)
	require.Equal(e.t, pan, open.Reveal())
}
