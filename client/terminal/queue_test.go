package terminal_test

import (
	"context"
	"database/sql"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/volcard/volcard/client/terminal"
	"github.com/volcard/volcard/wire"
)

func TestQueue(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "q", "queue.db")
	q, err := terminal.OpenQueue(ctx, path, []byte("tok"))
	require.NoError(t, err)
	_, err = q.NextSeq(ctx) // a write: the WAL and its index exist now
	require.NoError(t, err)
	// The queue holds sealed taps and the sequence counter: owner-only, the
	// WAL and its index too, and the directory made for it.
	for _, f := range []string{path, path + "-wal", path + "-shm"} {
		fi, err := os.Stat(f)
		require.NoError(t, err)
		require.Equal(t, os.FileMode(0o600), fi.Mode().Perm(), filepath.Base(f))
	}
	fi, err := os.Stat(filepath.Dir(path))
	require.NoError(t, err)
	require.Equal(t, os.FileMode(0o700), fi.Mode().Perm())

	t.Run("sequence numbers increase and survive a restart", func(t *testing.T) {
		a, err := q.NextSeq(ctx)
		require.NoError(t, err)
		b, err := q.NextSeq(ctx)
		require.NoError(t, err)
		require.Equal(t, a+1, b)
		require.NoError(t, q.Close())
		q, err = terminal.OpenQueue(ctx, path, []byte("tok"))
		require.NoError(t, err)
		c, err := q.NextSeq(ctx)
		require.NoError(t, err)
		require.Greater(t, c, b, "never handed out twice, even after a restart")
	})
	t.Run("taps come out in sequence order, without the PAN", func(t *testing.T) {
		now := time.Now()
		for _, seq := range []int64{7, 5, 6} {
			req := wire.TapRequest{Seq: seq, Offline: true, At: &now, Card: wire.CardEvidence{PAN: "6217850000000012349",
				Records: []wire.Record{{SFI: 2, Number: 1, Raw: wire.Hex{0x70, 0x0C, 0x5A, 0x0A, 0x62, 0x17, 0x85, 0, 0, 0, 0, 0x12, 0x34, 0x9F}}}}}
			require.NoError(t, q.Push(ctx, 3, req, now))
		}
		n, err := q.Len(ctx)
		require.NoError(t, err)
		require.Equal(t, 3, n)
		var got []int64
		for {
			qt, ok, err := q.Peek(ctx)
			require.NoError(t, err)
			if !ok {
				break
			}
			require.Empty(t, qt.Request.Card.PAN)
			require.Equal(t, int64(3), qt.ActivityID)
			got = append(got, qt.Seq)
			require.NoError(t, q.Done(ctx, qt.Seq))
		}
		require.Equal(t, []int64{5, 6, 7}, got)
		b, err := os.ReadFile(path)
		require.NoError(t, err)
		if wal, err := os.ReadFile(path + "-wal"); err == nil {
			b = append(b, wal...)
		}
		require.NotContains(t, string(b), "6217850000000012349")
		require.NotContains(t, string(b), "\x62\x17\x85\x00\x00\x00\x00\x12\x34", "records are sealed")
	})
	t.Run("a tap sealed under another token is kept aside, not in the way", func(t *testing.T) {
		now := time.Now()
		require.NoError(t, q.Push(ctx, 3, wire.TapRequest{Seq: 99}, now))
		other, err := terminal.OpenQueue(ctx, path, []byte("other"))
		require.NoError(t, err)
		_, ok, err := other.Peek(ctx)
		var held *terminal.HeldError
		require.ErrorAs(t, err, &held)
		require.False(t, ok)
		require.Equal(t, int64(99), held.Seq)
		require.Contains(t, held.Error(), "another terminal token")
		require.Equal(t, 0, queueLen(t, other))
		require.Equal(t, 1, heldLen(t, other))
		// New taps under the new token are not blocked by it.
		require.NoError(t, other.Push(ctx, 3, wire.TapRequest{Seq: 100}, now))
		qt, ok, err := other.Peek(ctx)
		require.NoError(t, err)
		require.True(t, ok)
		require.Equal(t, int64(100), qt.Seq)
		require.NoError(t, other.Done(ctx, 100))
		require.NoError(t, other.Close())
		// Back under the token it was queued with, the tap is queued again.
		require.NoError(t, q.Close())
		q, err = terminal.OpenQueue(ctx, path, []byte("tok"))
		require.NoError(t, err)
		require.Equal(t, 0, heldLen(t, q))
		qt, ok, err = q.Peek(ctx)
		require.NoError(t, err)
		require.True(t, ok)
		require.Equal(t, int64(99), qt.Seq)
		require.NoError(t, q.Done(ctx, 99))
	})
	t.Run("a damaged tap is kept aside", func(t *testing.T) {
		db, err := sql.Open("sqlite3", "file:"+path)
		require.NoError(t, err)
		_, err = db.Exec(`INSERT INTO pending (seq, activity_id, request, queued_at) VALUES (1000, 3, x'0102', 0)`)
		require.NoError(t, err)
		require.NoError(t, db.Close())
		require.NoError(t, q.Push(ctx, 3, wire.TapRequest{Seq: 1001}, time.Now()))
		_, _, err = q.Peek(ctx)
		var held *terminal.HeldError
		require.ErrorAs(t, err, &held)
		require.Equal(t, int64(1000), held.Seq)
		qt, ok, err := q.Peek(ctx)
		require.NoError(t, err)
		require.True(t, ok)
		require.Equal(t, int64(1001), qt.Seq)
		require.NoError(t, q.Done(ctx, 1001))
		require.Equal(t, 1, heldLen(t, q))
	})
	require.NoError(t, q.Close())
}

func queueLen(t *testing.T, q *terminal.Queue) int {
	t.Helper()
	n, err := q.Len(context.Background())
	require.NoError(t, err)
	return n
}

func heldLen(t *testing.T, q *terminal.Queue) int {
	t.Helper()
	n, err := q.Held(context.Background())
	require.NoError(t, err)
	return n
}

// TestQueueSkipTo checks that after SkipTo(floor) every number handed out
// is above floor, that it reports whether numbers were skipped, and that
// the skip survives a restart.
func TestQueueSkipTo(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "queue.db")
	q, err := terminal.OpenQueue(ctx, path, []byte("tok"))
	require.NoError(t, err)
	defer func() { q.Close() }()

	skipped, err := q.SkipTo(ctx, 0)
	require.NoError(t, err)
	require.False(t, skipped, "nothing to skip on a new file")
	first, err := q.NextSeq(ctx)
	require.NoError(t, err)
	require.Equal(t, int64(1), first)

	skipped, err = q.SkipTo(ctx, 1)
	require.NoError(t, err)
	require.False(t, skipped, "1 is handed out already; 2 comes next")

	skipped, err = q.SkipTo(ctx, 5)
	require.NoError(t, err)
	require.True(t, skipped, "2 to 5 were still to come from the block in hand")
	next, err := q.NextSeq(ctx)
	require.NoError(t, err)
	require.Greater(t, next, int64(5))

	skipped, err = q.SkipTo(ctx, 5000)
	require.NoError(t, err)
	require.True(t, skipped)
	require.NoError(t, q.Close())
	q, err = terminal.OpenQueue(ctx, path, []byte("tok"))
	require.NoError(t, err)
	next, err = q.NextSeq(ctx)
	require.NoError(t, err)
	require.Equal(t, int64(5001), next, "the skip is durable")
}

// TestQueueRenumber queues three taps and one sealed under another token,
// renumbers the queue after 100: the three readable taps come out with new
// numbers above 100, in their old order, carrying the new number in their
// request; the unreadable one keeps its number (and is held by Peek).
func TestQueueRenumber(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "queue.db")
	other, err := terminal.OpenQueue(ctx, path, []byte("old token"))
	require.NoError(t, err)
	now := time.Now().UTC()
	require.NoError(t, other.Push(ctx, 9, wire.TapRequest{Seq: 4, Offline: true, At: &now}, now))
	require.NoError(t, other.Close())

	q, err := terminal.OpenQueue(ctx, path, []byte("tok"))
	require.NoError(t, err)
	defer q.Close()
	var ats []time.Time
	for i := range 3 {
		seq, err := q.NextSeq(ctx)
		require.NoError(t, err)
		at := now.Add(time.Duration(i) * time.Minute)
		ats = append(ats, at)
		require.NoError(t, q.Push(ctx, 9, wire.TapRequest{Seq: seq, Offline: true, At: &at, ChallengeID: "c" + strconv.Itoa(i)}, at))
	}
	n, err := q.Renumber(ctx, 100)
	require.NoError(t, err)
	require.Equal(t, 3, n)

	var held *terminal.HeldError
	_, _, err = q.Peek(ctx)
	require.ErrorAs(t, err, &held, "the tap sealed under the old token comes first, still number 4")
	require.Equal(t, int64(4), held.Seq)
	for i := range 3 {
		qt, ok, err := q.Peek(ctx)
		require.NoError(t, err)
		require.True(t, ok)
		require.Equal(t, int64(101+i), qt.Seq)
		require.Equal(t, qt.Seq, qt.Request.Seq, "the request carries its new number")
		require.Equal(t, "c"+strconv.Itoa(i), qt.Request.ChallengeID, "in the old order")
		require.True(t, ats[i].Equal(*qt.Request.At))
		require.NoError(t, q.Done(ctx, qt.Seq))
	}
	next, err := q.NextSeq(ctx)
	require.NoError(t, err)
	require.Greater(t, next, int64(103), "never a number given to a renumbered tap")
}
