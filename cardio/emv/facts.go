package emv

import (
	"encoding/hex"
	"encoding/json"
	"fmt"
	"github.com/volcard/volcard/pii"
	"io"
	"log/slog"
	"strings"
	"time"
	"unicode/utf8"

	"golang.org/x/text/encoding"
	"golang.org/x/text/encoding/charmap"
	"golang.org/x/text/encoding/simplifiedchinese"

	"github.com/volcard/volcard/cardio"
)

// CardFacts is what a read learns about a card. Sensitive values (PAN,
// track 2, ID number) are typed so that printing, logging or marshalling
// them masks them; call their Digits/Clear methods to get clear values.
type CardFacts struct {
	// Selection says how the application was found: "PPSE", "PSE" or "AID".
	Selection string `json:"selection"`
	// AID is the selected application identifier (4F/84).
	AID cardio.Hex `json:"aid"`
	// Label is the application label (50).
	Label string `json:"label,omitempty"`
	// PreferredName is the application preferred name (9F12), decoded with
	// the issuer code table index; PBOC cards store GBK Chinese here.
	PreferredName string `json:"preferredName,omitempty"`
	// CodeTableIndex is 9F11 (1 = ISO 8859-1, ...), 0 when absent.
	CodeTableIndex int `json:"codeTableIndex,omitempty"`
	// Priority is the application priority indicator (87), 0 when absent.
	Priority int `json:"priority,omitempty"`
	// Language is the language preference (5F2D), e.g. "zhen".
	Language string `json:"language,omitempty"`

	// PAN is the application PAN (5A).
	PAN PAN `json:"pan"`
	// PSN is the PAN sequence number (5F34) as two digits, "" when absent.
	PSN string `json:"psn,omitempty"`
	// Expiry is the application expiration date (5F24).
	Expiry time.Time `json:"expiry"`
	// Effective is the application effective date (5F25), zero when absent.
	Effective time.Time `json:"effective,omitzero"`
	// CardholderName is the holder's name to show: the Chinese name of the
	// volcard tag DF20 (GBK) when the card has it, else 5F20 (ISO 8859-1
	// text; GBK Chinese on PBOC cards that put it there), spaces trimmed.
	CardholderName string `json:"cardholderName,omitempty"`
	// CardholderNameLatin is the romanized name: 9F0B (the whole name, when
	// longer than 26 characters) or else 5F20, when that is plain text.
	CardholderNameLatin string `json:"cardholderNameLatin,omitempty"`
	// CardholderNameExtended is 9F0B (present only for names longer than 26).
	CardholderNameExtended string `json:"cardholderNameExtended,omitempty"`
	// IDNumber is the cardholder ID number (9F61, PBOC).
	IDNumber IDNumber `json:"idNumber,omitzero"`
	// IDType is the cardholder ID type (9F62, PBOC); nil when absent.
	IDType *IDType `json:"idType,omitempty"`
	// Track2 is the track-2 equivalent data (57), checked against PAN and expiry.
	Track2 Track2 `json:"track2"`
	// IssuerCountry is the ISO 3166 numeric issuer country (5F28), 156 = China.
	IssuerCountry int `json:"issuerCountry,omitempty"`
	// AIP is the application interchange profile (82).
	AIP AIP `json:"aip"`
	// AFL is the application file locator (94).
	AFL []cardio.AFLEntry `json:"afl"`
	// CVMList is the cardholder verification method list (8E).
	CVMList CVMList `json:"cvmList"`

	// ATC is the application transaction counter (GET DATA 9F36); nil in fast mode.
	ATC *int `json:"atc,omitempty"`
	// PINTryCounter is the PIN tries left (GET DATA 9F17); nil in fast mode.
	PINTryCounter *int `json:"pinTryCounter,omitempty"`

	// ODA is the offline data authentication outcome.
	ODA ODAResult `json:"oda"`
	// APDUs is the number of command APDUs the read exchanged.
	APDUs int `json:"apdus"`

	// raw is behind a pointer so that printing CardFacts with %v never
	// shows clear card data.
	raw *rawData
}

// rawData is what the read collected, kept for offline authentication.
type rawData struct {
	tags    map[string][]byte // every primitive seen (FCI, GPO, records)
	records []Record
	aip     []byte
}

// ODAResult is the outcome of offline data authentication.
type ODAResult struct {
	// Method is the method attempted (none when skipped).
	Method ODAMethod `json:"method"`
	// Verified is true when the method succeeded.
	Verified bool `json:"verified"`
	// Failure is the reason text when it failed (no card data in it).
	Failure string `json:"failure,omitempty"`
}

// Tag returns the raw value of a data object the read saw (FCI, GPO
// response or records), for tags CardFacts does not decode.
func (f *CardFacts) Tag(tag string) ([]byte, bool) {
	if f.raw == nil {
		return nil, false
	}
	v, ok := f.raw.tags[strings.ToUpper(tag)]
	return v, ok
}

// Records returns the records read over the AFL, in order.
func (f *CardFacts) Records() []Record {
	if f.raw == nil {
		return nil
	}
	return append([]Record(nil), f.raw.records...)
}

// PAN is a primary account number. It prints, logs and marshals masked
// (622848*********1234); Digits returns the clear digits.
type PAN struct{ digits string }

// NewPAN validates 12 to 19 decimal digits.
func NewPAN(digits string) (PAN, error) {
	if len(digits) < 12 || len(digits) > 19 || strings.Trim(digits, "0123456789") != "" {
		return PAN{}, fmt.Errorf("PAN of %d characters: %w", len(digits), ErrMalformedData)
	}
	return PAN{digits: digits}, nil
}

// Digits returns the clear PAN. Do not log it.
func (p PAN) Digits() string { return p.digits }

// IsZero reports whether p is empty.
func (p PAN) IsZero() bool { return p.digits == "" }

// Last4 returns the last four digits.
func (p PAN) Last4() string {
	if len(p.digits) < 4 {
		return ""
	}
	return p.digits[len(p.digits)-4:]
}

// LuhnValid reports whether the PAN's check digit is right.
func (p PAN) LuhnValid() bool { return luhn(p.digits) }

// String returns the masked PAN.
func (p PAN) String() string { return pii.MaskPAN(p.digits) }

// GoString returns the masked PAN (for %#v).
func (p PAN) GoString() string { return "emv.PAN(" + p.String() + ")" }

// Format prints the masked PAN for every verb.
func (p PAN) Format(f fmt.State, _ rune) { _, _ = io.WriteString(f, p.String()) }

// MarshalJSON encodes the masked PAN.
func (p PAN) MarshalJSON() ([]byte, error) { return json.Marshal(p.String()) }

// LogValue logs the masked PAN.
func (p PAN) LogValue() slog.Value { return slog.StringValue(p.String()) }

func luhn(s string) bool {
	if s == "" {
		return false
	}
	sum, double := 0, false
	for i := len(s) - 1; i >= 0; i-- {
		d := int(s[i] - '0')
		if double {
			d *= 2
			if d > 9 {
				d -= 9
			}
		}
		sum += d
		double = !double
	}
	return sum%10 == 0
}

// IDNumber is a cardholder ID number (resident identity card number and the
// like). It prints, logs and marshals masked; Clear returns it in clear.
type IDNumber struct{ s string }

// NewIDNumber wraps an ID number.
func NewIDNumber(s string) IDNumber { return IDNumber{s: s} }

// Clear returns the ID number in clear. Do not log it.
func (n IDNumber) Clear() string { return n.s }

// IsZero reports whether n is empty.
func (n IDNumber) IsZero() bool { return n.s == "" }

// String returns the masked ID number (first 6 characters, region code, kept).
func (n IDNumber) String() string {
	if n.s == "" {
		return ""
	}
	return cardio.MaskTail(n.s, 6)
}

// GoString returns the masked ID number.
func (n IDNumber) GoString() string { return "emv.IDNumber(" + n.String() + ")" }

// Format prints the masked ID number for every verb.
func (n IDNumber) Format(f fmt.State, _ rune) { _, _ = io.WriteString(f, n.String()) }

// MarshalJSON encodes the masked ID number.
func (n IDNumber) MarshalJSON() ([]byte, error) { return json.Marshal(n.String()) }

// LogValue logs the masked ID number.
func (n IDNumber) LogValue() slog.Value { return slog.StringValue(n.String()) }

// IDType is the PBOC cardholder ID type (9F62).
type IDType byte

// PBOC cardholder ID types.
const (
	IDTypeResidentCard  IDType = 0x00 // 身份证
	IDTypeOfficerCard   IDType = 0x01 // 军官证
	IDTypePassport      IDType = 0x02 // 护照
	IDTypeEntryPermit   IDType = 0x03 // 入境证
	IDTypeTemporaryCard IDType = 0x04 // 临时身份证
	IDTypeOther         IDType = 0x05 // 其他
)

// String names the ID type in English and Chinese.
func (t IDType) String() string {
	switch t {
	case IDTypeResidentCard:
		return "resident identity card (身份证)"
	case IDTypeOfficerCard:
		return "military officer card (军官证)"
	case IDTypePassport:
		return "passport (护照)"
	case IDTypeEntryPermit:
		return "entry permit (入境证)"
	case IDTypeTemporaryCard:
		return "temporary identity card (临时身份证)"
	case IDTypeOther:
		return "other (其他)"
	}
	return fmt.Sprintf("unknown ID type %02X", byte(t))
}

// Track2 is decoded track-2 equivalent data (57). The discretionary data is
// kept private; String and JSON mask the PAN.
type Track2 struct {
	PAN PAN `json:"pan"`
	// Expiry is YYMM as on the card.
	Expiry string `json:"expiry"`
	// ServiceCode is the 3-digit service code (220 for a PBOC chip debit card).
	ServiceCode   string `json:"serviceCode"`
	discretionary string
}

// String returns the track with the PAN masked and the rest hidden.
func (t Track2) String() string {
	if t.PAN.IsZero() {
		return ""
	}
	return t.PAN.String() + "D****"
}

// GoString returns the masked track (for %#v): the discretionary data is
// never printed.
func (t Track2) GoString() string { return "emv.Track2(" + t.String() + ")" }

// Format prints the masked track for every verb, so that %#v and %+v never
// show the discretionary data.
func (t Track2) Format(f fmt.State, _ rune) { _, _ = io.WriteString(f, t.String()) }

// Discretionary returns the discretionary data in clear. Do not log it.
func (t Track2) Discretionary() string { return t.discretionary }

// ParseTrack2 decodes track-2 equivalent data: PAN, separator D, YYMM,
// service code, discretionary data, F padding.
func ParseTrack2(b []byte) (Track2, error) {
	s := strings.TrimRight(strings.ToUpper(hex.EncodeToString(b)), "F")
	pan, rest, ok := strings.Cut(s, "D")
	if !ok || len(rest) < 7 {
		return Track2{}, fmt.Errorf("track 2: no separator or too short: %w", ErrMalformedData)
	}
	p, err := NewPAN(pan)
	if err != nil {
		return Track2{}, fmt.Errorf("track 2: %w", err)
	}
	if strings.Trim(rest[:7], "0123456789") != "" {
		return Track2{}, fmt.Errorf("track 2: expiry or service code not digits: %w", ErrMalformedData)
	}
	return Track2{PAN: p, Expiry: rest[:4], ServiceCode: rest[4:7], discretionary: rest[7:]}, nil
}

// AIP is the application interchange profile (82).
type AIP [2]byte

// SDA reports static data authentication support.
func (a AIP) SDA() bool { return a[0]&0x40 != 0 }

// DDA reports dynamic data authentication support.
func (a AIP) DDA() bool { return a[0]&0x20 != 0 }

// CardholderVerification reports that cardholder verification is supported.
func (a AIP) CardholderVerification() bool { return a[0]&0x10 != 0 }

// TerminalRiskManagement reports that terminal risk management is to be performed.
func (a AIP) TerminalRiskManagement() bool { return a[0]&0x08 != 0 }

// IssuerAuthentication reports issuer authentication support.
func (a AIP) IssuerAuthentication() bool { return a[0]&0x04 != 0 }

// CDA reports combined DDA/application cryptogram support.
func (a AIP) CDA() bool { return a[0]&0x01 != 0 }

// String returns the AIP in hex.
func (a AIP) String() string { return fmt.Sprintf("%02X%02X", a[0], a[1]) }

// MarshalText encodes the AIP as hex.
func (a AIP) MarshalText() ([]byte, error) { return []byte(a.String()), nil }

// CVMList is the cardholder verification method list (8E).
type CVMList struct {
	// X and Y are the amounts referenced by conditions 06 to 09.
	X, Y  uint32
	Rules []CVMRule
}

// CVMRule is one 2-byte CV rule.
type CVMRule struct {
	// Method is the CVM code (low 6 bits): 01 plaintext PIN by ICC, 02
	// enciphered PIN online, 1E signature, 1F no CVM, ...
	Method byte `json:"method"`
	// ApplyNext says to apply the next rule if this one fails.
	ApplyNext bool `json:"applyNext"`
	// Condition is the CVM condition code (00 always, 03 if terminal supports the CVM, ...).
	Condition byte `json:"condition"`
}

// String describes the rule.
func (r CVMRule) String() string {
	name := map[byte]string{
		0x00: "fail CVM", 0x01: "plaintext PIN by ICC", 0x02: "enciphered PIN online",
		0x03: "plaintext PIN by ICC and signature", 0x04: "enciphered PIN by ICC",
		0x05: "enciphered PIN by ICC and signature", 0x1E: "signature", 0x1F: "no CVM required",
	}[r.Method]
	if name == "" {
		name = fmt.Sprintf("method %02X", r.Method)
	}
	return fmt.Sprintf("%s (condition %02X, next=%t)", name, r.Condition, r.ApplyNext)
}

// ParseCVMList decodes 8E: amount X (4), amount Y (4), then 2-byte rules.
func ParseCVMList(b []byte) (CVMList, error) {
	if len(b) < 8 || len(b)%2 != 0 {
		return CVMList{}, fmt.Errorf("CVM list of %d bytes: %w", len(b), ErrMalformedData)
	}
	l := CVMList{
		X: uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3]),
		Y: uint32(b[4])<<24 | uint32(b[5])<<16 | uint32(b[6])<<8 | uint32(b[7]),
	}
	for i := 8; i < len(b); i += 2 {
		l.Rules = append(l.Rules, CVMRule{Method: b[i] & 0x3F, ApplyNext: b[i]&0x40 != 0, Condition: b[i+1]})
	}
	return l, nil
}

// DecodeText decodes a text data object (50, 9F12, 5F20, 9F0B). Pure ASCII
// is returned as is. Otherwise, when preferGBK is set (PBOC cards, which put
// GBK/GB2312 Chinese in 9F12 and 5F20) GBK is tried first; then the ISO 8859
// part given by the issuer code table index (9F11, 1..10), ISO 8859-1 when
// unknown. Trailing spaces and NULs are trimmed.
func DecodeText(b []byte, codeTable int, preferGBK bool) string {
	trim := func(s string) string { return strings.TrimRight(s, " \x00") }
	ascii := true
	for _, c := range b {
		if c >= 0x80 {
			ascii = false
			break
		}
	}
	if ascii {
		return trim(string(b))
	}
	if preferGBK {
		if s, err := simplifiedchinese.GBK.NewDecoder().Bytes(b); err == nil && utf8.Valid(s) && !strings.ContainsRune(string(s), utf8.RuneError) {
			return trim(string(s))
		}
	}
	var cm encoding.Encoding = charmap.ISO8859_1
	if codeTable >= 1 && codeTable <= 10 {
		cm = []encoding.Encoding{charmap.ISO8859_1, charmap.ISO8859_2, charmap.ISO8859_3, charmap.ISO8859_4,
			charmap.ISO8859_5, charmap.ISO8859_6, charmap.ISO8859_7, charmap.ISO8859_8, charmap.ISO8859_9,
			charmap.ISO8859_10}[codeTable-1]
	}
	s, err := cm.NewDecoder().Bytes(b)
	if err != nil {
		return trim(strings.ToValidUTF8(string(b), "?"))
	}
	return trim(string(s))
}

// EncodeGBK encodes text as GBK (for card images and personalization).
func EncodeGBK(s string) ([]byte, error) {
	b, err := simplifiedchinese.GBK.NewEncoder().Bytes([]byte(s))
	if err != nil {
		return nil, fmt.Errorf("encode GBK: %w", err)
	}
	return b, nil
}

// parseDate decodes YYMMDD (n6) as a UTC date.
func parseDate(b []byte) (time.Time, error) {
	s := hex.EncodeToString(b)
	if len(b) != 3 {
		return time.Time{}, ErrMalformedData
	}
	t, err := time.Parse("060102", s)
	if err != nil {
		return time.Time{}, ErrMalformedData
	}
	return t, nil
}
