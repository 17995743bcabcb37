package bankgw

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Trace identifies one request on the wire: its MTI, STAN (11),
// transmission date-time (7) and RRN (37). A repeat reuses the trace of the
// original (with the repeat MTI); a reversal refers to it in field 90.
type Trace struct {
	MTI           string
	STAN          string
	TransmittedAt time.Time
	RRN           string
}

// Transmission returns field 7 of the trace.
func (t Trace) Transmission() string { return TransmissionDateTime(t.TransmittedAt) }

// IsZero reports whether the trace is unset.
func (t Trace) IsZero() bool { return t.STAN == "" }

// STANAllocator hands out STANs (field 11): unique per sender per UTC day
// and never reused within the day, also across restarts.
type STANAllocator interface {
	// Next returns the next STAN ("000001"–"999999") for the UTC day of at.
	Next(ctx context.Context, at time.Time) (string, error)
}

// MemorySTAN is an in-memory STANAllocator for tests and single runs; it
// restarts at 000001 with every process.
type MemorySTAN struct {
	mu   sync.Mutex
	day  string
	last int
}

var _ STANAllocator = (*MemorySTAN)(nil)

// Next implements STANAllocator.
func (m *MemorySTAN) Next(_ context.Context, at time.Time) (string, error) {
	day := at.UTC().Format("20060102")
	m.mu.Lock()
	defer m.mu.Unlock()
	if day != m.day {
		m.day, m.last = day, 0
	}
	if m.last >= 999999 {
		return "", ErrSTANExhausted
	}
	m.last++
	return fmt.Sprintf("%06d", m.last), nil
}

// FileSTAN is a STANAllocator persisted in a small file so that a restart
// never reuses a STAN of the same day. It reserves blocks of STANs: the
// file records the highest STAN that may have been handed out, written and
// synced before any STAN of the block is used; after a restart the unused
// rest of the block is skipped. One process per file.
type FileSTAN struct {
	path  string
	block int

	mu   sync.Mutex
	day  string
	last int
	high int
}

var _ STANAllocator = (*FileSTAN)(nil)

// NewFileSTAN opens (or creates) the allocator file at path. block is the
// number of STANs reserved per write (1–10000; 0 means 100).
func NewFileSTAN(path string, block int) (*FileSTAN, error) {
	if block == 0 {
		block = 100
	}
	if path == "" || block < 1 || block > 10000 {
		return nil, fmt.Errorf("file STAN path %q block %d: %w", path, block, ErrInvalidConfig)
	}
	f := &FileSTAN{path: path, block: block}
	b, err := os.ReadFile(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
	case err != nil:
		return nil, fmt.Errorf("read STAN file: %w", err)
	default:
		day, high, ok := strings.Cut(strings.TrimSpace(string(b)), " ")
		n, perr := strconv.Atoi(high)
		if !ok || len(day) != 8 || perr != nil || n < 0 || n > 999999 {
			return nil, fmt.Errorf("STAN file %s: %w", path, ErrFormat)
		}
		f.day, f.high, f.last = day, n, n
	}
	return f, nil
}

// Next implements STANAllocator.
func (f *FileSTAN) Next(_ context.Context, at time.Time) (string, error) {
	day := at.UTC().Format("20060102")
	f.mu.Lock()
	defer f.mu.Unlock()
	if day != f.day {
		if day < f.day {
			// The clock went back over midnight: keep counting in the
			// later day rather than reuse its STANs.
			day = f.day
		} else {
			f.day, f.last, f.high = day, 0, 0
		}
	}
	if f.last >= 999999 {
		return "", ErrSTANExhausted
	}
	if f.last+1 > f.high {
		high := min(f.last+f.block, 999999)
		if err := f.persist(day, high); err != nil {
			return "", err
		}
		f.high = high
	}
	f.last++
	return fmt.Sprintf("%06d", f.last), nil
}

func (f *FileSTAN) persist(day string, high int) error {
	tmp := f.path + ".tmp"
	fh, err := os.OpenFile(tmp, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o600)
	if err != nil {
		return fmt.Errorf("persist STAN: %w", err)
	}
	w := bufio.NewWriter(fh)
	fmt.Fprintf(w, "%s %06d\n", day, high)
	if err := errors.Join(w.Flush(), fh.Sync(), fh.Close()); err != nil {
		return fmt.Errorf("persist STAN: %w", err)
	}
	if err := os.Rename(tmp, f.path); err != nil {
		return fmt.Errorf("persist STAN: %w", err)
	}
	if d, err := os.Open(filepath.Dir(f.path)); err == nil {
		_ = d.Sync()
		_ = d.Close()
	}
	return nil
}

// NewRRN returns the RRN of docs/bank-interface.md section 4: last digit of
// the UTC year, UTC day of year (3 digits), UTC hour (2 digits) and the
// STAN (6 digits).
func NewRRN(at time.Time, stan string) string {
	u := at.UTC()
	return fmt.Sprintf("%d%03d%02d%s", u.Year()%10, u.YearDay(), u.Hour(), stan)
}
