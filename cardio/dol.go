package cardio

import (
	"bytes"
	"fmt"
	"strings"
)

// DOLEntry is one entry of a data object list: a tag and the length the
// card wants for its value.
type DOLEntry struct {
	Tag    string // upper-case hex, e.g. "9F37"
	Length int
}

// DOL is a data object list (PDOL 9F38, CDOL1 8C, CDOL2 8D, DDOL 9F49, TDOL 97).
type DOL []DOLEntry

// Format is the EMV data format of a data element, which drives padding and
// truncation when a DOL is filled.
type Format int

// Data formats (EMV Book 3, section 4.3).
const (
	FormatBinary            Format = iota // b, and everything not listed below
	FormatNumeric                         // n: BCD, right-justified, leading zeros
	FormatCompressedNumeric               // cn: BCD, left-justified, trailing F
)

// numericTags lists the data elements of format n that a terminal commonly
// supplies in a DOL.
var numericTags = map[string]Format{
	"9F02": FormatNumeric, "9F03": FormatNumeric, "5F2A": FormatNumeric, "5F36": FormatNumeric,
	"9A": FormatNumeric, "9C": FormatNumeric, "9F1A": FormatNumeric, "9F21": FormatNumeric,
	"9F41": FormatNumeric, "5F24": FormatNumeric, "5F25": FormatNumeric, "5F28": FormatNumeric,
	"5F34": FormatNumeric, "9F42": FormatNumeric, "9F44": FormatNumeric, "9F3C": FormatNumeric,
	"9F3D": FormatNumeric, "9F15": FormatNumeric, "9F11": FormatNumeric,
	"5A": FormatCompressedNumeric, "9F20": FormatCompressedNumeric,
}

// FormatOf returns the format used to pad or truncate tag in a DOL.
func FormatOf(tag string) Format { return numericTags[strings.ToUpper(tag)] }

// ParseDOL parses a data object list: a sequence of BER tags each followed by
// a one-byte length.
func ParseDOL(b []byte) (DOL, error) {
	var d DOL
	for len(b) > 0 {
		tag, n, err := readTag(b)
		if err != nil {
			return nil, fmt.Errorf("parse DOL entry %d: %w", len(d)+1, ErrMalformedDOL)
		}
		if tag[0] == 0x00 {
			return nil, fmt.Errorf("parse DOL entry %d: zero tag: %w", len(d)+1, ErrMalformedDOL)
		}
		b = b[n:]
		if len(b) == 0 {
			return nil, fmt.Errorf("parse DOL tag %X: missing length: %w", tag, ErrMalformedDOL)
		}
		d = append(d, DOLEntry{Tag: fmt.Sprintf("%X", tag), Length: int(b[0])})
		b = b[1:]
	}
	return d, nil
}

// Encode returns the wire form of d.
func (d DOL) Encode() ([]byte, error) {
	var out []byte
	for _, e := range d {
		t, err := TagBytes(e.Tag)
		if err != nil {
			return nil, fmt.Errorf("encode DOL: %w", ErrMalformedDOL)
		}
		if e.Length < 0 || e.Length > 255 {
			return nil, fmt.Errorf("encode DOL tag %s: length %d: %w", e.Tag, e.Length, ErrMalformedDOL)
		}
		out = append(out, t...)
		out = append(out, byte(e.Length))
	}
	return out, nil
}

// Len returns the total length of the data the DOL asks for.
func (d DOL) Len() int {
	n := 0
	for _, e := range d {
		n += e.Length
	}
	return n
}

// Build concatenates the values for each entry taken from values (keyed by
// upper-case hex tag), following EMV Book 3 section 5.4:
//   - a missing value, or a template tag, is filled with zeros;
//   - a longer value is truncated: numeric (n) keeps its rightmost bytes,
//     everything else its leftmost bytes;
//   - a shorter value is padded: numeric with leading zeros, compressed
//     numeric (cn) with trailing FF, everything else with trailing zeros.
func (d DOL) Build(values map[string][]byte) []byte {
	out := make([]byte, 0, d.Len())
	for _, e := range d {
		v, ok := values[e.Tag]
		if !ok || IsConstructed(e.Tag) {
			out = append(out, make([]byte, e.Length)...)
			continue
		}
		out = append(out, fit(v, e.Length, FormatOf(e.Tag))...)
	}
	return out
}

func fit(v []byte, n int, f Format) []byte {
	switch {
	case len(v) == n:
		return v
	case len(v) > n:
		if f == FormatNumeric {
			return v[len(v)-n:]
		}
		return v[:n]
	}
	pad := n - len(v)
	switch f {
	case FormatNumeric:
		return append(make([]byte, pad), v...)
	case FormatCompressedNumeric:
		return append(append([]byte(nil), v...), bytes.Repeat([]byte{0xFF}, pad)...)
	default:
		return append(append([]byte(nil), v...), make([]byte, pad)...)
	}
}

// Split cuts data built for d back into values keyed by tag (what a card
// does with the data of GPO or INTERNAL AUTHENTICATE). data must be exactly
// d.Len() bytes.
func (d DOL) Split(data []byte) (map[string][]byte, error) {
	if len(data) != d.Len() {
		return nil, fmt.Errorf("split DOL data: %d bytes, DOL wants %d: %w", len(data), d.Len(), ErrMalformedDOL)
	}
	m := make(map[string][]byte, len(d))
	for _, e := range d {
		m[e.Tag] = data[:e.Length]
		data = data[e.Length:]
	}
	return m, nil
}
