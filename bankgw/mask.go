package bankgw

import (
	"fmt"
	"log/slog"
	"regexp"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/volcard/volcard/pii"

	"github.com/moov-io/iso8583"
	"github.com/moov-io/iso8583/field"
)

// maskKeepEnds keeps the first head and last tail runes of s and replaces
// the rest with '*'. Values too short to keep anything are masked whole.
func maskKeepEnds(s string, head, tail int) string {
	n := utf8.RuneCountInString(s)
	if n <= head+tail+1 {
		return strings.Repeat("*", n)
	}
	r := []rune(s)
	return string(r[:head]) + strings.Repeat("*", n-head-tail) + string(r[n-tail:])
}

func maskPrivateData(in string, _ field.Field) string {
	p, err := ParsePrivateData(in)
	if err != nil {
		return fmt.Sprintf("<unparsable, %d bytes>", len(in))
	}
	s, err := p.Masked().Encode()
	if err != nil {
		return fmt.Sprintf("<%d bytes>", len(in))
	}
	return s
}

func maskAll(in string, _ field.Field) string { return strings.Repeat("*", len(in)) }

func maskPANFilter(in string, _ field.Field) string { return pii.MaskPAN(in) }

// describeFilters mask PAN (2), the card's expiry and sequence number (14,
// 23), field 48's personal subfields, track data (35, 36, 45, not in our
// spec but masked should a frame carry them), the ICC data (55: tags and
// lengths only) and the MAC (128).
var describeFilters = []iso8583.FieldFilter{
	iso8583.FilterField("2", maskPANFilter),
	iso8583.FilterField("14", maskAll),
	iso8583.FilterField("23", maskAll),
	iso8583.FilterField("35", maskAll),
	iso8583.FilterField("36", maskAll),
	iso8583.FilterField("45", maskAll),
	iso8583.FilterField("48", maskPrivateData),
	iso8583.FilterField("52", maskAll),
	iso8583.FilterField("55", describeICC),
	iso8583.FilterField("128", maskAll),
}

// Describe returns a multi-line description of msg with sensitive fields
// masked: PAN, field 48's ID number, phone, birth date and names, track
// data and the MAC.
func Describe(msg *iso8583.Message) string {
	var b strings.Builder
	if err := iso8583.Describe(msg, &b, describeFilters...); err != nil {
		return fmt.Sprintf("<undescribable message: %v>", err)
	}
	return b.String()
}

// logMessage returns a slog value for msg: MTI, STAN, RRN, response code
// and the masked PAN only.
func logMessage(msg *iso8583.Message) slog.Value {
	mti, _ := msg.GetMTI()
	fields := msg.GetFields()
	attrs := []slog.Attr{slog.String("mti", mti)}
	for _, f := range []struct {
		id   int
		name string
	}{{FieldSTAN, "stan"}, {FieldRRN, "rrn"}, {FieldResponseCode, "rc"}, {FieldPAN, "pan"}} {
		if fl, ok := fields[f.id]; ok {
			s, _ := fl.String()
			if f.id == FieldPAN {
				s = pii.MaskPAN(s)
			}
			attrs = append(attrs, slog.String(f.name, s))
		}
	}
	return slog.GroupValue(attrs...)
}

// reLongDigits matches what may be a PAN, an ID number (17 digits and a
// check character) or a phone: 11 or more digits in a row.
var reLongDigits = regexp.MustCompile(`[0-9]{11,}[0-9Xx]?`)

// maxDeclineReason bounds the bank's decline text kept in a DeclinedError.
const maxDeclineReason = 120

// declineReason turns the bank's free decline text (field 48 RT) into the
// Reason of a DeclinedError. The text comes from outside and ends up in
// logs and in the stored error of an outbox row, so it is cleaned: control
// characters are dropped, runs of 11 or more digits (a PAN, ID number or
// phone the bank may have quoted) are replaced by stars, and it is cut to
// maxDeclineReason runes.
func declineReason(text string) string {
	text = strings.Map(func(r rune) rune {
		if r == utf8.RuneError || unicode.IsControl(r) {
			return -1
		}
		return r
	}, text)
	text = reLongDigits.ReplaceAllStringFunc(text, func(s string) string { return strings.Repeat("*", len(s)) })
	if utf8.RuneCountInString(text) > maxDeclineReason {
		text = string([]rune(text)[:maxDeclineReason])
	}
	return text
}
