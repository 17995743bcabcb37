package bankgw

import (
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/require"
)

// TestDeclineReason: the bank's free decline text may quote the applicant's
// ID number, phone or a PAN; none of them reaches the DeclinedError text
// (which the outbox logs and stores).
func TestDeclineReason(t *testing.T) {
	for _, tc := range []struct {
		name, in, want string
	}{
		{"plain text kept", "证件号码与姓名不符", "证件号码与姓名不符"},
		{"ID number masked", "ID 44140219950615123X mismatch", "ID ****************** mismatch"},
		{"lower-case x masked", "id 44140219950615123x", "id ******************"},
		{"phone masked", "phone 13812345678 invalid", "phone *********** invalid"},
		{"PAN masked", "card 6216610000000000018 exists", "card ******************* exists"},
		{"short numbers kept", "branch 4401 code 05", "branch 4401 code 05"},
		{"control characters dropped", "bad\x00\x1b[31m text\n", "bad[31m text"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := declineReason(tc.in)
			require.Equal(t, tc.want, got)
			err := &DeclinedError{Code: "05", Reason: got}
			for _, secret := range []string{"44140219950615123", "13812345678", "6216610000000000018"} {
				require.NotContains(t, err.Error(), secret)
			}
		})
	}
	t.Run("long text cut", func(t *testing.T) {
		got := declineReason(strings.Repeat("拒", 500))
		require.Equal(t, maxDeclineReason, utf8.RuneCountInString(got))
	})
}

// FuzzDeclineReason: whatever the bank sends, the reason is valid UTF-8,
// bounded, free of control characters and of 11-digit runs.
func FuzzDeclineReason(f *testing.F) {
	for _, s := range []string{"", "证件号码与姓名不符", "ID 44140219950615123X", "\x00\xff\xfe", strings.Repeat("1", 300)} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		got := declineReason(in)
		if !utf8.ValidString(got) || utf8.RuneCountInString(got) > maxDeclineReason {
			t.Fatalf("reason %q: invalid or too long", got)
		}
		if reLongDigits.MatchString(got) {
			t.Fatalf("reason %q keeps a long digit run", got)
		}
		for _, r := range got {
			if r < 0x20 || r == 0x7f {
				t.Fatalf("reason %q keeps a control character", got)
			}
		}
	})
}
