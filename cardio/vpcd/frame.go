package vpcd

import (
	"encoding/binary"
	"fmt"
	"io"
)

// Control codes sent by the driver in 1-byte frames.
const (
	CtrlPowerOff byte = 0
	CtrlPowerOn  byte = 1
	CtrlReset    byte = 2
	CtrlATR      byte = 4
)

// MaxPayload is the largest payload a frame can carry.
const MaxPayload = 0xFFFF

// ReadFrame reads one frame from r and returns its payload. A truncated
// frame gives io.ErrUnexpectedEOF (io.EOF when r ends cleanly between
// frames); a zero-length frame gives ErrEmptyFrame, after which the stream
// is still in sync.
func ReadFrame(r io.Reader) ([]byte, error) {
	var hdr [2]byte
	if _, err := io.ReadFull(r, hdr[:]); err != nil {
		return nil, err
	}
	n := int(binary.BigEndian.Uint16(hdr[:]))
	if n == 0 {
		return nil, ErrEmptyFrame
	}
	payload := make([]byte, n)
	if _, err := io.ReadFull(r, payload); err != nil {
		if err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		return nil, fmt.Errorf("vpcd: read %d-byte payload: %w", n, err)
	}
	return payload, nil
}

// WriteFrame writes payload to w as one frame, in a single Write call.
func WriteFrame(w io.Writer, payload []byte) error {
	if len(payload) > MaxPayload {
		return ErrFrameTooLong
	}
	buf := make([]byte, 2+len(payload))
	binary.BigEndian.PutUint16(buf, uint16(len(payload)))
	copy(buf[2:], payload)
	_, err := w.Write(buf)
	return err
}
