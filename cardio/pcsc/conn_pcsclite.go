//go:build !windows && !darwin

package pcsc

// #cgo pkg-config: libpcsclite
// #include <stdlib.h>
// #include <winscard.h>
import "C"

import (
	"unsafe"

	"github.com/ebfe/scard"
)

// conn is one card connection with its own PC/SC context, made with direct
// pcsc-lite calls rather than scard.Card: scard.Card.Transmit allocates and
// clears a 64 KiB answer buffer on every command (half a megabyte of
// garbage per check-in read, and the collections it causes land in the
// middle of card exchanges). conn keeps one answer buffer per connection.
// Calls on one conn are serialized by Card.
type conn struct {
	ctx    C.SCARDCONTEXT
	handle C.SCARDHANDLE
	proto  scard.Protocol
	buf    []byte
}

// maxAnswer is the longest response APDU: 65,536 data bytes (extended
// length) and the status word.
const maxAnswer = 65536 + 2

func rc(r C.LONG) error {
	if r == C.SCARD_S_SUCCESS {
		return nil
	}
	return scard.Error(uint32(r))
}

// establish opens the connection's PC/SC context.
func establish() (*conn, error) {
	c := &conn{}
	if err := rc(C.SCardEstablishContext(C.SCARD_SCOPE_SYSTEM, nil, nil, &c.ctx)); err != nil {
		return nil, err
	}
	return c, nil
}

// connect connects to the card in reader with T=0 or T=1 and returns its
// ATR.
func (c *conn) connect(reader string, mode scard.ShareMode) ([]byte, error) {
	name := C.CString(reader)
	defer C.free(unsafe.Pointer(name))
	var proto C.DWORD
	if err := rc(C.SCardConnect(c.ctx, name, C.DWORD(mode), C.SCARD_PROTOCOL_T0|C.SCARD_PROTOCOL_T1,
		&c.handle, &proto)); err != nil {
		return nil, err
	}
	c.proto = scard.Protocol(proto)
	var state, active C.DWORD
	var atr [C.MAX_ATR_SIZE]C.uchar
	atrLen := C.DWORD(len(atr))
	var readerName [C.MAX_READERNAME + 1]C.char
	nameLen := C.DWORD(len(readerName))
	if err := rc(C.SCardStatus(c.handle, &readerName[0], &nameLen, &state, &active, &atr[0], &atrLen)); err != nil {
		_ = c.disconnect(scard.LeaveCard)
		return nil, err
	}
	c.buf = make([]byte, maxAnswer)
	return C.GoBytes(unsafe.Pointer(&atr[0]), C.int(atrLen)), nil
}

// transmit sends cmd and returns a copy of the answer.
func (c *conn) transmit(cmd []byte) ([]byte, error) {
	if len(cmd) == 0 {
		return nil, scard.ErrInvalidParameter
	}
	send := C.SCARD_IO_REQUEST{dwProtocol: C.ulong(c.proto), cbPciLength: C.sizeof_SCARD_IO_REQUEST}
	var recv C.SCARD_IO_REQUEST
	n := C.DWORD(len(c.buf))
	if err := rc(C.SCardTransmit(c.handle, &send, (*C.uchar)(&cmd[0]), C.DWORD(len(cmd)), &recv,
		(*C.uchar)(&c.buf[0]), &n)); err != nil {
		return nil, err
	}
	return append([]byte(nil), c.buf[:n]...), nil
}

// disconnect ends the card connection with the disposition d.
func (c *conn) disconnect(d scard.Disposition) error {
	return rc(C.SCardDisconnect(c.handle, C.DWORD(d)))
}

// release closes the PC/SC context.
func (c *conn) release() error {
	return rc(C.SCardReleaseContext(c.ctx))
}
