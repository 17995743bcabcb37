package pii

import (
	"regexp"
	"strings"
	"unicode/utf8"
)

// MaskPAN keeps the first 6 and last 4 digits of a PAN and replaces the
// others with '*', e.g. 622848******1234. Shorter input is not a PAN and is
// masked entirely. It is the project's one PAN mask: the domain, the bank
// gateway, the card code and the API all use it.
func MaskPAN(pan string) string {
	n := len(pan)
	if n < 13 {
		return strings.Repeat("*", n)
	}
	return pan[:6] + strings.Repeat("*", n-10) + pan[n-4:]
}

// MaskIDNumber masks an identity document number, keeping the first four and
// last four characters: 110101199003070021 → 1101**********0021. Values of
// eight characters or fewer are masked entirely.
func MaskIDNumber(s string) string {
	n := utf8.RuneCountInString(s)
	if n <= 8 {
		return strings.Repeat("*", n)
	}
	r := []rune(s)
	return string(r[:4]) + strings.Repeat("*", n-8) + string(r[n-4:])
}

// MaskPhone masks a phone number, keeping the first three and last four
// digits: 13812345678 → 138****5678. Values of seven characters or fewer are
// masked entirely.
func MaskPhone(s string) string {
	n := utf8.RuneCountInString(s)
	if n <= 7 {
		return strings.Repeat("*", n)
	}
	r := []rune(s)
	return string(r[:3]) + strings.Repeat("*", n-7) + string(r[n-4:])
}

// MaskName masks a personal name, keeping the first and, for names of three
// characters or more, the last character: 张三 → 张*, 张三丰 → 张*丰,
// 欧阳小明 → 欧**明.
func MaskName(s string) string {
	r := []rune(s)
	switch len(r) {
	case 0:
		return ""
	case 1:
		return "*"
	case 2:
		return string(r[:1]) + "*"
	default:
		return string(r[:1]) + strings.Repeat("*", len(r)-2) + string(r[len(r)-1:])
	}
}

// Runs of characters that look like a resident ID number (17 digits and a
// digit or X), long digit runs (phones, card numbers) and long hex runs (PIN
// blocks, key material).
var (
	reIDNumber = regexp.MustCompile(`\d{17}[\dXx]`)
	reLongNum  = regexp.MustCompile(`\d{11,}`)
	reLongHex  = regexp.MustCompile(`\b[0-9A-Fa-f]{16,}\b`)
)

// Scrub masks anything in s that looks like an ID number, phone, card
// number, PIN block or key. It runs on internal error text before that is
// logged or stored, as a second line of defence: errors are written not to
// contain personal or card data in the first place.
func Scrub(s string) string {
	s = reIDNumber.ReplaceAllStringFunc(s, MaskIDNumber)
	s = reLongNum.ReplaceAllStringFunc(s, MaskPhone)
	return reLongHex.ReplaceAllStringFunc(s, func(h string) string { return strings.Repeat("*", len(h)) })
}
