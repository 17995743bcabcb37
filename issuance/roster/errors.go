package roster

import (
	"errors"
	"fmt"
	"strings"
)

// Sentinel errors of file-level problems. Match them with errors.Is; the
// error is usually a *FileError or *HeaderError that says where.
var (
	// ErrTooLarge means the file is over Limits.MaxBytes, or an XLSX
	// workbook unzips to more than Limits.MaxUnzipped (a zip bomb).
	ErrTooLarge = errors.New("roster file too large")
	// ErrTooManyRows means the file has more data rows than Limits.MaxRows.
	ErrTooManyRows = errors.New("roster has too many rows")
	// ErrCellTooLong means a cell is longer than Limits.MaxCellLen.
	ErrCellTooLong = errors.New("roster cell too long")
	// ErrTooManyColumns means a row has more than Limits.MaxColumns cells.
	ErrTooManyColumns = errors.New("roster row has too many columns")
	// ErrMalformed means the file cannot be read as CSV or XLSX.
	ErrMalformed = errors.New("malformed roster file")
	// ErrUnsupportedFormat means the format is neither CSV nor XLSX.
	ErrUnsupportedFormat = errors.New("unsupported roster format")
	// ErrEmpty means the file holds no header row.
	ErrEmpty = errors.New("roster file is empty")
	// ErrBadHeader means required columns are missing or a column appears
	// twice. The error is a *HeaderError.
	ErrBadHeader = errors.New("bad roster header")
)

// FileError is a file-level problem at a place in the file. Its text holds
// no cell contents.
type FileError struct {
	Line   int    // 1-based line (CSV record) or row (XLSX); 0 when unknown
	Column int    // 1-based column; 0 when not about one cell
	Detail string // what is wrong, safe to show
	Err    error  // one of the sentinels
}

// Error implements error.
func (e *FileError) Error() string {
	var b strings.Builder
	b.WriteString(e.Err.Error())
	if e.Line > 0 {
		fmt.Fprintf(&b, " at line %d", e.Line)
	}
	if e.Column > 0 {
		fmt.Fprintf(&b, " column %d", e.Column)
	}
	if e.Detail != "" {
		b.WriteString(": ")
		b.WriteString(e.Detail)
	}
	return b.String()
}

// Unwrap returns the sentinel.
func (e *FileError) Unwrap() error { return e.Err }

// HeaderError reports required columns missing from the header row, or
// columns given twice.
type HeaderError struct {
	Line      int     // line of the header row
	Missing   []Field // required columns not found
	Duplicate []Field // columns found more than once
}

// Error implements error.
func (e *HeaderError) Error() string {
	var parts []string
	if len(e.Missing) > 0 {
		parts = append(parts, "missing required column(s) "+fieldList(e.Missing))
	}
	if len(e.Duplicate) > 0 {
		parts = append(parts, "column(s) given twice "+fieldList(e.Duplicate))
	}
	return fmt.Sprintf("bad roster header at line %d: %s", e.Line, strings.Join(parts, "; "))
}

// Unwrap makes errors.Is(err, ErrBadHeader) true.
func (e *HeaderError) Unwrap() error { return ErrBadHeader }

func fieldList(fs []Field) string {
	s := make([]string, len(fs))
	for i, f := range fs {
		s[i] = f.Label()
	}
	return strings.Join(s, ", ")
}
