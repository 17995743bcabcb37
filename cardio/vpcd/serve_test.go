package vpcd_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/volcard/volcard/cardio"
	"github.com/volcard/volcard/cardio/vpcd"
)

// echoCard answers every command with its data field and 9000; INS EE
// pulls the card out.
type echoCard struct{ resets atomic.Int32 }

var testATR = []byte{0x3B, 0x80, 0x80, 0x01, 0x01}

func (c *echoCard) ATR() []byte { return testATR }
func (c *echoCard) Reset()      { c.resets.Add(1) }
func (c *echoCard) Process(cmd []byte) ([]byte, error) {
	if len(cmd) >= 2 && cmd[1] == 0xEE {
		return nil, cardio.ErrCardRemoved
	}
	var data []byte
	if len(cmd) > 5 {
		data = cmd[5:]
	}
	return append(append([]byte{}, data...), 0x90, 0x00), nil
}

var quiet = vpcd.WithLogger(slog.New(slog.DiscardHandler))

// fakeDriver plays the vpcd driver side on a loopback listener.
type fakeDriver struct {
	t  *testing.T
	ln net.Listener
}

func newFakeDriver(t *testing.T) *fakeDriver {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	t.Cleanup(func() { ln.Close() })
	return &fakeDriver{t: t, ln: ln}
}

func (d *fakeDriver) addr() string { return d.ln.Addr().String() }

func (d *fakeDriver) accept() net.Conn {
	d.t.Helper()
	c, err := d.ln.Accept()
	require.NoError(d.t, err)
	d.t.Cleanup(func() { c.Close() })
	require.NoError(d.t, c.SetDeadline(time.Now().Add(10*time.Second)))
	return c
}

func exchange(t *testing.T, c net.Conn, payload []byte) []byte {
	t.Helper()
	require.NoError(t, vpcd.WriteFrame(c, payload))
	rsp, err := vpcd.ReadFrame(c)
	require.NoError(t, err)
	return rsp
}

func TestServe(t *testing.T) {
	tests := []struct {
		name string
		run  func(t *testing.T, c net.Conn, card *echoCard)
	}{
		{name: "ATR", run: func(t *testing.T, c net.Conn, card *echoCard) {
			require.Equal(t, testATR, exchange(t, c, []byte{vpcd.CtrlATR}))
		}},
		{name: "APDU", run: func(t *testing.T, c net.Conn, card *echoCard) {
			require.Equal(t, []byte{0xAB, 0x90, 0x00}, exchange(t, c, []byte{0x00, 0x01, 0x00, 0x00, 0x01, 0xAB}))
		}},
		{name: "two-byte command", run: func(t *testing.T, c net.Conn, card *echoCard) {
			require.Equal(t, []byte{0x90, 0x00}, exchange(t, c, []byte{0x00, 0x00}))
		}},
		{name: "power on and reset reset the card", run: func(t *testing.T, c net.Conn, card *echoCard) {
			require.Equal(t, testATR, exchange(t, c, []byte{vpcd.CtrlATR}))
			before := card.resets.Load()
			require.NoError(t, vpcd.WriteFrame(c, []byte{vpcd.CtrlPowerOff}))
			require.NoError(t, vpcd.WriteFrame(c, []byte{vpcd.CtrlPowerOn}))
			require.NoError(t, vpcd.WriteFrame(c, []byte{vpcd.CtrlReset}))
			require.NoError(t, vpcd.WriteFrame(c, []byte{0x7F})) // unknown: ignored
			require.Equal(t, testATR, exchange(t, c, []byte{vpcd.CtrlATR}))
			require.Equal(t, before+2, card.resets.Load())
		}},
		{name: "empty frame ignored", run: func(t *testing.T, c net.Conn, card *echoCard) {
			_, err := c.Write([]byte{0, 0})
			require.NoError(t, err)
			require.Equal(t, testATR, exchange(t, c, []byte{vpcd.CtrlATR}))
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := newFakeDriver(t)
			card := &echoCard{}
			ctx, cancel := context.WithCancel(t.Context())
			errc := make(chan error, 1)
			go func() { errc <- vpcd.Serve(ctx, d.addr(), card, quiet) }()
			c := d.accept()
			tt.run(t, c, card)
			cancel()
			require.NoError(t, <-errc)
			_, err := vpcd.ReadFrame(c)
			require.ErrorIs(t, err, io.EOF, "card removed when Serve stops")
		})
	}
}

func TestServeCardRemovesItself(t *testing.T) {
	d := newFakeDriver(t)
	errc := make(chan error, 1)
	go func() { errc <- vpcd.Serve(t.Context(), d.addr(), &echoCard{}, quiet) }()
	c := d.accept()
	require.NoError(t, vpcd.WriteFrame(c, []byte{0x00, 0xEE, 0x00, 0x00}))
	_, err := vpcd.ReadFrame(c)
	require.ErrorIs(t, err, io.EOF)
	require.ErrorIs(t, <-errc, cardio.ErrCardRemoved)
}

func TestServeReinsert(t *testing.T) {
	d := newFakeDriver(t)
	ctx, cancel := context.WithCancel(t.Context())
	errc := make(chan error, 1)
	go func() {
		errc <- vpcd.Serve(ctx, d.addr(), &echoCard{}, quiet, vpcd.WithReinsert(time.Millisecond))
	}()
	c := d.accept()
	require.NoError(t, vpcd.WriteFrame(c, []byte{0x00, 0xEE, 0x00, 0x00}))
	_, err := vpcd.ReadFrame(c)
	require.ErrorIs(t, err, io.EOF)
	c2 := d.accept()
	require.Equal(t, testATR, exchange(t, c2, []byte{vpcd.CtrlATR}))
	cancel()
	require.NoError(t, <-errc)
}

func TestServeReconnectsWhenDriverGoes(t *testing.T) {
	d := newFakeDriver(t)
	ctx, cancel := context.WithCancel(t.Context())
	errc := make(chan error, 1)
	go func() {
		errc <- vpcd.Serve(ctx, d.addr(), &echoCard{}, quiet, vpcd.WithRetryInterval(time.Millisecond))
	}()
	c := d.accept()
	_, err := c.Write([]byte{0, 9, 1}) // truncated frame, then gone
	require.NoError(t, err)
	c.Close()
	c2 := d.accept()
	require.Equal(t, testATR, exchange(t, c2, []byte{vpcd.CtrlATR}))
	cancel()
	require.NoError(t, <-errc)
}

func TestServeNoDriver(t *testing.T) {
	// Reserve a port, then free it so nothing listens there.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := ln.Addr().String()
	ln.Close()
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	errc := make(chan error, 1)
	go func() { errc <- vpcd.Serve(ctx, addr, &echoCard{}, quiet, vpcd.WithRetryInterval(time.Millisecond)) }()
	// Let Serve fail to connect a few times, then start the driver: Serve
	// must have kept trying and now connect (it does not give up while
	// pcscd is not running).
	time.Sleep(20 * time.Millisecond)
	select {
	case err := <-errc:
		t.Fatalf("Serve returned while no driver listened: %v", err)
	default:
	}
	drv, err := net.Listen("tcp", addr)
	require.NoError(t, err)
	defer drv.Close()
	require.NoError(t, drv.(*net.TCPListener).SetDeadline(time.Now().Add(10*time.Second)))
	conn, err := drv.Accept()
	require.NoError(t, err, "Serve never connected once the driver listened")
	conn.Close()
	cancel()
	require.NoError(t, <-errc)
}

func TestSlot(t *testing.T) {
	d := newFakeDriver(t)
	card := &echoCard{}
	s, err := vpcd.NewSlot(d.addr(), card, quiet)
	require.NoError(t, err)
	require.False(t, s.Inserted())
	require.NoError(t, s.Remove(), "removing an empty slot")

	require.NoError(t, s.Insert(t.Context()))
	c := d.accept()
	require.True(t, s.Inserted())
	require.ErrorIs(t, s.Insert(t.Context()), vpcd.ErrSlotBusy)
	require.Equal(t, testATR, exchange(t, c, []byte{vpcd.CtrlATR}))
	require.NoError(t, s.Remove())
	require.False(t, s.Inserted())
	_, err = vpcd.ReadFrame(c)
	require.ErrorIs(t, err, io.EOF)

	// Insert again; the card then removes itself.
	require.NoError(t, s.Insert(t.Context()))
	c2 := d.accept()
	require.NoError(t, vpcd.WriteFrame(c2, []byte{0x00, 0xEE, 0x00, 0x00}))
	_, err = vpcd.ReadFrame(c2)
	require.ErrorIs(t, err, io.EOF)
	require.Eventually(t, func() bool { return !s.Inserted() }, 10*time.Second, time.Millisecond)
	require.NoError(t, s.Remove())
}

func TestNewSlotValidates(t *testing.T) {
	_, err := vpcd.NewSlot("", &echoCard{})
	require.Error(t, err)
	_, err = vpcd.NewSlot("127.0.0.1:1", nil)
	require.Error(t, err)
	require.False(t, errors.Is(err, vpcd.ErrSlotBusy))
	for name, opt := range map[string]vpcd.Option{
		"negative reinsert": vpcd.WithReinsert(-time.Second),
		"zero retry":        vpcd.WithRetryInterval(0),
		"nil logger":        vpcd.WithLogger(nil),
	} {
		t.Run(name, func(t *testing.T) {
			_, err := vpcd.NewSlot("127.0.0.1:1", &echoCard{}, opt)
			require.Error(t, err)
			require.Error(t, vpcd.Serve(t.Context(), "127.0.0.1:1", &echoCard{}, opt))
		})
	}
}
