package cardio

import (
	"encoding/hex"
	"fmt"
	"strings"

	"github.com/moov-io/bertlv"
)

// TLV is one BER-TLV data object: a primitive (Tag and Value) or a
// constructed template (Tag and TLVs). Tags are upper-case hex, e.g. "9F38".
type TLV = bertlv.TLV

// maxTLVDepth bounds template nesting accepted by DecodeTLV.
const maxTLVDepth = 16

// DecodeTLV parses BER-TLV data (EMV Book 3 Annex B) into data objects.
// Padding bytes 00 between objects are skipped. Lengths use at most three
// subsequent bytes; anything malformed is reported as ErrMalformedTLV.
func DecodeTLV(b []byte) ([]TLV, error) {
	if err := checkTLV(b, 0); err != nil {
		return nil, err
	}
	tlvs, err := bertlv.Decode(b)
	if err != nil {
		return nil, fmt.Errorf("decode TLV: %v: %w", err, ErrMalformedTLV)
	}
	return tlvs, nil
}

// checkTLV walks the encoding with the same rules as bertlv.Decode and
// rejects what would make it misbehave (over-long lengths, truncation,
// indefinite length, deep nesting).
func checkTLV(b []byte, depth int) error {
	if depth > maxTLVDepth {
		return fmt.Errorf("decode TLV: nesting deeper than %d: %w", maxTLVDepth, ErrMalformedTLV)
	}
	for len(b) > 0 {
		tag, n, err := readTag(b)
		if err != nil {
			return err
		}
		b = b[n:]
		if tag[0] == 0x00 {
			continue
		}
		l, n, err := readLength(b)
		if err != nil {
			return fmt.Errorf("decode TLV tag %X: %w", tag, err)
		}
		b = b[n:]
		if l > len(b) {
			return fmt.Errorf("decode TLV tag %X: length %d exceeds %d remaining bytes: %w", tag, l, len(b), ErrMalformedTLV)
		}
		if tag[0]&0x20 != 0 {
			if err := checkTLV(b[:l], depth+1); err != nil {
				return err
			}
		}
		b = b[l:]
	}
	return nil
}

// readTag reads one BER tag (EMV: up to 3 bytes, we accept up to 4).
func readTag(b []byte) ([]byte, int, error) {
	if len(b) == 0 {
		return nil, 0, fmt.Errorf("decode TLV: empty tag: %w", ErrMalformedTLV)
	}
	if b[0]&0x1F != 0x1F {
		return b[:1], 1, nil
	}
	for i := 1; i < len(b) && i < 4; i++ {
		if b[i]&0x80 == 0 {
			return b[:i+1], i + 1, nil
		}
	}
	return nil, 0, fmt.Errorf("decode TLV: truncated or over-long tag %X: %w", b[:min(len(b), 4)], ErrMalformedTLV)
}

// readLength reads one BER length (short form, or 81/82/83 long form).
func readLength(b []byte) (int, int, error) {
	if len(b) == 0 {
		return 0, 0, fmt.Errorf("missing length: %w", ErrMalformedTLV)
	}
	if b[0] < 0x80 {
		return int(b[0]), 1, nil
	}
	n := int(b[0] & 0x7F)
	if n == 0 || n > 3 {
		return 0, 0, fmt.Errorf("unsupported length form %02X: %w", b[0], ErrMalformedTLV)
	}
	if len(b) < 1+n {
		return 0, 0, fmt.Errorf("truncated length: %w", ErrMalformedTLV)
	}
	l := 0
	for _, c := range b[1 : 1+n] {
		l = l<<8 | int(c)
	}
	return l, 1 + n, nil
}

// EncodeTLV encodes data objects; templates are encoded recursively.
func EncodeTLV(tlvs ...TLV) ([]byte, error) {
	b, err := bertlv.Encode(tlvs)
	if err != nil {
		return nil, fmt.Errorf("encode TLV: %v: %w", err, ErrMalformedTLV)
	}
	return b, nil
}

// NewTLV returns a primitive data object; tag is hex such as "5F20".
func NewTLV(tag string, value []byte) TLV {
	return bertlv.NewTag(strings.ToUpper(tag), value)
}

// NewTemplate returns a constructed data object (template) holding children.
func NewTemplate(tag string, children ...TLV) TLV {
	return bertlv.NewComposite(strings.ToUpper(tag), children...)
}

// FindTag searches tlvs depth first, templates included, and returns the
// first data object with tag (hex, any case).
func FindTag(tlvs []TLV, tag string) (TLV, bool) {
	tag = strings.ToUpper(tag)
	for _, t := range tlvs {
		if t.Tag == tag {
			return t, true
		}
		if len(t.TLVs) > 0 {
			if found, ok := FindTag(t.TLVs, tag); ok {
				return found, true
			}
		}
	}
	return TLV{}, false
}

// FindValue returns the value of the first primitive with tag anywhere in tlvs.
func FindValue(tlvs []TLV, tag string) ([]byte, bool) {
	t, ok := FindTag(tlvs, tag)
	if !ok {
		return nil, false
	}
	return t.Value, true
}

// Primitives flattens tlvs into a map from tag to value of every primitive
// data object; when a tag occurs more than once the first one wins.
func Primitives(tlvs []TLV) map[string][]byte {
	m := make(map[string][]byte)
	collect(tlvs, m)
	return m
}

func collect(tlvs []TLV, m map[string][]byte) {
	for _, t := range tlvs {
		if len(t.TLVs) > 0 {
			collect(t.TLVs, m)
			continue
		}
		if _, seen := m[t.Tag]; !seen {
			m[t.Tag] = t.Value
		}
	}
}

// TagBytes converts a hex tag such as "9F37" into its bytes, checking it is a
// well-formed BER tag.
func TagBytes(tag string) ([]byte, error) {
	b, err := hex.DecodeString(tag)
	if err != nil || len(b) == 0 {
		return nil, fmt.Errorf("tag %q: not hex: %w", tag, ErrMalformedTLV)
	}
	t, n, err := readTag(b)
	if err != nil || n != len(b) {
		return nil, fmt.Errorf("tag %q: not a single BER tag: %w", tag, ErrMalformedTLV)
	}
	return t, nil
}

// IsConstructed reports whether the hex tag denotes a template.
func IsConstructed(tag string) bool {
	b, err := hex.DecodeString(tag)
	return err == nil && len(b) > 0 && b[0]&0x20 != 0
}
