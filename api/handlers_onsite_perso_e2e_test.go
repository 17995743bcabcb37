package api

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/volcard/volcard/cardio"
	"github.com/volcard/volcard/cardio/cardsim"
	"github.com/volcard/volcard/cardio/emv"
	"github.com/volcard/volcard/cardio/pcsc/pcsctest"
	"github.com/volcard/volcard/cardio/vpcd"
	"github.com/volcard/volcard/client"
	"github.com/volcard/volcard/client/personalize"
	"github.com/volcard/volcard/issuance"
	"github.com/volcard/volcard/personalization"
	"github.com/volcard/volcard/personalization/dataprep"
	"github.com/volcard/volcard/wire"
)

const (
	persoKeysDir = "../testdata/keys"
	// onsiteProduct and its BIN are the harness fixtures' product, the BIN
	// banksim issues from in newOnsiteEnv.
	onsiteProduct    = "GD-RV-BOC"
	onsiteProductBIN = "621661"
)

// TestOnsitePersonalizeEndToEndPCSC is issue 7's last step on PostgreSQL +
// banksim over TCP: after banksim issued the session's 40 cards, `volcard
// personalize --batch`'s code path (personalize.Runner.Batch with the
// LineOperator) walks the queue in roster order and personalizes cardsim
// blank cards through the real pcscd/vpcd. The card of entry 2 is pulled
// mid-personalization: the entry is marked failed on the server, then
// retried with a new blank card. Entry 3 is skipped and the walk quit at
// entry 4; a second walk (a new Runner, as after a restart) passes the two
// made cards, shows entry 3 as skipped and personalizes it. The session
// report is then exact: requested 45, accepted 40, rejected 5, sent 40,
// approved by the bank 40, personalized 3, failed 0.
func TestOnsitePersonalizeEndToEndPCSC(t *testing.T) {
	began := time.Now()
	readers := pcsctest.Start(t) // first: under CI=true a missing pcscd fails at once
	slot := pcsctest.Slot(t)
	ctx := t.Context()

	var kmc dataprep.KMC
	var ca emv.CAKeys
	e := newOnsiteEnv(t, func(svc *issuance.Service, srv *Server) {
		ks, err := dataprep.LoadSoftKeyStore(dataprep.SoftKeyStoreConfig{Dir: persoKeysDir,
			ProductBINs: map[string]string{onsiteProduct: onsiteProductBIN}})
		require.NoError(t, err)
		ca, err = emv.LoadCAKeys(persoKeysDir + "/ca-public.json")
		require.NoError(t, err)
		kmc, err = ks.KMC(context.Background(), 0)
		require.NoError(t, err)
		perso, err := personalization.New(personalization.Config{Issuance: svc, Keys: ks, CAKeys: ca})
		require.NoError(t, err)
		require.NoError(t, srv.EnablePersonalization(perso))
	})
	staff, err := client.New(e.ts.URL, e.tokens["bocmz"])
	require.NoError(t, err)
	uni, err := client.New(e.ts.URL, e.tokens["uni"])
	require.NoError(t, err)

	sess := e.bankApprovedSession(ctx, staff, uni)
	require.Equal(t, 40, e.sim.CardsIssued())
	q, err := staff.OnsiteQueue(ctx, sess.ID)
	require.NoError(t, err)
	require.Len(t, q.Items, 40)
	names := make([]string, 4)
	for i := range names {
		names[i] = q.Items[i].Name
	}
	setup := time.Since(began)

	// The reader: one vpcd slot whose card the operator swaps.
	holder := &cardHolder{}
	vslot, err := vpcd.NewSlot(slot.Addr, holder, vpcd.WithLogger(slog.New(slog.DiscardHandler)),
		vpcd.WithRetryInterval(10*time.Millisecond))
	require.NoError(t, err)
	t.Cleanup(func() {
		_ = vslot.Remove()
		wctx, cancel := context.WithTimeout(context.Background(), pcsctest.StepTimeout)
		defer cancel()
		if err := readers.WaitForRemoval(wctx, slot.Reader); err != nil {
			t.Errorf("reader %q still shows a card after the test: %v", slot.Reader, err)
		}
	})
	var out bytes.Buffer
	pins := func(_ context.Context, item wire.QueueItem) (string, error) {
		return fmt.Sprintf("%04d", 1000+item.Position), nil
	}
	op := &siteOperator{t: t, readers: readers, reader: slot.Reader, slot: vslot, holder: holder, kmc: kmc,
		pull: map[string]int{names[1]: 4}, // SELECT, INITIALIZE UPDATE, EXTERNAL AUTHENTICATE, one STORE DATA
		LineOperator: personalize.LineOperator{Out: &out, Interactive: true, PINFor: pins,
			// 1 go; 2 go, pulled, retry; 3 skip; 4 quit.
			In: strings.NewReader("\n\n\ns\nq\n")}}
	op.onFailed = func(item wire.QueueItem, err error) {
		// The failure is on the server before the operator answers.
		require.ErrorIs(t, err, personalize.ErrCardRemoved)
		require.Equal(t, names[1], item.Name)
		rep, rerr := staff.OnsiteReport(ctx, sess.ID)
		require.NoError(t, rerr)
		require.Equal(t, 1, rep.Failed, "entry 2 marked failed")
		require.Equal(t, 1, rep.Personalized)
		require.Equal(t, issuance.StatusBankApproved, e.appStatus(item.ApplicationID), "a pulled card is not issued")
	}

	walkStart := time.Now()
	run := &personalize.Runner{API: staff, Readers: readers, Reader: slot.Reader, Branch: e.branch.Name}
	rep, err := run.Batch(ctx, staff, sess.ID, op)
	require.ErrorIs(t, err, personalize.ErrQuit)
	require.Equal(t, 40, rep.Total)
	require.Equal(t, 2, rep.Personalized)
	require.Equal(t, 1, rep.Failed, "the pulled card")
	require.Equal(t, 1, rep.Skipped)
	require.Equal(t, personalize.QueueCounts{Personalized: 2, Skipped: 1, Pending: 37}, rep.Queue)
	text := out.String()
	at := func(s string) int {
		t.Helper()
		i := strings.Index(text, s)
		require.GreaterOrEqual(t, i, 0, "%q not in the walk's output:\n%s", s, text)
		return i
	}
	require.Less(t, at("1/40 "+names[0]), at("2/40 "+names[1]))
	require.Less(t, at("2/40 "+names[1]), at("card removed — put a blank card back in"))
	require.Less(t, at("card removed — put a blank card back in"), at("3/40 "+names[2]))
	require.Less(t, at("3/40 "+names[2]), at("4/40 "+names[3]))
	require.NotContains(t, text, "5/40")

	q, err = staff.OnsiteQueue(ctx, sess.ID)
	require.NoError(t, err)
	type entry struct {
		State    string
		Attempts int
	}
	states := func() []entry {
		var es []entry
		for _, it := range q.Items[:5] {
			es = append(es, entry{it.Personalize, it.Attempts})
		}
		return es
	}
	require.Equal(t, []entry{{"personalized", 1}, {"personalized", 2}, {"skipped", 0}, {"pending", 0}, {"pending", 0}}, states())

	// A restart: a new Runner and operator on the same session.
	out.Reset()
	op.LineOperator = personalize.LineOperator{Out: &out, Interactive: true, PINFor: pins,
		In: strings.NewReader("\nq\n")} // 3 go; 4 quit
	run = &personalize.Runner{API: staff, Readers: readers, Reader: slot.Reader, Branch: e.branch.Name}
	rep, err = run.Batch(ctx, staff, sess.ID, op)
	require.ErrorIs(t, err, personalize.ErrQuit)
	walks := time.Since(walkStart)
	require.Equal(t, 2, rep.Already)
	require.Equal(t, 1, rep.Personalized)
	require.Zero(t, rep.Failed)
	require.Equal(t, personalize.QueueCounts{Personalized: 3, Pending: 37}, rep.Queue)
	text = out.String()
	require.NotContains(t, text, "1/40")
	require.NotContains(t, text, "2/40")
	require.Contains(t, text, "3/40 "+names[2])
	require.Contains(t, text, "— skipped earlier")
	require.Less(t, at("3/40 "+names[2]), at("4/40 "+names[3]))

	// The report's counts, from the server.
	report, err := uni.OnsiteReport(ctx, sess.ID)
	require.NoError(t, err)
	require.Equal(t, 45, report.UploadedRows)
	report.Uploads, report.UploadedRows = nil, 0
	require.Equal(t, wire.OnsiteReport{SessionID: sess.ID, Status: "in_progress", Requested: 45, Accepted: 40,
		Rejected: 5, Sent: 40, BankApproved: 40, Personalized: 3}, report)
	q, err = staff.OnsiteQueue(ctx, sess.ID)
	require.NoError(t, err)
	require.Equal(t, []entry{{"personalized", 1}, {"personalized", 2}, {"personalized", 1}, {"pending", 0}, {"pending", 0}}, states())
	for i, it := range q.Items {
		want := issuance.StatusBankApproved
		if i < 3 {
			want = issuance.StatusIssued
		}
		require.Equal(t, want, e.appStatus(it.ApplicationID), "entry %d", i+1)
	}

	// Four cards went through pcscd: three made, the pulled one not.
	require.Len(t, op.cards, 4)
	t.Logf("a personalization through pcscd: %d APDUs", op.cards[0].APDUCount())
	require.False(t, op.cards[1].Personalized(), "the pulled card")
	made := []*cardsim.Card{op.cards[0], op.cards[2], op.cards[3]}
	for i, card := range made {
		require.True(t, card.Personalized(), "card of entry %d", i+1)
		// Read back (in process, as a terminal would): the roster's
		// person, the bank's PAN, DDA, the PIN chosen.
		card.ClearFaults()
		conn, err := cardsim.NewReaders(card).Connect(ctx, cardsim.ReaderName, cardio.ShareExclusive)
		require.NoError(t, err)
		f, err := emv.Read(ctx, conn, emv.Options{CAKeys: ca})
		require.NoError(t, err)
		require.Equal(t, names[i], f.CardholderName)
		bank := e.sim.Ledger().CardsFor(q.Items[i].ApplicationNumber)
		require.Len(t, bank, 1)
		require.Equal(t, bank[0].PAN, f.PAN.Digits())
		require.True(t, f.ODA.Verified, f.ODA.Failure)
		require.NoError(t, emv.VerifyPIN(ctx, conn, fmt.Sprintf("%04d", 1000+i+1)))
		require.NoError(t, conn.Disconnect(ctx))
	}
	t.Logf("setup (session, roster, approval, 40 cards from banksim) %v; two walks over pcscd (4 cards, 1 pulled) %v; test %v",
		setup.Round(time.Millisecond), walks.Round(time.Millisecond), time.Since(began).Round(time.Millisecond))
}

// bankApprovedSession runs the on-site flow through the API client up to
// the bank's answers: the university requests a 45-person session, the
// branch schedules and starts it and uploads the GB18030 roster (40
// accepted, 5 rejected), the university approves, and the outbox sends the
// 40 applications to banksim. It returns once the bank approved all 40.
func (e *onsiteEnv) bankApprovedSession(ctx context.Context, staff, org *client.Client) wire.OnsiteSession {
	t := e.t
	t.Helper()
	sess, err := org.RequestOnsiteSession(ctx, wire.NewOnsiteSession{OrgID: e.university.ID, Site: "嘉应学院体育馆",
		Date: time.Now().AddDate(0, 0, 10).Format(time.DateOnly), ExpectedCount: 45, Product: onsiteProduct})
	require.NoError(t, err)
	for _, action := range []string{"schedule", "start"} {
		_, err := staff.TransitionOnsiteSession(ctx, sess.ID, action, "")
		require.NoError(t, err, action)
	}
	data := readFixture(t, "onsite-45-gb18030.csv")
	rep, err := staff.UploadRoster(ctx, sess.ID, bytes.NewReader(data), int64(len(data)), "text/csv")
	require.NoError(t, err)
	require.Equal(t, 40, rep.Accepted)
	require.Equal(t, 5, rep.Rejected)
	ap, err := org.ApproveOnsiteSession(ctx, sess.ID)
	require.NoError(t, err)
	require.Equal(t, 40, ap.Sent)
	// Not a timed assertion: a generous bound against a hang.
	deadline := time.Now().Add(60 * time.Second)
	for {
		r, err := org.OnsiteReport(ctx, sess.ID)
		require.NoError(t, err)
		if r.BankApproved == 40 {
			return sess
		}
		require.True(t, time.Now().Before(deadline), "banksim approved %d of 40", r.BankApproved)
		time.Sleep(20 * time.Millisecond)
	}
}

func (e *onsiteEnv) appStatus(id int64) issuance.Status {
	e.t.Helper()
	app, err := e.svc.GetApplication(context.Background(), issuance.SystemActor(), id)
	require.NoError(e.t, err)
	return app.Status
}

// cardHolder is the card in a vpcd slot, swapped by the operator between
// insertions (a vpcd.Slot serves one Responder).
type cardHolder struct {
	mu   sync.Mutex
	card *cardsim.Card
}

func (h *cardHolder) set(c *cardsim.Card) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.card = c
}

func (h *cardHolder) get() *cardsim.Card {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.card
}

// ATR implements vpcd.Responder.
func (h *cardHolder) ATR() []byte { return h.get().ATR() }

// Reset implements vpcd.Responder.
func (h *cardHolder) Reset() { h.get().Reset() }

// Process implements vpcd.Responder.
func (h *cardHolder) Process(cmd []byte) ([]byte, error) { return h.get().Process(cmd) }

// siteOperator is the bank clerk at the reader: the command's LineOperator
// (the answers read from In), plus hands that put a new blank cardsim card
// into the vpcd reader for every attempt and take it out when it is done.
type siteOperator struct {
	personalize.LineOperator
	t        *testing.T
	readers  cardio.Readers
	reader   string
	slot     *vpcd.Slot
	holder   *cardHolder
	kmc      dataprep.KMC
	pull     map[string]int // name → the first card is pulled after n APDUs
	onFailed func(item wire.QueueItem, err error)
	cards    []*cardsim.Card
}

func (o *siteOperator) Next(ctx context.Context, pos, total int, item wire.QueueItem) (personalize.Action, error) {
	act, err := o.LineOperator.Next(ctx, pos, total, item)
	if err != nil || act != personalize.Go {
		return act, err
	}
	card := o.blank()
	if n, ok := o.pull[item.Name]; ok {
		card.RemoveAfter(n)
		delete(o.pull, item.Name)
	}
	return act, o.insert(ctx, card)
}

func (o *siteOperator) Failed(ctx context.Context, item wire.QueueItem, err error) (personalize.Action, error) {
	if o.onFailed != nil {
		o.onFailed(item, err)
	}
	act, aerr := o.LineOperator.Failed(ctx, item, err)
	if aerr != nil || act != personalize.Go {
		return act, aerr
	}
	return act, o.insert(ctx, o.blank()) // a new blank card for the retry
}

func (o *siteOperator) Done(item wire.QueueItem, res wire.PersonalizationResult, st personalize.Stats) {
	o.LineOperator.Done(item, res, st)
	_ = o.slot.Remove()
}

func (o *siteOperator) blank() *cardsim.Card {
	o.t.Helper()
	img, err := cardsim.NewBlankImage(cardsim.BlankOptions{KMC: o.kmc.Key, Diversification: o.kmc.Diversification,
		KeyVersion: o.kmc.Version, Serial: uint32(0x7000 + len(o.cards))})
	require.NoError(o.t, err)
	c, err := cardsim.New(img)
	require.NoError(o.t, err)
	o.cards = append(o.cards, c)
	return c
}

// insert takes out whatever is in the reader, waits until pcscd sees it
// empty, and puts card in until pcscd sees it (right after a card vanished
// mid-command the vpcd driver can miss a new connection: as in
// pcsctest.Insert, a card not seen within a few polls goes in again).
func (o *siteOperator) insert(ctx context.Context, card *cardsim.Card) error {
	empty := func() error {
		_ = o.slot.Remove()
		wctx, cancel := context.WithTimeout(ctx, pcsctest.StepTimeout)
		defer cancel()
		return o.readers.WaitForRemoval(wctx, o.reader)
	}
	if err := empty(); err != nil {
		return fmt.Errorf("reader %q not empty: %w", o.reader, err)
	}
	o.holder.set(card)
	var err error
	for range 5 {
		if err = o.slot.Insert(ctx); err != nil {
			return err
		}
		wctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		err = o.readers.WaitForCard(wctx, o.reader)
		cancel()
		if err == nil {
			return nil
		}
		if err := empty(); err != nil {
			return fmt.Errorf("reader %q not empty: %w", o.reader, err)
		}
	}
	return fmt.Errorf("card never seen in %q: %w", o.reader, err)
}
