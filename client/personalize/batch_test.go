package personalize_test

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/volcard/volcard/cardio/cardsim"
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

// TestBatchRecordsOutcomes walks with a non-interactive operator: a card
// the server refuses (already personalized) marks the entry failed with the
// operator's explanation and skips it; the next walk offers it again,
// showing the failure; a pulled card quits the walk, leaving it failed.
func TestBatchRecordsOutcomes(t *testing.T) {
	w := newWorld(t)
	ctx := t.Context()
	api := &queueAPI{Client: w.api, w: w}
	var vs []volunteer
	for i, n := range []string{"周一", "周二"} {
		v := w.apply(n)
		vs = append(vs, v)
		api.items = append(api.items, wire.QueueItem{Position: i + 1, EntryID: int64(200 + i), ApplicationID: v.AppID,
			ApplicationNumber: v.AppNumber, Name: n, Personalize: wire.EntryPending})
	}
	w.waitBankApproved(vs...)

	// A card personalized for someone else is not blank.
	other := w.apply("周外")
	w.waitBankApproved(other)
	used := w.blankCard(900)
	readers := cardsim.NewReaders(used)
	run := &personalize.Runner{API: api, Readers: readers, Reader: cardsim.ReaderName}
	_, _, err := run.Personalize(ctx, personalize.Request{ApplicationID: other.AppID, PIN: "1357"})
	require.NoError(t, err)

	var out bytes.Buffer
	op := &personalize.LineOperator{Out: &out,
		PINFor: func(context.Context, wire.QueueItem) (string, error) { return "1357", nil }}
	rep, err := run.Batch(ctx, api, 2, op)
	require.NoError(t, err)
	require.Equal(t, 2, rep.Failed)
	require.Equal(t, 2, rep.Skipped)
	require.Equal(t, personalize.QueueCounts{Failed: 2}, rep.Queue)
	require.Equal(t, []string{"周一 failed", "周二 failed"}, api.marks, "a failure then a skip stays failed")
	require.Contains(t, api.items[0].Note, "already personalized")

	// The next walk shows the failure; the card is pulled: quit, still failed.
	out.Reset()
	fresh := w.blankCard(901)
	readers.Insert(fresh) // Insert clears faults: arm the pull after it
	fresh.RemoveAfter(3)
	api.marks = nil
	rep, err = run.Batch(ctx, api, 2, op)
	require.ErrorIs(t, err, personalize.ErrQuit)
	require.Contains(t, out.String(), "1/2 周一")
	require.Contains(t, out.String(), "failed earlier (1 attempts)")
	require.Equal(t, []string{"周一 failed"}, api.marks)
	require.Equal(t, 2, api.items[0].Attempts)
	require.Equal(t, personalize.QueueCounts{Failed: 2}, rep.Queue)
	require.Equal(t, issuance.StatusBankApproved, w.status(vs[0].AppID))
}
