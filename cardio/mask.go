package cardio

import "strings"

// MaskPAN keeps the first 6 and last 4 digits of a PAN and replaces the
// others with '*', e.g. 622848******1234. Shorter input is masked entirely
// except its last 4 digits (or fully when 4 digits or fewer).
func MaskPAN(pan string) string {
	n := len(pan)
	switch {
	case n >= 13:
		return pan[:6] + strings.Repeat("*", n-10) + pan[n-4:]
	case n > 4:
		return strings.Repeat("*", n-4) + pan[n-4:]
	default:
		return strings.Repeat("*", n)
	}
}

// MaskTail keeps the first keep characters of s and replaces the rest with
// '*' (used for ID numbers and other personal data).
func MaskTail(s string, keep int) string {
	if keep >= len(s) {
		keep = len(s) / 2
	}
	return s[:keep] + strings.Repeat("*", len(s)-keep)
}
