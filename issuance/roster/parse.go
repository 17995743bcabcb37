package roster

import (
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"

	"github.com/xuri/excelize/v2"
	"golang.org/x/text/encoding/simplifiedchinese"
)

// Format is the file format of a roster.
type Format string

// Formats.
const (
	FormatCSV  Format = "csv"
	FormatXLSX Format = "xlsx"
)

// Encoding is the character encoding of a CSV roster or rejected-rows file.
type Encoding string

// Encodings.
const (
	UTF8    Encoding = "utf-8"
	GB18030 Encoding = "gb18030"
)

// Media types of the formats.
const (
	MediaCSV  = "text/csv"
	MediaXLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
)

// Limits bound what a roster may cost to read. Zero fields take the
// defaults of DefaultLimits.
type Limits struct {
	// MaxBytes is the largest file accepted (default 8 MiB).
	MaxBytes int64
	// MaxUnzipped is the largest total uncompressed size of an XLSX
	// package (default 64 MiB): a zip bomb is refused before it is inflated.
	MaxUnzipped int64
	// MaxRows is the largest number of data rows (default 20,000).
	MaxRows int
	// MaxColumns is the largest number of cells in a row (default 64).
	MaxColumns int
	// MaxCellLen is the longest cell in characters (default 256).
	MaxCellLen int
}

// DefaultLimits are the limits used for zero fields.
var DefaultLimits = Limits{MaxBytes: 8 << 20, MaxUnzipped: 64 << 20, MaxRows: 20_000, MaxColumns: 64, MaxCellLen: 256}

func (l Limits) withDefaults() Limits {
	d := DefaultLimits
	if l.MaxBytes > 0 {
		d.MaxBytes = l.MaxBytes
	}
	if l.MaxUnzipped > 0 {
		d.MaxUnzipped = l.MaxUnzipped
	}
	if l.MaxRows > 0 {
		d.MaxRows = l.MaxRows
	}
	if l.MaxColumns > 0 {
		d.MaxColumns = l.MaxColumns
	}
	if l.MaxCellLen > 0 {
		d.MaxCellLen = l.MaxCellLen
	}
	return d
}

// Row is one data row: the mapped cells, trimmed.
type Row struct {
	Line   int // 1-based line (CSV record number) or spreadsheet row
	values [6]string
}

// Get returns the cell of field f ("" when empty).
func (r Row) Get(f Field) string {
	if i := f.index(); i >= 0 {
		return r.values[i]
	}
	return ""
}

// Blank reports whether every mapped cell is empty.
func (r Row) Blank() bool {
	for _, v := range r.values {
		if v != "" {
			return false
		}
	}
	return true
}

// File is a parsed roster.
type File struct {
	Format    Format
	Encoding  Encoding // of CSV files; UTF8 for XLSX
	Header    Header
	Rows      []Row // data rows in file order, blank rows left out
	BlankRows int   // blank rows skipped after the header
}

// DetectFormat tells CSV from XLSX by content: a ZIP signature is XLSX.
func DetectFormat(data []byte) Format {
	if bytes.HasPrefix(data, []byte("PK\x03\x04")) {
		return FormatXLSX
	}
	return FormatCSV
}

// FormatFromMediaType maps a Content-Type (parameters ignored) to a
// format; ok is false for anything else.
func FormatFromMediaType(mt string) (Format, bool) {
	mt, _, _ = strings.Cut(mt, ";")
	switch strings.ToLower(strings.TrimSpace(mt)) {
	case MediaCSV, "application/csv", "text/comma-separated-values":
		return FormatCSV, true
	case MediaXLSX:
		return FormatXLSX, true
	}
	return "", false
}

// Parse reads a whole roster. format "" detects it from the content. All
// file-level problems (limits, malformed file, header) are reported here,
// before any row is used.
func Parse(data []byte, format Format, lim Limits) (*File, error) {
	lim = lim.withDefaults()
	if int64(len(data)) > lim.MaxBytes {
		return nil, &FileError{Err: ErrTooLarge, Detail: fmt.Sprintf("the file is %d bytes; the limit is %d", len(data), lim.MaxBytes)}
	}
	if format == "" {
		format = DetectFormat(data)
	}
	var it iterator
	f := &File{Format: format, Encoding: UTF8}
	switch format {
	case FormatCSV:
		text, enc, err := decodeText(data)
		if err != nil {
			return nil, err
		}
		f.Encoding = enc
		it = newCSVIterator(text)
	case FormatXLSX:
		x, err := newXLSXIterator(data, lim)
		if err != nil {
			return nil, err
		}
		defer x.close()
		it = x
	default:
		return nil, &FileError{Err: ErrUnsupportedFormat, Detail: "send text/csv or " + MediaXLSX}
	}
	if err := f.read(it, lim); err != nil {
		return nil, err
	}
	return f, nil
}

// decodeText returns the CSV text as UTF-8: a UTF-8 byte-order mark is
// dropped; valid UTF-8 is kept; anything else is decoded as GB18030.
func decodeText(data []byte) (string, Encoding, error) {
	data = bytes.TrimPrefix(data, []byte("\xef\xbb\xbf"))
	if utf8.Valid(data) {
		return string(data), UTF8, nil
	}
	out, err := simplifiedchinese.GB18030.NewDecoder().Bytes(data)
	if err != nil || bytes.ContainsRune(out, utf8.RuneError) { // the decoder replaces bad bytes with U+FFFD
		return "", "", &FileError{Err: ErrMalformed, Detail: "the file is neither UTF-8 nor GB18030 text"}
	}
	return string(out), GB18030, nil
}

// iterator yields records; line is the 1-based line or row number.
type iterator interface {
	next() (line int, cells []string, err error) // io.EOF at the end
}

func (f *File) read(it iterator, lim Limits) error {
	headerSeen := false
	for {
		line, cells, err := it.next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return err
		}
		// Blank rows cost too (an XLSX row number far down the sheet makes
		// the reader walk every row before it): bound the walk.
		if line > 2*lim.MaxRows+1000 {
			return &FileError{Line: line, Err: ErrTooManyRows, Detail: fmt.Sprintf("the limit is %d rows; split the roster", lim.MaxRows)}
		}
		if len(cells) > lim.MaxColumns {
			return &FileError{Line: line, Err: ErrTooManyColumns, Detail: fmt.Sprintf("the limit is %d", lim.MaxColumns)}
		}
		for i, c := range cells {
			if len(c) > lim.MaxCellLen && utf8.RuneCountInString(c) > lim.MaxCellLen {
				return &FileError{Line: line, Column: i + 1, Err: ErrCellTooLong, Detail: fmt.Sprintf("the limit is %d characters", lim.MaxCellLen)}
			}
		}
		if !headerSeen {
			if blankCells(cells) {
				continue
			}
			h, err := MapHeader(line, cells)
			if err != nil {
				return err
			}
			f.Header, headerSeen = h, true
			continue
		}
		r := f.Header.row(line, cells)
		if r.Blank() {
			f.BlankRows++
			continue
		}
		if len(f.Rows) >= lim.MaxRows {
			return &FileError{Line: line, Err: ErrTooManyRows, Detail: fmt.Sprintf("the limit is %d rows; split the roster", lim.MaxRows)}
		}
		f.Rows = append(f.Rows, r)
	}
	if !headerSeen {
		return &FileError{Err: ErrEmpty, Detail: "no header row found"}
	}
	return nil
}

func blankCells(cells []string) bool {
	for _, c := range cells {
		if strings.TrimSpace(strings.Trim(c, "\ufeff")) != "" {
			return false
		}
	}
	return true
}

type csvIterator struct {
	r    *csv.Reader
	line int
}

func newCSVIterator(text string) *csvIterator {
	r := csv.NewReader(strings.NewReader(text))
	r.FieldsPerRecord = -1
	r.LazyQuotes = true
	r.ReuseRecord = true
	return &csvIterator{r: r}
}

func (c *csvIterator) next() (int, []string, error) {
	rec, err := c.r.Read()
	if err != nil {
		if errors.Is(err, io.EOF) {
			return 0, nil, io.EOF
		}
		var pe *csv.ParseError
		line := c.line + 1
		if errors.As(err, &pe) {
			line = pe.StartLine
		}
		return 0, nil, &FileError{Line: line, Err: ErrMalformed, Detail: "not valid CSV"}
	}
	c.line++
	return c.line, rec, nil
}

type xlsxIterator struct {
	f    *excelize.File
	rows *excelize.Rows
	line int
}

func newXLSXIterator(data []byte, lim Limits) (*xlsxIterator, error) {
	if DetectFormat(data) != FormatXLSX {
		return nil, &FileError{Err: ErrMalformed, Detail: "not an XLSX workbook"}
	}
	f, err := excelize.OpenReader(bytes.NewReader(data), excelize.Options{
		UnzipSizeLimit:    lim.MaxUnzipped,
		UnzipXMLSizeLimit: lim.MaxUnzipped, // keep worksheets in memory, never in temp files
	})
	if err != nil {
		if strings.Contains(err.Error(), "unzip size") {
			return nil, &FileError{Err: ErrTooLarge, Detail: fmt.Sprintf("the workbook unzips to more than %d bytes", lim.MaxUnzipped)}
		}
		return nil, &FileError{Err: ErrMalformed, Detail: "not a readable XLSX workbook"}
	}
	sheets := f.GetSheetList()
	if len(sheets) == 0 {
		_ = f.Close()
		return nil, &FileError{Err: ErrEmpty, Detail: "the workbook has no sheet"}
	}
	rows, err := f.Rows(sheets[0])
	if err != nil {
		_ = f.Close()
		return nil, &FileError{Err: ErrMalformed, Detail: "the first sheet cannot be read"}
	}
	return &xlsxIterator{f: f, rows: rows}, nil
}

func (x *xlsxIterator) next() (int, []string, error) {
	if !x.rows.Next() {
		if err := x.rows.Error(); err != nil {
			return 0, nil, &FileError{Line: x.line + 1, Err: ErrMalformed, Detail: "the sheet cannot be read"}
		}
		return 0, nil, io.EOF
	}
	x.line++
	cells, err := x.rows.Columns()
	if err != nil {
		return 0, nil, &FileError{Line: x.line, Err: ErrMalformed, Detail: "the row cannot be read"}
	}
	return x.line, cells, nil
}

func (x *xlsxIterator) close() {
	_ = x.rows.Close()
	_ = x.f.Close()
}
