package insurance_test

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/volcard/volcard/issuance/insurance"
)

var update = flag.Bool("update", false, "rewrite testdata/sample.txt")

// sample is a day's file with made-up holders (the ID numbers are valid in
// form only).
var sample = []insurance.Record{
	{Kind: insurance.RecordAddition, EnrolmentID: 17, PolicyNumber: "PICC-GD-ZYZ-DEFAULT", Name: "陈小明", IDType: "resident",
		IDNumber: "440102199003070017", Gender: "m", BirthDate: "19900307", OrgName: "广州市", CoverFen: 10_000_000,
		StartDate: "20261123"},
	{Kind: insurance.RecordTermination, EnrolmentID: 3, PolicyNumber: "PICC-GD-ZYZ-DEFAULT", Name: "李华", IDType: "resident",
		IDNumber: "44140219950101002X", Gender: "f", BirthDate: "19950101", OrgName: "嘉应学院", CoverFen: 10_000_000,
		StartDate: "20210305", LastDate: "20261122", Reason: "closed"},
}

// TestFileGolden: the writer's bytes are the documented sample, and the
// parser reads them back to the same records.
func TestFileGolden(t *testing.T) {
	var buf bytes.Buffer
	require.NoError(t, insurance.WriteFile(&buf, "2026-11-23", sample))
	golden := filepath.Join("testdata", "sample.txt")
	if *update {
		require.NoError(t, os.WriteFile(golden, buf.Bytes(), 0o644))
	}
	want, err := os.ReadFile(golden)
	require.NoError(t, err)
	require.Equal(t, string(want), buf.String())
	f, err := insurance.ParseFile(bytes.NewReader(want))
	require.NoError(t, err)
	require.Equal(t, "20261123", f.Date)
	require.Equal(t, 1, f.Additions)
	require.Equal(t, 1, f.Terminations)
	for i := range sample {
		r := sample[i]
		r.Seq = i + 1
		require.Equal(t, r, f.Records[i])
	}
}

// TestParseFileRefuses: each kind of damage is a FormatError naming the
// line, never the content.
func TestParseFileRefuses(t *testing.T) {
	good, err := os.ReadFile(filepath.Join("testdata", "sample.txt"))
	require.NoError(t, err)
	for name, tc := range map[string]struct {
		mutate func(string) string
		line   int
	}{
		"empty":        {func(string) string { return "" }, 1},
		"bad header":   {func(s string) string { return "X" + s[1:] }, 1},
		"changed name": {func(s string) string { return string(bytes.Replace([]byte(s), []byte("李华"), []byte("李平"), 1)) }, 4},
		"no trailer":   {func(s string) string { i := bytes.LastIndex([]byte(s), []byte("Z|")); return s[:i] }, 4},
		"lost record": {func(s string) string {
			i := bytes.Index([]byte(s), []byte("\nD|T"))
			j := bytes.Index([]byte(s), []byte("\nZ|"))
			return s[:i] + s[j:]
		}, 3},
		"after trailer": {func(s string) string { return s + "D|A\n" }, 5},
	} {
		_, err := insurance.ParseFile(bytes.NewReader([]byte(tc.mutate(string(good)))))
		var fe *insurance.FormatError
		require.ErrorAs(t, err, &fe, name)
		require.Equal(t, tc.line, fe.Line, name)
		require.NotContains(t, err.Error(), "4401", name)
	}
}

// FuzzParseFile: the parser never panics, and a file it accepts is
// written back byte for byte from its records.
func FuzzParseFile(f *testing.F) {
	good, err := os.ReadFile(filepath.Join("testdata", "sample.txt"))
	require.NoError(f, err)
	f.Add(good)
	f.Add([]byte("H|VOLCARD-INSURANCE|1|20261123|0\nZ|0|0|e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		file, err := insurance.ParseFile(bytes.NewReader(b))
		if err != nil {
			return
		}
		var out bytes.Buffer
		date := file.Date[:4] + "-" + file.Date[4:6] + "-" + file.Date[6:]
		require.NoError(t, insurance.WriteFile(&out, date, file.Records))
		again, err := insurance.ParseFile(&out)
		require.NoError(t, err)
		require.Equal(t, file, again)
	})
}
