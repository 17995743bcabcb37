package roster

import (
	"bufio"
	"encoding/csv"
	"fmt"
	"io"
	"strconv"
	"strings"

	"golang.org/x/text/encoding/simplifiedchinese"
)

// ParseYesNo reads a yes/no cell: 是/否, Y/N, yes/no, true/false, 1/0
// (case-insensitive). An empty cell is no. ok is false for anything else.
func ParseYesNo(s string) (v, ok bool) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "是", "y", "yes", "true", "t", "1", "√":
		return true, true
	case "否", "n", "no", "false", "f", "0", "":
		return false, true
	}
	return false, false
}

// Reject is one rejected row for the rejected-rows file.
type Reject struct {
	Line    int              // line in the uploaded file
	Values  map[Field]string // the cells as uploaded (or masked)
	Reasons []string         // human-readable reasons
}

// ParseEncoding maps "utf-8"/"utf8" and "gb18030"/"gbk" (case-insensitive)
// to an Encoding; "" is UTF8.
func ParseEncoding(s string) (Encoding, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "", "utf-8", "utf8":
		return UTF8, nil
	case "gb18030", "gbk", "gb2312":
		return GB18030, nil
	}
	return "", fmt.Errorf("%w: encoding must be utf-8 or gb18030", ErrUnsupportedFormat)
}

// WriteRejects writes the rejected rows as CSV: a header 行号/line, the
// roster columns under their Chinese names (so that a corrected file can be
// uploaded again; the extra columns are ignored) and 原因/reason. UTF8
// output starts with a byte-order mark so that Excel opens it correctly;
// GB18030 output is what Excel in China writes.
func WriteRejects(w io.Writer, enc Encoding, rejects []Reject) error {
	var out io.Writer
	var flush func() error
	switch enc {
	case UTF8, "":
		bw := bufio.NewWriter(w)
		if _, err := bw.WriteString("\ufeff"); err != nil {
			return err
		}
		out, flush = bw, bw.Flush
	case GB18030:
		ew := simplifiedchinese.GB18030.NewEncoder().Writer(w)
		bw := bufio.NewWriter(ew)
		out, flush = bw, bw.Flush
	default:
		return fmt.Errorf("%w: encoding %q", ErrUnsupportedFormat, enc)
	}
	cw := csv.NewWriter(out)
	cw.UseCRLF = true
	header := []string{"行号"}
	for _, f := range Fields {
		header = append(header, f.Chinese())
	}
	header = append(header, "原因")
	if err := cw.Write(header); err != nil {
		return err
	}
	rec := make([]string, 0, len(header))
	for _, r := range rejects {
		rec = append(rec[:0], strconv.Itoa(r.Line))
		for _, f := range Fields {
			rec = append(rec, SafeCell(r.Values[f]))
		}
		rec = append(rec, strings.Join(r.Reasons, "; "))
		if err := cw.Write(rec); err != nil {
			return err
		}
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		return err
	}
	return flush()
}

// SafeCell defuses spreadsheet formula injection in a text cell: one
// starting with =, +, -, @, a tab or a carriage return is prefixed with an
// apostrophe. It is the one guard of every CSV and XLSX volcard writes (the
// rejected-rows file here, the reports in api); numbers written as numbers
// do not pass through it.
func SafeCell(s string) string {
	if s == "" {
		return s
	}
	switch s[0] {
	case '=', '+', '-', '@', '\t', '\r':
		return "'" + s
	}
	return s
}
