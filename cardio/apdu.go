package cardio

import (
	"encoding/hex"
	"fmt"
	"strings"
)

// Length limits for APDUs (ISO/IEC 7816-4).
const (
	// MaxShortLc is the largest command data field of a short APDU.
	MaxShortLc = 255
	// MaxShortLe is the largest expected length of a short APDU (encoded 00).
	MaxShortLe = 256
	// MaxExtendedLc is the largest command data field of an extended APDU.
	MaxExtendedLc = 65535
	// MaxExtendedLe is the largest expected length of an extended APDU (encoded 0000).
	MaxExtendedLe = 65536
)

// SWOK is the 9000 "normal processing" status word.
const SWOK uint16 = 0x9000

// Common instruction bytes.
const (
	INSSelect       byte = 0xA4
	INSReadRecord   byte = 0xB2
	INSGetResponse  byte = 0xC0
	INSGetData      byte = 0xCA
	INSGPO          byte = 0xA8
	INSVerify       byte = 0x20
	INSGetChallenge byte = 0x84
	INSInternalAuth byte = 0x88
	INSExternalAuth byte = 0x82
	INSGenerateAC   byte = 0xAE
	INSPutData      byte = 0xDA
	INSStoreData    byte = 0xE2
	INSChangePIN    byte = 0x24
)

// Command is a command APDU.
type Command struct {
	CLA, INS, P1, P2 byte
	// Data is the command data field (Lc is its length); nil or empty means no data.
	Data []byte
	// Le is the expected response length: 0 means absent, 1..256 fits a
	// short APDU (256 is encoded as 00), up to 65536 needs extended length.
	Le int
	// Extended forces extended-length encoding even when short would fit.
	Extended bool
}

// IsExtended reports whether c must be (or was asked to be) encoded with
// extended length fields.
func (c Command) IsExtended() bool {
	return c.Extended || len(c.Data) > MaxShortLc || c.Le > MaxShortLe
}

// Encode returns the raw bytes of c, choosing the ISO 7816-3 case (1, 2, 3 or
// 4, short or extended) from Data and Le.
func (c Command) Encode() ([]byte, error) {
	if len(c.Data) > MaxExtendedLc {
		return nil, fmt.Errorf("encode command: data of %d bytes exceeds %d: %w", len(c.Data), MaxExtendedLc, ErrMalformedAPDU)
	}
	if c.Le < 0 || c.Le > MaxExtendedLe {
		return nil, fmt.Errorf("encode command: Le %d out of range: %w", c.Le, ErrMalformedAPDU)
	}
	out := make([]byte, 0, 4+3+len(c.Data)+3)
	out = append(out, c.CLA, c.INS, c.P1, c.P2)
	ext := c.IsExtended()
	if len(c.Data) > 0 {
		if ext {
			out = append(out, 0, byte(len(c.Data)>>8), byte(len(c.Data)))
		} else {
			out = append(out, byte(len(c.Data)))
		}
		out = append(out, c.Data...)
	}
	if c.Le > 0 {
		switch {
		case !ext:
			out = append(out, byte(c.Le)) // 256 -> 00
		case len(c.Data) > 0:
			out = append(out, byte(c.Le>>8), byte(c.Le)) // 65536 -> 0000
		default:
			out = append(out, 0, byte(c.Le>>8), byte(c.Le))
		}
	}
	return out, nil
}

// ParseCommand parses a raw command APDU (cases 1, 2S, 3S, 4S, 2E, 3E, 4E).
func ParseCommand(b []byte) (Command, error) {
	if len(b) < 4 {
		return Command{}, fmt.Errorf("parse command: %d bytes, need at least 4: %w", len(b), ErrMalformedAPDU)
	}
	c := Command{CLA: b[0], INS: b[1], P1: b[2], P2: b[3]}
	body := b[4:]
	switch {
	case len(body) == 0: // case 1
		return c, nil
	case len(body) == 1: // case 2S
		c.Le = shortLe(body[0])
		return c, nil
	case body[0] != 0: // short with data: 3S or 4S
		lc := int(body[0])
		switch len(body) {
		case 1 + lc:
			c.Data = clone(body[1:])
		case 2 + lc:
			c.Data = clone(body[1 : 1+lc])
			c.Le = shortLe(body[1+lc])
		default:
			return Command{}, fmt.Errorf("parse command: Lc %d does not match %d body bytes: %w", lc, len(body), ErrMalformedAPDU)
		}
		return c, nil
	}
	// body[0] == 0 and len(body) >= 2: extended (or malformed).
	c.Extended = true
	if len(body) == 3 { // case 2E
		c.Le = extLe(body[1], body[2])
		return c, nil
	}
	if len(body) < 3 {
		return Command{}, fmt.Errorf("parse command: truncated extended length: %w", ErrMalformedAPDU)
	}
	lc := int(body[1])<<8 | int(body[2])
	if lc == 0 {
		return Command{}, fmt.Errorf("parse command: extended Lc of zero: %w", ErrMalformedAPDU)
	}
	rest := body[3:]
	switch len(rest) {
	case lc: // 3E
		c.Data = clone(rest)
	case lc + 2: // 4E
		c.Data = clone(rest[:lc])
		c.Le = extLe(rest[lc], rest[lc+1])
	default:
		return Command{}, fmt.Errorf("parse command: extended Lc %d does not match %d data bytes: %w", lc, len(rest), ErrMalformedAPDU)
	}
	return c, nil
}

func shortLe(b byte) int {
	if b == 0 {
		return MaxShortLe
	}
	return int(b)
}

func extLe(hi, lo byte) int {
	n := int(hi)<<8 | int(lo)
	if n == 0 {
		return MaxExtendedLe
	}
	return n
}

func clone(b []byte) []byte {
	if len(b) == 0 {
		return nil
	}
	return append([]byte(nil), b...)
}

// String shows the header and lengths of c, never its data (which may hold
// a PIN block or key material). Use a Transcript for masked data.
func (c Command) String() string {
	return fmt.Sprintf("%02X %02X %02X %02X Lc=%d Le=%d", c.CLA, c.INS, c.P1, c.P2, len(c.Data), c.Le)
}

// Response is a response APDU: data and status word.
type Response struct {
	Data []byte
	SW   uint16
}

// ParseResponse splits a raw response APDU into data and status word.
func ParseResponse(b []byte) (Response, error) {
	if len(b) < 2 {
		return Response{}, fmt.Errorf("parse response: %d bytes, need at least 2: %w", len(b), ErrMalformedAPDU)
	}
	n := len(b) - 2
	return Response{Data: clone(b[:n]), SW: uint16(b[n])<<8 | uint16(b[n+1])}, nil
}

// Bytes returns the raw response (data followed by SW1 SW2).
func (r Response) Bytes() []byte {
	out := make([]byte, 0, len(r.Data)+2)
	out = append(out, r.Data...)
	return append(out, byte(r.SW>>8), byte(r.SW))
}

// SW1 returns the first status byte.
func (r Response) SW1() byte { return byte(r.SW >> 8) }

// SW2 returns the second status byte.
func (r Response) SW2() byte { return byte(r.SW) }

// OK reports whether the status word is 9000.
func (r Response) OK() bool { return r.SW == SWOK }

// Err returns nil for 9000, a *PINError for 63Cx and a *StatusError otherwise.
func (r Response) Err() error { return SWError(r.SW) }

// String shows the status word and data length, never the data.
func (r Response) String() string {
	return fmt.Sprintf("%d bytes SW=%04X", len(r.Data), r.SW)
}

// ParseHex decodes hex with optional spaces, as used in tests and fixtures.
func ParseHex(s string) ([]byte, error) {
	s = strings.NewReplacer(" ", "", "\n", "", "\t", "", ":", "").Replace(s)
	b, err := hex.DecodeString(s)
	if err != nil {
		return nil, fmt.Errorf("cardio: parse hex: %w", err)
	}
	return b, nil
}
