package bankgw

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/moov-io/iso8583"
	connection "github.com/moov-io/iso8583-connection"
	"github.com/prometheus/client_golang/prometheus"
)

// Config configures a Client. Zero durations and sizes take the defaults
// documented on each field (DefaultConfig).
type Config struct {
	// Addrs are the bank host addresses (host:port); one connection each.
	Addrs []string
	// TerminalID is field 41 of our requests (exactly 8 characters).
	TerminalID string
	// InstitutionID is field 42 of our requests (exactly 15 characters).
	InstitutionID string
	// STAN allocates field 11. Default: a MemorySTAN.
	STAN STANAllocator
	// RequestTimeout bounds each request. Default 10 s.
	RequestTimeout time.Duration
	// IdleTime is the idle period after which an echo is sent. Default 30 s.
	IdleTime time.Duration
	// ConnectTimeout bounds dialing. Default 5 s.
	ConnectTimeout time.Duration
	// ReconnectWait is the first wait before reconnecting; it doubles up to
	// MaxReconnectWait. Defaults 1 s and 30 s.
	ReconnectWait    time.Duration
	MaxReconnectWait time.Duration
	// MaxInFlight bounds the requests outstanding at once. Default 64.
	MaxInFlight int
	// MinConnections is how many connections Connect must establish; the
	// others are retried in the background. Default 0: Connect never fails
	// because the bank is down.
	MinConnections int
	// TLS, when set, is used to dial.
	TLS *tls.Config
	// MACKey, when set (MACKeySize bytes), adds and verifies field 128.
	MACKey []byte
	// Logger receives connection events, masked. Default slog.Default().
	Logger *slog.Logger
	// AdviceHandler receives 0220/0221 advices. It must store the advice
	// idempotently (by RRN and processing code) before returning nil; a 0230
	// 00 is sent only then, 96 otherwise. Default: refuse (96).
	AdviceHandler func(ctx context.Context, a Advice) error
	// LateResponseHandler receives responses whose request had already
	// timed out, and duplicate responses. Default: log them.
	LateResponseHandler func(ctx context.Context, r LateResponse)
	// OnSignOn, when set, is called (in its own goroutine) each time a
	// connection signs on: serve makes the requests held while the bank was
	// down due at once.
	OnSignOn func()
	// Now is the clock. Default time.Now.
	Now func() time.Time
	// Registerer, when set, receives the bank link's metrics
	// (volcard_bank_*: connections, sign-on, requests by MTI and response
	// code, round-trip latency, timeouts, repeats, reversals, advices, late
	// responses); pass the registry the API serves on /metrics. One Client
	// per Registerer: serve gives each bank's link the registry wrapped
	// with a bank label (prometheus.WrapRegistererWith).
	Registerer prometheus.Registerer
}

// DefaultConfig returns a Config with every default filled in, for the
// given addresses and identifiers.
func DefaultConfig(addrs []string, terminalID, institutionID string) Config {
	c := Config{Addrs: addrs, TerminalID: terminalID, InstitutionID: institutionID}
	c.setDefaults()
	return c
}

func (c *Config) setDefaults() {
	if c.STAN == nil {
		c.STAN = &MemorySTAN{}
	}
	if c.RequestTimeout == 0 {
		c.RequestTimeout = 10 * time.Second
	}
	if c.IdleTime == 0 {
		c.IdleTime = 30 * time.Second
	}
	if c.ConnectTimeout == 0 {
		c.ConnectTimeout = 5 * time.Second
	}
	if c.ReconnectWait == 0 {
		c.ReconnectWait = time.Second
	}
	if c.MaxReconnectWait == 0 {
		c.MaxReconnectWait = 30 * time.Second
	}
	if c.MaxInFlight == 0 {
		c.MaxInFlight = 64
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	if c.Now == nil {
		c.Now = time.Now
	}
}

func (c *Config) validate() error {
	switch {
	case len(c.Addrs) == 0:
		return fmt.Errorf("no bank address: %w", ErrInvalidConfig)
	case len(c.TerminalID) != 8:
		return fmt.Errorf("terminal id must be 8 characters: %w", ErrInvalidConfig)
	case len(c.InstitutionID) != 15:
		return fmt.Errorf("institution id must be 15 characters: %w", ErrInvalidConfig)
	case c.RequestTimeout < 0 || c.IdleTime < 0 || c.ConnectTimeout < 0 || c.ReconnectWait < 0 || c.MaxReconnectWait < 0:
		return fmt.Errorf("negative duration: %w", ErrInvalidConfig)
	case c.MaxInFlight < 0 || c.MinConnections < 0 || c.MinConnections > len(c.Addrs):
		return fmt.Errorf("max in flight %d, min connections %d: %w", c.MaxInFlight, c.MinConnections, ErrInvalidConfig)
	case c.MACKey != nil && len(c.MACKey) != MACKeySize:
		return fmt.Errorf("MAC key size: %w", ErrInvalidConfig)
	}
	return nil
}

// Client talks to the partner bank over a pool of connections, one per
// address: it signs each connection on, echoes idle ones, reconnects with
// back-off, bounds the requests in flight, answers advices and hands late
// responses to the configured handler. It is safe for concurrent use.
type Client struct {
	cfg   Config
	codec *Codec
	pool  *connection.Pool
	sem   chan struct{}
	log   *slog.Logger
	done  chan struct{}
	m     *metrics
	// lastEcho and lastSignOn are the times (Unix nanoseconds, 0 for
	// never) of the last echo and sign-on the bank answered 00.
	lastEcho   atomic.Int64
	lastSignOn atomic.Int64
}

// NewClient validates cfg and returns a Client; call Connect to dial.
func NewClient(cfg Config) (*Client, error) {
	cfg.setDefaults()
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	if cfg.TLS != nil && cfg.TLS.MinVersion < tls.VersionTLS12 {
		cfg.TLS = cfg.TLS.Clone()
		cfg.TLS.MinVersion = tls.VersionTLS12
	}
	codec, err := NewCodec(cfg.MACKey, cfg.Logger)
	if err != nil {
		return nil, err
	}
	c := &Client{
		cfg:   cfg,
		codec: codec,
		sem:   make(chan struct{}, cfg.MaxInFlight),
		log:   cfg.Logger,
		done:  make(chan struct{}),
	}
	pool, err := connection.NewPool(c.newConnection, cfg.Addrs,
		connection.PoolReconnectWait(cfg.ReconnectWait),
		connection.PoolMaxReconnectWait(cfg.MaxReconnectWait),
		connection.PoolMinConnections(cfg.MinConnections),
		connection.PoolConnectionsFilter(func(conn *connection.Connection) bool {
			return conn.Status() == connection.StatusOnline
		}),
		connection.PoolErrorHandler(func(err error) {
			c.log.Warn("bankgw: pool", slog.String("err", err.Error()))
		}),
	)
	if err != nil {
		return nil, fmt.Errorf("bankgw: new pool: %w", err)
	}
	c.pool = pool
	if c.m, err = newMetrics(cfg.Registerer, c); err != nil {
		return nil, err
	}
	return c, nil
}

// requestIDs implements connection.RequestIDGenerator with the matching
// key of section 5.
type requestIDs struct{}

// GenerateRequestID implements connection.RequestIDGenerator.
func (requestIDs) GenerateRequestID(msg *iso8583.Message) (string, error) { return matchKey(msg) }

func (c *Client) newConnection(addr string) (*connection.Connection, error) {
	opts := []connection.Option{
		connection.ConnectTimeout(c.cfg.ConnectTimeout),
		connection.SendTimeout(c.cfg.RequestTimeout),
		connection.IdleTime(c.cfg.IdleTime),
		connection.ReadTimeout(c.cfg.IdleTime + c.cfg.RequestTimeout + c.cfg.IdleTime),
		connection.ReadTimeoutHandler(func(conn *connection.Connection) {
			c.log.Warn("bankgw: nothing read for too long, resetting", slog.String("addr", conn.Addr()))
			conn.TriggerFailure(ErrTimeout)
		}),
		connection.OnConnectCtx(c.signOn),
		connection.OnCloseCtx(c.signOff),
		connection.PingHandler(c.ping),
		connection.InboundMessageHandler(c.inbound),
		connection.ErrorHandler(func(err error) {
			c.log.Warn("bankgw: connection", slog.String("addr", addr), slog.String("err", err.Error()))
		}),
		connection.WithConnectionFailedHandler(func(conn *connection.Connection, _ error) {
			conn.SetStatus(connection.StatusOffline)
		}),
		connection.ConnectionClosedHandler(func(conn *connection.Connection) {
			conn.SetStatus(connection.StatusOffline)
			c.log.Info("bankgw: connection closed", slog.String("addr", conn.Addr()))
		}),
		func(o *connection.Options) error {
			o.RequestIDGenerator = requestIDs{}
			o.MessageReader = c.codec
			o.MessageWriter = c.codec
			o.TLSConfig = c.cfg.TLS
			return nil
		},
	}
	return connection.New(addr, Spec, ReadLength, WriteLength, opts...)
}

// Connect dials every address and signs on. With MinConnections 0 it
// returns nil even when the bank is down; connections come up in the
// background.
func (c *Client) Connect(ctx context.Context) error {
	if err := c.pool.ConnectCtx(ctx); err != nil {
		return fmt.Errorf("bankgw: connect: %w", err)
	}
	return nil
}

// Close signs off and closes every connection.
func (c *Client) Close(ctx context.Context) error {
	select {
	case <-c.done:
		return nil
	default:
		close(c.done)
	}
	if err := c.pool.CloseCtx(ctx); err != nil {
		return fmt.Errorf("bankgw: close: %w", err)
	}
	return nil
}

// Online returns how many connections are signed on.
func (c *Client) Online() int {
	n := 0
	for _, conn := range c.pool.Connections() {
		if conn.Status() == connection.StatusOnline {
			n++
		}
	}
	return n
}

func (c *Client) header(ctx context.Context, mti string) (Header, Trace, error) {
	now := c.cfg.Now()
	stan, err := c.cfg.STAN.Next(ctx, now)
	if err != nil {
		return Header{}, Trace{}, fmt.Errorf("bankgw: allocate STAN: %w", err)
	}
	tr := Trace{MTI: mti, STAN: stan, TransmittedAt: now.UTC().Truncate(time.Second), RRN: NewRRN(now, stan)}
	return c.headerFor(tr), tr, nil
}

func (c *Client) headerFor(tr Trace) Header {
	return Header{
		MTI:                  tr.MTI,
		TransmissionDateTime: tr.Transmission(),
		STAN:                 tr.STAN,
		TerminalID:           c.cfg.TerminalID,
		InstitutionID:        c.cfg.InstitutionID,
	}
}

// NewTrace allocates a STAN, field 7 and RRN for a request with the given
// MTI. The outbox stores it before sending so that a repeat after a crash
// reuses it.
func (c *Client) NewTrace(ctx context.Context, mti string) (Trace, error) {
	_, tr, err := c.header(ctx, mti)
	return tr, err
}

func (c *Client) signOn(ctx context.Context, conn *connection.Connection) error {
	if err := c.network(ctx, conn, NetworkSignOn); err != nil {
		return fmt.Errorf("sign-on: %w", err)
	}
	conn.SetStatus(connection.StatusOnline)
	c.lastSignOn.Store(c.cfg.Now().UnixNano())
	c.log.Info("bankgw: signed on", slog.String("addr", conn.Addr()))
	if c.cfg.OnSignOn != nil {
		go c.cfg.OnSignOn()
	}
	return nil
}

// signOff writes a 0800/002 straight to the connection before it closes
// (the library refuses Send once closing has begun); the 0810 that may
// follow is dropped quietly by the inbound handler.
func (c *Client) signOff(ctx context.Context, conn *connection.Connection) error {
	conn.SetStatus(connection.StatusOffline)
	h, _, err := c.header(ctx, MTINetworkRequest)
	if err != nil {
		return err
	}
	msg, err := NewMessage(&NetworkMessage{Header: h, NetworkCode: NetworkSignOff})
	if err != nil {
		return err
	}
	var buf bytes.Buffer
	if err := c.codec.WriteMessage(&buf, msg); err != nil {
		return fmt.Errorf("sign-off: %w", err)
	}
	if _, err := conn.Write(buf.Bytes()); err != nil {
		return fmt.Errorf("sign-off: %w", err)
	}
	return nil
}

func (c *Client) ping(conn *connection.Connection) {
	ctx, cancel := context.WithTimeout(context.Background(), c.cfg.RequestTimeout)
	defer cancel()
	if err := c.network(ctx, conn, NetworkEcho); err != nil {
		c.log.Warn("bankgw: echo failed, resetting connection", slog.String("addr", conn.Addr()), slog.String("err", err.Error()))
		conn.TriggerFailure(fmt.Errorf("echo: %w", err))
		return
	}
	c.lastEcho.Store(c.cfg.Now().UnixNano())
}

// network sends a 0800 with code on conn and checks the 0810.
func (c *Client) network(ctx context.Context, conn *connection.Connection, code string) error {
	h, tr, err := c.header(ctx, MTINetworkRequest)
	if err != nil {
		return err
	}
	msg, err := NewMessage(&NetworkMessage{Header: h, NetworkCode: code})
	if err != nil {
		return err
	}
	resp, err := c.sendOn(ctx, conn, msg)
	if err != nil {
		return &ExchangeError{Op: "network " + code, Trace: tr, Err: err}
	}
	var nm NetworkMessage
	if err := Decode(resp, &nm); err != nil {
		return err
	}
	if nm.MTI != MTINetworkResponse || nm.NetworkCode != code {
		return &ExchangeError{Op: "network " + code, Trace: tr, Err: ErrUnexpectedResponse}
	}
	if nm.ResponseCode != CodeApproved {
		return &ExchangeError{Op: "network " + code, Trace: tr, Err: &DeclinedError{Code: nm.ResponseCode, Reason: CodeReason(nm.ResponseCode)}}
	}
	return nil
}

// Echo sends a 0800/301 on one connection of the pool.
func (c *Client) Echo(ctx context.Context) error {
	release, err := c.acquire(ctx)
	if err != nil {
		return err
	}
	defer release()
	conn, err := c.pool.Get()
	if err != nil {
		return fmt.Errorf("bankgw: echo: %w", ErrUnavailable)
	}
	if err := c.network(ctx, conn, NetworkEcho); err != nil {
		return err
	}
	c.lastEcho.Store(c.cfg.Now().UnixNano())
	return nil
}

// Health is the state of the link at one moment.
type Health struct {
	// Addrs is the number of bank addresses configured; Connections how
	// many are established, SignedOn how many of those are signed on.
	Addrs       int
	Connections int
	SignedOn    int
	// LastSignOn and LastEcho are the times the bank last answered a
	// sign-on or an echo (0800/001, 0800/301) with 00; zero for never.
	LastSignOn time.Time
	LastEcho   time.Time
}

// Health reports the link's connections and its last sign-on and echo.
func (c *Client) Health() Health {
	h := Health{Addrs: len(c.cfg.Addrs)}
	for _, conn := range c.pool.Connections() {
		h.Connections++
		if conn.Status() == connection.StatusOnline {
			h.SignedOn++
		}
	}
	if v := c.lastSignOn.Load(); v != 0 {
		h.LastSignOn = time.Unix(0, v).UTC()
	}
	if v := c.lastEcho.Load(); v != 0 {
		h.LastEcho = time.Unix(0, v).UTC()
	}
	return h
}

func (c *Client) acquire(ctx context.Context) (func(), error) {
	select {
	case <-c.done:
		return nil, ErrClosed
	default:
	}
	select {
	case c.sem <- struct{}{}:
		return func() { <-c.sem }, nil
	case <-ctx.Done():
		return nil, fmt.Errorf("bankgw: waiting for a request slot: %w", ctx.Err())
	case <-c.done:
		return nil, ErrClosed
	}
}

// sendOn sends msg on conn and waits for the response, within the request
// timeout and the context's deadline.
func (c *Client) sendOn(ctx context.Context, conn *connection.Connection, msg *iso8583.Message) (*iso8583.Message, error) {
	timeout := c.cfg.RequestTimeout
	if dl, ok := ctx.Deadline(); ok {
		if d := time.Until(dl); d < timeout {
			timeout = d
		}
	}
	if timeout <= 0 {
		return nil, ErrTimeout
	}
	mti, _ := msg.GetMTI()
	start := time.Now()
	resp, err := conn.Send(msg, connection.SendTimeout(timeout))
	switch {
	case err == nil:
	case errors.Is(err, connection.ErrSendTimeout):
		err = ErrTimeout
	case errors.Is(err, connection.ErrConnectionClosed):
		err = ErrConnectionLost
	}
	if c.m != nil {
		rc := ""
		if err == nil {
			rc, _ = resp.GetString(39)
		}
		c.m.sent(mti, start, rc, err)
	}
	if err != nil {
		return nil, err
	}
	return resp, nil
}

// exchange sends msg on a pooled connection within the in-flight bound.
func (c *Client) exchange(ctx context.Context, msg *iso8583.Message) (*iso8583.Message, error) {
	release, err := c.acquire(ctx)
	if err != nil {
		return nil, err
	}
	defer release()
	conn, err := c.pool.Get()
	if err != nil {
		mti, _ := msg.GetMTI()
		c.m.unavailable(mti)
		return nil, ErrUnavailable
	}
	return c.sendOn(ctx, conn, msg)
}
