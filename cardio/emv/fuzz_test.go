package emv_test

import (
	"context"
	"encoding/binary"
	"errors"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/require"

	"github.com/volcard/volcard/cardio"
	"github.com/volcard/volcard/cardio/emv"
)

// TestTrack2NeverPrintsDiscretionaryData: every fmt verb, %#v included,
// shows the masked PAN and hides the discretionary data.
func TestTrack2NeverPrintsDiscretionaryData(t *testing.T) {
	tr, err := emv.ParseTrack2(mustHex(t, "6217850000000012349D3012220987654321"))
	require.NoError(t, err)
	require.Equal(t, "987654321", tr.Discretionary())
	for _, out := range []string{fmtAll(tr), fmtAll(&tr), fmtAll(struct{ T emv.Track2 }{tr})} {
		require.NotContains(t, out, "987654321")
		require.NotContains(t, out, "6217850000000012349")
		require.Contains(t, out, "621785*********2349")
	}
}

// FuzzParseTrack2: track-2 equivalent data (57) read from any card parses
// or fails with ErrMalformedData, and a parsed track never prints its PAN
// or discretionary data.
func FuzzParseTrack2(f *testing.F) {
	for _, s := range []string{"6217850000000012349D30122200000000000F", "6217850000000012349D3012220987654321",
		"6217850000000012349301", "D0", "6217850000000012349D30122F", "FFFF"} {
		f.Add([]byte(mustHex(f, s)))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		tr, err := emv.ParseTrack2(b)
		if err != nil {
			if !errors.Is(err, emv.ErrMalformedData) {
				t.Fatalf("error %v is not ErrMalformedData", err)
			}
			return
		}
		if len(tr.Expiry) != 4 || len(tr.ServiceCode) != 3 {
			t.Fatalf("expiry %q service code %q", tr.Expiry, tr.ServiceCode)
		}
		out := fmtAll(tr)
		if strings.Contains(out, tr.PAN.Digits()) {
			t.Fatalf("PAN printed: %s", out)
		}
		if d := tr.Discretionary(); len(d) >= 6 && strings.Contains(out, d) {
			t.Fatalf("discretionary data printed: %s", out)
		}
	})
}

// FuzzParseCVMList: 8E parses into exactly (len-8)/2 rules or fails with
// ErrMalformedData.
func FuzzParseCVMList(f *testing.F) {
	f.Add([]byte(mustHex(f, "000000000000000042031E031F00")))
	f.Add([]byte(mustHex(f, "0000000000000000")))
	f.Add([]byte{1, 2, 3})
	f.Fuzz(func(t *testing.T, b []byte) {
		l, err := emv.ParseCVMList(b)
		if err != nil {
			if !errors.Is(err, emv.ErrMalformedData) {
				t.Fatalf("error %v is not ErrMalformedData", err)
			}
			return
		}
		if len(l.Rules) != (len(b)-8)/2 || l.X != binary.BigEndian.Uint32(b) || l.Y != binary.BigEndian.Uint32(b[4:]) {
			t.Fatalf("CVM list %+v from %X", l, b)
		}
		for _, r := range l.Rules {
			if r.Method > 0x3F || r.String() == "" {
				t.Fatalf("rule %+v", r)
			}
		}
	})
}

// FuzzDecodeText: card text objects (50, 9F12, 5F20, 9F0B) of any bytes and
// any code table decode to valid UTF-8 without trailing spaces or NULs.
func FuzzDecodeText(f *testing.F) {
	f.Add([]byte("BOC DEBIT"), 1, false)
	f.Add([]byte{0xD6, 0xD0, 0xB9, 0xFA, 0xD2, 0xF8, 0xD0, 0xD0}, 0, true) // 中国银行 in GBK
	f.Add([]byte{0xE9, 0x20, 0x00}, 5, false)
	f.Add([]byte{0xFF, 0xFE}, -1, true)
	f.Add([]byte{0x81}, 1000, true)
	f.Fuzz(func(t *testing.T, b []byte, table int, gbk bool) {
		s := emv.DecodeText(b, table, gbk)
		if !utf8.ValidString(s) {
			t.Fatalf("invalid UTF-8 %q from %X", s, b)
		}
		if strings.HasSuffix(s, " ") || strings.HasSuffix(s, "\x00") {
			t.Fatalf("untrimmed %q", s)
		}
	})
}

// scriptedCard answers each command with the next response of a script
// (the fuzz input) and 6A82 once the script is used up.
type scriptedCard struct{ script [][]byte }

func (c *scriptedCard) Transmit(_ context.Context, _ []byte) ([]byte, error) {
	if len(c.script) == 0 {
		return []byte{0x6A, 0x82}, nil
	}
	r := c.script[0]
	c.script = c.script[1:]
	return r, nil
}
func (*scriptedCard) ATR() []byte                        { return []byte{0x3B, 0x00} }
func (*scriptedCard) Disconnect(_ context.Context) error { return nil }

// encodeScript and decodeScript turn a list of responses into fuzz bytes:
// a 2-byte big-endian length before each response.
func encodeScript(rs [][]byte) []byte {
	var out []byte
	for _, r := range rs {
		out = binary.BigEndian.AppendUint16(out, uint16(len(r)))
		out = append(out, r...)
	}
	return out
}

func decodeScript(b []byte) [][]byte {
	var rs [][]byte
	for len(b) >= 2 {
		n := int(binary.BigEndian.Uint16(b))
		b = b[2:]
		n = min(n, len(b))
		rs = append(rs, b[:n])
		b = b[n:]
	}
	return rs
}

// FuzzRead runs the whole read flow (PPSE/PSE, SELECT, GPO, AFL records,
// ODA) against a card that answers anything: whatever a hostile card
// sends, Read returns facts or an error, never panics, and the facts never
// print the PAN. Seeds: the recorded answers of the simulator's images.
func FuzzRead(f *testing.F) {
	o := opts(f)
	for _, name := range []string{"default.json", "sda-only.json", "pse-only.json", "forged.json", "non-financial.json"} {
		card, _ := connect(f, image(f, name))
		tr := cardio.NewTranscript()
		_, _ = emv.Read(context.Background(), tr.Wrap(card), o)
		var rs [][]byte
		for _, e := range tr.Exchanges() {
			rs = append(rs, e.Response)
		}
		require.NotEmpty(f, rs, name)
		f.Add(encodeScript(rs))
	}
	f.Add([]byte{})
	f.Add(encodeScript([][]byte{{0x6F, 0x00, 0x90, 0x00}, {0x90}, {0x61, 0x10}}))
	f.Fuzz(func(t *testing.T, b []byte) {
		card := &scriptedCard{script: decodeScript(b)}
		facts, err := emv.Read(context.Background(), card, o)
		if err == nil && facts == nil {
			t.Fatal("no facts and no error")
		}
		if facts == nil {
			return
		}
		if d := facts.PAN.Digits(); d != "" && strings.Contains(fmtAll(*facts), d) {
			t.Fatal("facts print the PAN")
		}
	})
}
