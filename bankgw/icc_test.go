package bankgw_test

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/volcard/volcard/bankgw"
)

func TestICCData(t *testing.T) {
	d, err := bankgw.ParseICCData(mustHex(t, exampleARQC))
	require.NoError(t, err)
	require.Len(t, d, 17)
	require.Empty(t, bankgw.MissingICCTags(d))
	v, ok := d.Get("9f26")
	require.True(t, ok)
	require.Equal(t, mustHex(t, "1A2B3C4D5E6F7081"), v)
	enc, err := d.Encode()
	require.NoError(t, err)
	require.Equal(t, mustHex(t, exampleARQC), enc)

	long := bankgw.ICCData{{Tag: "71", Value: bytes.Repeat([]byte{1}, 200)}}
	enc, err = long.Encode()
	require.NoError(t, err)
	require.Equal(t, []byte{0x71, 0x81, 200}, enc[:3])
	back, err := bankgw.ParseICCData(enc)
	require.NoError(t, err)
	require.Equal(t, long, back)

	for name, in := range map[string]string{
		"truncated value":        "9F2608 1122",
		"no length":              "9F26",
		"unterminated tag":       "9F",
		"four-byte tag":          "9F8181 01 00",
		"padding":                "00 9F2701 80",
		"indefinite length":      "9F2780",
		"long length form 82":    "9F27820001 00",
		"81 with a short length": "9F278101 00",
	} {
		_, err := bankgw.ParseICCData(mustHex(t, in))
		require.ErrorIs(t, err, bankgw.ErrFormat, name)
	}
	for name, d := range map[string]bankgw.ICCData{
		"bad tag":     {{Tag: "ZZ"}},
		"half tag":    {{Tag: "9F"}},
		"too long":    {{Tag: "9F10", Value: make([]byte, 256)}},
		"field > 255": {{Tag: "71", Value: make([]byte, 200)}, {Tag: "72", Value: make([]byte, 100)}},
	} {
		_, err := d.Encode()
		require.ErrorIs(t, err, bankgw.ErrFormat, name)
	}
	require.Equal(t, []string{"9F26", "9F27"}, bankgw.MissingICCTags(d[2:])[:2])
}

// FuzzParseICCData: field 55 from the wire parses or fails with ErrFormat;
// what parses encodes back to the same bytes (one encoding per value), and
// errors hold no values.
func FuzzParseICCData(f *testing.F) {
	f.Add(mustHex(f, exampleARQC))
	f.Add(mustHex(f, exampleARPC))
	f.Add(mustHex(f, "718105 8604 84240000"))
	f.Add([]byte{0x9F})
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		d, err := bankgw.ParseICCData(b)
		if err != nil {
			if !errors.Is(err, bankgw.ErrFormat) {
				t.Fatalf("error %v is not ErrFormat", err)
			}
			if len(b) >= 8 && strings.Contains(err.Error(), strings.ToUpper(string(b))) {
				t.Fatalf("error repeats the input")
			}
			return
		}
		enc, err := d.Encode()
		if err != nil {
			t.Fatalf("encode what parsed: %v", err)
		}
		if !bytes.Equal(enc, b) {
			t.Fatalf("round trip %X != %X", enc, b)
		}
	})
}
