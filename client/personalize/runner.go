package personalize

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/volcard/volcard/cardio"
	"github.com/volcard/volcard/client"
	"github.com/volcard/volcard/wire"
)

// API is the server side of a personalization; *client.Client implements it.
type API interface {
	OpenPersonalization(ctx context.Context, applicationID int64, in wire.OpenPersonalization) (wire.PersonalizationStep, error)
	PostPersonalizationResponses(ctx context.Context, sessionID string, in wire.PersonalizationResponses) (wire.PersonalizationStep, error)
}

var _ API = (*client.Client)(nil)

// Runner personalizes cards in one reader.
type Runner struct {
	// API is the server (required).
	API API
	// Readers is the reader set: cardio/pcsc, or cardio/cardsim in process
	// (required).
	Readers cardio.Readers
	// Reader is the reader name (required).
	Reader string
	// Branch is recorded with each card.
	Branch string
	// Progress, when set, is called after every APDU with the commands
	// done and the total known so far (the total grows when batch 2
	// arrives).
	Progress func(done, total int)
}

// Stats describe one personalization.
type Stats struct {
	// APDUs is the number of commands relayed to the card.
	APDUs int
	// RoundTrips counts HTTP requests after the session was opened.
	RoundTrips int
	// Open is the time the opening request took (data preparation).
	Open time.Duration
	// CardTime runs from the first APDU to the last response.
	CardTime time.Duration
	// CardIO is the time spent in the card transmissions alone.
	CardIO time.Duration
	// Total runs from connecting to the result.
	Total time.Duration
}

// Request is one card to personalize.
type Request struct {
	ApplicationID int64
	// PIN is the cardholder's chosen PIN (4-12 digits).
	PIN string
}

// expectedAPDUs is the usual size of a personalization, for the progress
// bar before batch 2 arrives.
const expectedAPDUs = 32

// Personalize waits for a card in the reader, runs a whole session and
// returns the result. A card lost midway is a *CardLostError (errors.Is
// ErrCardRemoved): the application stays bank_approved and a new call with
// the same or another blank card starts a new session.
func (r *Runner) Personalize(ctx context.Context, req Request) (wire.PersonalizationResult, Stats, error) {
	var st Stats
	if r.API == nil || r.Readers == nil || r.Reader == "" {
		return wire.PersonalizationResult{}, st, errors.New("personalize: runner needs an API, readers and a reader name")
	}
	start := time.Now()
	if err := r.Readers.WaitForCard(ctx, r.Reader); err != nil {
		return wire.PersonalizationResult{}, st, fmt.Errorf("personalize: wait for a card in %q: %w", r.Reader, err)
	}
	card, err := r.Readers.Connect(ctx, r.Reader, cardio.ShareExclusive)
	if err != nil {
		if errors.Is(err, cardio.ErrNoCard) || errors.Is(err, cardio.ErrCardRemoved) {
			return wire.PersonalizationResult{}, st, &CardLostError{Err: err}
		}
		return wire.PersonalizationResult{}, st, fmt.Errorf("personalize: connect to %q: %w", r.Reader, err)
	}
	defer func() { _ = card.Disconnect(context.WithoutCancel(ctx)) }()
	t0 := time.Now()
	step, err := r.API.OpenPersonalization(ctx, req.ApplicationID, wire.OpenPersonalization{Reader: r.Reader, Branch: r.Branch, PIN: req.PIN})
	st.Open = time.Since(t0)
	if err != nil {
		return wire.PersonalizationResult{}, st, fmt.Errorf("personalize: open session for application %d: %w", req.ApplicationID, err)
	}
	total := len(step.Commands) + expectedAPDUs
	var first time.Time
	for step.Phase != "done" {
		if len(step.Commands) == 0 {
			return wire.PersonalizationResult{}, st, fmt.Errorf("personalize: server sent an empty %q batch", step.Phase)
		}
		if step.Phase == "script" || step.Phase == "read_back" {
			total = st.APDUs + len(step.Commands)
		}
		if first.IsZero() {
			first = time.Now()
		}
		resps, err := r.relay(ctx, card, step.Commands, &st, total)
		if err != nil {
			return wire.PersonalizationResult{}, st, err
		}
		st.CardTime = time.Since(first)
		st.RoundTrips++
		step, err = r.API.PostPersonalizationResponses(ctx, step.SessionID, wire.PersonalizationResponses{Responses: resps})
		if err != nil {
			return wire.PersonalizationResult{}, st, fmt.Errorf("personalize: application %d: %w", req.ApplicationID, err)
		}
	}
	st.Total = time.Since(start)
	if step.Result == nil {
		return wire.PersonalizationResult{}, st, errors.New("personalize: server finished without a result")
	}
	return *step.Result, st, nil
}

// relay sends commands in order and stops at the first status other than
// 9000; a transport failure is a *CardLostError.
func (r *Runner) relay(ctx context.Context, card cardio.Card, cmds []string, st *Stats, total int) ([]string, error) {
	out := make([]string, 0, len(cmds))
	for i, h := range cmds {
		raw, err := hex.DecodeString(h)
		if err != nil {
			return nil, fmt.Errorf("personalize: command %d from the server is not hex", i)
		}
		cmd, err := cardio.ParseCommand(raw)
		if err != nil {
			return nil, fmt.Errorf("personalize: command %d from the server: %w", i, err)
		}
		t := time.Now()
		resp, err := cardio.Transmit(ctx, card, cmd)
		st.CardIO += time.Since(t)
		if err != nil && resp.SW == 0 {
			return nil, &CardLostError{APDUs: st.APDUs, Err: err}
		}
		st.APDUs++
		if r.Progress != nil {
			r.Progress(st.APDUs, total)
		}
		out = append(out, strings.ToUpper(hex.EncodeToString(resp.Bytes())))
		if !resp.OK() {
			break
		}
	}
	return out, nil
}
