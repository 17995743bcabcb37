package issuance_test

import (
	"errors"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/volcard/volcard/issuance"
	"github.com/volcard/volcard/issuance/issuancetest"
)

func TestParseResidentID(t *testing.T) {
	now := time.Date(2026, 11, 23, 0, 0, 0, 0, time.UTC)
	cases := []struct {
		name   string
		in     string
		want   string // normalised number; empty when invalid
		gender issuance.Gender
		birth  string
		reason string
	}{
		{name: "valid with X", in: "11010519491231002X", want: "11010519491231002X", gender: issuance.GenderFemale, birth: "1949-12-31"},
		{name: "lowercase x normalised", in: "11010519491231002x", want: "11010519491231002X", gender: issuance.GenderFemale, birth: "1949-12-31"},
		{name: "surrounding space", in: " 11010519491231002X\t", want: "11010519491231002X", gender: issuance.GenderFemale, birth: "1949-12-31"},
		{name: "valid digit check, male", in: issuancetest.ResidentID("44010219900307001"), want: issuancetest.ResidentID("44010219900307001"), gender: issuance.GenderMale, birth: "1990-03-07"},
		{name: "born today", in: issuancetest.ResidentID("44140020261123002"), want: issuancetest.ResidentID("44140020261123002"), gender: issuance.GenderFemale, birth: "2026-11-23"},
		{name: "bad checksum", in: "110105194912310021", reason: "check character does not match"},
		{name: "bad date 19990230", in: issuancetest.ResidentID("44010219990230001"), reason: "bad birth date"},
		{name: "bad month", in: issuancetest.ResidentID("44010219991301001"), reason: "bad birth date"},
		{name: "before 1900", in: issuancetest.ResidentID("44010218991231001"), reason: "bad birth date"},
		{name: "future date", in: issuancetest.ResidentID("44010220261124001"), reason: "birth date in the future"},
		{name: "bad region 99", in: issuancetest.ResidentID("99010219900307001"), reason: "unknown region code"},
		{name: "bad region 00", in: issuancetest.ResidentID("00010219900307001"), reason: "unknown region code"},
		{name: "province-level region", in: issuancetest.ResidentID("44000019900307001"), reason: "region code is not a county-level code"},
		{name: "too short", in: "1101051949123100", reason: "resident ID must be 18 characters"},
		{name: "too long", in: "11010519491231002X1", reason: "resident ID must be 18 characters"},
		{name: "15-digit old format", in: "110105491231002", reason: "resident ID must be 18 characters"},
		{name: "letter inside", in: "1101051949123A002X", reason: "resident ID must be 17 digits and a check character"},
		{name: "X not last", in: "X10105194912310021", reason: "resident ID must be 17 digits and a check character"},
		{name: "bad check char", in: "11010519491231002Y", reason: "bad check character"},
		{name: "empty", in: "", reason: "resident ID must be 18 characters"},
		{name: "multibyte", in: "１１０１０５１９４９１２", reason: "resident ID must be 18 characters"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := issuance.ParseResidentID(tc.in, now)
			if tc.want == "" {
				var ve *issuance.ValidationError
				require.ErrorAs(t, err, &ve)
				require.Equal(t, "id_number", ve.Field)
				require.Equal(t, tc.reason, ve.Reason)
				require.True(t, errors.Is(err, issuance.ErrInvalid))
				if len(tc.in) > 4 {
					require.NotContains(t, err.Error(), strings.TrimSpace(tc.in)[:6], "error must not echo the number")
				}
				return
			}
			require.NoError(t, err)
			require.Equal(t, tc.want, got.Number)
			require.Equal(t, tc.gender, got.Gender)
			require.Equal(t, tc.birth, got.BirthDate.Format("2006-01-02"))
			require.Equal(t, tc.want[:6], got.RegionCode)
		})
	}
}

func TestAgeAt(t *testing.T) {
	birth := time.Date(2000, 2, 29, 0, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		name string
		now  time.Time
		want int
	}{
		{"day before birthday", time.Date(2016, 2, 28, 0, 0, 0, 0, time.UTC), 15},
		{"birthday", time.Date(2016, 2, 29, 0, 0, 0, 0, time.UTC), 16},
		{"non-leap year after", time.Date(2017, 3, 1, 0, 0, 0, 0, time.UTC), 17},
	} {
		t.Run(tc.name, func(t *testing.T) {
			require.Equal(t, tc.want, issuance.AgeAt(birth, tc.now))
		})
	}
}

func FuzzParseResidentID(f *testing.F) {
	for _, s := range []string{"11010519491231002X", "11010519491231002x", "110105194912310021", "", "44010219990230001X"} {
		f.Add(s)
	}
	if b, err := os.ReadFile("testdata/resident_ids.txt"); err == nil {
		for _, line := range strings.Split(string(b), "\n") {
			f.Add(line)
		}
	}
	now := time.Date(2026, 11, 23, 0, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, s string) {
		id, err := issuance.ParseResidentID(s, now)
		if err != nil {
			if !errors.Is(err, issuance.ErrInvalid) {
				t.Fatalf("error not ErrInvalid: %v", err)
			}
			return
		}
		if len(id.Number) != 18 || issuance.ResidentIDCheckChar(id.Number[:17]) != id.Number[17] {
			t.Fatalf("accepted invalid number")
		}
		again, err := issuance.ParseResidentID(id.Number, now)
		if err != nil || again != id {
			t.Fatalf("normalised number does not round-trip")
		}
	})
}
