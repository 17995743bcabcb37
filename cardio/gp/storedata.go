package gp

import (
	"fmt"

	"github.com/volcard/volcard/cardio"
)

// STORE DATA P1 bits (EMV CPS 4.3.4 / GP 11.11): b8 last block, b7-b6
// encryption information.
const (
	// P1LastBlock marks the last STORE DATA command.
	P1LastBlock byte = 0x80
	// P1Encrypted says every DGI in the command has its value encrypted
	// under the session DEK (b7-b6 = 11).
	P1Encrypted byte = 0x60
	// p1EncMask selects the encryption information bits.
	p1EncMask byte = 0x60
)

// MaxDGILen is the largest DGI value StoreData carries (3-byte length FF xxxx).
const MaxDGILen = 0xFFFF

// DGI is one data grouping identifier and its value (EMV CPS). Sensitive
// DGIs are encrypted under the session DEK before they leave the server;
// their value never prints.
type DGI struct {
	// Tag is the DGI number, e.g. 0x0101 (SFI 1 record 1) or 0x8010 (PIN).
	Tag uint16
	// Data is the clear value.
	Data []byte
	// Sensitive makes StoreData encrypt the value (3DES-ECB, session DEK,
	// 80-padded) and send it in a command flagged P1Encrypted.
	Sensitive bool
}

// String shows the DGI number and length; the value of a sensitive DGI is
// never shown, others neither (they hold personal data).
func (d DGI) String() string {
	kind := "clear"
	if d.Sensitive {
		kind = "sensitive"
	}
	return fmt.Sprintf("DGI %04X (%d bytes, %s)", d.Tag, len(d.Data), kind)
}

// GoString is String.
func (d DGI) GoString() string { return d.String() }

// Format prints String whatever the verb.
func (d DGI) Format(f fmt.State, _ rune) { _, _ = f.Write([]byte(d.String())) }

// EncodeDGI encodes tag || length || value: the length is one byte up to
// 254 and FF followed by two bytes above.
func EncodeDGI(tag uint16, value []byte) ([]byte, error) {
	if len(value) > MaxDGILen {
		return nil, fmt.Errorf("encode DGI %04X: %d bytes: %w", tag, len(value), ErrMalformedDGI)
	}
	out := make([]byte, 0, 5+len(value))
	out = append(out, byte(tag>>8), byte(tag))
	if len(value) < 0xFF {
		out = append(out, byte(len(value)))
	} else {
		out = append(out, 0xFF, byte(len(value)>>8), byte(len(value)))
	}
	return append(out, value...), nil
}

// StoreDataCommands builds the clear STORE DATA commands (80 E2 P1 P2)
// carrying dgis: the non-sensitive DGIs first, concatenated and cut into
// data fields of at most maxData bytes (a DGI may span commands), then the
// sensitive ones, whose values are replaced by encrypt(value) and whose
// commands have P1Encrypted set. P2 numbers the blocks from 00; the last
// command has P1LastBlock. At most 256 commands.
func StoreDataCommands(dgis []DGI, encrypt func([]byte) ([]byte, error), maxData int) ([]cardio.Command, error) {
	if len(dgis) == 0 {
		return nil, fmt.Errorf("store data: no DGI: %w", ErrMalformedDGI)
	}
	if maxData < 16 || maxData > cardio.MaxShortLc {
		return nil, fmt.Errorf("store data: block size %d: %w", maxData, ErrMalformedDGI)
	}
	var clear, secret []byte
	for _, d := range dgis {
		value := d.Data
		if d.Sensitive {
			if encrypt == nil {
				return nil, fmt.Errorf("store data: DGI %04X is sensitive and no encryption is given: %w", d.Tag, ErrMalformedDGI)
			}
			var err error
			if value, err = encrypt(d.Data); err != nil {
				return nil, fmt.Errorf("store data: encrypt DGI %04X: %w", d.Tag, err)
			}
		}
		enc, err := EncodeDGI(d.Tag, value)
		if err != nil {
			return nil, err
		}
		if d.Sensitive {
			secret = append(secret, enc...)
		} else {
			clear = append(clear, enc...)
		}
	}
	var cmds []cardio.Command
	add := func(stream []byte, p1 byte) {
		for len(stream) > 0 {
			n := min(maxData, len(stream))
			cmds = append(cmds, cardio.Command{CLA: CLAGP, INS: INSStoreData, P1: p1, Data: clone(stream[:n])})
			stream = stream[n:]
		}
	}
	add(clear, 0)
	add(secret, P1Encrypted)
	if len(cmds) > 256 {
		return nil, fmt.Errorf("store data: %d blocks exceed 256: %w", len(cmds), ErrMalformedDGI)
	}
	for i := range cmds {
		cmds[i].P2 = byte(i)
	}
	cmds[len(cmds)-1].P1 |= P1LastBlock
	return cmds, nil
}

// DGIAssembler is the card side of StoreDataCommands: it takes the data
// fields of STORE DATA commands in order and returns every DGI completed.
type DGIAssembler struct {
	buf       []byte
	encrypted bool
}

// Add appends one command's (clear, unwrapped) data field. encrypted is the
// command's P1Encrypted flag: the returned DGIs carry it as Sensitive (their
// Data still encrypted). A DGI cannot span commands of different flags.
func (a *DGIAssembler) Add(data []byte, encrypted bool) ([]DGI, error) {
	if len(a.buf) > 0 && a.encrypted != encrypted {
		return nil, fmt.Errorf("DGI split across clear and encrypted blocks: %w", ErrMalformedDGI)
	}
	a.encrypted = encrypted
	a.buf = append(a.buf, data...)
	var out []DGI
	for {
		d, n, ok := a.next()
		if !ok {
			break
		}
		d.Sensitive = encrypted
		out = append(out, d)
		a.buf = a.buf[n:]
	}
	if len(a.buf) == 0 {
		a.buf = nil
	}
	return out, nil
}

// Pending reports whether a partial DGI is waiting for more data.
func (a *DGIAssembler) Pending() bool { return len(a.buf) > 0 }

// Reset discards any partial DGI.
func (a *DGIAssembler) Reset() { a.buf, a.encrypted = nil, false }

func (a *DGIAssembler) next() (DGI, int, bool) {
	b := a.buf
	if len(b) < 3 {
		return DGI{}, 0, false
	}
	tag := uint16(b[0])<<8 | uint16(b[1])
	l, off := int(b[2]), 3
	if b[2] == 0xFF {
		if len(b) < 5 {
			return DGI{}, 0, false
		}
		l, off = int(b[3])<<8|int(b[4]), 5
	}
	if len(b) < off+l {
		return DGI{}, 0, false
	}
	return DGI{Tag: tag, Data: clone(b[off : off+l])}, off + l, true
}

// ParseDGIs parses a complete DGI stream (as concatenated STORE DATA data
// fields of one kind).
func ParseDGIs(b []byte) ([]DGI, error) {
	var a DGIAssembler
	out, err := a.Add(b, false)
	if err != nil {
		return nil, err
	}
	if a.Pending() {
		return nil, fmt.Errorf("parse DGIs: %d trailing bytes: %w", len(a.buf), ErrMalformedDGI)
	}
	return out, nil
}

// InstallForPersonalization returns INSTALL [for personalization]
// (80 E6 20 00) naming the application instance aid, to be wrapped and sent
// to the security domain before STORE DATA.
func InstallForPersonalization(aid []byte) (cardio.Command, error) {
	if len(aid) < 5 || len(aid) > 16 {
		return cardio.Command{}, fmt.Errorf("install for personalization: AID of %d bytes: %w", len(aid), ErrMalformedCommand)
	}
	data := []byte{0x00, 0x00, byte(len(aid))}
	data = append(data, aid...)
	data = append(data, 0x00, 0x00, 0x00)
	return cardio.Command{CLA: CLAGP, INS: INSInstall, P1: 0x20, Data: data}, nil
}

// ParseInstallForPersonalization returns the AID named by the data field of
// INSTALL [for personalization].
func ParseInstallForPersonalization(data []byte) ([]byte, error) {
	if len(data) < 3 || data[0] != 0 || data[1] != 0 {
		return nil, fmt.Errorf("install for personalization: %w", ErrMalformedCommand)
	}
	n := int(data[2])
	if n < 5 || n > 16 || len(data) < 3+n {
		return nil, fmt.Errorf("install for personalization: AID length: %w", ErrMalformedCommand)
	}
	return clone(data[3 : 3+n]), nil
}

// Select returns SELECT by name (00 A4 04 00 Lc aid 00).
func Select(aid []byte) cardio.Command {
	return cardio.Command{CLA: 0x00, INS: cardio.INSSelect, P1: 0x04, Data: clone(aid), Le: 256}
}
