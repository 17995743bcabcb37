package bankgw

import (
	"bytes"
	"encoding/hex"
	"fmt"
	"strings"

	"github.com/moov-io/iso8583/field"
)

// Field 55 (ICC system related data) carries EMV data objects as BER-TLV:
// in an 0100 the card's cryptogram and the terminal data it covers, in an
// 0110 the issuer authentication data (docs/bank-interface.md, 7.5).

// ICC data tags of field 55.
const (
	ICCTagCryptogram        = "9F26" // application cryptogram (ARQC), b 8
	ICCTagCID               = "9F27" // cryptogram information data, b 1
	ICCTagIAD               = "9F10" // issuer application data, b ..32
	ICCTagUnpredictable     = "9F37" // unpredictable number, b 4
	ICCTagATC               = "9F36" // application transaction counter, b 2
	ICCTagTVR               = "95"   // terminal verification results, b 5
	ICCTagDate              = "9A"   // transaction date YYMMDD, n 6
	ICCTagType              = "9C"   // transaction type, n 2
	ICCTagAmount            = "9F02" // amount authorised, n 12
	ICCTagAmountOther       = "9F03" // amount other, n 12
	ICCTagCurrency          = "5F2A" // transaction currency, n 3
	ICCTagAIP               = "82"   // application interchange profile, b 2
	ICCTagCountry           = "9F1A" // terminal country, n 3
	ICCTagCVMResults        = "9F34" // CVM results, b 3
	ICCTagTerminalType      = "9F35" // terminal type, n 2
	ICCTagCapabilities      = "9F33" // terminal capabilities, b 3
	ICCTagDFName            = "84"   // dedicated file name (AID), b 5..16
	ICCTagIssuerAuthData    = "91"   // issuer authentication data: ARPC 8 ‖ ARC 2
	ICCTagAuthorisationCode = "8A"   // authorisation response code, an 2
)

// ICCObject is one data object of field 55. Tag is upper-case hex.
type ICCObject struct {
	Tag   string
	Value []byte
}

// ICCData is the content of field 55: data objects in order.
type ICCData []ICCObject

// Get returns the value of the first object with tag.
func (d ICCData) Get(tag string) ([]byte, bool) {
	tag = strings.ToUpper(tag)
	for _, o := range d {
		if o.Tag == tag {
			return o.Value, true
		}
	}
	return nil, false
}

// Values returns the objects as a map by tag (the first of repeated tags).
func (d ICCData) Values() map[string][]byte {
	m := make(map[string][]byte, len(d))
	for _, o := range d {
		if _, ok := m[o.Tag]; !ok {
			m[o.Tag] = o.Value
		}
	}
	return m
}

// Encode returns the BER-TLV encoding. A tag that is not 1 to 3 bytes of
// hex, a value longer than 255 bytes or a result longer than 255 bytes (the
// field's maximum) is an error wrapping ErrFormat.
func (d ICCData) Encode() ([]byte, error) {
	var b bytes.Buffer
	for _, o := range d {
		t, err := hex.DecodeString(o.Tag)
		if err != nil || len(t) < 1 || len(t) > 3 || !validTag(t) {
			return nil, fmt.Errorf("field 55 tag %q: %w", printableTag(o.Tag), ErrFormat)
		}
		b.Write(t)
		switch n := len(o.Value); {
		case n < 0x80:
			b.WriteByte(byte(n))
		case n <= 0xFF:
			b.Write([]byte{0x81, byte(n)})
		default:
			return nil, fmt.Errorf("field 55 tag %s: value of %d bytes: %w", o.Tag, n, ErrFormat)
		}
		b.Write(o.Value)
	}
	if b.Len() > MaxICCData {
		return nil, fmt.Errorf("field 55 of %d bytes, at most %d: %w", b.Len(), MaxICCData, ErrFormat)
	}
	return b.Bytes(), nil
}

// MaxICCData is the longest field 55 (bytes).
const MaxICCData = 255

// validTag reports whether t is a complete BER tag: the first byte's low
// five bits all set announce further bytes, each with b8 set except the last.
func validTag(t []byte) bool {
	if t[0]&0x1F != 0x1F {
		return len(t) == 1
	}
	for i := 1; i < len(t); i++ {
		if (t[i]&0x80 != 0) != (i < len(t)-1) {
			return false
		}
	}
	return len(t) > 1
}

// ParseICCData parses field 55: BER-TLV objects one after the other (tags
// of 1 to 3 bytes, lengths in 1 byte or 81 xx; constructed objects are kept
// whole, not descended into). Padding bytes 00 and FF between objects are
// not allowed. Errors wrap ErrFormat and never hold values.
func ParseICCData(b []byte) (ICCData, error) {
	if len(b) > MaxICCData {
		return nil, fmt.Errorf("field 55 of %d bytes: %w", len(b), ErrFormat)
	}
	var d ICCData
	for i := 0; i < len(b); {
		start := i
		if b[i] == 0x00 || b[i] == 0xFF {
			return nil, fmt.Errorf("field 55 at byte %d: padding or invalid tag: %w", i, ErrFormat)
		}
		i++
		if b[start]&0x1F == 0x1F {
			for {
				if i >= len(b) || i-start >= 3 {
					return nil, fmt.Errorf("field 55 at byte %d: truncated or long tag: %w", start, ErrFormat)
				}
				c := b[i]
				i++
				if c&0x80 == 0 {
					break
				}
			}
		}
		tag := strings.ToUpper(hex.EncodeToString(b[start:i]))
		if i >= len(b) {
			return nil, fmt.Errorf("field 55 tag %s: no length: %w", tag, ErrFormat)
		}
		n := int(b[i])
		i++
		switch {
		case n == 0x81:
			if i >= len(b) || b[i] < 0x80 {
				return nil, fmt.Errorf("field 55 tag %s: bad length: %w", tag, ErrFormat)
			}
			n = int(b[i])
			i++
		case n > 0x80:
			return nil, fmt.Errorf("field 55 tag %s: bad length: %w", tag, ErrFormat)
		case n == 0x80:
			return nil, fmt.Errorf("field 55 tag %s: indefinite length: %w", tag, ErrFormat)
		}
		if len(b)-i < n {
			return nil, fmt.Errorf("field 55 tag %s: value truncated: %w", tag, ErrFormat)
		}
		d = append(d, ICCObject{Tag: tag, Value: append([]byte(nil), b[i:i+n]...)})
		i += n
	}
	return d, nil
}

// describeICC lists the tags and lengths of field 55 (given as the hex
// the library describes a binary field with), not the values.
func describeICC(in string, _ field.Field) string {
	raw, err := hex.DecodeString(in)
	if err != nil {
		return fmt.Sprintf("<%d hex digits>", len(in))
	}
	d, err := ParseICCData(raw)
	if err != nil {
		return fmt.Sprintf("<unparsable, %d bytes>", len(raw))
	}
	parts := make([]string, len(d))
	for i, o := range d {
		parts[i] = fmt.Sprintf("%s(%d)", o.Tag, len(o.Value))
	}
	return strings.Join(parts, " ")
}
