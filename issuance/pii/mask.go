package pii

import (
	"strings"
	"unicode/utf8"
)

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
