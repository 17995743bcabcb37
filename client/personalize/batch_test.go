package personalize_test

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/volcard/volcard/cardio"
	"github.com/volcard/volcard/cardio/cardsim"
	"github.com/volcard/volcard/cardio/emv"
	"github.com/volcard/volcard/client"
	"github.com/volcard/volcard/client/personalize"
	"github.com/volcard/volcard/issuance"
	"github.com/volcard/volcard/wire"
)

// queueAPI serves a fixed queue (the on-site part is tested by its own
// package and end to end in package api) with each entry's live
// application status and the marks the walk recorded, and the real
// personalization routes.
type queueAPI struct {
	*client.Client
	w     *world
	items []wire.QueueItem
	marks []string // "name state" in the order recorded
}

func (q *queueAPI) OnsiteQueue(_ context.Context, id int64) (wire.OnsiteQueue, error) {
	out := wire.OnsiteQueue{SessionID: id}
	for _, it := range q.items {
		it.Status = string(q.w.status(it.ApplicationID))
		out.Items = append(out.Items, it)
	}
	return out, nil
}

func (q *queueAPI) MarkQueueEntry(_ context.Context, _, entryID int64, m wire.QueueMark) (wire.QueueItem, error) {
	for i := range q.items {
		it := &q.items[i]
		if it.EntryID != entryID {
			continue
		}
		if m.State == wire.EntryPersonalized || m.State == wire.EntryFailed {
			it.Attempts++
		}
		it.Personalize, it.Note = m.State, m.Note
		q.marks = append(q.marks, it.Name+" "+m.State)
		return *it, nil
	}
	return wire.QueueItem{}, &client.ProblemError{Status: 404}
}

// cardFeeder is the person at the reader: it inserts a blank card when
// asked for the next entry and takes the card out when it is done.
type cardFeeder struct {
	personalize.LineOperator
	w       *world
	readers *cardsim.Readers
	serial  uint32
	pull    map[string]int // name → pull the card after n APDUs on the first try
}

func (f *cardFeeder) Next(ctx context.Context, pos, total int, item wire.QueueItem) (personalize.Action, error) {
	f.serial++
	card := f.w.blankCard(f.serial)
	f.readers.Insert(card) // Insert clears faults: arm the pull after it
	if n, ok := f.pull[item.Name]; ok {
		card.RemoveAfter(n)
		delete(f.pull, item.Name)
	}
	return f.LineOperator.Next(ctx, pos, total, item)
}

func (f *cardFeeder) Failed(ctx context.Context, item wire.QueueItem, err error) (personalize.Action, error) {
	act, aerr := f.LineOperator.Failed(ctx, item, err)
	f.serial++
	f.readers.Insert(f.w.blankCard(f.serial)) // a new blank card for the retry
	return act, aerr
}

func (f *cardFeeder) Done(item wire.QueueItem, res wire.PersonalizationResult, st personalize.Stats) {
	f.LineOperator.Done(item, res, st)
	f.readers.Remove()
}

// TestBatchWalk walks a queue in roster order with skip, retry after a
// pulled card, and a resumed second walk.
func TestBatchWalk(t *testing.T) {
	w := newWorld(t)
	ctx := t.Context()
	names := []string{"陈一", "陈二", "陈三", "陈四"}
	var vs []volunteer
	api := &queueAPI{Client: w.api, w: w}
	for i, n := range names {
		v := w.apply(n)
		vs = append(vs, v)
		api.items = append(api.items, wire.QueueItem{Position: i + 1, EntryID: int64(100 + i), ApplicationID: v.AppID,
			ApplicationNumber: v.AppNumber, Name: n, Personalize: wire.EntryPending})
	}
	w.waitBankApproved(vs...)

	readers := cardsim.NewReaders()
	var out bytes.Buffer
	// Interactive answers: 陈一 go; 陈二 skip; 陈三 go, pulled, retry; 陈四 go.
	feeder := &cardFeeder{w: w, readers: readers, pull: map[string]int{"陈三": 6},
		LineOperator: personalize.LineOperator{In: strings.NewReader("\ns\n\n\n\n"), Out: &out, Interactive: true,
			PINFor: func(context.Context, wire.QueueItem) (string, error) { return "8642", nil }}}
	run := &personalize.Runner{API: api, Readers: readers, Reader: cardsim.ReaderName}
	rep, err := run.Batch(ctx, api, 1, feeder)
	require.NoError(t, err)
	require.Equal(t, 4, rep.Total)
	require.Equal(t, 3, rep.Personalized)
	require.Equal(t, 1, rep.Skipped)
	require.Equal(t, 1, rep.Failed, "the pulled card")
	require.Equal(t, personalize.QueueCounts{Personalized: 3, Skipped: 1}, rep.Queue)
	require.Equal(t, []string{"陈一 personalized", "陈二 skipped", "陈三 failed", "陈三 personalized", "陈四 personalized"}, api.marks)
	require.Equal(t, 2, api.items[2].Attempts)
	require.Contains(t, out.String(), "1/4 陈一")
	require.Contains(t, out.String(), "3/4 陈三")
	require.Contains(t, out.String(), "card removed — put a blank card back in")
	for i, v := range vs {
		want := issuance.StatusIssued
		if i == 1 {
			want = issuance.StatusBankApproved
		}
		require.Equal(t, want, w.status(v.AppID), names[i])
	}

	// A new walk (after a restart) resumes: only the skipped entry is left.
	out.Reset()
	feeder.LineOperator.In, feeder.LineOperator.Interactive = nil, false
	feeder.LineOperator = personalize.LineOperator{Out: &out, PINFor: feeder.PINFor}
	rep, err = run.Batch(ctx, api, 1, feeder)
	require.NoError(t, err)
	require.Equal(t, 3, rep.Already)
	require.Equal(t, 1, rep.Personalized)
	require.Contains(t, out.String(), "2/4 陈二")
	require.Contains(t, out.String(), "skipped earlier")
	require.NotContains(t, out.String(), "陈一")
	require.Equal(t, issuance.StatusIssued, w.status(vs[1].AppID))
	require.Equal(t, personalize.QueueCounts{Personalized: 4}, rep.Queue)
	require.Equal(t, "陈二 personalized", api.marks[len(api.marks)-1])

	t.Run("a card made but not recorded is recorded on resume", func(t *testing.T) {
		api.items[0].Personalize = wire.EntryPending
		api.marks = nil
		rep, err := run.Batch(ctx, api, 1, feeder)
		require.NoError(t, err)
		require.Equal(t, 4, rep.Already)
		require.Equal(t, []string{"陈一 personalized"}, api.marks)
	})
}

// hand is the person at the reader of a non-interactive walk (a PIN file):
// it puts the next card of its pile in whenever the walk waits for one, and
// takes a card out when the walk asks for that.
type hand struct {
	personalize.LineOperator
	readers *cardsim.Readers
	pile    []pileCard
	in      []*cardsim.Card // cards put in, in order
}

// pileCard is a card and, when pull > 0, the APDUs it answers before it is
// pulled out.
type pileCard struct {
	card *cardsim.Card
	pull int
}

func (h *hand) feed() {
	if h.readers.Card() != nil || len(h.pile) == 0 {
		return
	}
	c := h.pile[0]
	h.pile = h.pile[1:]
	h.readers.Insert(c.card) // Insert clears faults: arm the pull after it
	if c.pull > 0 {
		c.card.RemoveAfter(c.pull)
	}
	h.in = append(h.in, c.card)
}

func (h *hand) Next(ctx context.Context, pos, total int, item wire.QueueItem) (personalize.Action, error) {
	act, err := h.LineOperator.Next(ctx, pos, total, item)
	h.feed()
	return act, err
}

func (h *hand) Failed(ctx context.Context, item wire.QueueItem, err error) (personalize.Action, error) {
	act, aerr := h.LineOperator.Failed(ctx, item, err)
	h.feed()
	return act, aerr
}

func (h *hand) Swapping(step personalize.SwapStep, item wire.QueueItem, why error) {
	h.LineOperator.Swapping(step, item, why)
	if step == personalize.TakeOut {
		h.readers.Remove()
	} else {
		h.feed()
	}
}

// TestBatchRecordsOutcomes walks with a non-interactive operator (as with
// --pin-file) and one reader: an already personalized card is refused
// before anything is written to it and the same entry goes on with the
// next card, not marked failed; a card of another issuer fails its entry,
// which is skipped, and is not tried on the next entry (the walk waits
// for it to be swapped); a card pulled midway is retried with the next
// card put in. The failed entry is offered again by the next walk.
func TestBatchRecordsOutcomes(t *testing.T) {
	w := newWorld(t)
	ctx := t.Context()
	api := &queueAPI{Client: w.api, w: w}
	var vs []volunteer
	for i, n := range []string{"周一", "周二", "周三"} {
		v := w.apply(n)
		vs = append(vs, v)
		api.items = append(api.items, wire.QueueItem{Position: i + 1, EntryID: int64(200 + i), ApplicationID: v.AppID,
			ApplicationNumber: v.AppNumber, Name: n, Personalize: wire.EntryPending})
	}
	other := w.apply("周外")
	w.waitBankApproved(append(vs, other)...)

	// A card personalized for someone else.
	used := w.blankCard(900)
	readers := cardsim.NewReaders(used)
	run := &personalize.Runner{API: api, Readers: readers, Reader: cardsim.ReaderName}
	_, _, err := run.Personalize(ctx, personalize.Request{ApplicationID: other.AppID, PIN: "1357"})
	require.NoError(t, err)
	readers.Remove()
	usedBefore, err := used.Image()
	require.NoError(t, err)
	usedAPDUs := used.APDUCount()

	foreignImg, err := cardsim.NewBlankImage(cardsim.BlankOptions{KMC: make([]byte, 16), Diversification: w.kmc.Diversification,
		KeyVersion: w.kmc.Version, Serial: 902})
	require.NoError(t, err)
	foreign, err := cardsim.New(foreignImg)
	require.NoError(t, err)
	blank1, blank3, pulled, blank3b := w.blankCard(901), w.blankCard(903), w.blankCard(904), w.blankCard(905)

	var out bytes.Buffer
	h := &hand{readers: readers, LineOperator: personalize.LineOperator{Out: &out,
		PINFor: func(context.Context, wire.QueueItem) (string, error) { return "1357", nil }},
		pile: []pileCard{{card: used}, {card: blank1}, {card: foreign}, {card: pulled, pull: 5}, {card: blank3}, {card: blank3b}}}
	rep, err := run.Batch(ctx, api, 2, h)
	require.NoError(t, err)
	require.Equal(t, []*cardsim.Card{used, blank1, foreign, pulled, blank3}, h.in)
	require.Equal(t, 2, rep.Personalized)
	require.Equal(t, 1, rep.Refused, "the personalized card")
	require.Equal(t, 2, rep.Failed, "the foreign card and the pulled one")
	require.Equal(t, 1, rep.Skipped)
	require.Equal(t, personalize.QueueCounts{Personalized: 2, Failed: 1}, rep.Queue)
	require.Equal(t, []string{"周一 personalized", "周二 failed", "周三 failed", "周三 personalized"}, api.marks,
		"the refused card is not the entry's failure")

	t.Run("the personalized card is refused before any write", func(t *testing.T) {
		// SELECT card manager, GET CPLC, INITIALIZE UPDATE, EXTERNAL
		// AUTHENTICATE, INSTALL (6985): no STORE DATA reached the card.
		require.Equal(t, usedAPDUs+5, used.APDUCount())
		after, err := used.Image()
		require.NoError(t, err)
		require.Equal(t, usedBefore.GP.SequenceCounter+1, after.GP.SequenceCounter, "one secure channel opened")
		after.GP.SequenceCounter = usedBefore.GP.SequenceCounter
		require.Equal(t, usedBefore, after, "files, keys, PIN and counters unchanged")
		conn, err := cardsim.NewReaders(used).Connect(ctx, cardsim.ReaderName, cardio.ShareExclusive)
		require.NoError(t, err)
		f, err := emv.Read(ctx, conn, emv.Options{CAKeys: w.ca})
		require.NoError(t, err)
		require.Equal(t, "周外", f.CardholderName)
	})
	t.Run("the foreign card is tried once", func(t *testing.T) {
		require.Equal(t, 3, foreign.APDUCount(), "batch 1 only: its cryptogram is not ours")
		require.False(t, foreign.Personalized())
		require.True(t, blank1.Personalized())
		require.False(t, pulled.Personalized())
		require.True(t, blank3.Personalized())
	})
	text := out.String()
	require.Contains(t, text, "周一: this card is already personalized; nothing was written to it — take it out and put a blank card in")
	require.Contains(t, text, "waiting for a blank card for 周一")
	require.Contains(t, text, "周二: the card refused personalization")
	require.Contains(t, text, "take that card out and put another blank card in")
	require.Contains(t, text, "周三: card removed")
	require.Contains(t, api.items[1].Note, "refused personalization")
	for i, want := range []issuance.Status{issuance.StatusIssued, issuance.StatusBankApproved, issuance.StatusIssued} {
		require.Equal(t, want, w.status(vs[i].AppID), vs[i].Name)
	}

	// The next walk offers the failed entry again, showing the failure.
	out.Reset()
	api.marks = nil
	h.pile = []pileCard{{card: w.blankCard(906)}}
	readers.Remove()
	rep, err = run.Batch(ctx, api, 2, h)
	require.NoError(t, err)
	require.Contains(t, out.String(), "2/3 周二")
	require.Contains(t, out.String(), "failed earlier (1 attempts)")
	require.Equal(t, []string{"周二 personalized"}, api.marks)
	require.Equal(t, personalize.QueueCounts{Personalized: 3}, rep.Queue)
}
