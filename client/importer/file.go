package importer

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"sync/atomic"
	"unicode/utf8"

	"golang.org/x/text/encoding/simplifiedchinese"
	"golang.org/x/text/transform"

	"github.com/volcard/volcard/internal/clip"
	"github.com/volcard/volcard/wire"
)

// Kind is what a file holds.
type Kind string

// Kinds of import file.
const (
	Volunteers Kind = "volunteers"
	Hours      Kind = "hours"
)

// Format is a file's format.
type Format string

// Formats.
const (
	JSONL Format = "jsonl" // one JSON object a line, UTF-8
	CSV   Format = "csv"   // a header row naming the columns, then one record a row
)

// Encoding is a CSV file's text encoding.
type Encoding string

// Encodings.
const (
	EncodingAuto    Encoding = ""        // UTF-8 when the file's start is valid UTF-8, else GB18030
	EncodingUTF8    Encoding = "utf-8"   // UTF-8 (a BOM is dropped)
	EncodingGB18030 Encoding = "gb18030" // GB18030 (covers GBK and GB2312)
)

// maxLine bounds one JSONL line or CSV record.
const maxLine = 64 << 10

// ErrFile means the file cannot be read as an import file at all (no or a
// bad CSV header, an unknown column); row-level faults are Rejects instead.
var ErrFile = errors.New("importer: bad file")

// Record is one record of the file: a row, or the reason it was refused.
type Record struct {
	Line      int
	Volunteer wire.ImportVolunteer
	Hours     wire.ImportHours
	Reject    *wire.ImportReject
}

// Reader reads an import file record by record.
type Reader struct {
	kind    Kind
	format  Format
	br      *bufio.Reader
	line    int
	cr      *csv.Reader
	cols    []string // CSV: the field of each column
	counter *countingReader
}

// countingReader counts the bytes read through it (read by Offset from
// another goroutine).
type countingReader struct {
	r io.Reader
	n atomic.Int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n.Add(int64(n))
	return n, err
}

// csvColumns maps CSV header names (English, or the platform's Chinese
// headings) to fields.
var csvColumns = map[string]string{
	"volunteer_number": "volunteer_number", "志愿者编号": "volunteer_number", "平台编号": "volunteer_number",
	"name": "name", "姓名": "name",
	"id_type": "id_type", "证件类型": "id_type",
	"id_number": "id_number", "证件号码": "id_number", "身份证号": "id_number",
	"birth_date": "birth_date", "出生日期": "birth_date",
	"phone": "phone", "手机号": "phone", "手机号码": "phone",
	"org_id": "org_id", "组织ID": "org_id", "组织编号": "org_id",
	"league_member": "league_member", "团员": "league_member",
	"party_member": "party_member", "党员": "party_member",
	"clothing_size": "clothing_size", "服装尺码": "clothing_size",
	"emboss_name": "emboss_name", "拼音": "emboss_name",
	"hours": "hours", "时长": "hours", "服务时长": "hours",
}

var kindColumns = map[Kind]map[string]bool{
	Volunteers: {"volunteer_number": true, "name": true, "id_type": true, "id_number": true, "birth_date": true, "phone": true,
		"org_id": true, "league_member": true, "party_member": true, "clothing_size": true, "emboss_name": true},
	Hours: {"volunteer_number": true, "hours": true},
}

var requiredColumns = map[Kind][]string{
	Volunteers: {"volunteer_number", "name", "id_number", "phone", "org_id"},
	Hours:      {"volunteer_number", "hours"},
}

// NewReader returns a Reader of r. A CSV file's header is read at once
// (ErrFile when it is missing, names an unknown column or lacks a required
// one); enc applies to CSV only (JSON is UTF-8).
func NewReader(r io.Reader, kind Kind, format Format, enc Encoding) (*Reader, error) {
	if kind != Volunteers && kind != Hours {
		return nil, fmt.Errorf("%w: unknown kind %q", ErrFile, kind)
	}
	counter := &countingReader{r: r}
	br := bufio.NewReaderSize(counter, 256<<10)
	if format == CSV {
		if enc == EncodingAuto {
			head, _ := br.Peek(64 << 10)
			if !validUTF8Prefix(head) {
				enc = EncodingGB18030
			}
		}
		if enc == EncodingGB18030 {
			br = bufio.NewReaderSize(transform.NewReader(br, simplifiedchinese.GB18030.NewDecoder()), 256<<10)
		} else if enc != EncodingUTF8 && enc != EncodingAuto {
			return nil, fmt.Errorf("%w: unknown encoding %q (utf-8 or gb18030)", ErrFile, enc)
		}
	} else if format != JSONL {
		return nil, fmt.Errorf("%w: unknown format %q (jsonl or csv)", ErrFile, format)
	}
	if bom, _ := br.Peek(3); bytes.Equal(bom, []byte("\xef\xbb\xbf")) {
		_, _ = br.Discard(3)
	}
	rd := &Reader{kind: kind, format: format, br: br, counter: counter}
	if format == CSV {
		rd.cr = csv.NewReader(br)
		rd.cr.FieldsPerRecord = -1
		rd.cr.ReuseRecord = true
		head, err := rd.cr.Read()
		if err != nil {
			return nil, fmt.Errorf("%w: no CSV header row", ErrFile)
		}
		seen := map[string]bool{}
		for _, h := range head {
			f, ok := csvColumns[strings.TrimSpace(h)]
			if !ok || !kindColumns[kind][f] {
				return nil, fmt.Errorf("%w: unknown column %q", ErrFile, truncate(strings.TrimSpace(h), 40))
			}
			if seen[f] {
				return nil, fmt.Errorf("%w: column %q twice", ErrFile, f)
			}
			seen[f] = true
			rd.cols = append(rd.cols, f)
		}
		for _, f := range requiredColumns[kind] {
			if !seen[f] {
				return nil, fmt.Errorf("%w: column %q missing", ErrFile, f)
			}
		}
	}
	return rd, nil
}

// validUTF8Prefix reports whether b is valid UTF-8 but for a sequence cut
// at its end.
func validUTF8Prefix(b []byte) bool {
	for len(b) > 0 {
		r, n := utf8.DecodeRune(b)
		if r == utf8.RuneError && n <= 1 {
			return len(b) < utf8.UTFMax && !utf8.FullRune(b)
		}
		b = b[n:]
	}
	return true
}

// Next returns the next record, io.EOF at the end. A record that cannot be
// read as a row comes back with Reject set; other errors are the file's
// (I/O) and end the reading.
func (r *Reader) Next() (Record, error) {
	if r.format == CSV {
		return r.nextCSV()
	}
	return r.nextJSONL()
}

func (r *Reader) nextJSONL() (Record, error) {
	for {
		b, err := r.readLine()
		if err != nil {
			return Record{}, err
		}
		r.line++
		rec := Record{Line: r.line}
		if len(b) > maxLine {
			rec.Reject = &wire.ImportReject{Line: r.line, Reason: "line longer than 64 KiB"}
			return rec, nil
		}
		b = bytes.TrimSpace(b)
		if len(b) == 0 {
			continue // blank lines are not records
		}
		if !utf8.Valid(b) {
			rec.Reject = &wire.ImportReject{Line: r.line, Reason: "not UTF-8 text"}
			return rec, nil
		}
		var target any = &rec.Volunteer
		if r.kind == Hours {
			target = &rec.Hours
		}
		dec := json.NewDecoder(bytes.NewReader(b))
		dec.DisallowUnknownFields()
		if err := dec.Decode(target); err != nil || dec.More() {
			rec.Reject = &wire.ImportReject{Line: r.line, Reason: jsonReason(err)}
			return rec, nil
		}
		rec.Volunteer.Line, rec.Hours.Line = r.line, r.line
		if r.kind == Hours && (math.IsNaN(rec.Hours.Hours) || rec.Hours.Hours < 0) {
			rec.Reject = &wire.ImportReject{Line: r.line, Field: "hours", Reason: "must be a number of hours, 0 or more"}
		}
		return rec, nil
	}
}

// jsonReason describes a JSON decoding error without the line's data.
func jsonReason(err error) string {
	var te *json.UnmarshalTypeError
	switch {
	case err == nil:
		return "more than one JSON value on the line"
	case errors.As(err, &te):
		return "field " + te.Field + ": wrong type (want " + te.Type.String() + ")"
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		return "unknown field " + truncate(strings.TrimPrefix(err.Error(), "json: unknown field "), 40)
	}
	return "not a JSON object"
}

// readLine returns the next line without its newline, however long (the
// caller rejects long ones); io.EOF at the end.
func (r *Reader) readLine() ([]byte, error) {
	var out []byte
	for {
		frag, err := r.br.ReadSlice('\n')
		if len(out) <= maxLine {
			out = append(out, frag...)
		}
		if err == nil {
			return bytes.TrimSuffix(out, []byte("\n")), nil
		}
		if errors.Is(err, bufio.ErrBufferFull) {
			continue
		}
		if errors.Is(err, io.EOF) && len(out) > 0 {
			return out, nil
		}
		return nil, err
	}
}

func (r *Reader) nextCSV() (Record, error) {
	fields, err := r.cr.Read()
	var pe *csv.ParseError
	if errors.As(err, &pe) {
		return Record{Line: pe.StartLine, Reject: &wire.ImportReject{Line: pe.StartLine, Reason: "malformed CSV record: " + pe.Err.Error()}}, nil
	}
	if err != nil {
		return Record{}, err
	}
	line, _ := r.cr.FieldPos(0)
	r.line = line
	rec := Record{Line: line}
	if len(fields) != len(r.cols) {
		rec.Reject = &wire.ImportReject{Line: line, Reason: fmt.Sprintf("%d fields, the header has %d", len(fields), len(r.cols))}
		return rec, nil
	}
	v, h := &rec.Volunteer, &rec.Hours
	v.Line, h.Line = line, line
	for i, f := range r.cols {
		s := strings.TrimSpace(fields[i])
		if len(s) > 200 || !utf8.ValidString(s) {
			rec.Reject = &wire.ImportReject{Line: line, Field: f, Reason: "not text of at most 200 bytes"}
			return rec, nil
		}
		switch f {
		case "volunteer_number":
			v.VolunteerNumber, h.VolunteerNumber = s, s
		case "name":
			v.Name = s
		case "id_type":
			v.IDType = s
		case "id_number":
			v.IDNumber = s
		case "birth_date":
			v.BirthDate = s
		case "phone":
			v.Phone = s
		case "clothing_size":
			v.ClothingSize = s
		case "emboss_name":
			v.EmbossName = s
		case "org_id":
			n, err := strconv.ParseInt(s, 10, 64)
			if err != nil || n <= 0 {
				rec.Reject = &wire.ImportReject{Line: line, Field: f, Reason: "must be a positive whole number"}
				return rec, nil
			}
			v.OrgID = n
		case "league_member", "party_member":
			b, ok := parseBool(s)
			if !ok {
				rec.Reject = &wire.ImportReject{Line: line, Field: f, Reason: "must be true/false, 1/0 or 是/否"}
				return rec, nil
			}
			if f == "league_member" {
				v.LeagueMember = b
			} else {
				v.PartyMember = b
			}
		case "hours":
			x, err := strconv.ParseFloat(s, 64)
			if err != nil || math.IsNaN(x) || math.IsInf(x, 0) || x < 0 {
				rec.Reject = &wire.ImportReject{Line: line, Field: f, Reason: "must be a number of hours, 0 or more"}
				return rec, nil
			}
			h.Hours = x
		}
	}
	return rec, nil
}

func parseBool(s string) (bool, bool) {
	switch strings.ToLower(s) {
	case "", "0", "false", "no", "n", "否":
		return false, true
	case "1", "true", "yes", "y", "是":
		return true, true
	}
	return false, false
}

// truncate cuts s to at most n bytes (clip.Bytes) and marks a cut with
// an ellipsis.
func truncate(s string, n int) string {
	if c := clip.Bytes(s, n); c != s {
		return c + "…"
	}
	return s
}

// Offset is how many bytes of the file the reader has consumed (ahead of
// the records returned, by its buffer), for a progress bar.
func (r *Reader) Offset() int64 { return r.counter.n.Load() }
