package terminal

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"time"

	_ "github.com/ncruces/go-sqlite3/driver" // registers "sqlite3" (pure Go, no cgo)

	"github.com/volcard/volcard/internal/sqlitevfs"
	"github.com/volcard/volcard/wire"
)

// Queue is the terminal's durable state in a SQLite file: the sequence
// counter (every tap gets the next number, reserved durably before it is
// used) and the taps waiting to be sent, in sequence order. The file and
// its -wal and -shm are created with mode 0600 (sqlitevfs). Queued taps
// hold card records (PAN, name, ID number), so each is sealed with
// AES-256-GCM under a key derived from the secret given to OpenQueue (the
// terminal token): the file alone reveals no card data. The "pan" field is dropped as well (the server takes the PAN
// from the signed record).
type Queue struct {
	db   *sql.DB
	aead cipher.AEAD

	mu          sync.Mutex
	next, limit int64 // reserved sequence numbers not yet handed out
}

// HeldError is Peek's answer for a queued tap it cannot read: sealed under
// another terminal token (the token was changed while taps were queued) or
// damaged. The tap was moved aside (Held counts those), so the taps behind
// it are sent; a tap sealed under another token goes back into the queue
// when the queue is next opened with that token.
type HeldError struct {
	Seq    int64
	Reason string
}

func (e *HeldError) Error() string {
	return fmt.Sprintf("terminal: queued tap %d %s; kept aside", e.Seq, e.Reason)
}

// Reasons a queued tap is held.
const (
	heldOtherToken = "is sealed under another terminal token"
	heldDamaged    = "is damaged"
)

// QueuedTap is a tap waiting to be sent.
type QueuedTap struct {
	Seq        int64
	ActivityID int64
	Request    wire.TapRequest
	QueuedAt   time.Time
}

// OpenQueue opens (creating when needed) the queue file at path; queued
// taps are sealed with a key derived from secret (the terminal token: taps
// queued under one token are only sent with it).
func OpenQueue(ctx context.Context, path string, secret []byte) (*Queue, error) {
	if path == "" {
		return nil, errors.New("terminal: empty queue path")
	}
	if len(secret) == 0 {
		return nil, errors.New("terminal: empty queue secret")
	}
	key := sha256.Sum256(append([]byte("volcard terminal queue v1\x00"), secret...))
	block, err := aes.NewCipher(key[:])
	if err != nil {
		return nil, fmt.Errorf("terminal: queue key: %w", err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, fmt.Errorf("terminal: queue key: %w", err)
	}
	if dir := filepath.Dir(path); dir != "" {
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return nil, fmt.Errorf("terminal: queue: %w", err)
		}
	}
	// The owner-only VFS creates the file and its -wal and -shm with mode
	// 0600: they hold sealed taps and the sequence counter.
	dsn := "file:" + (&url.URL{Path: path}).EscapedPath() +
		"?_pragma=busy_timeout(10000)&_pragma=journal_mode(wal)&_pragma=synchronous(full)&_txlock=immediate" +
		"&vfs=" + sqlitevfs.Name
	db, err := sql.Open("sqlite3", dsn)
	if err != nil {
		return nil, fmt.Errorf("terminal: open queue: %w", err)
	}
	db.SetMaxOpenConns(1)
	_, err = db.ExecContext(ctx, `
		CREATE TABLE IF NOT EXISTS counter (id INTEGER PRIMARY KEY CHECK (id = 1), seq INTEGER NOT NULL);
		INSERT OR IGNORE INTO counter (id, seq) VALUES (1, 0);
		CREATE TABLE IF NOT EXISTS pending (
			seq         INTEGER PRIMARY KEY,
			activity_id INTEGER NOT NULL,
			request     BLOB NOT NULL,
			queued_at   INTEGER NOT NULL
		);
		CREATE TABLE IF NOT EXISTS held (
			seq         INTEGER PRIMARY KEY,
			activity_id INTEGER NOT NULL,
			request     BLOB NOT NULL,
			queued_at   INTEGER NOT NULL,
			reason      TEXT NOT NULL
		);`)
	if err != nil {
		_ = db.Close()
		return nil, fmt.Errorf("terminal: init queue: %w", err)
	}
	q := &Queue{db: db, aead: aead}
	if err := q.release(ctx); err != nil {
		_ = db.Close()
		return nil, err
	}
	return q, nil
}

// release moves held taps this queue's key can read back into the queue
// (taps held because they were sealed under the token now in use again).
func (q *Queue) release(ctx context.Context) error {
	rows, err := q.db.QueryContext(ctx, `SELECT seq, request FROM held WHERE reason = ?`, heldOtherToken)
	if err != nil {
		return fmt.Errorf("terminal: read held taps: %w", err)
	}
	var back []int64
	for rows.Next() {
		var seq int64
		var b []byte
		if err := rows.Scan(&seq, &b); err != nil {
			_ = rows.Close()
			return fmt.Errorf("terminal: read held taps: %w", err)
		}
		if _, err := q.open(seq, b); err == nil {
			back = append(back, seq)
		}
	}
	if err := errors.Join(rows.Err(), rows.Close()); err != nil {
		return fmt.Errorf("terminal: read held taps: %w", err)
	}
	for _, seq := range back {
		if err := q.move(ctx, seq, `INSERT INTO pending (seq, activity_id, request, queued_at)
			SELECT seq, activity_id, request, queued_at FROM held WHERE seq = ?`, `DELETE FROM held WHERE seq = ?`, seq); err != nil {
			return err
		}
	}
	return nil
}

// move runs insert (with args) and remove (with seq) in one transaction:
// a tap goes from one table to the other, never into both or neither.
func (q *Queue) move(ctx context.Context, seq int64, insert, remove string, args ...any) error {
	tx, err := q.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("terminal: move queued tap %d: %w", seq, err)
	}
	defer func() { _ = tx.Rollback() }()
	if _, err := tx.ExecContext(ctx, insert, args...); err != nil {
		return fmt.Errorf("terminal: move queued tap %d: %w", seq, err)
	}
	if _, err := tx.ExecContext(ctx, remove, seq); err != nil {
		return fmt.Errorf("terminal: move queued tap %d: %w", seq, err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("terminal: move queued tap %d: %w", seq, err)
	}
	return nil
}

// Close closes the file.
func (q *Queue) Close() error { return q.db.Close() }

// seqBlock is how many sequence numbers NextSeq reserves per write: the
// file records the highest number reserved, so a number is never handed
// out twice even after a crash (a crash only leaves a gap).
const seqBlock = 64

// NextSeq returns the next sequence number. Numbers are reserved durably
// in blocks before they are handed out, so none is ever used twice, even
// across crashes.
func (q *Queue) NextSeq(ctx context.Context) (int64, error) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.next == 0 || q.next > q.limit {
		var top int64
		err := q.db.QueryRowContext(ctx, `UPDATE counter SET seq = seq + ? WHERE id = 1 RETURNING seq`, seqBlock).Scan(&top)
		if err != nil {
			return 0, fmt.Errorf("terminal: reserve sequence numbers: %w", err)
		}
		q.next, q.limit = top-seqBlock+1, top
	}
	seq := q.next
	q.next++
	return seq, nil
}

// SkipTo makes every sequence number handed out from now on greater than
// floor, and reports whether that skipped numbers this queue would have
// handed out (numbers are never given back: a skip only leaves a gap).
// A terminal skips past the numbers the server already holds for its token
// that it did not hand out itself: another terminal uses the token, or
// this file is new.
func (q *Queue) SkipTo(ctx context.Context, floor int64) (bool, error) {
	q.mu.Lock()
	defer q.mu.Unlock()
	skipped := false
	if q.next != 0 && q.next <= q.limit {
		if q.next > floor {
			return false, nil
		}
		q.next, q.limit, skipped = 0, 0, true // the rest of the block in hand goes
	}
	res, err := q.db.ExecContext(ctx, `UPDATE counter SET seq = ? WHERE id = 1 AND seq < ?`, floor, floor)
	if err != nil {
		return false, fmt.Errorf("terminal: skip sequence numbers: %w", err)
	}
	if n, err := res.RowsAffected(); err == nil && n > 0 {
		skipped = true
	}
	return skipped, nil
}

// Renumber gives every queued tap a new sequence number greater than after
// and than every number handed out so far, keeping their order (the server
// decides check-in or check-out by the order taps arrive), all in one
// transaction. It returns how many taps were renumbered; a tap it cannot
// read keeps its number (Peek then holds it aside). A terminal renumbers
// its queue when the server answers sequence-reused for a queued tap:
// another terminal on the same token used that number.
func (q *Queue) Renumber(ctx context.Context, after int64) (int, error) {
	q.mu.Lock()
	defer q.mu.Unlock()
	tx, err := q.db.BeginTx(ctx, nil)
	if err != nil {
		return 0, fmt.Errorf("terminal: renumber queued taps: %w", err)
	}
	defer func() { _ = tx.Rollback() }()
	var counter int64
	if err := tx.QueryRowContext(ctx, `SELECT seq FROM counter WHERE id = 1`).Scan(&counter); err != nil {
		return 0, fmt.Errorf("terminal: renumber queued taps: %w", err)
	}
	type row struct {
		seq int64
		req wire.TapRequest
	}
	var readable []row
	rows, err := tx.QueryContext(ctx, `SELECT seq, request FROM pending ORDER BY seq`)
	if err != nil {
		return 0, fmt.Errorf("terminal: renumber queued taps: %w", err)
	}
	for rows.Next() {
		var r row
		var b []byte
		if err := rows.Scan(&r.seq, &b); err != nil {
			_ = rows.Close()
			return 0, fmt.Errorf("terminal: renumber queued taps: %w", err)
		}
		if req, held := q.open(r.seq, b); held == nil {
			r.req = req
			readable = append(readable, r)
		}
	}
	if err := errors.Join(rows.Err(), rows.Close()); err != nil {
		return 0, fmt.Errorf("terminal: renumber queued taps: %w", err)
	}
	next := max(counter, after)
	for _, r := range readable {
		next++
		r.req.Seq = next
		sealed, err := q.seal(r.req)
		if err != nil {
			return 0, err
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO pending (seq, activity_id, request, queued_at)
			SELECT ?, activity_id, ?, queued_at FROM pending WHERE seq = ?`, next, sealed, r.seq); err != nil {
			return 0, fmt.Errorf("terminal: renumber queued tap %d: %w", r.seq, err)
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM pending WHERE seq = ?`, r.seq); err != nil {
			return 0, fmt.Errorf("terminal: renumber queued tap %d: %w", r.seq, err)
		}
	}
	if _, err := tx.ExecContext(ctx, `UPDATE counter SET seq = ? WHERE id = 1`, next); err != nil {
		return 0, fmt.Errorf("terminal: renumber queued taps: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return 0, fmt.Errorf("terminal: renumber queued taps: %w", err)
	}
	q.next, q.limit = 0, 0 // the block in hand lies below the new numbers
	return len(readable), nil
}

// Push queues a tap (its Seq from NextSeq). The clear PAN is dropped.
func (q *Queue) Push(ctx context.Context, activityID int64, req wire.TapRequest, now time.Time) error {
	sealed, err := q.seal(req)
	if err != nil {
		return err
	}
	_, err = q.db.ExecContext(ctx, `INSERT INTO pending (seq, activity_id, request, queued_at) VALUES (?, ?, ?, ?)`,
		req.Seq, activityID, sealed, now.UnixMilli())
	if err != nil {
		return fmt.Errorf("terminal: queue tap %d: %w", req.Seq, err)
	}
	return nil
}

// seal encodes a tap without its clear PAN and seals it under the queue key,
// bound to its sequence number.
func (q *Queue) seal(req wire.TapRequest) ([]byte, error) {
	req.Card.PAN = ""
	b, err := json.Marshal(req)
	if err != nil {
		return nil, fmt.Errorf("terminal: queue tap: %w", err)
	}
	nonce := make([]byte, q.aead.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		return nil, fmt.Errorf("terminal: queue tap: %w", err)
	}
	return q.aead.Seal(nonce, nonce, b, []byte(strconv.FormatInt(req.Seq, 10))), nil
}

// Peek returns the oldest queued tap, or ok false when the queue is empty.
// A tap it cannot read is moved aside and reported as a *HeldError; the
// next Peek returns the tap behind it.
func (q *Queue) Peek(ctx context.Context) (QueuedTap, bool, error) {
	var t QueuedTap
	var b []byte
	var at int64
	err := q.db.QueryRowContext(ctx, `SELECT seq, activity_id, request, queued_at FROM pending ORDER BY seq LIMIT 1`).
		Scan(&t.Seq, &t.ActivityID, &b, &at)
	if errors.Is(err, sql.ErrNoRows) {
		return QueuedTap{}, false, nil
	}
	if err != nil {
		return QueuedTap{}, false, fmt.Errorf("terminal: read queue: %w", err)
	}
	req, reason := q.open(t.Seq, b)
	if reason != nil {
		if err := q.move(ctx, t.Seq, `INSERT INTO held (seq, activity_id, request, queued_at, reason)
			SELECT seq, activity_id, request, queued_at, ? FROM pending WHERE seq = ?`, `DELETE FROM pending WHERE seq = ?`,
			reason.Reason, t.Seq); err != nil {
			return QueuedTap{}, false, err
		}
		return QueuedTap{}, false, reason
	}
	t.Request, t.QueuedAt = req, time.UnixMilli(at)
	return t, true, nil
}

// open unseals and decodes a queued tap; a *HeldError says why it cannot.
func (q *Queue) open(seq int64, b []byte) (wire.TapRequest, *HeldError) {
	var req wire.TapRequest
	ns := q.aead.NonceSize()
	if len(b) < ns {
		return req, &HeldError{Seq: seq, Reason: heldDamaged}
	}
	plain, err := q.aead.Open(nil, b[:ns], b[ns:], []byte(strconv.FormatInt(seq, 10)))
	if err != nil {
		return req, &HeldError{Seq: seq, Reason: heldOtherToken}
	}
	if err := json.Unmarshal(plain, &req); err != nil {
		return req, &HeldError{Seq: seq, Reason: heldDamaged}
	}
	return req, nil
}

// Done removes a tap the server has answered.
func (q *Queue) Done(ctx context.Context, seq int64) error {
	if _, err := q.db.ExecContext(ctx, `DELETE FROM pending WHERE seq = ?`, seq); err != nil {
		return fmt.Errorf("terminal: dequeue tap %d: %w", seq, err)
	}
	return nil
}

// Held returns the number of taps kept aside (see HeldError).
func (q *Queue) Held(ctx context.Context) (int, error) {
	var n int
	if err := q.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM held`).Scan(&n); err != nil {
		return 0, fmt.Errorf("terminal: held taps: %w", err)
	}
	return n, nil
}

// Len returns the number of queued taps.
func (q *Queue) Len(ctx context.Context) (int, error) {
	var n int
	if err := q.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM pending`).Scan(&n); err != nil {
		return 0, fmt.Errorf("terminal: queue length: %w", err)
	}
	return n, nil
}
