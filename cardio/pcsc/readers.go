package pcsc

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/ebfe/scard"

	"github.com/volcard/volcard/cardio"
)

// pnpReader is the pseudo reader whose state changes when readers are
// plugged in or removed.
const pnpReader = `\\?PnP?\Notification`

// pollInterval bounds each GetStatusChange call. A wait normally ends
// through SCardCancel when its context ends; the interval only covers the
// narrow race where the cancel arrives between two calls.
const pollInterval = 500 * time.Millisecond

// unknownGrace is how long a reader may be reported unknown before a wait
// gives up on it (see waitReader).
const unknownGrace = 2 * time.Second

// Readers is the set of PC/SC readers seen by pcscd. It implements
// cardio.Readers and is safe for concurrent use. Close it when done.
type Readers struct {
	mu     sync.Mutex
	sc     *scard.Context
	closed bool
}

var _ cardio.Readers = (*Readers)(nil)

// New connects to pcscd. When pcscd is not running the error wraps
// cardio.ErrServiceUnavailable.
func New(ctx context.Context) (*Readers, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	sc, err := scard.EstablishContext()
	if err != nil {
		return nil, wrap("establish context", "", err)
	}
	return &Readers{sc: sc}, nil
}

// Close releases the PC/SC context. Cards already connected stay usable.
func (r *Readers) Close() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		return nil
	}
	r.closed = true
	return wrap("release context", "", r.sc.Release())
}

// List returns the names of the readers present now, sorted as pcscd
// reports them. No reader is an empty list, not an error. If pcscd was
// restarted since New, List reconnects once.
func (r *Readers) List(ctx context.Context) ([]string, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		return nil, ErrClosed
	}
	names, err := listReaders(r.sc)
	if isStaleContext(err) {
		if sc, e := scard.EstablishContext(); e == nil {
			_ = r.sc.Release()
			r.sc = sc
			names, err = listReaders(r.sc)
		}
	}
	if err != nil {
		return nil, wrap("list readers", "", err)
	}
	return names, nil
}

func isStaleContext(err error) bool {
	return errors.Is(err, scard.ErrInvalidHandle) || errors.Is(err, scard.ErrServiceStopped) ||
		errors.Is(err, scard.ErrNoService)
}

func listReaders(sc *scard.Context) ([]string, error) {
	names, err := sc.ListReaders()
	if errors.Is(err, scard.ErrNoReadersAvailable) {
		return []string{}, nil
	}
	if names == nil && err == nil {
		names = []string{}
	}
	return names, err
}

// ReaderStatus is a reader and whether a card is in it.
type ReaderStatus struct {
	Name        string
	CardPresent bool
	// InUse says another connection holds the card; Exclusive that it
	// holds it exclusively.
	InUse, Exclusive bool
}

// Status returns every reader with its card state.
func (r *Readers) Status(ctx context.Context) ([]ReaderStatus, error) {
	names, err := r.List(ctx)
	if err != nil || len(names) == 0 {
		return []ReaderStatus{}, err
	}
	sc, release, err := r.waitContext(ctx)
	if err != nil {
		return nil, err
	}
	defer release()
	states := make([]scard.ReaderState, len(names))
	for i, n := range names {
		states[i] = scard.ReaderState{Reader: n, CurrentState: scard.StateUnaware}
	}
	if err := sc.GetStatusChange(states, 0); err != nil && !errors.Is(err, scard.ErrTimeout) {
		return nil, wrap("get status", "", err)
	}
	out := make([]ReaderStatus, len(states))
	for i, s := range states {
		out[i] = ReaderStatus{
			Name:        s.Reader,
			CardPresent: present(s.EventState),
			InUse:       s.EventState&scard.StateInuse != 0,
			Exclusive:   s.EventState&scard.StateExclusive != 0,
		}
	}
	return out, nil
}

// present reports whether a state means a card that answered its reset.
func present(s scard.StateFlag) bool {
	return s&scard.StatePresent != 0 && s&scard.StateMute == 0
}

// waitContext gives a fresh PC/SC context for one wait, cancelled when
// ctx ends, so concurrent waits and List never queue behind each other.
func (r *Readers) waitContext(ctx context.Context) (*scard.Context, func(), error) {
	r.mu.Lock()
	closed := r.closed
	r.mu.Unlock()
	if closed {
		return nil, nil, ErrClosed
	}
	if err := ctx.Err(); err != nil {
		return nil, nil, err
	}
	sc, err := scard.EstablishContext()
	if err != nil {
		return nil, nil, wrap("establish context", "", err)
	}
	stop := context.AfterFunc(ctx, func() { _ = sc.Cancel() })
	return sc, func() {
		stop()
		_ = sc.Release()
	}, nil
}

// statusChange runs one bounded GetStatusChange; a timeout or a cancel is
// not an error (the caller loops and checks ctx).
func statusChange(ctx context.Context, sc *scard.Context, states []scard.ReaderState) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	err := sc.GetStatusChange(states, pollInterval)
	switch {
	case err == nil, errors.Is(err, scard.ErrTimeout):
		return nil
	case errors.Is(err, scard.ErrCancelled):
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return nil
	}
	return err
}

// WaitForCard blocks until a card is present in reader (it may be there
// already) or ctx ends. A reader that does not exist (or goes away) gives
// an error wrapping cardio.ErrNoReader.
func (r *Readers) WaitForCard(ctx context.Context, reader string) error {
	return r.waitReader(ctx, reader, present)
}

// WaitForRemoval blocks until reader is empty or ctx ends.
func (r *Readers) WaitForRemoval(ctx context.Context, reader string) error {
	return r.waitReader(ctx, reader, func(s scard.StateFlag) bool { return s&scard.StateEmpty != 0 })
}

func (r *Readers) waitReader(ctx context.Context, reader string, done func(scard.StateFlag) bool) error {
	sc, release, err := r.waitContext(ctx)
	if err != nil {
		return err
	}
	defer release()
	states := []scard.ReaderState{{Reader: reader, CurrentState: scard.StateUnaware}}
	var unknownSince time.Time
	for {
		if err := statusChange(ctx, sc, states); err != nil {
			if ctx.Err() != nil {
				return fmt.Errorf("pcsc: wait on %q: %w", reader, ctx.Err())
			}
			return wrap("wait", reader, err)
		}
		ev := states[0].EventState
		if ev&(scard.StateUnknown|scard.StateIgnore) != 0 {
			// pcscd reports a reader unknown for a moment when its driver
			// fails one presence poll (seen with vpcd as a card's
			// connection closes); a reader that stays unknown is gone.
			if unknownSince.IsZero() {
				unknownSince = time.Now()
			}
			if time.Since(unknownSince) > unknownGrace {
				return &Error{Op: "wait", Reader: reader, Code: scard.ErrUnknownReader, kind: cardio.ErrNoReader}
			}
			states[0].CurrentState = scard.StateUnaware
			select {
			case <-ctx.Done():
				return fmt.Errorf("pcsc: wait on %q: %w", reader, ctx.Err())
			case <-time.After(50 * time.Millisecond):
			}
			continue
		}
		unknownSince = time.Time{}
		if done(ev) {
			return nil
		}
		states[0].CurrentState = ev &^ scard.StateChanged
	}
}

// WaitForAnyCard blocks until some reader holds a card, and returns that
// reader's name. Readers plugged in while it waits are watched too.
func (r *Readers) WaitForAnyCard(ctx context.Context) (string, error) {
	sc, release, err := r.waitContext(ctx)
	if err != nil {
		return "", err
	}
	defer release()
	for {
		names, err := listReaders(sc)
		if err != nil {
			return "", wrap("list readers", "", err)
		}
		states := make([]scard.ReaderState, 0, len(names)+1)
		states = append(states, scard.ReaderState{Reader: pnpReader, CurrentState: scard.StateFlag(len(names) << 16)})
		for _, n := range names {
			states = append(states, scard.ReaderState{Reader: n, CurrentState: scard.StateUnaware})
		}
		for {
			if err := statusChange(ctx, sc, states); err != nil {
				if ctx.Err() != nil {
					return "", fmt.Errorf("pcsc: wait for a card: %w", ctx.Err())
				}
				return "", wrap("wait for a card", "", err)
			}
			for _, s := range states[1:] {
				if present(s.EventState) {
					return s.Reader, nil
				}
			}
			if states[0].EventState&scard.StateChanged != 0 || slices.ContainsFunc(states[1:], func(s scard.ReaderState) bool {
				return s.EventState&(scard.StateUnknown|scard.StateIgnore) != 0
			}) {
				break // the reader list changed: list again
			}
			for i := range states {
				states[i].CurrentState = states[i].EventState &^ scard.StateChanged
			}
		}
	}
}

// WaitForReaderChange blocks until the set of readers differs from known
// (compared as sets) or ctx ends, and returns the new list.
func (r *Readers) WaitForReaderChange(ctx context.Context, known []string) ([]string, error) {
	sc, release, err := r.waitContext(ctx)
	if err != nil {
		return nil, err
	}
	defer release()
	want := slices.Clone(known)
	slices.Sort(want)
	states := []scard.ReaderState{{Reader: pnpReader, CurrentState: scard.StateFlag(len(known) << 16)}}
	for {
		names, err := listReaders(sc)
		if err != nil {
			return nil, wrap("list readers", "", err)
		}
		got := slices.Clone(names)
		slices.Sort(got)
		if !slices.Equal(got, want) {
			return names, nil
		}
		if err := statusChange(ctx, sc, states); err != nil {
			if ctx.Err() != nil {
				return nil, fmt.Errorf("pcsc: wait for readers: %w", ctx.Err())
			}
			return nil, wrap("wait for readers", "", err)
		}
		states[0].CurrentState = states[0].EventState &^ scard.StateChanged
	}
}
