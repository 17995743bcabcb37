package store_test

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/volcard/volcard/internal/jobs"
	"github.com/volcard/volcard/issuance/store"
	"github.com/volcard/volcard/issuance/store/storetest"
)

// TestMemberLocks: two members on one PostgreSQL stand for two serve
// processes; a lock is held by one at a time and freed when its holder's
// connection ends (the process died).
func TestMemberLocks(t *testing.T) {
	ctx := context.Background()
	st := storetest.Postgres(t)
	a, err := st.Join(ctx, "", nil)
	require.NoError(t, err)
	b, err := st.Join(ctx, "", nil)
	require.NoError(t, err)
	defer b.Close()
	require.NotEqual(t, a.ID(), b.ID())

	var alive int
	require.NoError(t, st.SQLDB().QueryRowContext(ctx,
		`SELECT count(*) FROM pg_stat_activity WHERE application_name IN ($1, $2)`, a.ID(), b.ID()).Scan(&alive))
	require.Equal(t, 2, alive, "each member is visible by name")

	release, ok, err := a.TryLock(ctx, "job.sweep")
	require.NoError(t, err)
	require.True(t, ok)
	_, ok, err = a.TryLock(ctx, "job.sweep")
	require.NoError(t, err)
	require.False(t, ok, "held by this process already: one holder (PostgreSQL's own locks would stack)")
	_, ok, err = b.TryLock(ctx, "job.sweep")
	require.NoError(t, err)
	require.False(t, ok, "held by the other process")
	relB, ok, err := b.TryLock(ctx, "job.other")
	require.NoError(t, err)
	require.True(t, ok, "another name is another lock")
	relB()
	release()
	relB2, ok, err := b.TryLock(ctx, "job.sweep")
	require.NoError(t, err)
	require.True(t, ok, "released")
	relB2()

	_, ok, err = a.TryLock(ctx, "job.sweep")
	require.NoError(t, err)
	require.True(t, ok)
	require.NoError(t, a.Close()) // dies holding it
	relB3, ok, err := b.TryLock(ctx, "job.sweep")
	require.NoError(t, err)
	require.True(t, ok, "a dead member's lock is free")
	relB3()

	_, err = st.Join(ctx, "not-a-member", nil)
	require.Error(t, err)
	_, err = st.Join(ctx, store.MemberPrefix+"x'; DROP TABLE tokens; --", nil)
	require.Error(t, err, "a name that could leave the SQL literal is refused")
}

// TestJobsOncePerInterval: two processes trying an hourly job run it once an
// hour between them; a run that dies midway is run again by the survivor.
func TestJobsOncePerInterval(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		var mu sync.Mutex
		now := time.Unix(1_700_000_000, 0)
		clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
		advance := func(d time.Duration) { mu.Lock(); now = now.Add(d); mu.Unlock() }
		runner := func() (*jobs.Runner, *store.Member) {
			m, err := st.Join(ctx, "", nil)
			require.NoError(t, err)
			t.Cleanup(func() { _ = m.Close() })
			r, err := jobs.New(jobs.Config{Locker: m, Ledger: st, Owner: m.ID(), Now: clock})
			require.NoError(t, err)
			return r, m
		}
		r1, m1 := runner()
		r2, _ := runner()
		var runs atomic.Int32
		job := jobs.Job{Name: "sweep", Every: time.Hour, Run: func(context.Context) error { runs.Add(1); return nil }}

		for range 3 {
			for _, r := range []*jobs.Runner{r1, r2} {
				_, err := r.Try(ctx, job)
				require.NoError(t, err)
			}
		}
		require.EqualValues(t, 1, runs.Load(), "six tries within the hour, one run")
		advance(59 * time.Minute)
		_, err := r2.Try(ctx, job)
		require.NoError(t, err)
		require.EqualValues(t, 1, runs.Load())
		advance(time.Minute)
		ran, err := r2.Try(ctx, job)
		require.NoError(t, err)
		require.True(t, ran, "due after an interval, on either process")
		last, err := st.LastJobRun(ctx, "sweep")
		require.NoError(t, err)
		require.EqualValues(t, 2, last.Runs)
		require.Equal(t, clock().UnixMilli(), last.Finished.UnixMilli())

		// While one process runs the job the other does not start it.
		started, proceed := make(chan struct{}), make(chan struct{})
		slow := jobs.Job{Name: "slow", Every: time.Hour, Run: func(context.Context) error {
			started <- struct{}{}
			<-proceed
			return errors.New("partner file not there yet")
		}}
		done := make(chan error, 1)
		go func() { _, err := r1.Try(ctx, slow); done <- err }()
		<-started
		ran, err = r2.Try(ctx, slow)
		require.NoError(t, err)
		require.False(t, ran, "running elsewhere")
		close(proceed)
		require.ErrorContains(t, <-done, "partner file")
		last, err = st.LastJobRun(ctx, "slow")
		require.NoError(t, err)
		require.Equal(t, "partner file not there yet", last.Error, "a failure is kept in the ledger")

		if st.Dialect() != store.Postgres {
			return
		}
		// A run cut short by the death of its process (started, never
		// finished) is run again by the survivor at once.
		require.NoError(t, st.StartJobRun(ctx, "expiry", m1.ID(), clock()))
		require.NoError(t, m1.Close())
		var expiry atomic.Int32
		ran, err = r2.Try(ctx, jobs.Job{Name: "expiry", Every: 24 * time.Hour, Run: func(context.Context) error { expiry.Add(1); return nil }})
		require.NoError(t, err)
		require.True(t, ran)
		require.EqualValues(t, 1, expiry.Load())
	})
}

// TestCheckDataKey: the first process records its key's fingerprint; a
// process with another key is refused, one with the same key runs.
func TestCheckDataKey(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		require.NoError(t, st.CheckDataKey(ctx, "aa11"))
		require.NoError(t, st.CheckDataKey(ctx, "aa11"), "the same key again")
		require.ErrorIs(t, st.CheckDataKey(ctx, "bb22"), store.ErrOtherDataKey)
	})
}

// TestMemberWithPoolOfOne: the membership connection does not count against
// the configured pool, so a pool of one still serves queries.
func TestMemberWithPoolOfOne(t *testing.T) {
	ctx := context.Background()
	st, err := store.Open(ctx, storetest.PostgresDatabaseURL(t), store.Options{MaxOpenConns: 1})
	require.NoError(t, err)
	defer st.Close()
	m, err := st.Join(ctx, "", nil)
	require.NoError(t, err)
	defer m.Close()
	qctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	require.NoError(t, st.SQLDB().PingContext(qctx))
	_, err = st.LastJobRun(qctx, "x")
	require.NoError(t, err, "a query runs beside the membership")
}
