package pcsc

import (
	"context"
	"errors"
	"fmt"

	"github.com/ebfe/scard"

	"github.com/volcard/volcard/cardio"
)

// Card is a connection to the card in one reader. It implements
// cardio.Card. Calls are serialized; Transmit and Disconnect return when
// their context ends even if the card never answers (the abandoned call
// finishes in the background and the next call waits for it, bounded by
// its own context).
type Card struct {
	conn   *conn
	reader string
	atr    []byte
	proto  scard.Protocol

	// sem holds one token while a PC/SC call on this card is in flight.
	sem chan struct{}
	// dead is set once the card stopped answering; Disconnect then leaves
	// the card alone instead of resetting it (resetting a vanished vpcd
	// card confuses pcscd's view of the reader). Guarded by sem.
	dead bool
}

var _ cardio.Card = (*Card)(nil)

// Connect opens a connection to the card in reader, exclusively or shared,
// with T=0 or T=1 (whatever the card offers). An empty reader gives an
// error wrapping cardio.ErrNoCard, an unknown one cardio.ErrNoReader, a
// card held by another application ErrCardInUse.
func (r *Readers) Connect(ctx context.Context, reader string, mode cardio.ShareMode) (cardio.Card, error) {
	c, err := r.ConnectCard(ctx, reader, mode)
	if err != nil {
		return nil, err
	}
	return c, nil
}

// ConnectCard is Connect returning the concrete *Card.
func (r *Readers) ConnectCard(ctx context.Context, reader string, mode cardio.ShareMode) (*Card, error) {
	var sm scard.ShareMode
	switch mode {
	case cardio.ShareExclusive:
		sm = scard.ShareExclusive
	case cardio.ShareShared:
		sm = scard.ShareShared
	default:
		return nil, fmt.Errorf("pcsc: connect %q: unknown share mode %d", reader, mode)
	}
	r.mu.Lock()
	closed := r.closed
	r.mu.Unlock()
	if closed {
		return nil, ErrClosed
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	cn, err := establish()
	if err != nil {
		return nil, wrap("establish context", "", err)
	}
	c := &Card{conn: cn, reader: reader, sem: make(chan struct{}, 1)}
	err = c.do(ctx, "connect", func() error {
		atr, err := cn.connect(reader, sm)
		if err != nil {
			return err
		}
		c.atr, c.proto = atr, cn.proto
		return nil
	}, func(err error) {
		// Abandoned: undo whatever the late call achieved.
		if err == nil {
			_ = cn.disconnect(scard.LeaveCard)
		}
		_ = cn.release()
	})
	if err != nil {
		if !errors.Is(err, context.Canceled) && !errors.Is(err, context.DeadlineExceeded) {
			_ = cn.release()
		}
		return nil, err
	}
	return c, nil
}

// Reader returns the name of the reader the card is in.
func (c *Card) Reader() string { return c.reader }

// ATR returns the card's answer to reset, read at connect time.
func (c *Card) ATR() []byte { return c.atr }

// Protocol returns the active protocol: "T=0" or "T=1".
func (c *Card) Protocol() string {
	if c.proto == scard.ProtocolT0 {
		return "T=0"
	}
	return "T=1"
}

// Transmit sends one command APDU and returns the response APDU, status
// word included. A card pulled out (or reset by someone else) gives an
// error wrapping cardio.ErrCardRemoved. When ctx ends first, Transmit
// returns ctx's error at once.
func (c *Card) Transmit(ctx context.Context, command []byte) ([]byte, error) {
	var rsp []byte
	err := c.do(ctx, "transmit", func() error {
		var err error
		rsp, err = c.conn.transmit(command)
		switch {
		case err == nil && len(rsp) < 2:
			// No status word: the card went away mid-command (the vpcd
			// driver reports a closed connection as an empty answer).
			c.dead = true
			return errNoStatusWord
		case errors.Is(err, scard.ErrNotTransacted), errors.Is(err, scard.ErrCommError):
			// The reader could not complete the exchange: the card left or
			// was reset mid-command; this connection is unusable.
			c.dead = true
		case errors.Is(kindOf("transmit", codeOf(err)), cardio.ErrCardRemoved):
			c.dead = true
		}
		return err
	}, nil)
	if err != nil {
		return nil, err
	}
	return rsp, nil
}

// errNoStatusWord is returned by the transmit goroutine for an answer
// shorter than a status word.
var errNoStatusWord = errors.New("no status word in the response")

func codeOf(err error) scard.Error {
	var code scard.Error
	if errors.As(err, &code) {
		return code
	}
	return scard.ErrUnknownError
}

// Disconnect resets the card (so no PIN state survives us) and releases
// the connection. Disconnecting a removed card is not an error.
func (c *Card) Disconnect(ctx context.Context) error {
	err := c.do(ctx, "disconnect", func() error {
		disp := scard.ResetCard
		if c.dead {
			disp = scard.LeaveCard
		}
		err := c.conn.disconnect(disp)
		_ = c.conn.release()
		return err
	}, nil)
	if errors.Is(err, cardio.ErrCardRemoved) || errors.Is(err, ErrClosed) {
		return nil
	}
	return err
}

// do runs f (one PC/SC call) on its own goroutine, one at a time per card,
// and waits for it or for ctx. If ctx ends first, do returns ctx's error
// and, once f returns, the optional abandoned func gets f's error.
func (c *Card) do(ctx context.Context, op string, f func() error, abandoned func(error)) error {
	select {
	case c.sem <- struct{}{}:
	default:
		select {
		case c.sem <- struct{}{}:
		case <-ctx.Done():
			return fmt.Errorf("pcsc: %s %q: %w: %w", op, c.reader, ErrCardBroken, ctx.Err())
		}
	}
	if ctx.Done() == nil {
		defer func() { <-c.sem }()
		return wrap(op, c.reader, f())
	}
	done := make(chan error, 1)
	go func() {
		done <- f() // buffered: never blocks
		<-c.sem
	}()
	select {
	case err := <-done:
		return wrap(op, c.reader, err)
	case <-ctx.Done():
		// Take the result if it raced the deadline.
		select {
		case err := <-done:
			return wrap(op, c.reader, err)
		default:
		}
		if abandoned != nil {
			go func() { abandoned(<-done) }()
		}
		return fmt.Errorf("pcsc: %s %q: %w", op, c.reader, ctx.Err())
	}
}
