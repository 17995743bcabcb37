package vpcd

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/volcard/volcard/cardio"
)

// Responder is the card behind a vpcd connection. cardio/cardsim's Card
// implements it.
type Responder interface {
	// ATR returns the card's answer to reset.
	ATR() []byte
	// Reset power-cycles the card.
	Reset()
	// Process answers one raw command APDU with the raw response APDU,
	// status word included. The only error is cardio.ErrCardRemoved: the
	// card left the reader, and the connection is closed.
	Process(command []byte) ([]byte, error)
}

// Options tune Serve and Slot. The zero value is usable; see the With*
// functions for the defaults.
type Options struct {
	// ReinsertAfter, when positive, makes Serve put the card back this long
	// after it removed itself (Process returned cardio.ErrCardRemoved).
	// Zero (the default) makes Serve return instead.
	ReinsertAfter time.Duration
	// RetryInterval is the pause between attempts to reach the driver.
	// Default 200 ms.
	RetryInterval time.Duration
	// Logger receives connection events. Default: slog.Default().
	// APDUs are never logged.
	Logger *slog.Logger
}

// Option changes Options; it fails on a value out of range.
type Option func(*Options) error

// WithReinsert makes Serve insert the card again d after it removed itself.
func WithReinsert(d time.Duration) Option {
	return func(o *Options) error {
		if d < 0 {
			return fmt.Errorf("vpcd: negative reinsert delay %v", d)
		}
		o.ReinsertAfter = d
		return nil
	}
}

// WithRetryInterval sets the pause between connection attempts.
func WithRetryInterval(d time.Duration) Option {
	return func(o *Options) error {
		if d <= 0 {
			return fmt.Errorf("vpcd: retry interval %v must be positive", d)
		}
		o.RetryInterval = d
		return nil
	}
}

// WithLogger sets the logger for connection events.
func WithLogger(l *slog.Logger) Option {
	return func(o *Options) error {
		if l == nil {
			return errors.New("vpcd: nil logger")
		}
		o.Logger = l
		return nil
	}
}

func buildOptions(opts []Option) (Options, error) {
	o := Options{RetryInterval: 200 * time.Millisecond, Logger: slog.Default()}
	for _, opt := range opts {
		if err := opt(&o); err != nil {
			return Options{}, err
		}
	}
	return o, nil
}

// Serve inserts card into the vpcd reader listening at addr (for example
// "127.0.0.1:35963") and answers the driver until ctx ends, then removes
// the card and returns nil. It keeps trying to reach the driver while pcscd
// is not running, and reconnects when pcscd goes away. When the card
// removes itself (a fault injected in the card), Serve returns an error
// wrapping cardio.ErrCardRemoved, unless WithReinsert was given.
func Serve(ctx context.Context, addr string, card Responder, opts ...Option) error {
	if card == nil {
		return errors.New("vpcd: nil card")
	}
	o, err := buildOptions(opts)
	if err != nil {
		return err
	}
	log := o.Logger.With("addr", addr)
	for {
		conn, err := dialRetry(ctx, addr, o.RetryInterval)
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return err
		}
		log.Info("vpcd: card inserted")
		card.Reset()
		err = serveConn(ctx, conn, card, log)
		switch {
		case ctx.Err() != nil:
			log.Info("vpcd: card removed (stopping)")
			return nil
		case errors.Is(err, cardio.ErrCardRemoved):
			log.Info("vpcd: card removed itself")
			if o.ReinsertAfter <= 0 {
				return fmt.Errorf("vpcd %s: %w", addr, err)
			}
			if !sleep(ctx, o.ReinsertAfter) {
				return nil
			}
		default:
			log.Warn("vpcd: driver connection lost, reconnecting", "err", err)
			if !sleep(ctx, o.RetryInterval) {
				return nil
			}
		}
	}
}

func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}

// dialRetry connects to the driver, retrying every interval until ctx ends.
func dialRetry(ctx context.Context, addr string, interval time.Duration) (*net.TCPConn, error) {
	var d net.Dialer
	for {
		c, err := d.DialContext(ctx, "tcp", addr)
		if err == nil {
			tc, ok := c.(*net.TCPConn)
			if !ok {
				c.Close()
				return nil, fmt.Errorf("vpcd: %s is not a TCP address", addr)
			}
			if err := tc.SetNoDelay(true); err != nil {
				tc.Close()
				return nil, fmt.Errorf("vpcd: set TCP_NODELAY: %w", err)
			}
			return tc, nil
		}
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		if !sleep(ctx, interval) {
			return nil, ctx.Err()
		}
	}
}

// quickAckReader re-arms TCP_QUICKACK after every read: Linux clears it
// on its own, and without it the driver's next command waits for our
// delayed ACK.
type quickAckReader struct {
	conn net.Conn
	raw  syscall.RawConn // nil when conn is not TCP
}

func (r *quickAckReader) Read(p []byte) (int, error) {
	n, err := r.conn.Read(p)
	if r.raw != nil {
		_ = r.raw.Control(func(fd uintptr) {
			_ = unix.SetsockoptInt(int(fd), unix.IPPROTO_TCP, unix.TCP_QUICKACK, 1)
		})
	}
	return n, err
}

// serveConn answers the driver on conn until the connection fails, ctx
// ends, or the card removes itself (cardio.ErrCardRemoved). It always
// closes conn.
func serveConn(ctx context.Context, conn net.Conn, card Responder, log *slog.Logger) error {
	defer conn.Close()
	stop := context.AfterFunc(ctx, func() { conn.Close() })
	defer stop()
	qr := &quickAckReader{conn: conn}
	if tc, ok := conn.(*net.TCPConn); ok {
		if raw, err := tc.SyscallConn(); err == nil {
			qr.raw = raw
		}
	}
	// Buffered: a whole frame usually arrives in one segment, so one read
	// (and one TCP_QUICKACK re-arm) per frame instead of two.
	r := bufio.NewReaderSize(qr, 4096)
	for {
		p, err := ReadFrame(r)
		if errors.Is(err, ErrEmptyFrame) {
			log.Warn("vpcd: empty frame from driver ignored")
			continue
		}
		if err != nil {
			if errors.Is(err, io.EOF) {
				return fmt.Errorf("vpcd: driver closed the connection: %w", err)
			}
			return fmt.Errorf("vpcd: read from driver: %w", err)
		}
		if len(p) == 1 {
			switch p[0] {
			case CtrlPowerOn, CtrlReset:
				card.Reset()
			case CtrlPowerOff:
			case CtrlATR:
				if err := WriteFrame(conn, card.ATR()); err != nil {
					return fmt.Errorf("vpcd: send ATR: %w", err)
				}
			default:
				log.Warn("vpcd: unknown control code ignored", "code", p[0])
			}
			continue
		}
		rsp, err := card.Process(p)
		if errors.Is(err, cardio.ErrCardRemoved) {
			return cardio.ErrCardRemoved
		}
		if err != nil || len(rsp) < 2 {
			// Not part of the Responder contract: answer "no precise
			// diagnosis" rather than leave the driver waiting.
			log.Warn("vpcd: card failed to answer", "err", err)
			rsp = []byte{0x6F, 0x00}
		}
		if err := WriteFrame(conn, rsp); err != nil {
			return fmt.Errorf("vpcd: send response: %w", err)
		}
	}
}
