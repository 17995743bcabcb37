package bankgw

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"log/slog"

	"github.com/moov-io/iso8583"
	iso8583errors "github.com/moov-io/iso8583/errors"
)

// MACKeySize is the size of the shared HMAC-SHA256 key for field 128.
const MACKeySize = 32

const macSize = 8

// Codec reads and writes framed messages: a 2-byte big-endian length, then
// the message packed with Spec, with the field 128 MAC when a key is set. It
// implements connection.MessageReader and connection.MessageWriter. A frame
// that does not unpack, or whose MAC does not verify, is logged masked and
// returned as a *FrameError, which makes the connection reset.
type Codec struct {
	macKey []byte
	log    *slog.Logger
}

// NewCodec returns a Codec. macKey is nil (no MAC) or MACKeySize bytes;
// logger may be nil (slog.Default()).
func NewCodec(macKey []byte, logger *slog.Logger) (*Codec, error) {
	if macKey != nil && len(macKey) != MACKeySize {
		return nil, fmt.Errorf("MAC key of %d bytes, want %d: %w", len(macKey), MACKeySize, ErrInvalidConfig)
	}
	if logger == nil {
		logger = slog.Default()
	}
	return &Codec{macKey: append([]byte(nil), macKey...), log: logger}, nil
}

// WriteMessage packs msg (adding the MAC when a key is set) and writes it
// with its length header in one write.
func (c *Codec) WriteMessage(w io.Writer, msg *iso8583.Message) error {
	if len(c.macKey) > 0 {
		if err := msg.BinaryField(FieldMAC, make([]byte, macSize)); err != nil {
			return fmt.Errorf("set MAC field: %w", err)
		}
	} else {
		msg.UnsetField(FieldMAC)
	}
	packed, err := msg.Pack()
	if err != nil {
		return fmt.Errorf("pack: %w", err)
	}
	if len(packed) > 0xFFFF {
		return fmt.Errorf("message of %d bytes: %w", len(packed), ErrFormat)
	}
	if len(c.macKey) > 0 {
		copy(packed[len(packed)-macSize:], c.mac(packed[:len(packed)-macSize]))
	}
	buf := make([]byte, 2+len(packed))
	binary.BigEndian.PutUint16(buf, uint16(len(packed)))
	copy(buf[2:], packed)
	if _, err := w.Write(buf); err != nil {
		return fmt.Errorf("write frame: %w", err)
	}
	return nil
}

// ReadMessage reads one frame and unpacks it. Network errors are returned
// as they are; a frame that does not unpack or verify is logged (length and
// MTI only) and returned as a *FrameError.
func (c *Codec) ReadMessage(r io.Reader) (*iso8583.Message, error) {
	var hdr [2]byte
	if _, err := io.ReadFull(r, hdr[:]); err != nil {
		return nil, fmt.Errorf("read length header: %w", err)
	}
	n := int(binary.BigEndian.Uint16(hdr[:]))
	if n == 0 {
		return nil, c.bad(&FrameError{Length: 0, MTI: "????", Reason: "zero length"})
	}
	frame := make([]byte, n)
	if _, err := io.ReadFull(r, frame); err != nil {
		return nil, fmt.Errorf("read frame of %d bytes: %w", n, err)
	}
	msg, err := Unpack(frame)
	if err != nil {
		var fe *FrameError
		if errors.As(err, &fe) {
			return nil, c.bad(fe)
		}
		return nil, c.bad(&FrameError{Length: n, MTI: mtiOf(frame), Reason: "unpack"})
	}
	if len(c.macKey) > 0 {
		if err := c.verify(msg, frame); err != nil {
			return nil, c.bad(&FrameError{Length: n, MTI: mtiOf(frame), Reason: err.Error(), Err: ErrBadMAC})
		}
	}
	return msg, nil
}

func (c *Codec) bad(fe *FrameError) error {
	c.log.Warn("bankgw: unreadable frame, resetting connection",
		slog.Int("length", fe.Length), slog.String("mti", fe.MTI), slog.String("reason", fe.Reason))
	return fe
}

func (c *Codec) verify(msg *iso8583.Message, frame []byte) error {
	if _, ok := msg.GetFields()[FieldMAC]; !ok || len(frame) < macSize {
		return errors.New("MAC missing")
	}
	want := c.mac(frame[:len(frame)-macSize])
	if !hmac.Equal(want, frame[len(frame)-macSize:]) {
		return errors.New("MAC does not verify")
	}
	return nil
}

func (c *Codec) mac(data []byte) []byte {
	h := hmac.New(sha256.New, c.macKey)
	h.Write(data)
	return h.Sum(nil)[:macSize]
}

// ReadLength reads the 2-byte big-endian length header; it satisfies
// connection.MessageLengthReader (unused when the Codec is the reader).
func ReadLength(r io.Reader) (int, error) {
	var hdr [2]byte
	if _, err := io.ReadFull(r, hdr[:]); err != nil {
		return 0, fmt.Errorf("read length header: %w", err)
	}
	return int(binary.BigEndian.Uint16(hdr[:])), nil
}

// WriteLength writes the 2-byte big-endian length header; it satisfies
// connection.MessageLengthWriter.
func WriteLength(w io.Writer, length int) (int, error) {
	if length < 0 || length > 0xFFFF {
		return 0, fmt.Errorf("length %d: %w", length, ErrFormat)
	}
	var hdr [2]byte
	binary.BigEndian.PutUint16(hdr[:], uint16(length))
	return w.Write(hdr[:])
}

// unpackFailure turns the library's UnpackError (which holds the raw
// frame) into a FrameError naming only the field.
func unpackFailure(b []byte, err error) error {
	reason := "unpack"
	var ue *iso8583errors.UnpackError
	if errors.As(err, &ue) {
		reason = "field " + ue.FieldID
	}
	return &FrameError{Length: len(b), MTI: mtiOf(b), Reason: reason}
}
