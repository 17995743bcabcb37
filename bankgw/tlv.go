package bankgw

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// Field 48 subfield tags (docs/bank-interface.md, section 3).
const (
	TagApplicationNumber = "AN"
	TagName              = "NM"
	TagEmbossName        = "EN"
	TagIDType            = "IT"
	TagIDNumber          = "ID"
	TagBirthDate         = "BD"
	TagPhone             = "PH"
	TagProduct           = "PR"
	TagBranch            = "BR"
	TagClothingSize      = "CS"
	TagStatus            = "ST"
	TagReplaceSeq        = "RS"
	TagCardReference     = "CR"
	TagDeclineText       = "RT"
	// TagSpendingKind is the kind of a spending advice: P purchase (also
	// when absent), F refund, V reversal (docs/bank-interface.md 7.2).
	TagSpendingKind = "SK"
)

// sensitiveTags are the field 48 subfields masked when a message is
// described or logged.
var sensitiveTags = []string{TagIDNumber, TagPhone, TagBirthDate, TagName, TagEmbossName}

// PrivateData is the content of field 48: subfields by their 2-character
// tag. Values are UTF-8.
type PrivateData map[string]string

// Encode returns the field 48 string: tag, 3-digit byte length, value, in
// tag order. Empty values are left out.
func (p PrivateData) Encode() (string, error) {
	tags := make([]string, 0, len(p))
	for t, v := range p {
		if v == "" {
			continue
		}
		if len(t) != 2 {
			return "", fmt.Errorf("field 48 tag %q: %w", t, ErrFormat)
		}
		if len(v) > 999 {
			return "", fmt.Errorf("field 48 subfield %s longer than 999 bytes: %w", t, ErrFormat)
		}
		tags = append(tags, t)
	}
	slices.Sort(tags)
	var b strings.Builder
	for _, t := range tags {
		v := p[t]
		b.WriteString(t)
		b.WriteString(fmt.Sprintf("%03d", len(v)))
		b.WriteString(v)
	}
	if b.Len() > 999 {
		return "", fmt.Errorf("field 48 longer than 999 bytes: %w", ErrFormat)
	}
	return b.String(), nil
}

// ParsePrivateData parses a field 48 string. A truncated subfield, a bad
// length or a repeated tag is an error wrapping ErrFormat; the error never
// holds values.
func ParsePrivateData(s string) (PrivateData, error) {
	p := PrivateData{}
	for i := 0; i < len(s); {
		if len(s)-i < 5 {
			return nil, fmt.Errorf("field 48 at byte %d: truncated subfield header: %w", i, ErrFormat)
		}
		tag := s[i : i+2]
		n, err := strconv.Atoi(s[i+2 : i+5])
		if err != nil || n < 0 || !isDigits(s[i+2:i+5]) {
			return nil, fmt.Errorf("field 48 at byte %d: bad length: %w", i, ErrFormat)
		}
		i += 5
		if len(s)-i < n {
			return nil, fmt.Errorf("field 48 subfield %q: value truncated: %w", printableTag(tag), ErrFormat)
		}
		if _, dup := p[tag]; dup {
			return nil, fmt.Errorf("field 48 subfield %q repeated: %w", printableTag(tag), ErrFormat)
		}
		p[tag] = s[i : i+n]
		i += n
	}
	return p, nil
}

func printableTag(t string) string {
	for i := 0; i < len(t); i++ {
		if t[i] < 0x20 || t[i] > 0x7e {
			return "??"
		}
	}
	return t
}

// Masked returns a copy with the personal subfields (ID number, phone,
// birth date, names) masked, for logs.
func (p PrivateData) Masked() PrivateData {
	out := make(PrivateData, len(p))
	for t, v := range p {
		if slices.Contains(sensitiveTags, t) {
			v = maskKeepEnds(v, 0, 2)
		}
		out[t] = v
	}
	return out
}
