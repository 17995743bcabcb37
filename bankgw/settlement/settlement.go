package settlement

import (
	"bufio"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"strconv"
	"strings"
	"time"
)

// Format constants of the file (docs/bank-interface.md).
const (
	// Magic is the second field of the header.
	Magic = "VOLCARD-SETTLEMENT"
	// Version is the format version this package reads and writes.
	Version = 1
	// KeySize is the size of a reconciliation key in bytes.
	KeySize = 32
	// MaxLine is the longest line accepted, in bytes (a row is < 100).
	MaxLine = 1024
	// MaxRows is the largest row count a header may announce.
	MaxRows = 10_000_000
	// DateLayout is the layout of the business and activation dates.
	DateLayout = "2006-01-02"
	// panMACHexLen is the length of a PAN MAC in hex (128 bits).
	panMACHexLen = 32
)

// Errors returned by this package.
var (
	// ErrFormat means the file does not follow the format; a *FormatError
	// says where.
	ErrFormat = errors.New("settlement: format error")
	// ErrFileMAC means the trailer's MAC does not verify: the file was
	// altered, truncated or made with another key.
	ErrFileMAC = errors.New("settlement: file MAC does not verify (altered, truncated or another key)")
	// ErrKey means a reconciliation key is not KeySize bytes.
	ErrKey = errors.New("settlement: reconciliation key must be 32 bytes")
)

// FormatError is a format error at a line of the file. It never quotes a
// line, only names the field.
type FormatError struct {
	Line   int
	Reason string
}

func (e *FormatError) Error() string {
	return fmt.Sprintf("settlement: line %d: %s", e.Line, e.Reason)
}

// Unwrap makes errors.Is(err, ErrFormat) true.
func (e *FormatError) Unwrap() error { return ErrFormat }

// State is a card's state at the bank, the letters of field 48 subfield CS.
type State string

// Card states.
const (
	StateIssued    State = "I"
	StateActive    State = "A"
	StateBlocked   State = "B"
	StateReplaced  State = "R"
	StateCancelled State = "C"
)

// Valid reports whether s is one of the states.
func (s State) Valid() bool {
	switch s {
	case StateIssued, StateActive, StateBlocked, StateReplaced, StateCancelled:
		return true
	}
	return false
}

// Header is the first line of a file.
type Header struct {
	BankCode string
	// Date is the business date (midnight UTC of the civil date).
	Date time.Time
	Rows int
}

// Row is one card the bank holds.
type Row struct {
	// Line is the row's line number in the file (the header is line 1).
	Line              int
	ApplicationNumber string
	// ReplaceSeq is 0 for the first card of the application, 1 for its
	// first replacement, and so on.
	ReplaceSeq int
	// ProductCode is the bank product code (field 48 subfield PC).
	ProductCode string
	LastFour    string
	// PANMAC is PANMAC(key, PAN): 32 lower-case hex digits.
	PANMAC string
	State  State
	// Activated is the activation date, zero when never activated.
	Activated time.Time
}

// Keys are the two keys derived from a bank's reconciliation key.
type Keys struct {
	pan  []byte
	file []byte
}

// DeriveKeys derives the PAN and file MAC keys from a reconciliation key:
// HMAC-SHA256(key, "volcard-settlement-pan") and
// HMAC-SHA256(key, "volcard-settlement-file").
func DeriveKeys(key []byte) (Keys, error) {
	if len(key) != KeySize {
		return Keys{}, ErrKey
	}
	d := func(label string) []byte {
		m := hmac.New(sha256.New, key)
		m.Write([]byte(label))
		return m.Sum(nil)
	}
	return Keys{pan: d("volcard-settlement-pan"), file: d("volcard-settlement-file")}, nil
}

// PANMAC returns the first 16 bytes of HMAC-SHA256(pan key, PAN) in lower-case
// hex: the same PAN always gives the same value, and without the key it
// cannot be searched for among the PANs of a BIN.
func (k Keys) PANMAC(pan string) string {
	m := hmac.New(sha256.New, k.pan)
	m.Write([]byte(pan))
	return hex.EncodeToString(m.Sum(nil)[:panMACHexLen/2])
}

// Writer writes a file: the header at NewWriter, rows with Write, the
// trailer at Close. It checks the count.
type Writer struct {
	w    *bufio.Writer
	mac  hash.Hash
	want int
	n    int
	err  error
}

// NewWriter writes h's header to w.
func NewWriter(w io.Writer, k Keys, h Header) (*Writer, error) {
	if len(k.file) == 0 {
		return nil, ErrKey
	}
	if !validCode(h.BankCode, 1, 8) {
		return nil, fmt.Errorf("settlement: bank code %q: want 1–8 letters or digits", h.BankCode)
	}
	if h.Rows < 0 || h.Rows > MaxRows {
		return nil, fmt.Errorf("settlement: row count %d out of range", h.Rows)
	}
	wr := &Writer{w: bufio.NewWriter(w), mac: hmac.New(sha256.New, k.file), want: h.Rows}
	wr.line(fmt.Sprintf("H,%s,%d,%s,%s,%d", Magic, Version, h.BankCode, h.Date.Format(DateLayout), h.Rows))
	return wr, wr.err
}

func (w *Writer) line(s string) {
	if w.err != nil {
		return
	}
	w.mac.Write([]byte(s))
	w.mac.Write([]byte{'\n'})
	_, w.err = w.w.WriteString(s + "\n")
}

// Write writes one row.
func (w *Writer) Write(r Row) error {
	if err := checkRow(r); err != nil {
		return err
	}
	if w.n == w.want {
		return fmt.Errorf("settlement: more rows than the header's %d", w.want)
	}
	w.n++
	act := ""
	if !r.Activated.IsZero() {
		act = r.Activated.Format(DateLayout)
	}
	w.line(fmt.Sprintf("D,%s,%d,%s,%s,%s,%s,%s", r.ApplicationNumber, r.ReplaceSeq, r.ProductCode, r.LastFour,
		r.PANMAC, r.State, act))
	return w.err
}

// Close writes the trailer and flushes; it does not close the underlying
// writer.
func (w *Writer) Close() error {
	if w.err != nil {
		return w.err
	}
	if w.n != w.want {
		return fmt.Errorf("settlement: %d rows written, header says %d", w.n, w.want)
	}
	sum := hex.EncodeToString(w.mac.Sum(nil))
	if _, err := fmt.Fprintf(w.w, "T,%d,%s\n", w.n, sum); err != nil {
		return err
	}
	return w.w.Flush()
}

// Reader reads a file line by line.
type Reader struct {
	sc     *bufio.Scanner
	mac    hash.Hash
	header Header
	line   int
	n      int
	done   bool
}

// NewReader reads and checks the header. The trailer and its MAC are
// checked when Next reaches them; only then does Next return io.EOF, so a
// caller must treat the rows as unconfirmed until it has.
func NewReader(r io.Reader, k Keys) (*Reader, error) {
	if len(k.file) == 0 {
		return nil, ErrKey
	}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 256), MaxLine)
	rd := &Reader{sc: sc, mac: hmac.New(sha256.New, k.file)}
	s, err := rd.next()
	if err != nil {
		if errors.Is(err, io.EOF) {
			return nil, &FormatError{Line: 1, Reason: "empty file: want a header line"}
		}
		return nil, err
	}
	f := strings.Split(s, ",")
	if len(f) != 6 || f[0] != "H" {
		return nil, &FormatError{Line: 1, Reason: "header: want H," + Magic + ",1,BANK,YYYY-MM-DD,ROWS"}
	}
	if f[1] != Magic {
		return nil, &FormatError{Line: 1, Reason: "header: not a " + Magic + " file"}
	}
	if f[2] != strconv.Itoa(Version) {
		return nil, &FormatError{Line: 1, Reason: "header: unsupported version (this reader reads version 1)"}
	}
	if !validCode(f[3], 1, 8) {
		return nil, &FormatError{Line: 1, Reason: "header: bank code must be 1–8 letters or digits"}
	}
	d, err := time.Parse(DateLayout, f[4])
	if err != nil {
		return nil, &FormatError{Line: 1, Reason: "header: business date must be YYYY-MM-DD"}
	}
	n, err := strconv.Atoi(f[5])
	if err != nil || n < 0 || n > MaxRows || !digits(f[5]) {
		return nil, &FormatError{Line: 1, Reason: "header: row count must be a number 0–10000000"}
	}
	rd.header = Header{BankCode: f[3], Date: d, Rows: n}
	return rd, nil
}

// Header returns the file's header.
func (r *Reader) Header() Header { return r.header }

// next returns the next line without its end (LF or CRLF), adding it to
// the MAC unless it is the trailer.
func (r *Reader) next() (string, error) {
	if !r.sc.Scan() {
		if err := r.sc.Err(); err != nil {
			if errors.Is(err, bufio.ErrTooLong) {
				return "", &FormatError{Line: r.line + 1, Reason: fmt.Sprintf("line longer than %d bytes", MaxLine)}
			}
			return "", fmt.Errorf("settlement: read: %w", err)
		}
		return "", io.EOF
	}
	r.line++
	s := strings.TrimSuffix(r.sc.Text(), "\r")
	if r.line == 1 {
		s = strings.TrimPrefix(s, "\uFEFF") // a byte-order mark is not part of the file MAC
	}
	if !strings.HasPrefix(s, "T,") {
		r.mac.Write([]byte(s))
		r.mac.Write([]byte{'\n'})
	}
	return s, nil
}

// Next returns the next row; io.EOF once the trailer has been read and
// verified (count and MAC).
func (r *Reader) Next() (Row, error) {
	if r.done {
		return Row{}, io.EOF
	}
	s, err := r.next()
	if errors.Is(err, io.EOF) {
		return Row{}, &FormatError{Line: r.line + 1, Reason: "no trailer: the file is truncated"}
	}
	if err != nil {
		return Row{}, err
	}
	if strings.HasPrefix(s, "T,") {
		return Row{}, r.trailer(s)
	}
	f := strings.Split(s, ",")
	if f[0] != "D" || len(f) != 8 {
		return Row{}, &FormatError{Line: r.line, Reason: "want a data row of 8 fields (D,APPLICATION,SEQ,PRODUCT,LAST4,PANMAC,STATE,ACTIVATED) or the trailer"}
	}
	if r.n == r.header.Rows {
		return Row{}, &FormatError{Line: r.line, Reason: fmt.Sprintf("more rows than the header's %d", r.header.Rows)}
	}
	row := Row{Line: r.line, ApplicationNumber: f[1], ProductCode: f[3], LastFour: f[4], PANMAC: f[5], State: State(f[6])}
	seq, err := strconv.Atoi(f[2])
	if err != nil || !digits(f[2]) || len(f[2]) > 2 {
		return Row{}, &FormatError{Line: r.line, Reason: "replacement sequence must be 0–99"}
	}
	row.ReplaceSeq = seq
	if f[7] != "" {
		a, err := time.Parse(DateLayout, f[7])
		if err != nil {
			return Row{}, &FormatError{Line: r.line, Reason: "activation date must be YYYY-MM-DD or empty"}
		}
		row.Activated = a
	}
	if err := checkRow(row); err != nil {
		var fe *FormatError
		if errors.As(err, &fe) {
			fe.Line = r.line
		}
		return Row{}, err
	}
	r.n++
	return row, nil
}

func (r *Reader) trailer(s string) error {
	f := strings.Split(s, ",")
	if len(f) != 3 {
		return &FormatError{Line: r.line, Reason: "trailer: want T,ROWS,MAC"}
	}
	n, err := strconv.Atoi(f[1])
	if err != nil || !digits(f[1]) || n != r.header.Rows || n != r.n {
		return &FormatError{Line: r.line, Reason: fmt.Sprintf("trailer: row count must be %d (header) and match the %d rows read", r.header.Rows, r.n)}
	}
	got, err := hex.DecodeString(f[2])
	if err != nil || !hmac.Equal(got, r.mac.Sum(nil)) {
		return ErrFileMAC
	}
	if r.sc.Scan() {
		if strings.TrimSpace(r.sc.Text()) != "" || r.sc.Scan() {
			return &FormatError{Line: r.line + 1, Reason: "text after the trailer"}
		}
	}
	r.done = true
	return io.EOF
}

// checkRow validates a row's fields (Line is left to the caller).
func checkRow(r Row) error {
	bad := func(reason string) error { return &FormatError{Line: r.Line, Reason: reason} }
	switch {
	case !validCode(r.ApplicationNumber, 1, 32):
		return bad("application number must be 1–32 letters, digits or hyphens")
	case r.ReplaceSeq < 0 || r.ReplaceSeq > 99:
		return bad("replacement sequence must be 0–99")
	case !validCode(r.ProductCode, 1, 16):
		return bad("product code must be 1–16 letters or digits")
	case len(r.LastFour) != 4 || !digits(r.LastFour):
		return bad("PAN last four must be 4 digits")
	case len(r.PANMAC) != panMACHexLen || !lowerHex(r.PANMAC):
		return bad("PAN MAC must be 32 lower-case hex digits")
	case !r.State.Valid():
		return bad("state must be I, A, B, R or C")
	}
	return nil
}

func validCode(s string, minLen, maxLen int) bool {
	if len(s) < minLen || len(s) > maxLen {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= '0' && c <= '9' || c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c == '-') {
			return false
		}
	}
	return true
}

func digits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

func lowerHex(s string) bool {
	for i := 0; i < len(s); i++ {
		if !(s[i] >= '0' && s[i] <= '9' || s[i] >= 'a' && s[i] <= 'f') {
			return false
		}
	}
	return true
}
