package importer

import (
	"context"
	"crypto/sha256"
	"encoding/csv"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/schollz/progressbar/v3"

	"github.com/volcard/volcard/client"
	"github.com/volcard/volcard/wire"
)

// API is the part of *client.Client the importer uses.
type API interface {
	ImportVolunteers(ctx context.Context, b wire.ImportVolunteersBatch) (wire.ImportBatchResult, error)
	ImportHours(ctx context.Context, b wire.ImportHoursBatch) (wire.ImportBatchResult, error)
	ImportStatus(ctx context.Context, importID string) (wire.ImportStatus, error)
}

var _ API = (*client.Client)(nil)

// Config configures Run. Zero values take the defaults given.
type Config struct {
	API  API    // required
	Kind Kind   // required
	Path string // the file; required
	// Format: by the file's extension (.csv → CSV, else JSONL) when empty.
	Format   Format
	Encoding Encoding
	// BatchSize is the number of records a batch (default 5000, at most
	// 10000). It is part of the default ImportID: the same file with the
	// same batch size resumes.
	BatchSize int
	// ImportID names the import; default derived from the file's SHA-256,
	// the kind and BatchSize, so a re-run of the same file resumes.
	ImportID string
	// Concurrency is the number of batches in flight (default 2).
	Concurrency int
	// Rejected receives the report of rejected rows (CSV: line, field,
	// reason), in the file's order; nil discards it.
	Rejected io.Writer
	// Progress receives progress: a bar when TTY, else one line every
	// Every records (default 100,000) and at the end; nil for none.
	Progress io.Writer
	TTY      bool
	Every    int
	// RetryFor bounds how long one batch is tried again while the server is
	// unreachable or answers 5xx/429 (default 5 min).
	RetryFor time.Duration
}

// Summary is what an import did.
type Summary struct {
	ImportID string
	Records  int // records of the file
	Batches  int // batches of the file
	Skipped  int // batches committed by an earlier run
	Created  int // by this run
	Updated  int // by this run
	Rejected int // rows of the whole file (the report is whole on every run)
}

type batch struct {
	seq     int
	records int
	vols    []wire.ImportVolunteer
	hours   []wire.ImportHours
	local   []wire.ImportReject // refused by the reader
	result  wire.ImportBatchResult
	skipped bool
	err     error
}

// FileImportID derives the default import id of a file.
func FileImportID(path string, kind Kind, batchSize int) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", err
	}
	return fmt.Sprintf("%s-%s-b%d", kind, hex.EncodeToString(h.Sum(nil))[:24], batchSize), nil
}

// Run imports the file. It returns the summary so far with any error.
func Run(ctx context.Context, cfg Config) (Summary, error) {
	if cfg.API == nil || cfg.Path == "" {
		return Summary{}, errors.New("importer: API and Path required")
	}
	if cfg.BatchSize <= 0 {
		cfg.BatchSize = 5000
	}
	if cfg.BatchSize > 10000 {
		return Summary{}, errors.New("importer: batch size at most 10000")
	}
	if cfg.Concurrency <= 0 {
		cfg.Concurrency = 2
	}
	if cfg.Every <= 0 {
		cfg.Every = 100000
	}
	if cfg.RetryFor <= 0 {
		cfg.RetryFor = 5 * time.Minute
	}
	if cfg.Format == "" {
		cfg.Format = JSONL
		if strings.EqualFold(filepath.Ext(cfg.Path), ".csv") {
			cfg.Format = CSV
		}
	}
	sum := Summary{ImportID: cfg.ImportID}
	if sum.ImportID == "" {
		id, err := FileImportID(cfg.Path, cfg.Kind, cfg.BatchSize)
		if err != nil {
			return sum, fmt.Errorf("importer: %w", err)
		}
		sum.ImportID = id
	}
	f, err := os.Open(cfg.Path)
	if err != nil {
		return sum, fmt.Errorf("importer: %w", err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return sum, fmt.Errorf("importer: %w", err)
	}
	rd, err := NewReader(f, cfg.Kind, cfg.Format, cfg.Encoding)
	if err != nil {
		return sum, err
	}
	var status wire.ImportStatus
	if err := retry(ctx, cfg.RetryFor, func() error {
		status, err = cfg.API.ImportStatus(ctx, sum.ImportID)
		return err
	}); err != nil {
		return sum, fmt.Errorf("importer: status of import %s: %w", sum.ImportID, err)
	}
	done := make(map[int]wire.ImportBatchResult, len(status.Batches))
	for _, b := range status.Batches {
		done[b.Seq] = b
	}

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	todo := make(chan *batch, cfg.Concurrency)
	results := make(chan *batch, cfg.Concurrency*2)
	var readErr error
	go func() {
		defer close(todo)
		readErr = readBatches(ctx, rd, cfg, sum.ImportID, done, todo)
	}()
	var wg sync.WaitGroup
	for range cfg.Concurrency {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for b := range todo {
				if !b.skipped && (len(b.vols) > 0 || len(b.hours) > 0) {
					b.err = retry(ctx, cfg.RetryFor, func() error {
						var err error
						if cfg.Kind == Volunteers {
							b.result, err = cfg.API.ImportVolunteers(ctx, wire.ImportVolunteersBatch{ImportID: sum.ImportID, Seq: b.seq, Rows: b.vols})
						} else {
							b.result, err = cfg.API.ImportHours(ctx, wire.ImportHoursBatch{ImportID: sum.ImportID, Seq: b.seq, Rows: b.hours})
						}
						return err
					})
				}
				results <- b
			}
		}()
	}
	go func() { wg.Wait(); close(results) }()

	rep := newReport(cfg.Rejected)
	prog := newProgress(cfg, st.Size())
	pending := map[int]*batch{}
	next := 0
	var firstErr error
	for b := range results {
		pending[b.seq] = b
		for {
			b, ok := pending[next]
			if !ok {
				break
			}
			delete(pending, next)
			next++
			if b.err != nil {
				if firstErr == nil {
					firstErr = fmt.Errorf("importer: batch %d: %w", b.seq, b.err)
					cancel()
				}
				continue
			}
			if firstErr != nil {
				continue
			}
			sum.Batches++
			sum.Records += b.records
			if b.skipped {
				sum.Skipped++ // its rows were counted by the run that committed it
			} else {
				sum.Created += b.result.Created
				sum.Updated += b.result.Updated
			}
			rejects := mergeRejects(b.local, b.result.Rejects)
			sum.Rejected += len(rejects)
			if err := rep.write(rejects); err != nil && firstErr == nil {
				firstErr = fmt.Errorf("importer: report: %w", err)
				cancel()
			}
			prog.add(b.records, rd, sum)
		}
	}
	prog.finish(sum)
	if firstErr != nil {
		return sum, firstErr
	}
	if readErr != nil {
		return sum, fmt.Errorf("importer: read %s: %w", filepath.Base(cfg.Path), readErr)
	}
	return sum, rep.flush()
}

// readBatches cuts the file into batches of BatchSize records, in order.
func readBatches(ctx context.Context, rd *Reader, cfg Config, id string, done map[int]wire.ImportBatchResult, out chan<- *batch) error {
	b := &batch{}
	emit := func() bool {
		if r, ok := done[b.seq]; ok {
			b.skipped, b.result = true, r
		}
		select {
		case out <- b:
		case <-ctx.Done():
			return false
		}
		b = &batch{seq: b.seq + 1}
		return true
	}
	for {
		rec, err := rd.Next()
		if errors.Is(err, io.EOF) {
			if b.records > 0 {
				emit()
			}
			return nil
		}
		if err != nil {
			return err
		}
		b.records++
		switch {
		case rec.Reject != nil:
			b.local = append(b.local, *rec.Reject)
		case cfg.Kind == Volunteers:
			b.vols = append(b.vols, rec.Volunteer)
		default:
			b.hours = append(b.hours, rec.Hours)
		}
		if b.records == cfg.BatchSize && !emit() {
			return ctx.Err()
		}
	}
}

func mergeRejects(a, b []wire.ImportReject) []wire.ImportReject {
	out := make([]wire.ImportReject, 0, len(a)+len(b))
	i, j := 0, 0
	for i < len(a) || j < len(b) {
		if j >= len(b) || (i < len(a) && a[i].Line <= b[j].Line) {
			out = append(out, a[i])
			i++
		} else {
			out = append(out, b[j])
			j++
		}
	}
	return out
}

// retry runs fn until it succeeds, fails for good (not client.Retryable),
// ctx ends or RetryFor passes, backing off from 200 ms to 5 s.
func retry(ctx context.Context, limit time.Duration, fn func() error) error {
	deadline := time.Now().Add(limit)
	wait := 200 * time.Millisecond
	for {
		err := fn()
		if err == nil || !client.Retryable(err) || time.Now().After(deadline) {
			return err
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(wait):
		}
		wait = min(wait*2, 5*time.Second)
	}
}

// report writes rejected rows as CSV.
type report struct {
	w      *csv.Writer
	header bool
}

func newReport(w io.Writer) *report {
	if w == nil {
		return &report{}
	}
	return &report{w: csv.NewWriter(w)}
}

func (r *report) write(rs []wire.ImportReject) error {
	if r.w == nil {
		return nil
	}
	if !r.header {
		r.header = true
		if err := r.w.Write([]string{"line", "field", "reason"}); err != nil {
			return err
		}
	}
	for _, x := range rs {
		if err := r.w.Write([]string{strconv.Itoa(x.Line), x.Field, x.Reason}); err != nil {
			return err
		}
	}
	return nil
}

func (r *report) flush() error {
	if r.w == nil {
		return nil
	}
	if !r.header {
		r.header = true
		_ = r.w.Write([]string{"line", "field", "reason"})
	}
	r.w.Flush()
	return r.w.Error()
}

// progress shows the import's progress: a bar on a terminal (by records,
// the total estimated from the bytes read), else a line every Every
// records.
type progress struct {
	cfg     Config
	bar     *progressbar.ProgressBar
	records int
	last    int
	start   time.Time
}

func newProgress(cfg Config, size int64) *progress {
	p := &progress{cfg: cfg, start: time.Now()}
	if cfg.Progress != nil && cfg.TTY {
		p.bar = progressbar.NewOptions64(size, progressbar.OptionSetWriter(cfg.Progress),
			progressbar.OptionSetDescription("import "+string(cfg.Kind)), progressbar.OptionShowBytes(true),
			progressbar.OptionThrottle(200*time.Millisecond), progressbar.OptionShowCount(),
			progressbar.OptionOnCompletion(func() { fmt.Fprintln(cfg.Progress) }))
	}
	return p
}

func (p *progress) add(n int, rd *Reader, sum Summary) {
	p.records += n
	switch {
	case p.cfg.Progress == nil:
	case p.bar != nil:
		_ = p.bar.Set64(rd.Offset())
	case p.records-p.last >= p.cfg.Every:
		p.last = p.records
		p.line(sum)
	}
}

func (p *progress) line(sum Summary) {
	el := time.Since(p.start).Seconds()
	fmt.Fprintf(p.cfg.Progress, "import %s: %d records, %d created, %d updated, %d rejected, %d batches skipped (%.0f records/s)\n",
		p.cfg.Kind, p.records, sum.Created, sum.Updated, sum.Rejected, sum.Skipped, float64(p.records)/max(el, 0.001))
}

func (p *progress) finish(sum Summary) {
	if p.cfg.Progress == nil {
		return
	}
	if p.bar != nil {
		_ = p.bar.Finish()
	}
	if p.bar != nil || p.records != p.last {
		p.line(sum)
	}
}
