package gp

import (
	"errors"
	"strings"
	"testing"
)

// FuzzParseCPLC: a GET DATA 9F7F answer from any card parses (42 bytes, or
// 45 with the 9F7F2A header) or fails with ErrMalformedCPLC; the chip
// serial is always 16 hex digits.
func FuzzParseCPLC(f *testing.F) {
	cplc := "9F7F2A" + "4790" + "5168" + "4791" + "8227" + "0100" + "6235" + "12345678" + strings.Repeat("00", 26)
	f.Add(hx(f, cplc))
	f.Add(hx(f, cplc[6:]))
	f.Add(hx(f, cplc[:20]))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		c, err := ParseCPLC(b)
		if err != nil {
			if !errors.Is(err, ErrMalformedCPLC) {
				t.Fatalf("error %v is not ErrMalformedCPLC", err)
			}
			return
		}
		if len(b) != CPLCLen && len(b) != CPLCLen+3 {
			t.Fatalf("accepted %d bytes", len(b))
		}
		if s := c.ChipSerial(); len(s) != 16 || strings.Trim(s, "0123456789ABCDEF") != "" {
			t.Fatalf("chip serial %q", s)
		}
	})
}

// FuzzParseKey: key text from key files parses to a 16-byte key or fails
// with ErrInvalidKey, and the error never repeats the text it was given.
func FuzzParseKey(f *testing.F) {
	for _, s := range []string{"404142434445464748494A4B4C4D4E4F", "40 41 42 43 44 45 46 47 48 49 4A 4B 4C 4D 4E 4F",
		"4041", "ZZ", "", "404142434445464748494A4B4C4D4E4F00"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		k, err := ParseKey(s)
		if err != nil {
			if !errors.Is(err, ErrInvalidKey) {
				t.Fatalf("error %v is not ErrInvalidKey", err)
			}
			if len(s) >= 8 && strings.Contains(err.Error(), s) {
				t.Fatalf("error repeats the key text: %v", err)
			}
			return
		}
		if k.Validate() != nil || len(k.KCV()) != 3 {
			t.Fatalf("parsed key of %d bytes", len(k))
		}
		if strings.Contains(k.String(), strings.ToUpper(strings.ReplaceAll(s, " ", ""))) {
			t.Fatalf("key prints its value: %s", k)
		}
	})
}
