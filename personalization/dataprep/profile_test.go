package dataprep_test

import (
	"context"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/volcard/volcard/cardio"
	"github.com/volcard/volcard/cardio/emv"
	"github.com/volcard/volcard/personalization/dataprep"
)

// tagFormat is a data element's format and allowed lengths in bytes, from
// EMV 4.3 Book 3 Annex A (PBOC 3.0 for 9F61/9F62, volcard for DF20).
type tagFormat struct {
	format   string // a, an, ans, b, cn, n
	min, max int
}

// personalizedTags are every data object a volcard card is personalized
// with (records, FCI, GET DATA objects, GPO data).
var personalizedTags = map[string]tagFormat{
	// SFI 1 record 1
	"57":   {"b", 1, 19},   // track 2 equivalent data (checked as such below)
	"5F20": {"ans", 2, 26}, // cardholder name
	"9F0B": {"ans", 27, 45},
	"DF20": {"b", 2, 40},  // volcard: Chinese name in GBK
	"9F61": {"an", 1, 40}, // PBOC: cardholder ID number
	"9F62": {"b", 1, 1},   // PBOC: ID type
	"5F30": {"n", 2, 2},   // service code n3
	// SFI 2 record 1
	"5A":   {"cn", 1, 10},
	"5F24": {"n", 3, 3},
	"5F25": {"n", 3, 3},
	"5F28": {"n", 2, 2},
	"5F34": {"n", 1, 1},
	"8E":   {"b", 10, 252},
	"9F07": {"b", 2, 2},
	"9F08": {"b", 2, 2},
	"9F0D": {"b", 5, 5},
	"9F0E": {"b", 5, 5},
	"9F0F": {"b", 5, 5},
	"8C":   {"b", 0, 252},
	"8D":   {"b", 0, 252},
	"9F14": {"b", 1, 1},
	"9F23": {"b", 1, 1},
	"9F49": {"b", 0, 252},
	"9F4A": {"b", 0, 252}, // static data authentication tag list
	// SFI 3 records 1-2
	"8F":   {"b", 1, 1},
	"90":   {"b", 64, 248},
	"9F32": {"b", 1, 3},
	"92":   {"b", 0, 248},
	"9F46": {"b", 64, 248},
	"9F47": {"b", 1, 3},
	"9F48": {"b", 0, 248},
	// FCI proprietary template (A5)
	"50":   {"ans", 1, 16},
	"87":   {"b", 1, 1},
	"9F38": {"b", 0, 252},
	"5F2D": {"an", 2, 8},
	"9F11": {"n", 1, 1},
	"9F12": {"ans", 1, 16},
	"9F4D": {"b", 2, 2},
	// GET DATA objects
	"9F13": {"b", 2, 2},
	"9F4F": {"b", 0, 252},
	// GPO data
	"82": {"b", 2, 2},
	"94": {"b", 4, 252},
}

// checkFormat reports what is wrong with v for format f ("" when nothing).
func checkFormat(f tagFormat, v []byte) string {
	if len(v) < f.min || len(v) > f.max {
		return "length out of range"
	}
	switch f.format {
	case "n":
		for _, b := range v {
			if b>>4 > 9 || b&0x0F > 9 {
				return "not BCD digits"
			}
		}
	case "cn":
		s := strings.ToUpper(cardio.Hex(v).String())
		digits := strings.TrimRight(s, "F")
		if strings.Trim(digits, "0123456789") != "" || len(s)-len(digits) > 1 {
			return "not digits with at most one F pad"
		}
	case "a", "an", "ans":
		for _, b := range v {
			ok := b >= 'A' && b <= 'Z' || b >= 'a' && b <= 'z'
			if f.format != "a" {
				ok = ok || b >= '0' && b <= '9'
			}
			if f.format == "ans" {
				ok = b >= 0x20 && b <= 0x7E
			}
			if !ok {
				return "character outside " + f.format
			}
		}
	}
	return ""
}

// TestPersonalizedTagFormats checks every data object of a prepared card
// against its EMV format and length, for a short and a long romanized name.
func TestPersonalizedTagFormats(t *testing.T) {
	e := newEnv(t)
	for _, tc := range []struct {
		name, emboss string
		want9F0B     bool
	}{
		{"name of 26 or less", "LI XIAOHONG", false},
		{"name longer than 26", "OUYANG ZHUGE XIAOHONG MINGYUE", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			in := input(t, "246810")
			in.EmbossName = tc.emboss
			p, err := e.prep.Prepare(context.Background(), in)
			require.NoError(t, err)
			seen := map[string]bool{}
			var check func(where string, tlvs []cardio.TLV)
			check = func(where string, tlvs []cardio.TLV) {
				for _, tl := range tlvs {
					if tl.Tag == "BF0C" || tl.Tag == "70" {
						check(where, tl.TLVs)
						continue
					}
					f, ok := personalizedTags[tl.Tag]
					require.True(t, ok, "%s: tag %s has no format in the table", where, tl.Tag)
					require.Empty(t, checkFormat(f, tl.Value), "%s: tag %s (%s %d-%d), %d bytes", where, tl.Tag, f.format, f.min, f.max, len(tl.Value))
					seen[tl.Tag] = true
				}
			}
			for _, d := range p.DGIs {
				switch {
				case d.Tag < 0x1F00: // records
					tlvs, err := cardio.DecodeTLV(d.Data)
					require.NoError(t, err)
					check("record", tlvs)
				case d.Tag == dataprep.DGIFCI, d.Tag == dataprep.DGIGetData, d.Tag == dataprep.DGIGPO:
					tlvs, err := cardio.DecodeTLV(d.Data)
					require.NoError(t, err)
					check("DGI", tlvs)
				}
			}
			require.Equal(t, tc.want9F0B, seen["9F0B"], "9F0B only for names longer than 26")
			for _, tag := range []string{"5F20", "DF20", "57", "5A", "8C", "8D", "9F14", "9F23", "9F4D", "9F4F", "9F13", "9F11", "9F12"} {
				require.True(t, seen[tag], "tag %s personalized", tag)
			}
			v, _ := cardio.FindValue(decodeRecord(t, p, 1, 1), "57")
			_, err = emv.ParseTrack2(v)
			require.NoError(t, err)
			name, _ := cardio.FindValue(decodeRecord(t, p, 1, 1), "5F20")
			require.Equal(t, tc.emboss[:min(26, len(tc.emboss))], string(name))
		})
	}
}

func decodeRecord(t *testing.T, p *dataprep.Prepared, sfi, num byte) []cardio.TLV {
	t.Helper()
	for _, r := range p.Records {
		if r.SFI == sfi && r.Number == num {
			tlvs, err := cardio.DecodeTLV(r.Raw)
			require.NoError(t, err)
			return tlvs
		}
	}
	t.Fatalf("no record %d of SFI %d", num, sfi)
	return nil
}
