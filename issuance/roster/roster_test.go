package roster_test

import (
	"archive/zip"
	"bytes"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/stretchr/testify/require"
	"golang.org/x/text/encoding/simplifiedchinese"

	"github.com/volcard/volcard/issuance/roster"
	"github.com/volcard/volcard/issuance/roster/rostertest"
)

var update = flag.Bool("update", false, "rewrite the roster fixtures under testdata/rosters")

const fixtureDir = "../../testdata/rosters"

func gb(t testing.TB, s string) []byte {
	t.Helper()
	b, err := simplifiedchinese.GB18030.NewEncoder().Bytes([]byte(s))
	require.NoError(t, err)
	return b
}

type rowWant map[roster.Field]string

func rowsOf(f *roster.File) []rowWant {
	var out []rowWant
	for _, r := range f.Rows {
		w := rowWant{}
		for _, fl := range roster.Fields {
			if v := r.Get(fl); v != "" {
				w[fl] = v
			}
		}
		out = append(out, w)
	}
	return out
}

func TestParseCSV(t *testing.T) {
	const zh = "姓名,身份证号,手机号,是否团员,服装尺码\r\n张三,44140220000101123X,13800138000,是,M\r\n"
	one := []rowWant{{roster.FieldName: "张三", roster.FieldIDNumber: "44140220000101123X", roster.FieldPhone: "13800138000",
		roster.FieldLeagueMember: "是", roster.FieldClothingSize: "M"}}
	tests := []struct {
		name     string
		data     []byte
		encoding roster.Encoding
		want     []rowWant
		blank    int
		ignored  []string
	}{
		{name: "utf-8", data: []byte(zh), encoding: roster.UTF8, want: one},
		{name: "utf-8 with BOM", data: append([]byte("\ufeff"), zh...), encoding: roster.UTF8, want: one},
		{name: "gb18030", data: gb(t, zh), encoding: roster.GB18030, want: one},
		{name: "english headers any order, extra column, LF",
			data:     []byte("Phone, Name ,extra,ID_Number,clothing_size,league_member,emboss_name\n13800138000,张三,x,44140220000101123X,M,是,ZHANG SAN\n"),
			encoding: roster.UTF8, ignored: []string{"extra"},
			want: []rowWant{{roster.FieldName: "张三", roster.FieldIDNumber: "44140220000101123X", roster.FieldPhone: "13800138000",
				roster.FieldLeagueMember: "是", roster.FieldClothingSize: "M", roster.FieldEmbossName: "ZHANG SAN"}}},
		{name: "blank lines and leading empty rows skipped, short rows padded",
			data:     []byte(",,,\n姓名,身份证号,手机号,是否团员,服装尺码\n\n,,,,\n李四,1,2\n"),
			encoding: roster.UTF8, blank: 1,
			want: []rowWant{{roster.FieldName: "李四", roster.FieldIDNumber: "1", roster.FieldPhone: "2"}}},
		{name: "header notes and asterisks", data: []byte("*姓名,身份证号码（必填）,手机号码,团员,尺码\n王五,a,b,c,d\n"), encoding: roster.UTF8,
			want: []rowWant{{roster.FieldName: "王五", roster.FieldIDNumber: "a", roster.FieldPhone: "b", roster.FieldLeagueMember: "c", roster.FieldClothingSize: "d"}}},
		{name: "quoted cells with commas and newlines",
			data:     []byte("name,id_number,phone,league_member,clothing_size\n\"赵,六\",\"1\n2\",3,4,5\n"),
			encoding: roster.UTF8,
			want:     []rowWant{{roster.FieldName: "赵,六", roster.FieldIDNumber: "1\n2", roster.FieldPhone: "3", roster.FieldLeagueMember: "4", roster.FieldClothingSize: "5"}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f, err := roster.Parse(tc.data, "", roster.Limits{})
			require.NoError(t, err)
			require.Equal(t, roster.FormatCSV, f.Format)
			require.Equal(t, tc.encoding, f.Encoding)
			require.Equal(t, tc.blank, f.BlankRows)
			if diff := cmp.Diff(tc.want, rowsOf(f)); diff != "" {
				t.Fatalf("rows (-want +got):\n%s", diff)
			}
			require.Equal(t, tc.ignored, f.Header.Ignored)
		})
	}
}

func TestParseErrors(t *testing.T) {
	header := "姓名,身份证号,手机号,是否团员,服装尺码\n"
	tests := []struct {
		name   string
		data   []byte
		format roster.Format
		lim    roster.Limits
		want   error
	}{
		{name: "empty", data: nil, want: roster.ErrEmpty},
		{name: "only blank lines", data: []byte("\n\n,,\n"), want: roster.ErrEmpty},
		{name: "missing id column", data: []byte("姓名,手机号,是否团员,服装尺码\n"), want: roster.ErrBadHeader},
		{name: "duplicate column", data: []byte("姓名,name,身份证号,手机号,是否团员,服装尺码\n"), want: roster.ErrBadHeader},
		{name: "too large", data: []byte(header + "a,b,c,d,e\n"), lim: roster.Limits{MaxBytes: 10}, want: roster.ErrTooLarge},
		{name: "too many rows", data: []byte(header + "a,b,c,d,e\nf,g,h,i,j\n"), lim: roster.Limits{MaxRows: 1}, want: roster.ErrTooManyRows},
		{name: "cell too long", data: []byte(header + strings.Repeat("长", 11) + ",b,c,d,e\n"), lim: roster.Limits{MaxCellLen: 10}, want: roster.ErrCellTooLong},
		{name: "too many columns", data: []byte(header + strings.Repeat("x,", 70) + "\n"), want: roster.ErrTooManyColumns},
		{name: "xlsx that is not a zip", data: []byte(header), format: roster.FormatXLSX, want: roster.ErrMalformed},
		{name: "zip that is not a workbook", data: zipOf(t, map[string]string{"a.txt": "hello"}), want: roster.ErrMalformed},
		{name: "unknown format", data: []byte(header), format: "pdf", want: roster.ErrUnsupportedFormat},
		{name: "neither utf-8 nor gb18030", data: []byte{0x81, 0x20, 0xff, 0xff}, want: roster.ErrMalformed},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := roster.Parse(tc.data, tc.format, tc.lim)
			require.ErrorIs(t, err, tc.want)
		})
	}
	t.Run("header error names the missing columns", func(t *testing.T) {
		_, err := roster.Parse([]byte("姓名,是否团员\n"), "", roster.Limits{})
		var he *roster.HeaderError
		require.True(t, errors.As(err, &he))
		require.Equal(t, []roster.Field{roster.FieldIDNumber, roster.FieldPhone, roster.FieldClothingSize}, he.Missing)
		require.Contains(t, err.Error(), "身份证号/id_number")
	})
}

func zipOf(t testing.TB, files map[string]string) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for name, body := range files {
		w, err := zw.Create(name)
		require.NoError(t, err)
		_, err = w.Write([]byte(body))
		require.NoError(t, err)
	}
	require.NoError(t, zw.Close())
	return buf.Bytes()
}

func TestParseXLSX(t *testing.T) {
	people := rostertest.People(3, 0)
	people[1].EmbossName = "LI WEI"
	data, err := rostertest.XLSX(people)
	require.NoError(t, err)
	f, err := roster.Parse(data, "", roster.Limits{})
	require.NoError(t, err)
	require.Equal(t, roster.FormatXLSX, f.Format)
	require.Len(t, f.Rows, 3)
	require.Equal(t, 2, f.Rows[0].Line)
	require.Equal(t, people[1].IDNumber, f.Rows[1].Get(roster.FieldIDNumber))
	require.Equal(t, "LI WEI", f.Rows[1].Get(roster.FieldEmbossName))
	require.Equal(t, []string{"college"}, f.Header.Ignored)

	t.Run("zip bomb refused before inflating", func(t *testing.T) {
		_, err := roster.Parse(data, "", roster.Limits{MaxUnzipped: 1024})
		require.ErrorIs(t, err, roster.ErrTooLarge)
	})
	t.Run("row limit", func(t *testing.T) {
		_, err := roster.Parse(data, "", roster.Limits{MaxRows: 2})
		require.ErrorIs(t, err, roster.ErrTooManyRows)
	})
}

func TestYesNo(t *testing.T) {
	for in, want := range map[string]bool{"是": true, "否": false, "Y": true, "n": false, "TRUE": true, "false": false, "1": true, "0": false, "": false} {
		t.Run(in, func(t *testing.T) {
			v, ok := roster.ParseYesNo(in)
			require.True(t, ok)
			require.Equal(t, want, v)
		})
	}
	_, ok := roster.ParseYesNo("maybe")
	require.False(t, ok)
}

func TestWriteRejects(t *testing.T) {
	rj := []roster.Reject{{Line: 9, Values: map[roster.Field]string{roster.FieldName: "张三", roster.FieldPhone: "=1+1"}, Reasons: []string{"bad phone", "bad size"}}}
	for _, enc := range []roster.Encoding{roster.UTF8, roster.GB18030} {
		t.Run(string(enc), func(t *testing.T) {
			var buf bytes.Buffer
			require.NoError(t, roster.WriteRejects(&buf, enc, rj))
			if enc == roster.UTF8 {
				require.True(t, bytes.HasPrefix(buf.Bytes(), []byte("\ufeff")))
			}
			// The file parses back as a roster (extra columns ignored).
			f, err := roster.Parse(buf.Bytes(), "", roster.Limits{})
			require.NoError(t, err)
			require.Equal(t, enc, f.Encoding)
			require.Len(t, f.Rows, 1)
			require.Equal(t, "张三", f.Rows[0].Get(roster.FieldName))
			require.Equal(t, "'=1+1", f.Rows[0].Get(roster.FieldPhone), "formula defused")
			require.Equal(t, []string{"行号", "原因"}, f.Header.Ignored)
		})
	}
}

// TestFixtures checks (or with -update writes) the shared roster fixtures:
// a 45-row GB18030 CSV and a 45-row XLSX, each with the five bad rows of
// rostertest.Fixture45.
func TestFixtures(t *testing.T) {
	csvPath := filepath.Join(fixtureDir, "onsite-45-gb18030.csv")
	xlsxPath := filepath.Join(fixtureDir, "onsite-45.xlsx")
	wantCSV := rostertest.CSV(rostertest.Fixture45(0), true, false)
	if *update {
		require.NoError(t, os.MkdirAll(fixtureDir, 0o755))
		require.NoError(t, os.WriteFile(csvPath, wantCSV, 0o644))
		x, err := rostertest.XLSX(rostertest.Fixture45(1000))
		require.NoError(t, err)
		require.NoError(t, os.WriteFile(xlsxPath, x, 0o644))
	}
	got, err := os.ReadFile(csvPath)
	require.NoError(t, err)
	require.Equal(t, wantCSV, got, "fixture out of date; run go test ./issuance/roster -run TestFixtures -update")
	f, err := roster.Parse(got, "", roster.Limits{})
	require.NoError(t, err)
	require.Equal(t, roster.GB18030, f.Encoding)
	require.Len(t, f.Rows, rostertest.FixtureRows)

	x, err := os.ReadFile(xlsxPath)
	require.NoError(t, err)
	fx, err := roster.Parse(x, "", roster.Limits{})
	require.NoError(t, err)
	require.Len(t, fx.Rows, rostertest.FixtureRows)
	want := rostertest.Fixture45(1000)
	for i, r := range fx.Rows {
		require.Equal(t, want[i].IDNumber, r.Get(roster.FieldIDNumber), "row %d", i+1)
		require.Equal(t, want[i].Name, r.Get(roster.FieldName), "row %d", i+1)
	}
}
