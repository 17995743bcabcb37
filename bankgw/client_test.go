package bankgw_test

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/volcard/volcard/bankgw"
	"github.com/volcard/volcard/bankgw/banksim"
	"github.com/volcard/volcard/internal/testpki"
)

// syncBuffer is a log sink safe for concurrent writers.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

type rig struct {
	sim    *banksim.Sim
	client *bankgw.Client
	logs   *syncBuffer
}

func newRig(t *testing.T, simCfg banksim.Config, mod func(*bankgw.Config)) *rig {
	t.Helper()
	logs := &syncBuffer{}
	logger := slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	simCfg.Logger = logger
	sim, err := banksim.New(simCfg)
	require.NoError(t, err)
	require.NoError(t, sim.Start("127.0.0.1:0"))
	t.Cleanup(sim.Close)

	cfg := bankgw.DefaultConfig([]string{sim.Addr()}, tid, iid)
	cfg.RequestTimeout = 2 * time.Second
	cfg.ReconnectWait = 20 * time.Millisecond
	cfg.MaxReconnectWait = 100 * time.Millisecond
	cfg.MinConnections = 1
	cfg.Logger = logger
	if mod != nil {
		mod(&cfg)
	}
	client, err := bankgw.NewClient(cfg)
	require.NoError(t, err)
	require.NoError(t, client.Connect(context.Background()))
	t.Cleanup(func() { _ = client.Close(context.Background()) })
	return &rig{sim: sim, client: client, logs: logs}
}

func adult(an string) bankgw.ApplicationRequest {
	return bankgw.ApplicationRequest{
		ApplicationNumber: an,
		Applicant: bankgw.Applicant{
			Name: "李四", EmbossName: "LI SI", IDType: "01", IDNumber: "441402199003070018",
			Phone: "13800138000", Product: "BOCVOL01", Branch: "MZ0001", ClothingSize: "M",
		},
	}
}

func TestSignOnAndEcho(t *testing.T) {
	r := newRig(t, banksim.Config{}, func(c *bankgw.Config) { c.IdleTime = 30 * time.Millisecond })
	t.Run("sign-on on connect", func(t *testing.T) {
		require.Equal(t, 1, r.sim.SignedOn())
		require.Equal(t, 1, r.client.Online())
		h := r.client.Health()
		require.Equal(t, bankgw.Health{Addrs: 1, Connections: 1, SignedOn: 1, LastSignOn: h.LastSignOn, LastEcho: h.LastEcho}, h)
		require.False(t, h.LastSignOn.IsZero())
	})
	t.Run("echo", func(t *testing.T) {
		before := time.Now()
		require.NoError(t, r.client.Echo(context.Background()))
		require.False(t, r.client.Health().LastEcho.Before(before), "the answered echo is the last echo")
	})
	t.Run("idle echo from the ping handler", func(t *testing.T) {
		require.Eventually(t, func() bool { return r.sim.Stats()[bankgw.MTINetworkRequest] >= 4 }, 5*time.Second, 10*time.Millisecond)
	})
	t.Run("down", func(t *testing.T) {
		r.sim.Close()
		require.Eventually(t, func() bool { return r.client.Health().SignedOn == 0 }, 5*time.Second, 10*time.Millisecond)
		require.False(t, r.client.Health().LastEcho.IsZero(), "the last echo stays known")
	})
}

func TestApply(t *testing.T) {
	r := newRig(t, banksim.Config{DenyIDs: []string{"441402198001010011"}}, nil)
	ctx := context.Background()

	t.Run("approved with a Luhn-valid PAN from the BIN", func(t *testing.T) {
		res, err := r.client.Apply(ctx, adult("GD-A-0001"))
		require.NoError(t, err)
		require.NotNil(t, res.Card)
		require.Len(t, res.Card.PAN, 19)
		require.True(t, strings.HasPrefix(res.Card.PAN, "621660"))
		require.True(t, banksim.LuhnValid(res.Card.PAN))
		require.Equal(t, time.Now().AddDate(5, 0, 0).Format("0601"), res.Card.Expiry)
		require.Equal(t, bankgw.CardIssued, res.Card.State)
		require.NotEmpty(t, res.Card.Reference)
		require.NotContains(t, res.Card.String(), res.Card.PAN)
		require.Equal(t, bankgw.CodeApproved, r.sim.Ledger().Applications["GD-A-0001"].Code)
	})

	declines := []struct {
		name string
		req  func() bankgw.ApplicationRequest
		code string
	}{
		{"under 16 by the ID's birth date", func() bankgw.ApplicationRequest {
			q := adult("GD-A-0002")
			q.Applicant.IDNumber = "44140220150307001X"
			return q
		}, bankgw.CodeUnderAge},
		{"under 16 by BD for a passport", func() bankgw.ApplicationRequest {
			q := adult("GD-A-0003")
			q.Applicant.IDType, q.Applicant.IDNumber, q.Applicant.BirthDate = "02", "E12345678", time.Now().AddDate(-15, 0, 0).Format("20060102")
			return q
		}, bankgw.CodeUnderAge},
		{"ID on the deny list", func() bankgw.ApplicationRequest {
			q := adult("GD-A-0004")
			q.Applicant.IDNumber = "441402198001010011"
			return q
		}, bankgw.CodeRestricted},
	}
	for _, tc := range declines {
		t.Run("declined: "+tc.name, func(t *testing.T) {
			_, err := r.client.Apply(ctx, tc.req())
			var de *bankgw.DeclinedError
			require.ErrorAs(t, err, &de)
			require.Equal(t, tc.code, de.Code)
			require.False(t, de.Temporary())
			require.NotContains(t, err.Error(), "441402")
		})
	}

	t.Run("same application again, as 0300 and as 0301 repeat: same card", func(t *testing.T) {
		first, err := r.client.Apply(ctx, adult("GD-A-0005"))
		require.NoError(t, err)
		again, err := r.client.Apply(ctx, adult("GD-A-0005"))
		require.NoError(t, err)
		rep := adult("GD-A-0005")
		rep.Trace, rep.Repeat = first.Trace, true
		repeated, err := r.client.Apply(ctx, rep)
		require.NoError(t, err)
		require.Equal(t, first.Card.PAN, again.Card.PAN)
		require.Equal(t, first.Card.PAN, repeated.Card.PAN)
		require.Len(t, r.sim.Ledger().CardsFor("GD-A-0005"), 1)
		require.Equal(t, 3, r.sim.Ledger().Applications["GD-A-0005"].Adds)
	})

	t.Run("inquiry and status changes", func(t *testing.T) {
		_, err := r.client.Apply(ctx, adult("GD-A-0006"))
		require.NoError(t, err)
		steps := []struct {
			change bankgw.StatusChange
			want   bankgw.CardState
			code   string
		}{
			{bankgw.StatusActivate, bankgw.CardActive, ""},
			{bankgw.StatusBlock, bankgw.CardBlocked, ""},
			{bankgw.StatusBlock, bankgw.CardBlocked, ""},
			{bankgw.StatusUnblock, bankgw.CardActive, ""},
			{bankgw.StatusUnblock, bankgw.CardActive, bankgw.CodeNotPermitted},
		}
		for _, s := range steps {
			res, err := r.client.ChangeStatus(ctx, bankgw.StatusChangeRequest{ApplicationNumber: "GD-A-0006", Change: s.change})
			if s.code != "" {
				var de *bankgw.DeclinedError
				require.ErrorAs(t, err, &de)
				require.Equal(t, s.code, de.Code)
				continue
			}
			require.NoError(t, err)
			require.Equal(t, s.want, res.Card.State)
		}
		repl := bankgw.StatusChangeRequest{ApplicationNumber: "GD-A-0006", Change: bankgw.StatusReplace, ReplaceSeq: 1}
		first, err := r.client.ChangeStatus(ctx, repl)
		require.NoError(t, err)
		second, err := r.client.ChangeStatus(ctx, repl)
		require.NoError(t, err)
		require.Equal(t, first.Card.PAN, second.Card.PAN)
		require.Len(t, r.sim.Ledger().CardsFor("GD-A-0006"), 2)
		// reversing a replacement cancels the new card and restores the old one
		require.NoError(t, r.client.Reverse(ctx, bankgw.ReversalRequest{Original: first.Trace, OriginalCode: bankgw.FileChange,
			ApplicationNumber: "GD-A-0006", Reason: bankgw.ReasonCancelled}))
		cards := r.sim.Ledger().CardsFor("GD-A-0006")
		require.Equal(t, []bankgw.CardState{bankgw.CardActive, bankgw.CardCancelled}, []bankgw.CardState{cards[0].State, cards[1].State})
		// the same replacement sequence reinstates the same replacement card
		third, err := r.client.ChangeStatus(ctx, repl)
		require.NoError(t, err)
		require.Equal(t, first.Card.PAN, third.Card.PAN)
		require.Equal(t, bankgw.CardIssued, third.Card.State)
		inq, err := r.client.Inquire(ctx, bankgw.InquiryRequest{ApplicationNumber: "GD-A-0006"})
		require.NoError(t, err)
		require.Equal(t, first.Card.PAN, inq.Card.PAN)
		_, err = r.client.UpdateHolder(ctx, bankgw.HolderUpdateRequest{ApplicationNumber: "GD-A-0006", ClothingSize: "XL"})
		require.NoError(t, err)
		_, err = r.client.Inquire(ctx, bankgw.InquiryRequest{ApplicationNumber: "GD-NOPE"})
		var de *bankgw.DeclinedError
		require.ErrorAs(t, err, &de)
		require.Equal(t, bankgw.CodeRecordNotFound, de.Code)
	})
}

func TestTimeoutThenReversal(t *testing.T) {
	var late sync.Map
	r := newRig(t, banksim.Config{}, func(c *bankgw.Config) {
		c.RequestTimeout = 150 * time.Millisecond
		c.LateResponseHandler = func(_ context.Context, lr bankgw.LateResponse) { late.Store(lr.STAN, lr) }
	})
	ctx := context.Background()
	r.sim.SetFaults(banksim.Faults{NoAnswer: true, Times: 1})

	_, err := r.client.Apply(ctx, adult("GD-T-0001"))
	require.ErrorIs(t, err, bankgw.ErrTimeout)
	var xe *bankgw.ExchangeError
	require.ErrorAs(t, err, &xe)
	require.Equal(t, bankgw.CardIssued, r.sim.Ledger().CardsFor("GD-T-0001")[0].State, "the bank acted on the unanswered request")

	err = r.client.Reverse(ctx, bankgw.ReversalRequest{Original: xe.Trace, OriginalCode: bankgw.FileAdd,
		ApplicationNumber: "GD-T-0001", Reason: bankgw.ReasonTimeout})
	require.NoError(t, err)
	l := r.sim.Ledger()
	require.Len(t, l.CardsFor("GD-T-0001"), 1)
	require.Equal(t, bankgw.CardCancelled, l.CardsFor("GD-T-0001")[0].State)
	require.Len(t, l.Reversals, 1)

	t.Run("a repeated reversal is answered 00 and changes nothing", func(t *testing.T) {
		require.NoError(t, r.client.Reverse(ctx, bankgw.ReversalRequest{Original: xe.Trace, OriginalCode: bankgw.FileAdd,
			ApplicationNumber: "GD-T-0001", Reason: bankgw.ReasonTimeout}))
		require.Len(t, r.sim.Ledger().Reversals, 1)
	})
	t.Run("applying again reinstates the same card", func(t *testing.T) {
		res, err := r.client.Apply(ctx, adult("GD-T-0001"))
		require.NoError(t, err)
		require.Equal(t, l.CardsFor("GD-T-0001")[0].PAN, res.Card.PAN)
		require.Equal(t, 1, r.sim.CardsIssued())
	})
	t.Run("late answer goes to the late-response handler", func(t *testing.T) {
		r.sim.SetFaults(banksim.Faults{LateAnswer: 400 * time.Millisecond, Times: 1})
		_, err := r.client.Apply(ctx, adult("GD-T-0002"))
		require.ErrorIs(t, err, bankgw.ErrTimeout)
		require.ErrorAs(t, err, &xe)
		require.Eventually(t, func() bool { _, ok := late.Load(xe.Trace.STAN); return ok }, 5*time.Second, 10*time.Millisecond)
		v, _ := late.Load(xe.Trace.STAN)
		lr := v.(bankgw.LateResponse)
		require.Equal(t, bankgw.MTIFileUpdateResponse, lr.MTI)
		require.Equal(t, "GD-T-0002", lr.Result.ApplicationNumber)
		require.NotNil(t, lr.Result.Card)
	})
	t.Run("duplicate answer goes to the late-response handler", func(t *testing.T) {
		r.sim.SetFaults(banksim.Faults{Duplicate: true, Times: 1})
		res, err := r.client.Apply(ctx, adult("GD-T-0003"))
		require.NoError(t, err)
		require.Eventually(t, func() bool { _, ok := late.Load(res.Trace.STAN); return ok }, 5*time.Second, 10*time.Millisecond)
	})
}

func TestConnectionFaults(t *testing.T) {
	tests := []struct {
		name    string
		faults  banksim.Faults
		wantErr error
		logged  string
	}{
		{"garbage frame resets the connection", banksim.Faults{Garbage: true, Times: 1}, bankgw.ErrConnectionLost, "unreadable frame"},
		{"dropped connection", banksim.Faults{Drop: true, Times: 1}, bankgw.ErrConnectionLost, "connection closed"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := newRig(t, banksim.Config{}, nil)
			ctx := context.Background()
			first, err := r.client.Apply(ctx, adult("GD-F-0001"))
			require.NoError(t, err)
			r.sim.SetFaults(tc.faults)
			_, err = r.client.Apply(ctx, adult("GD-F-0002"))
			require.ErrorIs(t, err, tc.wantErr)
			// ErrUnavailable means "not sent": retrying until the reconnect is done is safe.
			var res bankgw.ApplicationResult
			for range 500 {
				res, err = r.client.Apply(ctx, adult("GD-F-0002"))
				if !errors.Is(err, bankgw.ErrUnavailable) {
					break
				}
				time.Sleep(10 * time.Millisecond)
			}
			require.NoError(t, err)
			require.Equal(t, 1, r.client.Online())
			require.Equal(t, 2, r.sim.CardsIssued())
			require.Contains(t, r.logs.String(), tc.logged)
			require.NotContains(t, r.logs.String(), first.Card.PAN)
			require.NotContains(t, r.logs.String(), res.Card.PAN)
			require.NotContains(t, r.logs.String(), "441402199003070018")
		})
	}
}

func TestAdvices(t *testing.T) {
	got := make(chan bankgw.Advice, 4)
	fail := false
	var mu sync.Mutex
	r := newRig(t, banksim.Config{}, func(c *bankgw.Config) {
		c.AdviceHandler = func(_ context.Context, a bankgw.Advice) error {
			mu.Lock()
			defer mu.Unlock()
			if fail {
				return errors.New("store down")
			}
			got <- a
			return nil
		}
	})
	ctx := context.Background()
	res, err := r.client.Apply(ctx, adult("GD-V-0001"))
	require.NoError(t, err)

	tests := []struct {
		name   string
		req    banksim.AdviceRequest
		fail   bool
		code   string
		amount int64
	}{
		{"activation", banksim.AdviceRequest{Kind: bankgw.AdviceActivation, PAN: res.Card.PAN}, false, "00", 0},
		{"spending", banksim.AdviceRequest{Kind: bankgw.AdviceSpending, PAN: res.Card.PAN, Amount: 12345}, false, "00", 12345},
		{"refund", banksim.AdviceRequest{Kind: bankgw.AdviceRefund, PAN: res.Card.PAN, Amount: 2345}, false, "00", 2345},
		{"handler refuses: 96", banksim.AdviceRequest{Kind: bankgw.AdviceSpending, PAN: res.Card.PAN, Amount: 1}, true, "96", 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			mu.Lock()
			fail = tc.fail
			mu.Unlock()
			code, tr, err := r.sim.PushAdvice(ctx, tc.req)
			require.NoError(t, err)
			require.Equal(t, tc.code, code)
			if tc.fail {
				return
			}
			a := <-got
			require.Equal(t, tc.req.Kind, a.Kind)
			require.Equal(t, res.Card.PAN, a.PAN)
			require.Equal(t, tr.RRN, a.RRN)
			require.Equal(t, tc.amount, a.Amount)
			require.Equal(t, "GD-V-0001", a.ApplicationNumber)
		})
	}
	require.Equal(t, bankgw.CardActive, r.sim.Ledger().CardsFor("GD-V-0001")[0].State)
}

func TestInFlightBound(t *testing.T) {
	r := newRig(t, banksim.Config{}, func(c *bankgw.Config) { c.MaxInFlight = 1 })
	r.sim.SetFaults(banksim.Faults{Latency: 500 * time.Millisecond, Times: 1})
	done := make(chan error, 1)
	go func() {
		_, err := r.client.Apply(context.Background(), adult("GD-B-0001"))
		done <- err
	}()
	require.Eventually(t, func() bool { return r.sim.Stats()[bankgw.MTIFileUpdateRequest] == 1 }, 5*time.Second, time.Millisecond)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	_, err := r.client.Apply(ctx, adult("GD-B-0002"))
	require.ErrorIs(t, err, context.DeadlineExceeded)
	require.NoError(t, <-done)
}

func TestMAC(t *testing.T) {
	key := bytes.Repeat([]byte{7}, bankgw.MACKeySize)
	t.Run("same key", func(t *testing.T) {
		r := newRig(t, banksim.Config{MACKey: key}, func(c *bankgw.Config) { c.MACKey = key })
		_, err := r.client.Apply(context.Background(), adult("GD-M-0001"))
		require.NoError(t, err)
	})
	t.Run("different key: sign-on fails", func(t *testing.T) {
		sim, err := banksim.New(banksim.Config{MACKey: bytes.Repeat([]byte{8}, bankgw.MACKeySize), Logger: slog.New(slog.DiscardHandler)})
		require.NoError(t, err)
		require.NoError(t, sim.Start("127.0.0.1:0"))
		defer sim.Close()
		cfg := bankgw.DefaultConfig([]string{sim.Addr()}, tid, iid)
		cfg.MACKey, cfg.MinConnections, cfg.RequestTimeout = key, 1, time.Second
		cfg.Logger = slog.New(slog.DiscardHandler)
		c, err := bankgw.NewClient(cfg)
		require.NoError(t, err)
		require.Error(t, c.Connect(context.Background()))
		require.Equal(t, 0, sim.CardsIssued())
	})
}

func TestBankDownAtStart(t *testing.T) {
	cfg := bankgw.DefaultConfig([]string{"127.0.0.1:1"}, tid, iid)
	cfg.Logger = slog.New(slog.DiscardHandler)
	c, err := bankgw.NewClient(cfg)
	require.NoError(t, err)
	require.NoError(t, c.Connect(context.Background()))
	defer c.Close(context.Background())
	_, err = c.Apply(context.Background(), adult("GD-D-0001"))
	require.ErrorIs(t, err, bankgw.ErrUnavailable)
}

func TestNewClientValidates(t *testing.T) {
	tests := []struct {
		name string
		mod  func(*bankgw.Config)
	}{
		{"no address", func(c *bankgw.Config) { c.Addrs = nil }},
		{"short terminal id", func(c *bankgw.Config) { c.TerminalID = "T1" }},
		{"bad MAC key", func(c *bankgw.Config) { c.MACKey = []byte{1} }},
		{"min connections above addresses", func(c *bankgw.Config) { c.MinConnections = 2 }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cfg := bankgw.DefaultConfig([]string{"127.0.0.1:1"}, tid, iid)
			tc.mod(&cfg)
			_, err := bankgw.NewClient(cfg)
			require.ErrorIs(t, err, bankgw.ErrInvalidConfig)
		})
	}
}

// TestMutualTLS runs the link over TLS with client certificates, as a bank
// asking for mutual TLS does: with ours, the client signs on and applies;
// without one, or trusting another CA, it never gets on line.
func TestMutualTLS(t *testing.T) {
	bank := testpki.New(t, "bank test CA")
	r := newRig(t, banksim.Config{TLS: bank.ServerConfig()}, func(c *bankgw.Config) {
		c.TLS = &tls.Config{RootCAs: bank.Pool(), Certificates: []tls.Certificate{bank.Client}}
	})
	require.Equal(t, 1, r.sim.SignedOn())
	res, err := r.client.Apply(context.Background(), adult("GD-TLS-0001"))
	require.NoError(t, err)
	require.NotNil(t, res.Card)

	for name, cfg := range map[string]*tls.Config{
		"no client certificate": {RootCAs: bank.Pool()},
		"bank not trusted":      {RootCAs: testpki.New(t, "other CA").Pool(), Certificates: []tls.Certificate{bank.Client}},
	} {
		t.Run(name, func(t *testing.T) {
			c := bankgw.DefaultConfig([]string{r.sim.Addr()}, tid, iid)
			c.TLS, c.ConnectTimeout, c.Logger = cfg, 2*time.Second, slog.New(slog.DiscardHandler)
			c.MinConnections = 1
			client, err := bankgw.NewClient(c)
			require.NoError(t, err)
			defer client.Close(context.Background())
			require.Error(t, client.Connect(context.Background()))
			require.Zero(t, client.Online())
		})
	}
}
