package terminal_test

import (
	"bytes"
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/volcard/volcard/issuance/checkin"
	"github.com/volcard/volcard/wire"

	"github.com/stretchr/testify/require"

	"github.com/volcard/volcard/api"
	"github.com/volcard/volcard/cardio"
	"github.com/volcard/volcard/cardio/cardsim"
	"github.com/volcard/volcard/cardio/emv"
	"github.com/volcard/volcard/cardio/pcsc"
	"github.com/volcard/volcard/cardio/pcsc/pcsctest"
	"github.com/volcard/volcard/client"
	"github.com/volcard/volcard/client/terminal"
	"github.com/volcard/volcard/issuance"
	"github.com/volcard/volcard/issuance/store"
	"github.com/volcard/volcard/issuance/store/storetest"
	"github.com/volcard/volcard/pii"
)

var cst = time.FixedZone("CST", 8*3600)

const holderID = "441402200001011232" // 9F61 of testdata/cards/default.json

// clock is a settable clock shared by the server and the terminal.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time  { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) set(t time.Time) { c.mu.Lock(); c.t = t; c.mu.Unlock() }

// Server modes.
const (
	modeUp       = iota
	modeDown     // every request is cut before an answer
	modeDropOnce // the next request is processed, its answer lost
)

// server is the API on a real store over real HTTP, with a switch that
// takes it down.
type server struct {
	st     *store.Store
	svc    *issuance.Service
	ck     *checkin.Service
	clock  *clock
	ts     *httptest.Server
	mode   atomic.Int32
	token  string
	act    checkin.Activity
	holder issuance.Volunteer
}

func newServer(t testing.TB, st *store.Store) *server {
	t.Helper()
	ctx := context.Background()
	s := &server{st: st, clock: &clock{t: time.Date(2026, 11, 23, 9, 0, 0, 0, cst)}}
	keys, err := pii.New(bytes.Repeat([]byte{9}, pii.DataKeySize))
	require.NoError(t, err)
	s.svc, err = issuance.NewService(st, keys, issuance.WithClock(s.clock))
	require.NoError(t, err)
	cas, err := emv.LoadCAKeys(filepath.Join("..", "..", "testdata", "keys", "ca-public.json"))
	require.NoError(t, err)
	s.ck, err = checkin.New(s.svc, s.st, checkin.Config{Verifier: emv.EvidenceVerifier{CAs: cas},
		Rounding: checkin.Rounding{Unit: 15 * time.Minute, Mode: checkin.RoundDown}})
	require.NoError(t, err)
	sys := issuance.SystemActor()
	prov, err := s.svc.CreateOrg(ctx, sys, issuance.NewOrg{Kind: issuance.OrgProvince, Name: "广东省", RegionCode: "440000"})
	require.NoError(t, err)
	mz, err := s.svc.CreateOrg(ctx, sys, issuance.NewOrg{ParentID: prov.ID, Kind: issuance.OrgCity, Name: "梅州市", RegionCode: "441400"})
	require.NoError(t, err)
	s.token, _, err = s.svc.CreateToken(ctx, sys, issuance.NewToken{Name: "gate", Role: issuance.RoleTerminal, OrgID: mz.ID})
	require.NoError(t, err)
	s.act, err = s.ck.CreateActivity(ctx, sys, checkin.NewActivity{OrgID: mz.ID, Title: "客家文化节志愿服务",
		StartsAt: time.Date(2026, 11, 23, 8, 0, 0, 0, cst), EndsAt: time.Date(2026, 11, 23, 20, 0, 0, 0, cst)})
	require.NoError(t, err)
	s.holder, err = s.svc.RegisterVolunteer(ctx, sys, issuance.NewVolunteer{OrgID: mz.ID, Name: "张晓明",
		IDNumber: holderID, Phone: "13812345678", LeagueMember: true})
	require.NoError(t, err)
	srv, err := api.New(api.Options{Service: s.svc, Ready: st.Ping, Now: s.clock.Now, Logger: slog.New(slog.DiscardHandler)})
	require.NoError(t, err)
	require.NoError(t, srv.EnableCheckin(s.ck))
	s.ts = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch s.mode.Load() {
		case modeDown:
			panic(http.ErrAbortHandler) // the connection is cut: no answer
		case modeDropOnce:
			s.mode.Store(modeUp)
			srv.ServeHTTP(httptest.NewRecorder(), r) // processed, answer lost
			panic(http.ErrAbortHandler)
		}
		srv.ServeHTTP(w, r)
	}))
	t.Cleanup(s.ts.Close)
	return s
}

// tapCount returns how many taps the server stored for seq (any terminal).
func (s *server) tapCount(t testing.TB, seq int64) int64 {
	t.Helper()
	var n int64
	require.NoError(t, s.st.DB(context.Background()).Raw(`SELECT COUNT(*) FROM taps WHERE seq = ?`, seq).Scan(&n).Error)
	return n
}

// swapCard is a vpcd card whose image can be swapped while inserted.
type swapCard struct {
	mu sync.Mutex
	c  *cardsim.Card
}

func (s *swapCard) get() *cardsim.Card               { s.mu.Lock(); defer s.mu.Unlock(); return s.c }
func (s *swapCard) set(c *cardsim.Card)              { s.mu.Lock(); s.c = c; s.mu.Unlock() }
func (s *swapCard) ATR() []byte                      { return s.get().ATR() }
func (s *swapCard) Reset()                           { s.get().Reset() }
func (s *swapCard) Process(b []byte) ([]byte, error) { return s.get().Process(b) }

// rig is where cards are presented: pcscd + vpcd, or the in-process reader.
type rig struct {
	name    string
	readers cardio.Readers
	reader  string
	// present puts a card with image in the reader (swapping any card).
	present func(image string)
	// pull takes the card out and returns once the reader is empty.
	pull func()
	// seen returns once a running terminal has seen the card leave.
	seen func()
}

func loadCard(t testing.TB, image string) *cardsim.Card {
	t.Helper()
	c, err := cardsim.Load(filepath.Join("..", "..", "testdata", "cards", image))
	require.NoError(t, err)
	return c
}

func pcscRig(t *testing.T) rig {
	r := pcsctest.Start(t)
	slot := pcsctest.Slot(t)
	sw := &swapCard{c: loadCard(t, "default.json")}
	vs := pcsctest.Insert(t, slot, sw)
	// The terminal gets its own PC/SC context: the rig waits on r for the
	// card to come and go while the terminal waits on its own.
	tr, err := pcsc.New(t.Context())
	require.NoError(t, err)
	t.Cleanup(func() { tr.Close() })
	return rig{name: "pcsc", readers: tr, reader: slot.Reader, seen: func() {},
		present: func(image string) {
			sw.set(loadCard(t, image))
			if vs.Inserted() {
				return
			}
			// As pcsctest.Insert does: the vpcd driver can miss a connection
			// made right after a removal; pull and insert again.
			for attempt := 1; ; attempt++ {
				ctx, cancel := context.WithTimeout(t.Context(), pcsctest.StepTimeout)
				require.NoError(t, vs.Insert(ctx))
				cancel()
				wctx, wcancel := context.WithTimeout(t.Context(), 2*time.Second)
				err := r.WaitForCard(wctx, slot.Reader)
				wcancel()
				if err == nil {
					return
				}
				require.Less(t, attempt, 5, "card never seen by pcscd: %v", err)
				_ = vs.Remove()
			}
		},
		pull: func() {
			require.NoError(t, vs.Remove())
			ctx, cancel := context.WithTimeout(t.Context(), pcsctest.StepTimeout)
			defer cancel()
			require.NoError(t, r.WaitForRemoval(ctx, slot.Reader))
		}}
}

// seenReaders tells when the terminal has seen its card leave: the
// in-process reader changes state at once, so a test that pulls and
// presents a card must let the terminal notice the removal in between (a
// real card cannot be pulled and presented again within microseconds).
type seenReaders struct {
	*cardsim.Readers
	removed chan struct{}
}

func (r *seenReaders) WaitForRemoval(ctx context.Context, reader string) error {
	err := r.Readers.WaitForRemoval(ctx, reader)
	if err == nil {
		r.removed <- struct{}{}
	}
	return err
}

func simRig(t *testing.T) rig {
	r := cardsim.NewReaders(loadCard(t, "default.json"))
	sr := &seenReaders{Readers: r, removed: make(chan struct{}, 16)}
	return rig{name: "sim", readers: sr, reader: cardsim.ReaderName,
		present: func(image string) { r.Insert(loadCard(t, image)) },
		pull:    func() { r.Remove() },
		seen: func() {
			select {
			case <-sr.removed:
			case <-time.After(15 * time.Second):
				t.Fatal("the terminal never saw the card leave")
			}
		}}
}

// lines collects output lines.
type lines struct{ ch chan string }

func (l *lines) Write(p []byte) (int, error) {
	for _, s := range strings.Split(strings.TrimRight(string(p), "\n"), "\n") {
		l.ch <- s
	}
	return len(p), nil
}

func (l *lines) next(t *testing.T) string {
	t.Helper()
	select {
	case s := <-l.ch:
		return s
	case <-time.After(15 * time.Second):
		t.Fatal("no output line from the terminal")
		return ""
	}
}

func TestCheckinEndToEnd(t *testing.T) {
	t.Run("pcscd", func(t *testing.T) { checkinEndToEnd(t, pcscRig(t)) })
	t.Run("sim", func(t *testing.T) { checkinEndToEnd(t, simRig(t)) })
}

func checkinEndToEnd(t *testing.T, rg rig) {
	ctx := t.Context()
	s := newServer(t, storetest.Postgres(t))
	// 98 h served before the card: the first session crosses 100 h (1 star).
	require.NoError(t, s.ck.AddServiceHours(ctx, issuance.SystemActor(), s.holder.ID, 2025, 98, "i志愿 import"))
	cl, err := client.New(s.ts.URL, s.token)
	require.NoError(t, err)
	q, err := terminal.OpenQueue(ctx, filepath.Join(t.TempDir(), "queue.db"), []byte(s.token))
	require.NoError(t, err)
	t.Cleanup(func() { q.Close() })
	out := &lines{ch: make(chan string, 64)}
	termClock := &clock{t: s.clock.Now()}
	term, err := terminal.New(terminal.Config{API: cl, Queue: q, ActivityID: s.act.ID, Readers: rg.readers,
		Reader: rg.reader, Out: out, Now: termClock.Now, SyncInterval: time.Hour})
	require.NoError(t, err)

	// tapOnce connects to the card in the reader and taps it once.
	tapOnce := func(t *testing.T) terminal.Outcome {
		t.Helper()
		card, err := rg.readers.Connect(ctx, rg.reader, cardio.ShareExclusive)
		require.NoError(t, err)
		defer card.Disconnect(context.Background())
		o, err := term.TapCard(ctx, card)
		if o.Status == terminal.StatusOK || o.Status == terminal.StatusQueued {
			require.NoError(t, err)
		}
		require.Equal(t, o.Message, out.next(t))
		return o
	}

	t.Run("tap in, tap out through the terminal loop: hours and a star", func(t *testing.T) {
		rg.pull()
		runCtx, stop := context.WithCancel(ctx)
		done := make(chan error, 1)
		go func() { done <- term.Run(runCtx) }()
		defer func() { stop(); require.NoError(t, <-done) }()

		s.clock.set(time.Date(2026, 11, 23, 9, 2, 0, 0, cst))
		rg.present("default.json")
		require.Equal(t, "✓ 张晓明 签到 09:02", out.next(t))
		rg.pull()
		rg.seen()

		s.clock.set(time.Date(2026, 11, 23, 12, 35, 0, 0, cst))
		rg.present("default.json")
		require.Equal(t, "✓ 张晓明 签退 3.5 h ★ 升至1星！", out.next(t))
		rg.pull()
		rg.seen()

		rec, err := s.ck.ServiceRecord(ctx, issuance.SystemActor(), s.holder.ID)
		require.NoError(t, err)
		require.Equal(t, int64(98*60+210), rec.LifetimeMinutes)
		require.Equal(t, 1, rec.Stars)
	})

	rg.present("default.json")
	t.Run("eight APDUs per tap", func(t *testing.T) {
		o := tapOnce(t)
		require.Equal(t, terminal.StatusOK, o.Status)
		require.Equal(t, 8, o.APDUs)
		require.Equal(t, wire.KindCheckIn, o.Result.Kind)
		s.clock.set(s.clock.Now().Add(15 * time.Minute))
		o = tapOnce(t)
		require.Equal(t, wire.KindCheckOut, o.Result.Kind)
	})

	t.Run("replayed challenge refused", func(t *testing.T) {
		card, err := rg.readers.Connect(ctx, rg.reader, cardio.ShareExclusive)
		require.NoError(t, err)
		defer card.Disconnect(context.Background())
		ch, err := cl.Challenge(ctx)
		require.NoError(t, err)
		_, ev, err := terminal.ReadCard(ctx, card, ch.UN, emv.Options{})
		require.NoError(t, err)
		_, err = cl.Tap(ctx, s.act.ID, wire.TapRequest{Seq: 9001, ChallengeID: ch.ID, Card: ev})
		require.NoError(t, err)
		_, err = cl.Tap(ctx, s.act.ID, wire.TapRequest{Seq: 9002, ChallengeID: ch.ID, Card: ev})
		require.Equal(t, wire.ProblemChallengeReplayed, client.ProblemType(err))
		s.clock.set(s.clock.Now().Add(time.Minute))
		_, err = term.TapCard(ctx, card) // check out again, to leave the volunteer checked out
		require.NoError(t, err)
		out.next(t)
	})

	for _, tc := range []struct {
		image, status, problem, message string
	}{
		{"forged.json", "refused", wire.ProblemCardNotGenuine, "✗ 卡片验证失败，疑似伪造卡（card not genuine）"},
		{"pse-only.json", "refused", wire.ProblemCardUnknown, "✗ 未登记的卡片，请先注册志愿者（unknown card）"},
		{"non-financial.json", "error", "not-financial-card", "✗ 非金融IC卡，请使用志愿者证（not a financial card）"},
		// Tapping again cannot help an SDA-only card: refused, not "read failed, tap again".
		{"sda-only.json", "refused", terminal.ProblemNoDDA, "✗ 此卡不支持动态数据认证（DDA），不能用于签到，请到发卡银行换卡（card without DDA）"},
	} {
		t.Run(tc.image+" refused", func(t *testing.T) {
			rg.present(tc.image)
			o := tapOnce(t)
			require.Equal(t, terminal.Status(tc.status), o.Status)
			require.Equal(t, tc.problem, o.Problem)
			require.Equal(t, tc.message, o.Message)
		})
	}

	t.Run("server down for 10 taps, then synced, each exactly once", func(t *testing.T) {
		rg.present("default.json")
		before, err := s.ck.ServiceRecord(ctx, issuance.SystemActor(), s.holder.ID)
		require.NoError(t, err)
		s.mode.Store(modeDown)
		var seqs []int64
		start := time.Date(2026, 11, 23, 14, 0, 0, 0, cst)
		for i := range 10 {
			termClock.set(start.Add(time.Duration(i) * 30 * time.Minute))
			o := tapOnce(t)
			require.Equal(t, terminal.StatusQueued, o.Status, o.Message)
			require.Contains(t, o.Message, "张晓明 已离线记录")
			seqs = append(seqs, o.Seq)
		}
		n, err := q.Len(ctx)
		require.NoError(t, err)
		require.Equal(t, 10, n)

		// The 11th tap is processed but its answer is lost: it queues too.
		s.mode.Store(modeUp)
		s.clock.set(time.Date(2026, 11, 23, 19, 30, 0, 0, cst))
		termClock.set(s.clock.Now())
		s.mode.Store(modeDropOnce)
		_, err = term.Sync(ctx)
		require.Error(t, err, "the first queued tap's answer is lost")
		require.True(t, client.Retryable(err))

		sent, err := term.Sync(ctx)
		require.NoError(t, err)
		require.Equal(t, 10, sent)
		for range 10 {
			require.Contains(t, out.next(t), "已上传")
		}
		n, err = q.Len(ctx)
		require.NoError(t, err)
		require.Zero(t, n)
		for _, seq := range seqs {
			require.Equal(t, int64(1), s.tapCount(t, seq), "seq %d stored exactly once", seq)
		}
		after, err := s.ck.ServiceRecord(ctx, issuance.SystemActor(), s.holder.ID)
		require.NoError(t, err)
		require.Equal(t, before.LifetimeMinutes+5*30, after.LifetimeMinutes, "five 30-minute sessions")
		require.Len(t, after.Attendances, len(before.Attendances)+5)
	})
}
