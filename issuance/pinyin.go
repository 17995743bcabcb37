package issuance

import (
	"strings"
	"sync"
	"unicode"

	"github.com/mozillazg/go-pinyin"
)

// MaxEmbossName is the longest emboss name a card face carries.
const MaxEmbossName = 26

// compoundSurnames are two-character family names, so the space goes after
// them: 欧阳小明 → OUYANG XIAOMING.
var compoundSurnames = map[string]bool{
	"欧阳": true, "司马": true, "诸葛": true, "上官": true, "东方": true, "皇甫": true,
	"尉迟": true, "公孙": true, "慕容": true, "令狐": true, "司徒": true, "夏侯": true,
	"长孙": true, "宇文": true, "轩辕": true, "端木": true, "南宫": true, "西门": true,
}

// surnameReadings fixes characters whose reading as a family name differs
// from the common one.
var surnameReadings = map[string]string{
	"单": "SHAN", "曾": "ZENG", "区": "OU", "仇": "QIU", "解": "XIE", "查": "ZHA",
	"朴": "PIAO", "覃": "QIN", "翟": "ZHAI", "乐": "YUE", "盖": "GE", "缪": "MIAO",
	"尉迟": "YUCHI", "秘": "BI", "冼": "XIAN", "万俟": "MOQI", "种": "CHONG",
}

var pinyinArgs = func() pinyin.Args {
	a := pinyin.NewArgs()
	a.Style = pinyin.Normal
	a.Fallback = func(r rune, _ pinyin.Args) []string {
		if r < unicode.MaxASCII && (unicode.IsLetter(r)) {
			return []string{string(r)}
		}
		return nil
	}
	return a
}()

// runeSyllables caches each character's syllable (rune → string, "" for
// none): go-pinyin reads characters one by one (no phrases), so a name's
// syllables are its characters' in order, and its per-character style
// rewriting (regular expressions) was 40 % of the CPU of a bulk import.
var runeSyllables sync.Map

func syllables(s string) string {
	var b strings.Builder
	for _, r := range s {
		if v, ok := runeSyllables.Load(r); ok {
			b.WriteString(v.(string))
			continue
		}
		syl := ""
		if ps := pinyin.LazyPinyin(string(r), pinyinArgs); len(ps) > 0 {
			syl = strings.ToUpper(strings.ReplaceAll(ps[0], "ü", "v"))
		}
		runeSyllables.Store(r, syl)
		b.WriteString(syl)
	}
	return b.String()
}

// EmbossName derives the card emboss name from a legal name: the family
// name in pinyin, a space, the given name in pinyin, upper case, ü written
// V (张三 → ZHANG SAN, 吕布 → LV BU, 张三丰 → ZHANG SANFENG), cut to
// MaxEmbossName characters. Latin names are upper-cased and keep their
// spaces; parts of a name joined by a middle dot become words. It returns "" when nothing can be derived.
func EmbossName(legal string) string {
	legal = strings.TrimSpace(legal)
	hasHan := false
	for _, r := range legal {
		if unicode.Is(unicode.Han, r) {
			hasHan = true
			break
		}
	}
	var out string
	if !hasHan {
		var b strings.Builder
		for _, r := range strings.ToUpper(legal) {
			switch {
			case r >= 'A' && r <= 'Z':
				b.WriteRune(r)
			case r == ' ' || r == '-' || r == '.' || r == '·':
				b.WriteRune(' ')
			}
		}
		out = strings.Join(strings.Fields(b.String()), " ")
	} else if strings.ContainsAny(legal, "·•・") {
		// Names of ethnic minorities: parts separated by a middle dot are
		// written as separate words (买买提·艾力 → MAIMAITI AILI).
		var parts []string
		for _, p := range strings.FieldsFunc(legal, func(r rune) bool { return r == '·' || r == '•' || r == '・' || unicode.IsSpace(r) }) {
			if w := syllables(p); w != "" {
				parts = append(parts, w)
			}
		}
		out = strings.Join(parts, " ")
	} else {
		legal = strings.Map(func(r rune) rune {
			if unicode.IsSpace(r) {
				return -1
			}
			return r
		}, legal)
		rs := []rune(legal)
		n := 1
		if len(rs) > 2 && compoundSurnames[string(rs[:2])] {
			n = 2
		}
		family, given := string(rs[:n]), string(rs[n:])
		fam, ok := surnameReadings[family]
		if !ok {
			fam = syllables(family)
		}
		out = strings.TrimSpace(fam + " " + syllables(given))
	}
	if len(out) > MaxEmbossName {
		out = strings.TrimSpace(out[:MaxEmbossName])
	}
	return out
}

// ValidEmbossName reports whether s is 1–26 characters of A–Z and single
// inner spaces.
func ValidEmbossName(s string) bool {
	if s == "" || len(s) > MaxEmbossName || s[0] == ' ' || s[len(s)-1] == ' ' || strings.Contains(s, "  ") {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; c != ' ' && (c < 'A' || c > 'Z') {
			return false
		}
	}
	return true
}
