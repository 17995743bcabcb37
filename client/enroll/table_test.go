package enroll

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/volcard/volcard/wire"
)

func TestDisplayWidth(t *testing.T) {
	tests := []struct {
		name string
		s    string
		want int
	}{
		{"ascii", "Li Lei", 6},
		{"han", "张三", 4},
		{"compound surname", "欧阳娜娜", 8},
		{"fullwidth punctuation", "（是）", 6},
		{"mixed", "姓名 (name) is empty", 20},
		{"combining mark", "e\u0301", 1},
		{"middle dot name", "买买提·艾力", 11},
		{"empty", "", 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			require.Equal(t, tc.want, displayWidth(tc.s))
		})
	}
}

// TestReportColumnsAlignWithChineseNames prints a row report whose names
// and reasons mix Chinese and Latin text: on every line the REASONS column
// starts at the same terminal column, and so does NAME.
func TestReportColumnsAlignWithChineseNames(t *testing.T) {
	rep := wire.RosterReport{SessionID: 7, Rows: 4, Rejected: 4, Items: []wire.RosterRow{
		{Line: 2, Status: "rejected", Name: "张三", Reasons: []wire.RowReason{{Message: "手机号 (phone) is empty"}}},
		{Line: 13, Status: "rejected", Name: "欧阳娜娜", Reasons: []wire.RowReason{{Message: "ID number check character does not match (typo?)"}}},
		{Line: 104, Status: "rejected", Name: "Li Lei", Reasons: []wire.RowReason{{Message: "服装尺码 (clothing size) is empty"}}},
		{Line: 7, Status: "rejected", Reasons: []wire.RowReason{{Message: "姓名 (name) is empty"}, {Message: "phone must be an 11-digit mainland mobile number"}}},
	}}
	var b strings.Builder
	printReport(&b, rep, "")
	var table []string
	for _, l := range strings.Split(b.String(), "\n") {
		if strings.HasPrefix(l, "  ") && !strings.HasPrefix(l, "  rejected:") && !strings.HasPrefix(l, "  accepted:") {
			table = append(table, l)
		}
	}
	require.Len(t, table, 5, b.String())
	col := func(l, header string, i int) int {
		if i == 0 {
			return displayWidth(l[:strings.Index(l, header)])
		}
		fields := strings.SplitN(strings.TrimLeft(l, " "), "  ", 2) // LINE, then the rest
		rest := strings.TrimLeft(fields[1], " ")
		if header == "NAME" {
			return displayWidth(l[:len(l)-len(rest)])
		}
		name := []string{"张三", "欧阳娜娜", "Li Lei", "(empty)"}[i-1]
		after := strings.TrimLeft(rest[len(name):], " ")
		return displayWidth(l[:len(l)-len(after)])
	}
	for _, header := range []string{"NAME", "REASONS"} {
		want := col(table[0], header, 0)
		for i, l := range table[1:] {
			require.Equal(t, want, col(l, header, i+1), "%s column of %q", header, l)
		}
	}
}
