package cardio

import (
	"bufio"
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/stretchr/testify/require"
)

func mustHex(t testing.TB, s string) []byte {
	t.Helper()
	b, err := ParseHex(s)
	require.NoError(t, err)
	return b
}

func TestCommandEncodeParse(t *testing.T) {
	long := make([]byte, 300)
	tests := []struct {
		name string
		cmd  Command
		hex  string
	}{
		{"case 1", Command{CLA: 0x00, INS: 0xA4, P1: 0x04}, "00A40400"},
		{"case 2S", Command{INS: 0xB2, P1: 1, P2: 0x0C, Le: 0x10}, "00B2010C10"},
		{"case 2S Le 256", Command{INS: 0xB2, P1: 1, P2: 0x0C, Le: 256}, "00B2010C00"},
		{"case 3S", Command{INS: 0x20, P2: 0x80, Data: []byte{0x24, 0x12}}, "002000800224 12"},
		{"case 4S", Command{INS: 0xA4, P1: 4, Data: []byte("1PAY"), Le: 256}, "00A404000431504159 00"},
		{"case 2E", Command{INS: 0xB0, Le: 1000}, "00B00000 0003E8"},
		{"case 2E Le 65536", Command{INS: 0xB0, Le: 65536}, "00B00000 000000"},
		{"case 3E forced", Command{INS: 0xD6, Data: []byte{1, 2}, Extended: true}, "00D60000 000002 0102"},
		{"case 4E", Command{INS: 0x88, Data: []byte{9}, Le: 300}, "00880000 000001 09 012C"},
		{"case 3E long", Command{INS: 0xD6, Data: long}, "00D60000 00012C" + strings.Repeat("00", 300)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			raw, err := tc.cmd.Encode()
			require.NoError(t, err)
			require.Equal(t, mustHex(t, tc.hex), raw)
			back, err := ParseCommand(raw)
			require.NoError(t, err)
			want := tc.cmd
			want.Extended = want.IsExtended()
			if len(want.Data) == 0 {
				want.Data = nil
			}
			require.Empty(t, cmp.Diff(want, back))
		})
	}
}

func TestCommandErrors(t *testing.T) {
	tests := []struct {
		name string
		raw  string
	}{
		{"too short", "00A404"},
		{"Lc too big", "00A4040005 0102"},
		{"Lc too small", "00A4040001 010203"},
		{"extended truncated", "00A40400 0001"},
		{"extended Lc zero", "00A40400 000000 00"},
		{"extended mismatch", "00A40400 000003 0102"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseCommand(mustHex(t, tc.raw))
			require.ErrorIs(t, err, ErrMalformedAPDU)
		})
	}
	t.Run("encode Le out of range", func(t *testing.T) {
		_, err := Command{Le: 65537}.Encode()
		require.ErrorIs(t, err, ErrMalformedAPDU)
	})
	t.Run("encode data too long", func(t *testing.T) {
		_, err := Command{Data: make([]byte, 65536)}.Encode()
		require.ErrorIs(t, err, ErrMalformedAPDU)
	})
}

func TestParseResponse(t *testing.T) {
	tests := []struct {
		name string
		raw  string
		want Response
		err  error
	}{
		{"ok no data", "9000", Response{SW: 0x9000}, nil},
		{"data", "0102 9000", Response{Data: []byte{1, 2}, SW: 0x9000}, nil},
		{"error sw", "6A82", Response{SW: 0x6A82}, nil},
		{"one byte", "90", Response{}, ErrMalformedAPDU},
		{"empty", "", Response{}, ErrMalformedAPDU},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParseResponse(mustHex(t, tc.raw))
			if tc.err != nil {
				require.ErrorIs(t, err, tc.err)
				return
			}
			require.NoError(t, err)
			require.Empty(t, cmp.Diff(tc.want, got))
			require.Equal(t, mustHex(t, tc.raw), got.Bytes())
		})
	}
}

func TestStatusWords(t *testing.T) {
	tests := []struct {
		name   string
		sw     uint16
		target error
	}{
		{"file not found", 0x6A82, ErrFileNotFound},
		{"blocked", 0x6983, ErrBlocked},
		{"security", 0x6982, ErrSecurityNotSatisfied},
		{"conditions", 0x6985, ErrConditionsNotSatisfied},
		{"wrong length", 0x6700, ErrWrongLength},
		{"INS", 0x6D00, ErrINSNotSupported},
		{"CLA", 0x6E00, ErrCLANotSupported},
		{"P1P2", 0x6A86, ErrIncorrectP1P2},
		{"wrong data", 0x6A80, ErrWrongData},
		{"record not found", 0x6A83, ErrRecordNotFound},
		{"wrong PIN", 0x63C2, ErrWrongPIN},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := Response{SW: tc.sw}.Err()
			require.Error(t, err)
			require.ErrorIs(t, err, tc.target)
			var se *StatusError
			require.ErrorAs(t, err, &se)
			require.Equal(t, tc.sw, se.SW)
			require.False(t, errors.Is(err, ErrUnknown))
		})
	}
	t.Run("ok", func(t *testing.T) { require.NoError(t, Response{SW: 0x9000}.Err()) })
	t.Run("tries left", func(t *testing.T) {
		var pe *PINError
		require.ErrorAs(t, SWError(0x63C1), &pe)
		require.Equal(t, 1, pe.TriesLeft)
		require.Contains(t, pe.Error(), "1 tries left")
	})
	t.Run("message", func(t *testing.T) {
		require.Equal(t, "cardio: status 6A82 (file not found)", ErrFileNotFound.Error())
	})
}

// readSeeds reads the hex lines of a testdata file.
func readSeeds(t testing.TB, name string) [][]byte {
	t.Helper()
	f, err := os.Open("testdata/" + name)
	require.NoError(t, err)
	defer f.Close()
	var out [][]byte
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		out = append(out, mustHex(t, line))
	}
	require.NoError(t, sc.Err())
	return out
}

func FuzzParseResponse(f *testing.F) {
	for _, s := range readSeeds(f, "responses.hex") {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		r, err := ParseResponse(raw)
		if err != nil {
			if len(raw) >= 2 {
				t.Fatalf("rejected %d bytes", len(raw))
			}
			return
		}
		if got := r.Bytes(); string(got) != string(raw) {
			t.Fatalf("round trip %X != %X", got, raw)
		}
		_ = r.Err()
		_ = MaskResponse([]byte{0, 0xB2, 1, 0x0C}, raw)
		if c, err := ParseCommand(raw); err == nil {
			if _, err := c.Encode(); err != nil {
				t.Fatalf("parsed command does not encode: %v", err)
			}
		}
	})
}
