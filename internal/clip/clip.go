// Package clip shortens text for storage and messages without cutting a
// UTF-8 sequence: the one helper the store, the domain and the clients
// share (it imports nothing of volcard, so api and client may use it).
package clip

import "unicode/utf8"

// Bytes returns s cut to at most n bytes, never inside a UTF-8 sequence.
func Bytes(s string, n int) string {
	if n <= 0 {
		return ""
	}
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

// Runes returns s cut to at most n runes (characters).
func Runes(s string, n int) string {
	if n <= 0 {
		return ""
	}
	i := 0
	for j := range s {
		if i == n {
			return s[:j]
		}
		i++
	}
	return s
}
