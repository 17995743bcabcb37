package enroll

import (
	"io"
	"strings"
	"unicode"

	"golang.org/x/text/width"
)

// displayWidth returns how many terminal columns s takes: two for East
// Asian wide and fullwidth characters (汉字, fullwidth punctuation), none for
// combining marks and format characters, one for everything else.
// text/tabwriter counts one per rune, so Chinese text breaks its columns.
func displayWidth(s string) int {
	n := 0
	for _, r := range s {
		switch {
		case unicode.In(r, unicode.Mn, unicode.Me, unicode.Cf):
		case r < 0x80:
			n++
		default:
			switch width.LookupRune(r).Kind() {
			case width.EastAsianWide, width.EastAsianFullwidth:
				n += 2
			default:
				n++
			}
		}
	}
	return n
}

// writeTable writes rows as columns two spaces apart, each line starting
// with indent, every cell but the last of a line padded to its column's
// display width (displayWidth), so that Chinese text lines up.
func writeTable(w io.Writer, indent string, rows [][]string) {
	var widths []int
	for _, row := range rows {
		for i, cell := range row {
			if i == len(widths) {
				widths = append(widths, 0)
			}
			widths[i] = max(widths[i], displayWidth(cell))
		}
	}
	var b strings.Builder
	for _, row := range rows {
		b.WriteString(indent)
		for i, cell := range row {
			b.WriteString(cell)
			if i < len(row)-1 {
				b.WriteString(strings.Repeat(" ", widths[i]-displayWidth(cell)+2))
			}
		}
		b.WriteByte('\n')
	}
	_, _ = io.WriteString(w, b.String())
}
