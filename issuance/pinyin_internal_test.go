package issuance

import (
	"strings"
	"testing"

	"github.com/mozillazg/go-pinyin"
	"github.com/stretchr/testify/require"
)

// TestSyllablesCacheAgrees: the per-character cache gives what go-pinyin
// gives for the whole string (it reads characters one by one).
func TestSyllablesCacheAgrees(t *testing.T) {
	for _, s := range []string{"张三丰", "吕布", "欧阳小明", "买买提", "Anna李", "重庆长乐", "a1b2", "", "绿", "女", "曾乐单"} {
		var want strings.Builder
		for _, p := range pinyin.LazyPinyin(s, pinyinArgs) {
			want.WriteString(strings.ToUpper(strings.ReplaceAll(p, "ü", "v")))
		}
		require.Equal(t, want.String(), syllables(s), s)
		require.Equal(t, want.String(), syllables(s), s+" (cached)")
	}
}
