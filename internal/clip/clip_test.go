package clip

import (
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/require"
)

func TestBytes(t *testing.T) {
	for _, tc := range []struct {
		s    string
		n    int
		want string
	}{
		{"abc", 5, "abc"}, {"abc", 2, "ab"}, {"志愿者", 3, "志"}, {"志愿者", 5, "志"}, {"志愿者", 6, "志愿"},
		{"志愿者", 0, ""}, {"a志", 2, "a"}, {"", 3, ""},
	} {
		require.Equal(t, tc.want, Bytes(tc.s, tc.n), "%q %d", tc.s, tc.n)
	}
}

func TestRunes(t *testing.T) {
	require.Equal(t, "志愿", Runes("志愿者", 2))
	require.Equal(t, "志愿者", Runes("志愿者", 3))
	require.Equal(t, "志愿者", Runes("志愿者", 9))
	require.Equal(t, "", Runes("志愿者", 0))
	require.Equal(t, "ab", Runes("abc", 2))
}

// FuzzBytes: the result is a prefix of s, at most n bytes, valid UTF-8
// when s is, and Runes keeps at most n runes.
func FuzzBytes(f *testing.F) {
	f.Add("志愿者 card", 4)
	f.Add("abc", 1)
	f.Fuzz(func(t *testing.T, s string, n int) {
		if n > 1<<20 || n < -1 {
			return
		}
		b := Bytes(s, n)
		require.LessOrEqual(t, len(b), max(n, 0))
		require.Equal(t, s[:len(b)], b)
		if utf8.ValidString(s) {
			require.True(t, utf8.ValidString(b))
			r := Runes(s, n)
			require.LessOrEqual(t, utf8.RuneCountInString(r), max(n, 0))
			require.Equal(t, s[:len(r)], r)
		}
	})
}
