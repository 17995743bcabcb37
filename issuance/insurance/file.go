package insurance

// The insurer's daily file (docs/insurance-and-rebates.md section 3): the
// enrolments started and ended on one China date, UTF-8, one record a
// line, fields separated by "|", a header, a trailer with the counts and
// a SHA-256 of everything before it.

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/volcard/volcard/issuance"
)

// FileFormat names the format in the header; FileVersion is its version.
const (
	FileFormat  = "VOLCARD-INSURANCE"
	FileVersion = "1"
)

// Record kinds of the file.
const (
	RecordAddition    = "A"
	RecordTermination = "T"
)

// purposeIDNumber is the pii purpose volunteers' ID numbers are sealed
// under (issuance).
const purposeIDNumber = "volunteer.id_number"

// FileRow is one enrolment of a day's file as the store reads it: the ID
// number still sealed.
type FileRow struct {
	Kind           string // RecordAddition or RecordTermination
	EnrolmentID    int64
	PolicyNumber   string
	Name           string
	IDType         string
	IDNumberSealed []byte
	Gender         string
	BirthDate      time.Time // zero when unknown
	OrgName        string
	CoverFen       int64
	StartsAt       time.Time
	EndsAt         time.Time // zero for additions
	EndReason      string
}

// Record is one data line of the file.
type Record struct {
	Kind         string
	Seq          int
	EnrolmentID  int64
	PolicyNumber string
	Name         string
	IDType       string
	IDNumber     string
	Gender       string
	BirthDate    string // YYYYMMDD or ""
	OrgName      string
	CoverFen     int64
	StartDate    string // YYYYMMDD, China: the first covered day
	LastDate     string // YYYYMMDD, China: the last covered day ("" for additions)
	Reason       string // why the cover ended ("" for additions)
}

// File is a parsed daily file.
type File struct {
	Date         string // YYYYMMDD
	Records      []Record
	Additions    int
	Terminations int
}

// recordFields is the number of fields of a data line, "D" included.
const recordFields = 15

// FormatError reports a malformed file: the line and what is wrong, never
// the line's content (it holds ID numbers).
type FormatError struct {
	Line   int
	Reason string
}

// Error implements error.
func (e *FormatError) Error() string {
	return fmt.Sprintf("insurance file line %d: %s", e.Line, e.Reason)
}

// ErrBadFile is what every *FormatError unwraps to.
var ErrBadFile = errors.New("bad insurance file")

// Unwrap makes errors.Is(err, ErrBadFile) true.
func (e *FormatError) Unwrap() error { return ErrBadFile }

// clean makes a value safe for the file: the separator and line breaks
// become spaces (names are validated UTF-8 already).
func clean(s string) string {
	return strings.Map(func(r rune) rune {
		if r == '|' || r == '\r' || r == '\n' {
			return ' '
		}
		return r
	}, s)
}

func yyyymmdd(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.In(issuance.ChinaTime).Format("20060102")
}

// civil formats a civil date stored as midnight UTC (a birth date).
func civil(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format("20060102")
}

// WriteFile writes the file of date (a YYYY-MM-DD China date) with the
// records given, numbering them from 1.
func WriteFile(w io.Writer, date string, recs []Record) error {
	d, err := time.Parse(time.DateOnly, date)
	if err != nil {
		return fmt.Errorf("insurance file: date %q: %w", date, err)
	}
	var buf bytes.Buffer
	fmt.Fprintf(&buf, "H|%s|%s|%s|%d\n", FileFormat, FileVersion, d.Format("20060102"), len(recs))
	adds, terms := 0, 0
	for i, r := range recs {
		switch r.Kind {
		case RecordAddition:
			adds++
		case RecordTermination:
			terms++
		default:
			return fmt.Errorf("insurance file: record %d: kind %q", i+1, r.Kind)
		}
		fields := []string{"D", r.Kind, strconv.Itoa(i + 1), strconv.FormatInt(r.EnrolmentID, 10), clean(r.PolicyNumber),
			clean(r.Name), clean(r.IDType), clean(r.IDNumber), clean(r.Gender), r.BirthDate, clean(r.OrgName),
			strconv.FormatInt(r.CoverFen, 10), r.StartDate, r.LastDate, clean(r.Reason)}
		buf.WriteString(strings.Join(fields, "|"))
		buf.WriteByte('\n')
	}
	sum := sha256.Sum256(buf.Bytes())
	fmt.Fprintf(&buf, "Z|%d|%d|%s\n", adds, terms, hex.EncodeToString(sum[:]))
	_, err = w.Write(buf.Bytes())
	return err
}

// maxFileLine bounds one line of a file read by ParseFile.
const maxFileLine = 4096

// ParseFile reads a daily file and checks it whole: header, every record's
// fields, the counts and the checksum of the trailer. Anything else is a
// *FormatError naming the line.
func ParseFile(r io.Reader) (File, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 1024), maxFileLine)
	h := sha256.New()
	var f File
	declared := -1
	line := 0
	bad := func(reason string) (File, error) { return File{}, &FormatError{Line: line, Reason: reason} }
	trailer := false
	for sc.Scan() {
		line++
		text := sc.Text()
		if trailer {
			return bad("data after the trailer")
		}
		fields := strings.Split(text, "|")
		switch {
		case line == 1:
			if len(fields) != 5 || fields[0] != "H" || fields[1] != FileFormat || fields[2] != FileVersion {
				return bad("not a " + FileFormat + " version " + FileVersion + " header")
			}
			if _, err := time.Parse("20060102", fields[3]); err != nil {
				return bad("bad file date")
			}
			n, err := strconv.Atoi(fields[4])
			if err != nil || n < 0 || fields[4] != strconv.Itoa(n) {
				return bad("bad record count")
			}
			f.Date, declared = fields[3], n
		case fields[0] == "D":
			rec, reason := parseRecord(fields, len(f.Records)+1)
			if reason != "" {
				return bad(reason)
			}
			if rec.Kind == RecordAddition {
				f.Additions++
			} else {
				f.Terminations++
			}
			f.Records = append(f.Records, rec)
		case fields[0] == "Z":
			if len(fields) != 4 {
				return bad("bad trailer")
			}
			if fields[1] != strconv.Itoa(f.Additions) || fields[2] != strconv.Itoa(f.Terminations) {
				return bad("trailer counts differ from the records")
			}
			if fields[3] != hex.EncodeToString(h.Sum(nil)) {
				return bad("checksum differs")
			}
			trailer = true
			continue
		default:
			return bad("unknown record type")
		}
		h.Write([]byte(text))
		h.Write([]byte{'\n'})
	}
	if err := sc.Err(); err != nil {
		line++
		return bad("unreadable (a line longer than 4096 bytes?)")
	}
	switch {
	case line == 0:
		line = 1
		return bad("empty file")
	case !trailer:
		line++
		return bad("no trailer")
	case declared != len(f.Records):
		return bad("header count differs from the records")
	}
	return f, nil
}

func parseRecord(fields []string, seq int) (Record, string) {
	if len(fields) != recordFields {
		return Record{}, fmt.Sprintf("want %d fields", recordFields)
	}
	r := Record{Kind: fields[1], PolicyNumber: fields[4], Name: fields[5], IDType: fields[6], IDNumber: fields[7],
		Gender: fields[8], BirthDate: fields[9], OrgName: fields[10], StartDate: fields[12], LastDate: fields[13],
		Reason: fields[14]}
	if r.Kind != RecordAddition && r.Kind != RecordTermination {
		return Record{}, "bad record kind"
	}
	if fields[2] != strconv.Itoa(seq) {
		return Record{}, "records out of sequence"
	}
	r.Seq = seq
	id, err := strconv.ParseInt(fields[3], 10, 64)
	if err != nil || id <= 0 {
		return Record{}, "bad enrolment id"
	}
	r.EnrolmentID = id
	cover, err := strconv.ParseInt(fields[11], 10, 64)
	if err != nil || cover <= 0 {
		return Record{}, "bad cover"
	}
	r.CoverFen = cover
	for _, d := range []string{r.BirthDate, r.LastDate} {
		if d == "" {
			continue
		}
		if _, err := time.Parse("20060102", d); err != nil {
			return Record{}, "bad date"
		}
	}
	if _, err := time.Parse("20060102", r.StartDate); err != nil {
		return Record{}, "bad start date"
	}
	if (r.Kind == RecordTermination) != (r.LastDate != "") {
		return Record{}, "a termination, and only one, has a last covered day"
	}
	if r.Name == "" || r.IDNumber == "" || r.PolicyNumber == "" {
		return Record{}, "name, ID number and policy number are required"
	}
	return r, ""
}

// DailyFile writes the insurer's file of day (YYYY-MM-DD, China): the
// enrolments started that day and those whose end was recorded that day,
// with the holders' names and ID numbers in clear. The caller protects the
// output (the CLI and the job write it 0600; the API sends it to the
// province admin only, never cached) and never logs it. Roles:
// province_admin, system.
func (s *Service) DailyFile(ctx context.Context, a issuance.Actor, day string, w io.Writer) (adds, terms int, err error) {
	if err := issuance.RequireRole(a, issuance.RoleProvinceAdmin, issuance.RoleSystem); err != nil {
		return 0, 0, err
	}
	if _, err := time.Parse(time.DateOnly, day); err != nil {
		return 0, 0, issuance.Invalid("date", "must be a date YYYY-MM-DD")
	}
	rows, err := s.st.FileRows(ctx, day)
	if err != nil {
		return 0, 0, fmt.Errorf("insurance file %s: %w", day, err)
	}
	recs := make([]Record, 0, len(rows))
	for _, r := range rows {
		id, err := s.svc.Open(purposeIDNumber, r.IDNumberSealed)
		if err != nil {
			return 0, 0, fmt.Errorf("insurance file %s: enrolment %d: %w", day, r.EnrolmentID, err)
		}
		rec := Record{Kind: r.Kind, EnrolmentID: r.EnrolmentID, PolicyNumber: r.PolicyNumber, Name: r.Name,
			IDType: r.IDType, IDNumber: id, Gender: r.Gender, BirthDate: civil(r.BirthDate), OrgName: r.OrgName,
			CoverFen: r.CoverFen, StartDate: yyyymmdd(r.StartsAt)}
		if r.Kind == RecordTermination {
			rec.LastDate, rec.Reason = yyyymmdd(r.EndsAt.Add(-time.Nanosecond)), r.EndReason
			if r.EndsAt.Before(r.StartsAt) || r.EndsAt.Equal(r.StartsAt) {
				rec.LastDate = rec.StartDate
			}
			terms++
		} else {
			adds++
		}
		recs = append(recs, rec)
	}
	if err := WriteFile(w, day, recs); err != nil {
		return 0, 0, err
	}
	return adds, terms, nil
}
