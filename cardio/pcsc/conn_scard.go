//go:build windows || darwin

package pcsc

import "github.com/ebfe/scard"

// conn is one card connection with its own PC/SC context, through
// scard.Card (on pcsc-lite systems conn_pcsclite.go calls the library
// directly and reuses its answer buffer).
type conn struct {
	sc    *scard.Context
	card  *scard.Card
	proto scard.Protocol
}

func establish() (*conn, error) {
	sc, err := scard.EstablishContext()
	if err != nil {
		return nil, err
	}
	return &conn{sc: sc}, nil
}

func (c *conn) connect(reader string, mode scard.ShareMode) ([]byte, error) {
	card, err := c.sc.Connect(reader, mode, scard.ProtocolAny)
	if err != nil {
		return nil, err
	}
	st, err := card.Status()
	if err != nil {
		_ = card.Disconnect(scard.LeaveCard)
		return nil, err
	}
	c.card, c.proto = card, card.ActiveProtocol()
	return st.Atr, nil
}

func (c *conn) transmit(cmd []byte) ([]byte, error) { return c.card.Transmit(cmd) }

func (c *conn) disconnect(d scard.Disposition) error { return c.card.Disconnect(d) }

func (c *conn) release() error { return c.sc.Release() }
