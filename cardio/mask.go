package cardio

import "strings"

// MaskTail keeps the first keep characters of s and replaces the rest with
// '*' (used for ID numbers and other personal data).
func MaskTail(s string, keep int) string {
	if keep >= len(s) {
		keep = len(s) / 2
	}
	return s[:keep] + strings.Repeat("*", len(s)-keep)
}
