package cardsim

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/volcard/volcard/cardio"
)

// ReaderName is the name of the in-process reader.
const ReaderName = "sim"

// ErrDisconnected means Transmit was called on a connection after Disconnect.
var ErrDisconnected = errors.New("cardsim: connection closed")

// Readers is an in-process cardio.Readers with one reader named "sim".
// Tests insert and remove cards with Insert and Remove; a card removed by
// fault injection (Card.RemoveAfter) also leaves the reader.
type Readers struct {
	mu      sync.Mutex
	card    *Card
	gen     uint64 // bumped on every insertion and removal
	changed chan struct{}
}

var _ cardio.Readers = (*Readers)(nil)

// NewReaders returns the "sim" reader holding cards[0], or empty when no
// card is given. Further cards are ignored: the simulator has one slot; use
// Insert to swap cards.
func NewReaders(cards ...*Card) *Readers {
	r := &Readers{changed: make(chan struct{})}
	for _, c := range cards {
		if c != nil {
			r.Insert(c)
			break
		}
	}
	return r
}

// Insert puts card in the reader (replacing any card there). A card that was
// removed by fault injection is revived, with its faults cleared.
func (r *Readers) Insert(card *Card) {
	if card == nil {
		r.Remove()
		return
	}
	r.mu.Lock()
	gen := r.gen + 1
	card.reinsert(func() { r.removedByCard(card, gen) })
	r.card = card
	r.gen = gen
	r.signalLocked()
	r.mu.Unlock()
}

// Remove takes the card out of the reader.
func (r *Readers) Remove() {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.card == nil {
		return
	}
	r.card = nil
	r.gen++
	r.signalLocked()
}

// Card returns the card in the reader, or nil.
func (r *Readers) Card() *Card {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.card
}

func (r *Readers) removedByCard(card *Card, gen uint64) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.card == card && r.gen == gen {
		r.card = nil
		r.gen++
		r.signalLocked()
	}
}

func (r *Readers) signalLocked() {
	close(r.changed)
	r.changed = make(chan struct{})
}

// List returns ["sim"].
func (r *Readers) List(ctx context.Context) ([]string, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return []string{ReaderName}, nil
}

func checkName(reader string) error {
	if reader != ReaderName {
		return fmt.Errorf("cardsim: reader %q: %w", reader, cardio.ErrNoReader)
	}
	return nil
}

// WaitForCard blocks until a card is in the reader or ctx ends.
func (r *Readers) WaitForCard(ctx context.Context, reader string) error {
	return r.wait(ctx, reader, true)
}

// WaitForRemoval blocks until the reader is empty or ctx ends.
func (r *Readers) WaitForRemoval(ctx context.Context, reader string) error {
	return r.wait(ctx, reader, false)
}

func (r *Readers) wait(ctx context.Context, reader string, present bool) error {
	if err := checkName(reader); err != nil {
		return err
	}
	for {
		r.mu.Lock()
		has := r.card != nil
		ch := r.changed
		r.mu.Unlock()
		if has == present {
			return nil
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return fmt.Errorf("cardsim: wait for card: %w", ctx.Err())
		}
	}
}

// Connect powers up the card in the reader (a reset) and returns a
// connection to it. The mode is accepted and ignored.
func (r *Readers) Connect(ctx context.Context, reader string, _ cardio.ShareMode) (cardio.Card, error) {
	if err := checkName(reader); err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.card == nil {
		return nil, cardio.ErrNoCard
	}
	r.card.Reset()
	return &conn{r: r, card: r.card, gen: r.gen}, nil
}

// conn is a connection to the card in the sim reader.
type conn struct {
	r      *Readers
	card   *Card
	gen    uint64
	mu     sync.Mutex
	closed bool
}

// Transmit sends one APDU to the card if it is still the one connected.
func (c *conn) Transmit(ctx context.Context, command []byte) ([]byte, error) {
	c.mu.Lock()
	closed := c.closed
	c.mu.Unlock()
	if closed {
		return nil, ErrDisconnected
	}
	c.r.mu.Lock()
	same := c.r.card == c.card && c.r.gen == c.gen
	c.r.mu.Unlock()
	if !same {
		return nil, cardio.ErrCardRemoved
	}
	return c.card.process(ctx, command)
}

// ATR returns the card's answer to reset.
func (c *conn) ATR() []byte { return c.card.ATR() }

// Disconnect closes the connection; the card stays in the reader.
func (c *conn) Disconnect(context.Context) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.closed = true
	return nil
}
