package main

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/volcard/volcard/api"
	"github.com/volcard/volcard/bankgw"
	"github.com/volcard/volcard/bankgw/banksim"
	"github.com/volcard/volcard/bankgw/outbox"
	"github.com/volcard/volcard/cardio"
	"github.com/volcard/volcard/cardio/cardsim"
	"github.com/volcard/volcard/cardio/emv"
	"github.com/volcard/volcard/cardio/pcsc"
	"github.com/volcard/volcard/cardio/pcsc/pcsctest"
	"github.com/volcard/volcard/client"
	"github.com/volcard/volcard/client/terminal"
	"github.com/volcard/volcard/issuance"
	"github.com/volcard/volcard/issuance/checkin"
	"github.com/volcard/volcard/issuance/feed"
	"github.com/volcard/volcard/issuance/insurance"
	"github.com/volcard/volcard/issuance/onsite"
	"github.com/volcard/volcard/issuance/rebates"
	"github.com/volcard/volcard/issuance/store"
	"github.com/volcard/volcard/issuance/store/storetest"
	"github.com/volcard/volcard/personalization"
	"github.com/volcard/volcard/personalization/dataprep"
	"github.com/volcard/volcard/pii"
	"github.com/volcard/volcard/wire"
)

const (
	e2eKeys    = "../../testdata/keys"
	e2eProduct = "GD-RV-BOC"
	e2eBIN     = "621662"
)

// offsetClock is the server's clock: real time plus an offset the test
// moves (a tap out two hours after the tap in).
type offsetClock struct {
	mu  sync.Mutex
	off time.Duration
}

func (c *offsetClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return time.Now().Add(c.off) }
func (c *offsetClock) add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.off += d
}

// issueWorld is a volcard server as serve builds it, in process: the API
// over real HTTP on PostgreSQL, the bank outbox drained to banksim over
// TCP, on-site batches, personalization with the test keys and check-in.
type issueWorld struct {
	url   string
	svc   *issuance.Service
	ck    *checkin.Service
	sim   *banksim.Sim
	clock *offsetClock
	// simClock is banksim's clock (the expiry of the cards it issues):
	// the server's unless a test moves it apart.
	simClock   *offsetClock
	st         *store.Store
	university issuance.Org
	tokens     map[string]string // uni (org_admin), staff (bank_staff), gate (terminal), prov (province_admin)
	reb        *rebates.Service
}

func newIssueWorld(t *testing.T, simOpts ...func(*banksim.Config)) *issueWorld {
	t.Helper()
	ctx := context.Background()
	quiet := slog.New(slog.DiscardHandler)
	st := storetest.Postgres(t)
	keys, err := pii.New(bytes.Repeat([]byte{5}, pii.DataKeySize))
	require.NoError(t, err)
	w := &issueWorld{clock: &offsetClock{}, simClock: &offsetClock{}, st: st, tokens: map[string]string{}}
	testBank := &simTestBank{}
	w.svc, err = issuance.NewService(st, keys, issuance.WithLogger(quiet), issuance.WithBankOutbox(st), issuance.WithClock(w.clock),
		issuance.WithTestBank(testBank), issuance.WithTransitionHooks(insurance.Enrol(st)),
		issuance.WithCardHooks(insurance.End(st)))
	require.NoError(t, err)
	sys := issuance.SystemActor()
	prov, err := w.svc.CreateOrg(ctx, sys, issuance.NewOrg{Kind: issuance.OrgProvince, Name: "广东省", RegionCode: "440000"})
	require.NoError(t, err)
	mz, err := w.svc.CreateOrg(ctx, sys, issuance.NewOrg{ParentID: prov.ID, Kind: issuance.OrgCity, Name: "梅州市", RegionCode: "441400"})
	require.NoError(t, err)
	w.university, err = w.svc.CreateOrg(ctx, sys, issuance.NewOrg{ParentID: mz.ID, Kind: issuance.OrgUniversity, Name: "嘉应学院"})
	require.NoError(t, err)
	require.NoError(t, w.svc.PutBank(ctx, sys, issuance.Bank{Code: "BOC", Name: "中国银行"}))
	require.NoError(t, w.svc.PutProduct(ctx, sys, issuance.Product{Code: e2eProduct, Name: "广东省注册志愿者证（中国银行）",
		BankCode: "BOC", BIN: e2eBIN, AID: "A000000333010101", Kind: issuance.CardDebit, OrgID: prov.ID}))
	branch := issuance.Branch{BankCode: "BOC", OrgID: mz.ID, Name: "中国银行梅州分行",
		Contact: issuance.Contact{Name: "陈经理", Phone: pii.Phone("0753-2188888")}}
	require.NoError(t, w.svc.PutBranch(ctx, sys, &branch))
	for name, in := range map[string]issuance.NewToken{
		"uni":   {Name: "jyu admin", Role: issuance.RoleOrgAdmin, OrgID: w.university.ID},
		"staff": {Name: "boc meizhou", Role: issuance.RoleBankStaff, BankCode: "BOC", BranchID: branch.ID},
		"gate":  {Name: "gym gate", Role: issuance.RoleTerminal, OrgID: w.university.ID},
		"prov":  {Name: "gd admin", Role: issuance.RoleProvinceAdmin},
	} {
		w.tokens[name], _, err = w.svc.CreateToken(ctx, sys, in)
		require.NoError(t, err)
	}

	// The bank: banksim over TCP, the gateway and the outbox worker.
	simCfg := banksim.Config{Logger: quiet, ProductBINs: map[string]string{issuance.BankProductCode(e2eProduct): e2eBIN},
		Now: func() time.Time { return w.clock.Now().Add(w.simClock.Now().Sub(time.Now())) }}
	for _, o := range simOpts {
		o(&simCfg)
	}
	w.sim, err = banksim.New(simCfg)
	require.NoError(t, err)
	testBank.set(map[string]*banksim.Sim{"BOC": w.sim})
	require.NoError(t, w.sim.Start("127.0.0.1:0"))
	t.Cleanup(w.sim.Close)
	handlers, err := outbox.NewHandlers(w.svc, st, quiet)
	require.NoError(t, err)
	stan, err := st.STAN("VOLCARD1")
	require.NoError(t, err)
	gcfg := bankgw.DefaultConfig([]string{w.sim.Addr()}, "VOLCARD1", "VOLCARD00000001")
	gcfg.STAN, gcfg.Logger = stan, quiet
	gcfg.AdviceHandler, gcfg.LateResponseHandler = handlers.Advice, handlers.LateResponse
	gw, err := bankgw.NewClient(gcfg)
	require.NoError(t, err)
	require.NoError(t, gw.Connect(ctx))
	t.Cleanup(func() { _ = gw.Close(context.Background()) })
	worker, err := outbox.New(outbox.Config{Gateway: gw, Service: w.svc, Outbox: st, Workers: 1, Batch: 16,
		PollInterval: 20 * time.Millisecond, Lease: 5 * time.Second, Logger: quiet, Now: w.clock.Now})
	require.NoError(t, err)
	wctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { defer close(done); _ = worker.Run(wctx) }()
	t.Cleanup(func() { cancel(); <-done })

	idem, err := store.NewIdempotencyKeys(st, nil)
	require.NoError(t, err)
	srv, err := api.New(api.Options{Service: w.svc, Idempotency: idem, Ready: st.Ping, Now: w.clock.Now, Logger: quiet})
	require.NoError(t, err)
	on, err := onsite.New(w.svc, st)
	require.NoError(t, err)
	require.NoError(t, srv.EnableOnsite(on))
	ks, err := dataprep.LoadSoftKeyStore(dataprep.SoftKeyStoreConfig{Dir: e2eKeys, ProductBINs: map[string]string{e2eProduct: e2eBIN}})
	require.NoError(t, err)
	ca, err := emv.LoadCAKeys(filepath.Join(e2eKeys, "ca-public.json"))
	require.NoError(t, err)
	perso, err := personalization.New(personalization.Config{Issuance: w.svc, Keys: ks, CAKeys: ca})
	require.NoError(t, err)
	require.NoError(t, srv.EnablePersonalization(perso))
	w.ck, err = checkin.New(w.svc, st, checkin.Config{Verifier: emv.EvidenceVerifier{CAs: ca}})
	require.NoError(t, err)
	require.NoError(t, srv.EnableCheckin(w.ck))
	// Insurance, rebates and the event feed as serve wires them, on the
	// world's clock (a month has ended once the test moves it on).
	ins, err := insurance.New(w.svc, st)
	require.NoError(t, err)
	require.NoError(t, srv.EnableInsurance(ins.WithNow(w.clock.Now)))
	w.reb, err = rebates.New(w.svc, st)
	require.NoError(t, err)
	require.NoError(t, srv.EnableRebates(w.reb.WithNow(w.clock.Now)))
	fs, err := feed.New(w.svc, st)
	require.NoError(t, err)
	require.NoError(t, srv.EnableEvents(fs))
	ts := httptest.NewServer(srv)
	t.Cleanup(ts.Close)
	w.url = ts.URL
	return w
}

// onsiteBatch runs an on-site session up to the bank's answers: the
// university requests it, the branch schedules and starts it and uploads a
// UTF-8 roster of the names given, the university approves, and banksim
// issues a card for each. It returns the session.
func (w *issueWorld) onsiteBatch(t *testing.T, names []string) wire.OnsiteSession {
	t.Helper()
	ctx := t.Context()
	uni, err := client.New(w.url, w.tokens["uni"])
	require.NoError(t, err)
	staff, err := client.New(w.url, w.tokens["staff"])
	require.NoError(t, err)
	sess, err := uni.RequestOnsiteSession(ctx, wire.NewOnsiteSession{OrgID: w.university.ID, Site: "嘉应学院体育馆",
		Date: w.clock.Now().AddDate(0, 0, 10).Format(time.DateOnly), ExpectedCount: onsite.MinOnsiteHeadCount, Product: e2eProduct})
	require.NoError(t, err)
	for _, action := range []string{"schedule", "start"} {
		_, err := staff.TransitionOnsiteSession(ctx, sess.ID, action, "")
		require.NoError(t, err, action)
	}
	var csv bytes.Buffer
	csv.WriteString("序号,身份证号,姓名,学院,服装尺码,手机号,是否团员,拼音\n")
	for i, n := range names {
		body := fmt.Sprintf("441402%s%03d", time.Date(1999, 3, 1+i, 0, 0, 0, 0, time.UTC).Format("20060102"), 101+i)
		fmt.Fprintf(&csv, "%d,%s,%s,文学院,M,1350000%04d,是,\n", i+1, body+string(issuance.ResidentIDCheckChar(body)), n, i)
	}
	rep, err := staff.UploadRoster(ctx, sess.ID, bytes.NewReader(csv.Bytes()), int64(csv.Len()), "text/csv")
	require.NoError(t, err)
	require.Equal(t, len(names), rep.Accepted, "%+v", rep)
	_, err = uni.ApproveOnsiteSession(ctx, sess.ID)
	require.NoError(t, err)
	deadline := time.Now().Add(60 * time.Second) // a bound against a hang, not an assertion on time
	for {
		r, err := uni.OnsiteReport(ctx, sess.ID)
		require.NoError(t, err)
		if r.BankApproved == len(names) {
			return sess
		}
		require.True(t, time.Now().Before(deadline), "banksim approved %d of %d", r.BankApproved, len(names))
		time.Sleep(20 * time.Millisecond)
	}
}

// lineWriter hands each line written to it to a channel (the output of a
// command running in another goroutine) and keeps them all.
type lineWriter struct {
	mu   sync.Mutex
	all  bytes.Buffer
	part string
	ch   chan string
}

func (l *lineWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.all.Write(p)
	s := l.part + string(p)
	for {
		i := strings.IndexByte(s, '\n')
		if i < 0 {
			break
		}
		l.ch <- s[:i]
		s = s[i+1:]
	}
	l.part = s
	return len(p), nil
}

func (l *lineWriter) String() string { l.mu.Lock(); defer l.mu.Unlock(); return l.all.String() }

// waitLine returns the first line containing want (a bound against a
// hang: a line that never comes fails the test).
func (l *lineWriter) waitLine(t *testing.T, want string) string {
	t.Helper()
	timeout := time.After(60 * time.Second)
	for {
		select {
		case s := <-l.ch:
			if strings.Contains(s, want) {
				return s
			}
		case <-timeout:
			t.Fatalf("no line with %q; output so far:\n%s", want, l.String())
			return ""
		}
	}
}

// simReader is the vpcd slot as the person at the reader uses it: each
// card goes in as its own "volcard card-sim" run (runCardSim) and comes out
// when that run stops.
type simReader struct {
	t       *testing.T
	readers *pcsc.Readers // the hand's own PC/SC context
	slot    pcsctest.SlotInfo
	stop    func()
}

// put serves the card file image (saving its state to save when given)
// and returns once pcscd sees it. As pcsctest.Insert does, a card pcscd has
// not seen after a few polls is pulled and put in again.
func (r *simReader) put(image, save string) {
	t := r.t
	t.Helper()
	require.Nil(t, r.stop, "a card is in the reader already")
	for attempt := 1; ; attempt++ {
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() {
			done <- runCardSim(ctx, cardSimOptions{vpcdAddr: r.slot.Addr, image: image, save: save}, &lockedBuffer{})
		}()
		r.stop = func() {
			cancel()
			require.NoError(t, <-done)
			r.stop = nil
			wctx, wcancel := context.WithTimeout(context.Background(), pcsctest.StepTimeout)
			defer wcancel()
			require.NoError(t, r.readers.WaitForRemoval(wctx, r.slot.Reader), "pcscd still shows the card")
		}
		wctx, wcancel := context.WithTimeout(t.Context(), 3*time.Second)
		err := r.readers.WaitForCard(wctx, r.slot.Reader)
		wcancel()
		if err == nil {
			return
		}
		require.Less(t, attempt, 5, "pcscd never saw the card: %v", err)
		r.stop()
	}
}

// take pulls the card out (its card-sim run stops, saving the card) and
// returns once pcscd has seen the reader empty.
func (r *simReader) take() { r.t.Helper(); r.stop() }

// TestBatchIssueAndTap is issue #15's batch past card one, through the
// real pcscd with vpcd, on PostgreSQL with banksim over TCP: "volcard
// card-sim blanks" makes five blank cards with their own chip serials; an
// on-site batch of five is walked by "volcard personalize --batch
// --pin-file" (runPersonalize, stderr not a terminal) while the person at
// the reader puts each blank in as a "volcard card-sim --save" run and
// takes it out when the walk says done; before the third blank a card
// already personalized goes in and is refused before anything is written
// to it, and the walk waits for the swap. All five are issued, each
// distinct chip on record, each card saved. Then each saved card goes back
// into the reader (card-sim from its file) and taps in, is taken out, goes
// in again two hours later and taps out at a check-in terminal
// (client/terminal), crediting two hours to its cardholder.
func TestBatchIssueAndTap(t *testing.T) {
	hand := &simReader{t: t, slot: pcsctest.Slot(t)}
	hand.readers = pcsctest.Start(t) // first: under CI=true a missing pcscd fails at once
	ctx := t.Context()
	w := newIssueWorld(t)
	names := []string{"黄一", "黄二", "黄三", "黄四", "黄五"}
	sess := w.onsiteBatch(t, names)

	dir := t.TempDir()
	var out bytes.Buffer
	require.NoError(t, runCardSimBlanks(blanksOptions{count: len(names), serial: "00B00001", out: dir, kmc: filepath.Join(e2eKeys, "kmc.json")}, &out))
	blank := func(i int) string { return filepath.Join(dir, fmt.Sprintf("blank-00B0000%d.json", i+1)) }
	saved := func(i int) string { return filepath.Join(dir, fmt.Sprintf("card-00B0000%d.json", i+1)) }
	pinFile := filepath.Join(dir, "pin")
	require.NoError(t, os.WriteFile(pinFile, []byte("2468\n"), 0o600))

	// The walk: "volcard personalize --batch ID --pin-file F --reader R".
	stderr := &lineWriter{ch: make(chan string, 1024)}
	var stdout lockedBuffer
	walked := make(chan error, 1)
	go func() {
		walked <- runPersonalize(ctx, personalizeOptions{server: w.url, token: w.tokens["staff"], reader: hand.slot.Reader,
			branch: "梅州分行营业部", pinFile: pinFile, batch: sess.ID}, strings.NewReader(""), &stdout, stderr)
	}()
	var refusedBefore cardsim.Image
	for i := range names {
		stderr.waitLine(t, fmt.Sprintf("%d/%d %s", i+1, len(names), names[i]))
		if i == 2 {
			// A card already personalized (the first one) goes in first.
			var err error
			refusedBefore, err = cardsim.LoadImage(saved(0))
			require.NoError(t, err)
			hand.put(saved(0), saved(0))
			stderr.waitLine(t, names[2]+": this card is already personalized; nothing was written to it — take it out and put a blank card in")
			hand.take()
			stderr.waitLine(t, "waiting for a blank card for "+names[2])
		}
		hand.put(blank(i), saved(i))
		line := stderr.waitLine(t, "done: ")
		require.Contains(t, line, fmt.Sprintf("chip 4790516800B0000%d", i+1))
		require.Contains(t, line, names[i])
		hand.take()
	}
	select {
	case err := <-walked:
		require.NoError(t, err, "stderr:\n%s", stderr.String())
	case <-time.After(60 * time.Second):
		t.Fatalf("the walk did not end; stderr:\n%s", stderr.String())
	}
	require.Contains(t, stdout.String(), fmt.Sprintf("Session %d: 5 entries, 5 personalized now, 0 before, 0 skipped, 0 failed attempts", sess.ID))
	require.Contains(t, stdout.String(), "Cards refused as already personalized (nothing written to them): 1")
	require.Contains(t, stdout.String(), "On the server: 5 personalized, 0 failed, 0 skipped, 0 to do, 0 not ready")
	errText := stderr.String()
	require.NotContains(t, errText, "\r", "no progress bar when stderr is not a terminal")
	require.NotContains(t, errText, "personalizing")
	t.Logf("the walk's whole stderr for 5 cards and a refused one: %d bytes", len(errText))
	t.Log(errText)

	t.Run("the refused card was not written", func(t *testing.T) {
		after, err := cardsim.LoadImage(saved(0))
		require.NoError(t, err)
		require.Equal(t, refusedBefore.GP.SequenceCounter+1, after.GP.SequenceCounter, "one secure channel opened, then INSTALL refused")
		after.GP.SequenceCounter = refusedBefore.GP.SequenceCounter
		require.Equal(t, refusedBefore, after)
	})

	// On the server: five issued applications, five distinct chips.
	staff, err := client.New(w.url, w.tokens["staff"])
	require.NoError(t, err)
	q, err := staff.OnsiteQueue(ctx, sess.ID)
	require.NoError(t, err)
	require.Len(t, q.Items, len(names))
	chips := map[string]bool{}
	ledger := map[string]string{} // name → the bank's PAN
	for i, it := range q.Items {
		require.Equal(t, names[i], it.Name)
		require.Equal(t, string(issuance.StatusIssued), it.Status, it.Name)
		require.Equal(t, wire.EntryPersonalized, it.Personalize)
		require.Equal(t, 1, it.Attempts, "%s: the refused card is not an attempt", it.Name)
		rec, err := w.svc.PersonalizedCard(ctx, it.ApplicationID)
		require.NoError(t, err)
		chips[rec.ChipSerial] = true
		bank := w.sim.Ledger().CardsFor(it.ApplicationNumber)
		require.Len(t, bank, 1)
		ledger[it.Name] = bank[0].PAN
	}
	require.Len(t, chips, len(names), "five distinct chips on record")

	// Check-in: each saved card back in a reader, in and out.
	sys := issuance.SystemActor()
	now := w.clock.Now()
	act, err := w.ck.CreateActivity(ctx, sys, checkin.NewActivity{OrgID: w.university.ID, Title: "迎新志愿服务",
		StartsAt: now.Add(-time.Hour), EndsAt: now.Add(6 * time.Hour)})
	require.NoError(t, err)
	gate, err := client.New(w.url, w.tokens["gate"])
	require.NoError(t, err)
	queue, err := terminal.OpenQueue(ctx, filepath.Join(dir, "queue.db"), []byte(w.tokens["gate"]))
	require.NoError(t, err)
	t.Cleanup(func() { queue.Close() })
	termReaders, err := pcsc.New(ctx) // the terminal's own PC/SC context
	require.NoError(t, err)
	t.Cleanup(func() { termReaders.Close() })
	var shown bytes.Buffer
	term, err := terminal.New(terminal.Config{API: gate, Queue: queue, ActivityID: act.ID, Readers: termReaders,
		Reader: hand.slot.Reader, Out: &shown})
	require.NoError(t, err)
	tap := func(i int) terminal.Outcome {
		t.Helper()
		hand.put(saved(i), saved(i))
		defer hand.take()
		card, err := termReaders.Connect(ctx, hand.slot.Reader, cardio.ShareExclusive)
		require.NoError(t, err)
		defer card.Disconnect(context.Background())
		o, err := term.TapCard(ctx, card)
		require.NoError(t, err)
		require.Equal(t, terminal.StatusOK, o.Status, o.Message)
		return o
	}
	atc := func(i int) int {
		img, err := cardsim.LoadImage(saved(i))
		require.NoError(t, err)
		return img.ATC
	}
	for i, name := range names {
		before := atc(i)
		in := tap(i)
		require.Equal(t, wire.KindCheckIn, in.Result.Kind, name)
		require.Equal(t, name, in.Name)
		w.clock.add(2 * time.Hour)
		out := tap(i)
		require.Equal(t, wire.KindCheckOut, out.Result.Kind, name)
		require.Equal(t, float64(2), out.Result.SessionHours, name)
		require.Equal(t, before+2, atc(i), "%s: each tap's GPO is in the saved card", name)
		w.clock.add(-2 * time.Hour)
	}
	lines := strings.Split(strings.TrimSpace(shown.String()), "\n")
	require.Len(t, lines, 2*len(names))
	require.True(t, strings.HasPrefix(lines[0], "✓ 黄一 签到"), lines[0])
	require.Equal(t, "✓ 黄一 签退 2 h", lines[1])
}
