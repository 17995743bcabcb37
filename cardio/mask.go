package cardio

import "strings"

// MaskPAN keeps the first 6 and last 4 digits of a PAN and replaces the
// others with '*', e.g. 622848******1234. Shorter input is not a PAN and is
// masked entirely. It is the project's one PAN mask.
func MaskPAN(pan string) string {
	n := len(pan)
	if n < 13 {
		return strings.Repeat("*", n)
	}
	return pan[:6] + strings.Repeat("*", n-10) + pan[n-4:]
}

// MaskTail keeps the first keep characters of s and replaces the rest with
// '*' (used for ID numbers and other personal data).
func MaskTail(s string, keep int) string {
	if keep >= len(s) {
		keep = len(s) / 2
	}
	return s[:keep] + strings.Repeat("*", len(s)-keep)
}
