package settlement_test

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/volcard/volcard/bankgw/settlement"
)

var testKey = bytes.Repeat([]byte{0x5a}, settlement.KeySize)

func keys(t testing.TB) settlement.Keys {
	k, err := settlement.DeriveKeys(testKey)
	require.NoError(t, err)
	return k
}

func sampleRows(k settlement.Keys) []settlement.Row {
	return []settlement.Row{
		{ApplicationNumber: "VC2026120700000001", ProductCode: "GDRVBOC", LastFour: "0013",
			PANMAC: k.PANMAC("6216600000000000013"), State: settlement.StateActive,
			Activated: time.Date(2026, 12, 6, 0, 0, 0, 0, time.UTC)},
		{ApplicationNumber: "VC2026120700000002", ReplaceSeq: 1, ProductCode: "GDRVBOC", LastFour: "0021",
			PANMAC: k.PANMAC("6216600000000000021"), State: settlement.StateBlocked},
	}
}

// write returns a file of rows.
func write(t testing.TB, k settlement.Keys, rows []settlement.Row) []byte {
	var buf bytes.Buffer
	w, err := settlement.NewWriter(&buf, k, settlement.Header{BankCode: "BOC",
		Date: time.Date(2026, 12, 7, 0, 0, 0, 0, time.UTC), Rows: len(rows)})
	require.NoError(t, err)
	for _, r := range rows {
		require.NoError(t, w.Write(r))
	}
	require.NoError(t, w.Close())
	return buf.Bytes()
}

func readAll(k settlement.Keys, b []byte) (settlement.Header, []settlement.Row, error) {
	r, err := settlement.NewReader(bytes.NewReader(b), k)
	if err != nil {
		return settlement.Header{}, nil, err
	}
	var rows []settlement.Row
	for {
		row, err := r.Next()
		if errors.Is(err, io.EOF) {
			return r.Header(), rows, nil
		}
		if err != nil {
			return r.Header(), rows, err
		}
		rows = append(rows, row)
	}
}

func TestRoundTrip(t *testing.T) {
	k := keys(t)
	want := sampleRows(k)
	b := write(t, k, want)
	require.NotContains(t, string(b), "6216600000000000013", "no clear PAN in the file")
	h, got, err := readAll(k, b)
	require.NoError(t, err)
	require.Equal(t, "BOC", h.BankCode)
	require.Equal(t, "2026-12-07", h.Date.Format(settlement.DateLayout))
	require.Equal(t, 2, h.Rows)
	require.Len(t, got, 2)
	for i := range got {
		want[i].Line = i + 2
		require.Equal(t, want[i], got[i])
	}
	// CRLF line ends and a BOM are accepted; the MAC is over LF lines.
	crlf := "\uFEFF" + strings.ReplaceAll(string(b), "\n", "\r\n")
	_, got, err = readAll(k, []byte(crlf))
	require.NoError(t, err)
	require.Len(t, got, 2)
}

func TestPANMAC(t *testing.T) {
	k := keys(t)
	a := k.PANMAC("6216600000000000013")
	require.Len(t, a, 32)
	require.Equal(t, a, k.PANMAC("6216600000000000013"))
	require.NotEqual(t, a, k.PANMAC("6216600000000000021"))
	other, err := settlement.DeriveKeys(bytes.Repeat([]byte{1}, settlement.KeySize))
	require.NoError(t, err)
	require.NotEqual(t, a, other.PANMAC("6216600000000000013"), "another bank's key gives another MAC")
	_, err = settlement.DeriveKeys([]byte("short"))
	require.ErrorIs(t, err, settlement.ErrKey)
}

func TestReaderRejects(t *testing.T) {
	k := keys(t)
	good := string(write(t, k, sampleRows(k)))
	lines := strings.Split(strings.TrimSuffix(good, "\n"), "\n")
	join := func(ls ...string) []byte { return []byte(strings.Join(ls, "\n") + "\n") }
	other, err := settlement.DeriveKeys(bytes.Repeat([]byte{1}, settlement.KeySize))
	require.NoError(t, err)
	for _, tc := range []struct {
		name   string
		file   []byte
		keys   settlement.Keys
		target error
		line   int
	}{
		{"empty", nil, k, settlement.ErrFormat, 1},
		{"not a settlement file", []byte("a,b,c\n"), k, settlement.ErrFormat, 1},
		{"version 2", join(strings.Replace(lines[0], ",1,", ",2,", 1)), k, settlement.ErrFormat, 1},
		{"bad date", join(strings.Replace(lines[0], "2026-12-07", "2026-13-07", 1)), k, settlement.ErrFormat, 1},
		{"truncated", join(lines[0], lines[1]), k, settlement.ErrFormat, 3},
		{"row altered", join(lines[0], strings.Replace(lines[1], ",A,", ",B,", 1), lines[2], lines[3]), k, settlement.ErrFileMAC, 0},
		{"row dropped, counts fixed", join(strings.TrimSuffix(lines[0], ",2")+",1", lines[1], strings.Replace(lines[3], "T,2", "T,1", 1)), k, settlement.ErrFileMAC, 0},
		{"another key", []byte(good), other, settlement.ErrFileMAC, 0},
		{"count mismatch", join(lines[0], lines[1], strings.Replace(lines[3], "T,2", "T,1", 1)), k, settlement.ErrFormat, 3},
		{"too many rows", join(lines[0], lines[1], lines[2], lines[1], lines[3]), k, settlement.ErrFormat, 4},
		{"bad state", join(lines[0], strings.Replace(lines[1], ",A,", ",X,", 1), lines[2], lines[3]), k, settlement.ErrFormat, 2},
		{"short MAC", join(lines[0], strings.Replace(lines[1], ",0013,", ",0013,ab", 1)[:60], lines[2], lines[3]), k, settlement.ErrFormat, 2},
		{"clear PAN in place of last four", join(lines[0], strings.Replace(lines[1], ",0013,", ",6216600000000000013,", 1), lines[2], lines[3]), k, settlement.ErrFormat, 2},
		{"text after trailer", join(lines[0], lines[1], lines[2], lines[3], "D,x"), k, settlement.ErrFormat, 5},
		{"line too long", join(lines[0], strings.Repeat("x", settlement.MaxLine+1)), k, settlement.ErrFormat, 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := readAll(tc.keys, tc.file)
			require.ErrorIs(t, err, tc.target)
			require.NotContains(t, err.Error(), "6216600000000000013")
			if tc.line > 0 {
				var fe *settlement.FormatError
				require.ErrorAs(t, err, &fe)
				require.Equal(t, tc.line, fe.Line)
			}
		})
	}
}

func TestWriterChecks(t *testing.T) {
	k := keys(t)
	var buf bytes.Buffer
	w, err := settlement.NewWriter(&buf, k, settlement.Header{BankCode: "BOC", Date: time.Now(), Rows: 1})
	require.NoError(t, err)
	require.ErrorIs(t, w.Write(settlement.Row{ApplicationNumber: "A1", ProductCode: "P", LastFour: "12",
		PANMAC: k.PANMAC("1"), State: settlement.StateActive}), settlement.ErrFormat)
	require.Error(t, w.Close(), "fewer rows than announced")
	_, err = settlement.NewWriter(&buf, settlement.Keys{}, settlement.Header{BankCode: "BOC"})
	require.ErrorIs(t, err, settlement.ErrKey)
}

// FuzzReader feeds arbitrary files to the reader: it must never panic,
// must end every file with io.EOF or an error, and a file it accepts must
// have as many rows as its header says.
func FuzzReader(f *testing.F) {
	k := keys(f)
	good := write(f, k, sampleRows(k))
	f.Add(good)
	f.Add(write(f, k, nil))
	f.Add([]byte(strings.ReplaceAll(string(good), "\n", "\r\n")))
	f.Add(good[:len(good)/2])
	f.Add(append([]byte("\uFEFF"), good...))
	f.Add([]byte("H,VOLCARD-SETTLEMENT,1,BOC,2026-12-07,1\nD,,,,,,,\nT,1,00\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		h, rows, err := readAll(k, b)
		if err != nil {
			require.True(t, errors.Is(err, settlement.ErrFormat) || errors.Is(err, settlement.ErrFileMAC), "unexpected error kind: %v", err)
			return
		}
		require.Len(t, rows, h.Rows)
	})
}
