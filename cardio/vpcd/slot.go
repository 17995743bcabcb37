package vpcd

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/volcard/volcard/cardio"
)

// Slot holds one card for one vpcd reader and lets a test insert and
// remove it at will. Unlike Serve it never reconnects on its own: when the
// card removes itself or the driver goes away, the slot is empty until the
// next Insert. A Slot is safe for concurrent use.
type Slot struct {
	addr string
	card Responder
	opts Options

	mu     sync.Mutex
	cancel context.CancelFunc
	done   chan struct{}
	err    error
}

// NewSlot returns an empty slot that will put card into the vpcd reader
// listening at addr.
func NewSlot(addr string, card Responder, opts ...Option) (*Slot, error) {
	if addr == "" {
		return nil, errors.New("vpcd: empty address")
	}
	if card == nil {
		return nil, errors.New("vpcd: nil card")
	}
	o, err := buildOptions(opts)
	if err != nil {
		return nil, err
	}
	return &Slot{addr: addr, card: card, opts: o}, nil
}

// Addr returns the driver address the slot connects to.
func (s *Slot) Addr() string { return s.addr }

// Insert connects to the driver (retrying until ctx ends) and serves the
// card in the background: pcscd sees the card at its next poll. The card
// is power-cycled first. Insert on an inserted slot gives ErrSlotBusy.
func (s *Slot) Insert(ctx context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.done != nil {
		select {
		case <-s.done:
		default:
			return ErrSlotBusy
		}
	}
	conn, err := dialRetry(ctx, s.addr, s.opts.RetryInterval)
	if err != nil {
		return fmt.Errorf("vpcd: insert into %s: %w", s.addr, err)
	}
	s.card.Reset()
	serveCtx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	s.cancel, s.done, s.err = cancel, done, nil
	log := s.opts.Logger.With("addr", s.addr)
	go func() {
		defer close(done)
		err := serveConn(serveCtx, conn, s.card, log)
		if serveCtx.Err() == nil && !errors.Is(err, cardio.ErrCardRemoved) {
			s.mu.Lock()
			s.err = err
			s.mu.Unlock()
		}
	}()
	return nil
}

// Inserted reports whether the card is in the reader: Insert succeeded and
// neither Remove, the card itself nor the driver has ended the connection.
func (s *Slot) Inserted() bool {
	s.mu.Lock()
	done := s.done
	s.mu.Unlock()
	if done == nil {
		return false
	}
	select {
	case <-done:
		return false
	default:
		return true
	}
}

// Remove pulls the card out: it closes the connection and waits until the
// serving goroutine has stopped. It returns the connection error, if the
// driver connection failed before Remove was called. Removing an empty
// slot is a no-op.
func (s *Slot) Remove() error {
	s.mu.Lock()
	cancel, done := s.cancel, s.done
	s.mu.Unlock()
	if done == nil {
		return nil
	}
	cancel()
	<-done
	s.mu.Lock()
	defer s.mu.Unlock()
	err := s.err
	s.cancel, s.done, s.err = nil, nil, nil
	return err
}
