package cardio

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/stretchr/testify/require"
)

func TestParseDOL(t *testing.T) {
	tests := []struct {
		name string
		hex  string
		want DOL
		err  bool
	}{
		{"PDOL", "9F6604 9F0206 5F2A02 9A03 9F3704", DOL{{"9F66", 4}, {"9F02", 6}, {"5F2A", 2}, {"9A", 3}, {"9F37", 4}}, false},
		{"DDOL", "9F3704", DOL{{"9F37", 4}}, false},
		{"empty", "", nil, false},
		{"missing length", "9F37", nil, true},
		{"truncated tag", "9F", nil, true},
		{"zero tag", "0004", nil, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParseDOL(mustHex(t, tc.hex))
			if tc.err {
				require.ErrorIs(t, err, ErrMalformedDOL)
				return
			}
			require.NoError(t, err)
			require.Empty(t, cmp.Diff(tc.want, got))
			enc, err := got.Encode()
			require.NoError(t, err)
			require.Equal(t, mustHex(t, tc.hex), append([]byte{}, enc...))
		})
	}
}

func TestDOLBuild(t *testing.T) {
	values := map[string][]byte{
		"9F02": mustHex(t, "000000001000"),
		"5F2A": mustHex(t, "0156"),
		"9F37": mustHex(t, "11223344"),
		"9F66": mustHex(t, "26000000"),
		"5A":   mustHex(t, "6217850000"),
	}
	tests := []struct {
		name string
		dol  DOL
		want string
	}{
		{"exact", DOL{{"9F02", 6}, {"5F2A", 2}}, "000000001000 0156"},
		{"missing is zeros", DOL{{"9F03", 6}}, "000000000000"},
		{"template is zeros", DOL{{"70", 2}}, "0000"},
		{"numeric truncated keeps right", DOL{{"9F02", 4}}, "00001000"},
		{"numeric padded left", DOL{{"5F2A", 3}}, "000156"},
		{"binary truncated keeps left", DOL{{"9F37", 2}}, "1122"},
		{"binary padded right", DOL{{"9F66", 6}}, "260000000000"},
		{"cn padded with F", DOL{{"5A", 7}}, "6217850000FFFF"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := tc.dol.Build(values)
			require.Equal(t, mustHex(t, tc.want), got)
			require.Len(t, got, tc.dol.Len())
			split, err := tc.dol.Split(got)
			require.NoError(t, err)
			require.Len(t, split, len(tc.dol))
		})
	}
	t.Run("split wrong length", func(t *testing.T) {
		_, err := DOL{{"9F37", 4}}.Split([]byte{1})
		require.ErrorIs(t, err, ErrMalformedDOL)
	})
}

func TestParseAFL(t *testing.T) {
	tests := []struct {
		name string
		hex  string
		want []AFLEntry
		recs int
	}{
		{"default card", "08010101 10010101 18010200", []AFLEntry{{1, 1, 1, 1}, {2, 1, 1, 1}, {3, 1, 2, 0}}, 4},
		{"range", "10020401", []AFLEntry{{2, 2, 4, 1}}, 3},
		{"SFI 30", "F0010101", []AFLEntry{{30, 1, 1, 1}}, 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParseAFL(mustHex(t, tc.hex))
			require.NoError(t, err)
			require.Empty(t, cmp.Diff(tc.want, got))
			require.Equal(t, tc.recs, RecordCount(got))
			require.Equal(t, mustHex(t, tc.hex), EncodeAFL(got))
		})
	}
	bad := []struct{ name, hex string }{
		{"empty", ""},
		{"not multiple of 4", "080101"},
		{"SFI 0", "00010100"},
		{"SFI 31", "F8010100"},
		{"low bits", "09010100"},
		{"first 0", "08000100"},
		{"last before first", "08030200"},
		{"too many ODA", "08010203"},
	}
	for _, tc := range bad {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseAFL(mustHex(t, tc.hex))
			require.ErrorIs(t, err, ErrMalformedAFL)
		})
	}
	t.Run("records and ODA", func(t *testing.T) {
		e := AFLEntry{SFI: 2, First: 2, Last: 4, ODA: 2}
		require.Equal(t, []byte{2, 3, 4}, e.Records())
		require.True(t, e.ForODA(2))
		require.True(t, e.ForODA(3))
		require.False(t, e.ForODA(4))
	})
}

func FuzzAFL(f *testing.F) {
	f.Add(mustHex(f, "08010101 10010101 18010200"))
	f.Add(mustHex(f, "F8FF0000"))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		entries, err := ParseAFL(b)
		if err != nil {
			return
		}
		if string(EncodeAFL(entries)) != string(b) {
			t.Fatalf("AFL round trip differs")
		}
		for _, e := range entries {
			if len(e.Records()) == 0 || int(e.ODA) > len(e.Records()) {
				t.Fatalf("inconsistent entry %+v", e)
			}
		}
	})
}

func FuzzDOL(f *testing.F) {
	f.Add(mustHex(f, "9F6604 9F0206 9F0306 9F1A02 9505 5F2A02 9A03 9C01 9F3704 9F2103"))
	f.Add(mustHex(f, "9F3704"))
	f.Add(mustHex(f, "9F"))
	f.Fuzz(func(t *testing.T, b []byte) {
		d, err := ParseDOL(b)
		if err != nil {
			return
		}
		data := d.Build(map[string][]byte{"9F37": {1, 2, 3, 4}, "9F02": {0, 1}, "5A": {0x62}})
		if len(data) != d.Len() {
			t.Fatalf("built %d bytes, DOL wants %d", len(data), d.Len())
		}
		if _, err := d.Split(data); err != nil {
			t.Fatalf("split: %v", err)
		}
		enc, err := d.Encode()
		if err != nil || string(enc) != string(b) {
			t.Fatalf("DOL round trip differs: %v", err)
		}
	})
}
