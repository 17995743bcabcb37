package roster_test

import (
	"os"
	"path/filepath"
	"testing"

	"golang.org/x/text/encoding/simplifiedchinese"

	"github.com/volcard/volcard/issuance/roster"
)

func seedFromFixtures(f *testing.F, ext string) {
	paths, _ := filepath.Glob(filepath.Join(fixtureDir, "*."+ext))
	for _, p := range paths {
		if b, err := os.ReadFile(p); err == nil {
			f.Add(b)
		}
	}
}

// FuzzParseRosterCSV feeds arbitrary bytes (UTF-8 and GB18030 seeds) to the
// CSV parser: it must never panic, and every row it returns has a line
// after its header's.
func FuzzParseRosterCSV(f *testing.F) {
	seedFromFixtures(f, "csv")
	zh := "姓名,身份证号,手机号,是否团员,服装尺码\n张三,44140220000101123X,13800138000,是,M\n"
	f.Add([]byte(zh))
	gbz, _ := simplifiedchinese.GB18030.NewEncoder().Bytes([]byte(zh))
	f.Add(gbz)
	f.Add([]byte("\ufeffname,id_number,phone,league_member,clothing_size\n\"a\"\"b\",1,2,3,4\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		rf, err := roster.Parse(data, roster.FormatCSV, roster.Limits{MaxRows: 500})
		if err != nil {
			return
		}
		for _, r := range rf.Rows {
			if r.Line <= rf.Header.Line {
				t.Fatalf("row line %d not after header line %d", r.Line, rf.Header.Line)
			}
		}
	})
}

// FuzzParseRosterXLSX feeds arbitrary bytes to the XLSX reader under tight
// limits: no panic, no runaway memory.
func FuzzParseRosterXLSX(f *testing.F) {
	seedFromFixtures(f, "xlsx")
	f.Fuzz(func(t *testing.T, data []byte) {
		_, _ = roster.Parse(data, roster.FormatXLSX, roster.Limits{MaxBytes: 1 << 20, MaxUnzipped: 4 << 20, MaxRows: 200})
	})
}

// FuzzMapHeader checks the header mapping on arbitrary cells.
func FuzzMapHeader(f *testing.F) {
	f.Add("姓名", "身份证号", "手机号", "是否团员", "服装尺码")
	f.Add("Name", "ID_Number", "phone", "league", "size")
	f.Fuzz(func(t *testing.T, a, b, c, d, e string) {
		h, err := roster.MapHeader(1, []string{a, b, c, d, e})
		if err == nil && len(h.Columns) < len(roster.RequiredFields) {
			t.Fatalf("accepted a header without all required columns: %v", h.Columns)
		}
	})
}
