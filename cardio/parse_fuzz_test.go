package cardio

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// FuzzParseCommand: a command APDU relayed from a client or driver parses
// or fails with ErrMalformedAPDU; a parsed command re-encodes to a command
// that parses back the same, and MaskCommand never shows the data of a
// secret instruction (PIN blocks, keys, personalization data).
func FuzzParseCommand(f *testing.F) {
	for _, s := range []string{"00A404000E325041592E5359532E444446303100", "80CA9F7F00", "0020008008241234FFFFFFFFFF",
		"84E2800010AABBCCDDEEFF00112233445566778899", "00B2010C00", "0084000008", "00A40400", "0000000003AABBCC0100",
		"00000000000000", "00", "80E60C00"} {
		f.Add(mustHex(f, s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		c, err := ParseCommand(b)
		if err != nil {
			if !errors.Is(err, ErrMalformedAPDU) {
				t.Fatalf("error %v is not ErrMalformedAPDU", err)
			}
			if m := MaskCommand(b); !strings.HasPrefix(m, "<") {
				t.Fatalf("malformed command shown as %q", m)
			}
			return
		}
		enc, err := c.Encode()
		if err != nil {
			t.Fatalf("parsed command does not encode: %v", err)
		}
		back, err := ParseCommand(enc)
		if err != nil {
			t.Fatalf("re-encoded command does not parse: %v", err)
		}
		if d := cmp.Diff(c, back); d != "" {
			t.Fatalf("round trip changed the command: %s", d)
		}
		if secretINS[c.INS] && len(c.Data) >= 4 && strings.Contains(MaskCommand(b), hexU(c.Data)) {
			t.Fatalf("secret command data shown: %s", MaskCommand(b))
		}
	})
}

// FuzzHex: hex text from card images, key files and fixtures (ParseHex,
// Hex.UnmarshalText) decodes or fails, and what decodes re-encodes to the
// same bytes.
func FuzzHex(f *testing.F) {
	for _, s := range []string{"9F 7F 2A", "00a4:04:00", "0\n1\t2", "", "G0", "ABC", "A000000333010101"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if b, err := ParseHex(s); err == nil {
			back, err := ParseHex(hexU(b))
			if err != nil || !bytes.Equal(back, b) {
				t.Fatalf("ParseHex round trip: %v", err)
			}
		}
		var h Hex
		if err := h.UnmarshalText([]byte(s)); err != nil {
			return
		}
		txt, err := h.MarshalText()
		if err != nil {
			t.Fatal(err)
		}
		var again Hex
		if err := again.UnmarshalText(txt); err != nil || !bytes.Equal(again, h) {
			t.Fatalf("Hex round trip: %v", err)
		}
	})
}
