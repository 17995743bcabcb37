package personalize

import (
	"context"
	"errors"
	"fmt"
	"unicode/utf8"

	"github.com/volcard/volcard/cardio"
	"github.com/volcard/volcard/client"
	"github.com/volcard/volcard/wire"
)

// QueueAPI is the server side of a batch walk: the session's queue and the
// route that records each entry's outcome; *client.Client implements it.
type QueueAPI interface {
	OnsiteQueue(ctx context.Context, sessionID int64) (wire.OnsiteQueue, error)
	MarkQueueEntry(ctx context.Context, sessionID, entryID int64, m wire.QueueMark) (wire.QueueItem, error)
}

var _ QueueAPI = (*client.Client)(nil)

// maxNote is the longest note the queue route accepts, in characters.
const maxNote = 500

// Action is an operator's choice in a batch walk.
type Action int

// Actions.
const (
	// Go personalizes the entry (or retries it after a failure).
	Go Action = iota
	// Skip leaves the entry for a later walk.
	Skip
	// Quit stops the walk (ErrQuit); a later walk resumes where it stopped.
	Quit
)

// Operator is the person at the reader, as a batch walk sees them.
type Operator interface {
	// Next is asked before each entry (pos of total, in roster order);
	// item.Personalize says whether an earlier walk skipped it or saw it
	// fail.
	Next(ctx context.Context, pos, total int, item wire.QueueItem) (Action, error)
	// PIN returns the PIN the entry's cardholder chose.
	PIN(ctx context.Context, item wire.QueueItem) (string, error)
	// Failed is asked after a failed attempt (already recorded on the
	// server as failed): Go retries.
	Failed(ctx context.Context, item wire.QueueItem, err error) (Action, error)
	// Done reports a personalized card; the walk then waits for its removal.
	Done(item wire.QueueItem, res wire.PersonalizationResult, st Stats)
	// Swapping is told each step of a card hand-over just before the walk
	// waits for it (see AwaitSwap): TakeOut, the card in the reader must
	// leave it (why: it is already personalized, it failed, or nil after
	// Done); PutIn, the reader is empty and a blank card is awaited for
	// item.
	Swapping(step SwapStep, item wire.QueueItem, why error)
}

// SwapStep is a step of the hand-over between two cards in the reader.
type SwapStep int

// Swap steps.
const (
	// TakeOut: the card in the reader must be taken out.
	TakeOut SwapStep = iota
	// PutIn: the reader is empty; a blank card must be put in.
	PutIn
)

// AwaitSwap waits until the card in the reader has been taken out and
// another put in: the hand-over between two cards. say, when not nil, is
// called with TakeOut before waiting for the reader to be empty (at once
// when it is) and with PutIn before waiting for the next card, so the
// operator sees what the walk waits for. It returns when a card is in the
// reader, or with ctx's error.
func AwaitSwap(ctx context.Context, readers cardio.Readers, reader string, say func(SwapStep)) error {
	if say != nil {
		say(TakeOut)
	}
	if err := readers.WaitForRemoval(ctx, reader); err != nil {
		return fmt.Errorf("personalize: wait for the card to leave %q: %w", reader, err)
	}
	if say != nil {
		say(PutIn)
	}
	if err := readers.WaitForCard(ctx, reader); err != nil {
		return fmt.Errorf("personalize: wait for a card in %q: %w", reader, err)
	}
	return nil
}

// BatchReport counts a batch walk.
type BatchReport struct {
	SessionID int64 `json:"session_id"`
	Total     int   `json:"total"`
	// Already counts entries personalized before this walk (resumed).
	Already int `json:"already"`
	// Personalized, Skipped and Failed count what this walk did: cards
	// made, entries the operator skipped, and failed attempts (a retried
	// entry can fail more than once and still be personalized).
	Personalized int `json:"personalized"`
	Skipped      int `json:"skipped"`
	Failed       int `json:"failed"`
	// Refused counts cards refused as already personalized: nothing was
	// written to them, and the entry waited for another card.
	Refused  int                          `json:"refused_cards"`
	NotReady int                          `json:"not_ready"` // not bank_approved yet
	Results  []wire.PersonalizationResult `json:"results"`
	// Queue is where the whole session stands on the server after the
	// walk, every walk included (zero when the queue could not be read
	// again).
	Queue QueueCounts `json:"queue"`
}

// QueueCounts count a session's queue entries by where they stand on the
// server. Personalized and Failed agree with the session report's counts.
type QueueCounts struct {
	// Personalized counts entries whose card is made (application
	// personalized or later).
	Personalized int `json:"personalized"`
	// Failed counts entries whose last attempt failed and whose card is
	// not made.
	Failed int `json:"failed"`
	// Skipped counts entries skipped and not made since.
	Skipped int `json:"skipped"`
	// Pending counts the other entries the bank approved, still to do.
	Pending int `json:"pending"`
	// NotReady counts entries the bank has not approved (pending, declined
	// or cancelled).
	NotReady int `json:"not_ready"`
}

// CountQueue counts a queue's entries by where they stand.
func CountQueue(q wire.OnsiteQueue) QueueCounts {
	var c QueueCounts
	for _, it := range q.Items {
		switch {
		case done(it.Status):
			c.Personalized++
		case it.Status != "bank_approved":
			c.NotReady++
		case it.Personalize == wire.EntryFailed:
			c.Failed++
		case it.Personalize == wire.EntrySkipped:
			c.Skipped++
		default:
			c.Pending++
		}
	}
	return c
}

// done reports whether an application status means the card is made.
func done(status string) bool {
	return status == "personalized" || status == "issued" || status == "activated"
}

// Batch walks an on-site session's queue in roster order and records each
// outcome on the server (api.MarkQueueEntry): a personalized card marks its
// entry personalized, a failed attempt marks it failed (with the reason
// shown to the operator) before the operator chooses to retry, skip or
// quit, and a skip marks it skipped. Entries whose card is already made
// are counted and passed (so a walk resumes after a restart; one made but
// not yet recorded, as after a crash, is recorded now); entries the bank
// has not approved yet are passed as not ready; skipped and failed entries
// of earlier walks are offered again, the operator seeing their state. A
// quit leaves the current entry as it was.
//
// A card is used for one attempt: after a personalized card the walk waits
// for it to leave the reader; a card the server finds already personalized
// (refused before anything is written to it) is not the entry's failure:
// the walk waits for it to be swapped for another card (AwaitSwap) and
// tries the same entry again; after any other failure of a card still in
// the reader, the next attempt waits for a swap too, so one card left in
// the reader never runs through the queue. Only a failure of the server
// (unreachable, 5xx) lets the same card be tried again. The report ends
// with the server's counts.
func (r *Runner) Batch(ctx context.Context, api QueueAPI, sessionID int64, op Operator) (BatchReport, error) {
	rep := BatchReport{SessionID: sessionID}
	q, err := api.OnsiteQueue(ctx, sessionID)
	if err != nil {
		return rep, fmt.Errorf("personalize: queue of on-site session %d: %w", sessionID, err)
	}
	rep.Total = len(q.Items)
	err = r.walk(ctx, api, sessionID, op, q, &rep)
	if ctx.Err() == nil {
		if q, qerr := api.OnsiteQueue(ctx, sessionID); qerr == nil {
			rep.Queue = CountQueue(q)
		} else if err == nil {
			err = fmt.Errorf("personalize: queue of on-site session %d: %w", sessionID, qerr)
		}
	}
	return rep, err
}

// notBlank reports whether err is the server's refusal of a card that is
// already personalized (INSTALL answered 6985 before any STORE DATA).
func notBlank(err error) bool { return client.ProblemType(err) == wire.ProblemCardNotBlank }

// cardStays reports whether the card of a failed attempt may still be in
// the reader and must not be used again: not pulled out, and the failure
// was the card's (a server that could not answer leaves the card usable).
func cardStays(err error) bool {
	return !errors.Is(err, ErrCardRemoved) && !errors.Is(err, cardio.ErrNoCard) && !client.Retryable(err)
}

func (r *Runner) walk(ctx context.Context, api QueueAPI, sessionID int64, op Operator, q wire.OnsiteQueue, rep *BatchReport) error {
	mark := func(item wire.QueueItem, state, note string) error {
		if _, err := api.MarkQueueEntry(ctx, sessionID, item.EntryID, wire.QueueMark{State: state, Note: note}); err != nil {
			return fmt.Errorf("personalize: record entry %d of on-site session %d as %s: %w", item.EntryID, sessionID, state, err)
		}
		return nil
	}
	// used is the card in the reader that must not be tried again, and
	// why (nil: none); the next attempt first waits for a swap.
	var used error
	swap := func(item wire.QueueItem) error {
		why := used
		used = nil
		return AwaitSwap(ctx, r.Readers, r.Reader, func(s SwapStep) { op.Swapping(s, item, why) })
	}
	for i, item := range q.Items {
		switch {
		case done(item.Status):
			rep.Already++
			if item.Personalize != wire.EntryPersonalized {
				if err := mark(item, wire.EntryPersonalized, "card made outside this walk or not recorded"); err != nil {
					return err
				}
			}
			continue
		case item.Status != "bank_approved":
			rep.NotReady++
			continue
		}
		act, err := op.Next(ctx, i+1, len(q.Items), item)
		if err != nil {
			return err
		}
		pin := ""
		for act == Go {
			if used != nil {
				if err := swap(item); err != nil {
					return err
				}
			}
			if pin == "" {
				if pin, err = op.PIN(ctx, item); err != nil {
					return err
				}
			}
			res, st, err := r.Personalize(ctx, Request{ApplicationID: item.ApplicationID, PIN: pin})
			if err == nil {
				rep.Personalized++
				rep.Results = append(rep.Results, res)
				if merr := mark(item, wire.EntryPersonalized, ""); merr != nil {
					return merr
				}
				op.Done(item, res, st)
				op.Swapping(TakeOut, item, nil)
				if werr := r.Readers.WaitForRemoval(ctx, r.Reader); werr != nil {
					return fmt.Errorf("personalize: wait for the card to leave %q: %w", r.Reader, werr)
				}
				break
			}
			if ctx.Err() != nil {
				return ctx.Err()
			}
			if notBlank(err) {
				// Nothing was written and the entry is not at fault:
				// another card, the same entry.
				rep.Refused++
				used = err
				continue // the same PIN: the cardholder is not asked again
			}
			rep.Failed++
			if merr := mark(item, wire.EntryFailed, note(Explain(err))); merr != nil {
				return errors.Join(err, merr)
			}
			item.Personalize = wire.EntryFailed
			if cardStays(err) {
				used = err
			}
			if act, err = op.Failed(ctx, item, err); err != nil {
				return err
			}
			pin = "" // a retry asks again, as a new attempt
		}
		switch act {
		case Skip:
			rep.Skipped++
			// An entry that failed keeps its failure (the report counts
			// it); a plain skip is recorded as such.
			if item.Personalize != wire.EntryFailed {
				if err := mark(item, wire.EntrySkipped, "skipped by the operator"); err != nil {
					return err
				}
			}
		case Quit:
			return ErrQuit
		}
	}
	return nil
}

// note cuts s to the length the queue route accepts.
func note(s string) string {
	if utf8.RuneCountInString(s) <= maxNote {
		return s
	}
	r := []rune(s)
	return string(r[:maxNote-1]) + "…"
}

// ErrNoPIN means no PIN was given.
var ErrNoPIN = errors.New("personalize: no PIN")
