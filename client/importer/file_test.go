package importer

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/volcard/volcard/wire"
)

func readAll(t testing.TB, r io.Reader, kind Kind, f Format, enc Encoding) ([]Record, error) {
	rd, err := NewReader(r, kind, f, enc)
	if err != nil {
		return nil, err
	}
	var out []Record
	for {
		rec, err := rd.Next()
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return out, err
		}
		out = append(out, rec)
	}
}

func rejects(recs []Record) map[int]string {
	m := map[int]string{}
	for _, r := range recs {
		if r.Reject != nil {
			m[r.Line] = r.Reject.Field + ": " + r.Reject.Reason
		}
	}
	return m
}

func TestReadJSONL(t *testing.T) {
	f, err := os.Open("testdata/volunteers.jsonl")
	require.NoError(t, err)
	defer f.Close()
	recs, err := readAll(t, f, Volunteers, JSONL, "")
	require.NoError(t, err)
	require.Len(t, recs, 5, "the blank line is no record")
	require.Nil(t, recs[0].Reject)
	require.Equal(t, wire.ImportVolunteer{Line: 1, VolunteerNumber: "GDV0000000001", Name: "李志愿",
		IDNumber: "440102199001011234", Phone: "13812345678", OrgID: 2, LeagueMember: true}, recs[0].Volunteer)
	require.Equal(t, map[int]string{
		3: ": field org_id: wrong type (want int64)",
		4: ": not a JSON object",
		5: `: unknown field "nickname"`,
		6: ": more than one JSON value on the line",
	}, rejects(recs))
}

func TestReadCSV(t *testing.T) {
	for name, c := range map[string]struct {
		file string
		enc  Encoding
	}{"utf-8": {"testdata/volunteers.csv", ""}, "gb18030 detected": {"testdata/volunteers_gbk.csv", ""},
		"gb18030 forced": {"testdata/volunteers_gbk.csv", EncodingGB18030}} {
		t.Run(name, func(t *testing.T) {
			f, err := os.Open(c.file)
			require.NoError(t, err)
			defer f.Close()
			recs, err := readAll(t, f, Volunteers, CSV, c.enc)
			require.NoError(t, err)
			require.Nil(t, recs[0].Reject)
			require.Equal(t, "李志愿", recs[0].Volunteer.Name)
			require.True(t, recs[0].Volunteer.LeagueMember)
			require.Equal(t, int64(2), recs[0].Volunteer.OrgID)
			require.Equal(t, 2, recs[0].Line)
			if strings.Contains(c.file, "gbk") {
				return
			}
			require.Equal(t, map[int]string{
				3: "org_id: must be a positive whole number",
				4: ": 5 fields, the header has 6",
				5: "league_member: must be true/false, 1/0 or 是/否",
			}, rejects(recs))
		})
	}
}

func TestReadHours(t *testing.T) {
	f, err := os.Open("testdata/hours.csv")
	require.NoError(t, err)
	recs, err := readAll(t, f, Hours, CSV, "")
	require.NoError(t, err)
	require.InDelta(t, 126.5, recs[0].Hours.Hours, 1e-9)
	require.Equal(t, map[int]string{3: "hours: must be a number of hours, 0 or more"}, rejects(recs))
	f, err = os.Open("testdata/hours.jsonl")
	require.NoError(t, err)
	recs, err = readAll(t, f, Hours, JSONL, "")
	require.NoError(t, err)
	require.Equal(t, map[int]string{2: ": field hours: wrong type (want float64)"}, rejects(recs))
}

func TestBadFiles(t *testing.T) {
	for name, c := range map[string]struct {
		kind Kind
		body string
	}{
		"empty CSV":        {Volunteers, ""},
		"unknown column":   {Volunteers, "volunteer_number,name,id_number,phone,org_id,secret\n"},
		"missing column":   {Volunteers, "volunteer_number,name\n"},
		"column twice":     {Hours, "volunteer_number,hours,时长\n"},
		"volunteer column": {Hours, "volunteer_number,hours,name\n"},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := readAll(t, strings.NewReader(c.body), c.kind, CSV, "")
			require.ErrorIs(t, err, ErrFile)
		})
	}
}

// TestLongLine: a line over 64 KiB is one rejected record and the next
// line is read.
func TestLongLine(t *testing.T) {
	body := strings.Repeat("x", 200<<10) + "\n" + `{"volunteer_number":"A1","name":"n","id_number":"1","phone":"1","org_id":1}` + "\n"
	recs, err := readAll(t, strings.NewReader(body), Volunteers, JSONL, "")
	require.NoError(t, err)
	require.Len(t, recs, 2)
	require.NotNil(t, recs[0].Reject)
	require.Nil(t, recs[1].Reject)
	require.Equal(t, 2, recs[1].Line)
}

// FuzzReader: any file reads to the end or fails with ErrFile (or a
// reader error), never panics; every record is a row or a reject with a
// line number that only grows.
func FuzzReader(f *testing.F) {
	files, _ := filepath.Glob("testdata/*")
	for _, p := range files {
		b, err := os.ReadFile(p)
		require.NoError(f, err)
		f.Add(b, strings.HasSuffix(p, ".csv"), strings.Contains(p, "hours"))
	}
	f.Fuzz(func(t *testing.T, body []byte, csv, hours bool) {
		format, kind := JSONL, Volunteers
		if csv {
			format = CSV
		}
		if hours {
			kind = Hours
		}
		recs, err := readAll(t, bytes.NewReader(body), kind, format, "")
		if err != nil {
			return
		}
		last := 0
		for _, r := range recs {
			require.GreaterOrEqual(t, r.Line, last)
			last = r.Line
			if r.Reject != nil {
				require.NotEmpty(t, r.Reject.Reason)
				require.Equal(t, r.Line, r.Reject.Line)
			}
		}
	})
}
