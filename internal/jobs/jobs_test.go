package jobs_test

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/volcard/volcard/internal/jobs"
)

// memory is an in-process Locker and Ledger (the store's are tested in
// issuance/store against both databases).
type memory struct {
	mu   sync.Mutex
	held map[string]bool
	runs map[string]jobs.Run
}

func (m *memory) TryLock(_ context.Context, name string) (func(), bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.held[name] {
		return nil, false, nil
	}
	m.held[name] = true
	return func() { m.mu.Lock(); delete(m.held, name); m.mu.Unlock() }, true, nil
}

func (m *memory) LastJobRun(_ context.Context, name string) (jobs.Run, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.runs[name], nil
}

func (m *memory) StartJobRun(_ context.Context, name, owner string, at time.Time) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	r := m.runs[name]
	r.Started, r.Owner, r.Runs = at, owner, r.Runs+1
	m.runs[name] = r
	return nil
}

func (m *memory) FinishJobRun(_ context.Context, name, _ string, at time.Time, errText string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	r := m.runs[name]
	r.Finished, r.Error = at, errText
	m.runs[name] = r
	return nil
}

func TestStart(t *testing.T) {
	m := &memory{held: map[string]bool{}, runs: map[string]jobs.Run{}}
	var ran atomic.Int32
	var names sync.Map
	r, err := jobs.New(jobs.Config{Locker: m, Ledger: m, Owner: "p1", Check: 5 * time.Millisecond,
		Ran: func(name string, _ time.Duration, err error) { names.Store(name, err) }})
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	wait, err := r.Start(ctx, jobs.Job{Name: "tick", Every: time.Millisecond, Run: func(context.Context) error {
		ran.Add(1)
		return nil
	}})
	require.NoError(t, err)
	require.Eventually(t, func() bool { return ran.Load() >= 3 }, 10*time.Second, time.Millisecond,
		"a job due every millisecond, tried every 5 ms, runs again and again")
	cancel()
	wait()
	_, ok := names.Load("tick")
	require.True(t, ok, "Ran is told")
	n := ran.Load()
	time.Sleep(20 * time.Millisecond)
	require.Equal(t, n, ran.Load(), "nothing runs after wait returns")

	for _, bad := range [][]jobs.Job{
		{{Name: "", Every: time.Second, Run: func(context.Context) error { return nil }}},
		{{Name: "x", Every: 0, Run: func(context.Context) error { return nil }}},
		{{Name: "x", Every: time.Second}},
		{{Name: "x", Every: time.Second, Run: func(context.Context) error { return nil }}, {Name: "x", Every: time.Second, Run: func(context.Context) error { return nil }}},
	} {
		_, err := r.Start(context.Background(), bad...)
		require.Error(t, err)
	}
	_, err = jobs.New(jobs.Config{Locker: m, Ledger: m})
	require.Error(t, err, "an owner is required")
}
