package personalize

import (
	"context"
	"errors"
	"fmt"

	"github.com/volcard/volcard/api/client"
)

// QueueAPI is the server side of a batch walk; *client.Client implements it.
type QueueAPI interface {
	API
	OnsiteQueue(ctx context.Context, sessionID int64) (client.OnsiteQueue, error)
}

var _ QueueAPI = (*client.Client)(nil)

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
	// Next is asked before each entry (pos of total, in roster order).
	Next(ctx context.Context, pos, total int, item client.QueueItem) (Action, error)
	// PIN returns the PIN the entry's cardholder chose.
	PIN(ctx context.Context, item client.QueueItem) (string, error)
	// Failed is asked after a failed attempt: Go retries.
	Failed(ctx context.Context, item client.QueueItem, err error) (Action, error)
	// Done reports a personalized card; the walk then waits for its removal.
	Done(item client.QueueItem, res client.PersonalizationResult, st Stats)
}

// BatchReport counts a batch walk.
type BatchReport struct {
	SessionID int64 `json:"session_id"`
	Total     int   `json:"total"`
	// Already counts entries personalized before this walk (resumed).
	Already      int                            `json:"already"`
	Personalized int                            `json:"personalized"`
	Skipped      int                            `json:"skipped"`
	NotReady     int                            `json:"not_ready"` // not bank_approved yet
	Results      []client.PersonalizationResult `json:"results"`
}

// done reports whether an application status means the card is made.
func done(status string) bool {
	return status == "personalized" || status == "issued" || status == "activated"
}

// Batch walks an on-site session's queue in roster order: entries whose
// card is already made are counted and passed (so a walk resumes after a
// restart), entries the bank has not approved yet are passed as not
// ready, and every other entry is personalized with op's PIN, with skip
// and retry. After each card it waits for the card to leave the reader.
func (r *Runner) Batch(ctx context.Context, api QueueAPI, sessionID int64, op Operator) (BatchReport, error) {
	rep := BatchReport{SessionID: sessionID}
	q, err := api.OnsiteQueue(ctx, sessionID)
	if err != nil {
		return rep, fmt.Errorf("personalize: queue of on-site session %d: %w", sessionID, err)
	}
	rep.Total = len(q.Items)
	for i, item := range q.Items {
		switch {
		case done(item.Status):
			rep.Already++
			continue
		case item.Status != "bank_approved":
			rep.NotReady++
			continue
		}
		act, err := op.Next(ctx, i+1, len(q.Items), item)
		if err != nil {
			return rep, err
		}
		for act == Go {
			pin, err := op.PIN(ctx, item)
			if err != nil {
				return rep, err
			}
			res, st, err := r.Personalize(ctx, Request{ApplicationID: item.ApplicationID, PIN: pin})
			if err == nil {
				rep.Personalized++
				rep.Results = append(rep.Results, res)
				op.Done(item, res, st)
				if werr := r.Readers.WaitForRemoval(ctx, r.Reader); werr != nil {
					return rep, fmt.Errorf("personalize: wait for the card to leave %q: %w", r.Reader, werr)
				}
				break
			}
			if ctx.Err() != nil {
				return rep, ctx.Err()
			}
			if act, err = op.Failed(ctx, item, err); err != nil {
				return rep, err
			}
		}
		switch act {
		case Skip:
			rep.Skipped++
		case Quit:
			return rep, ErrQuit
		}
	}
	return rep, nil
}

// ErrNoPIN means no PIN was given.
var ErrNoPIN = errors.New("personalize: no PIN")
