package terminal_test

import (
	"context"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/volcard/volcard/client"
	"github.com/volcard/volcard/client/terminal"
	"github.com/volcard/volcard/wire"
)

// scriptedAPI answers taps with the errors of a script, then successes.
type scriptedAPI struct {
	errs []error
	got  []int64
}

func (a *scriptedAPI) Challenge(context.Context) (wire.Challenge, error) {
	return wire.Challenge{}, client.ErrUnreachable
}

func (a *scriptedAPI) TerminalState(context.Context, int64) (wire.TerminalState, error) {
	return wire.TerminalState{}, client.ErrUnreachable
}

func (a *scriptedAPI) Tap(_ context.Context, _ int64, req wire.TapRequest) (wire.TapResult, error) {
	if len(a.errs) > 0 {
		err := a.errs[0]
		a.errs = a.errs[1:]
		if err != nil {
			return wire.TapResult{}, err
		}
	}
	a.got = append(a.got, req.Seq)
	return wire.TapResult{VolunteerName: "张*明"}, nil
}

// TestSyncKeepsTapsWhenTheTokenIsRefused queues offline taps and syncs them
// against a server that first refuses the terminal's token (401, then 403
// forbidden): the taps stay queued and go through, in order, once the token
// works again. A refusal of the tap itself (card blocked) drops only that tap.
func TestSyncKeepsTapsWhenTheTokenIsRefused(t *testing.T) {
	ctx := context.Background()
	q, err := terminal.OpenQueue(ctx, filepath.Join(t.TempDir(), "queue.db"), []byte("tok"))
	require.NoError(t, err)
	defer q.Close()
	now := time.Now()
	for _, seq := range []int64{1, 2, 3} {
		require.NoError(t, q.Push(ctx, 9, wire.TapRequest{Seq: seq, Offline: true, At: &now}, now))
	}
	api := &scriptedAPI{errs: []error{
		&client.ProblemError{Status: http.StatusUnauthorized, Type: "unauthorized"},
		&client.ProblemError{Status: http.StatusForbidden, Type: "forbidden"},
		nil,
		&client.ProblemError{Status: http.StatusForbidden, Type: wire.ProblemCardBlocked},
	}}
	term, err := terminal.New(terminal.Config{API: api, Queue: q, ActivityID: 9})
	require.NoError(t, err)

	for _, status := range []int{http.StatusUnauthorized, http.StatusForbidden} {
		n, err := term.Sync(ctx)
		require.Error(t, err, "status %d", status)
		require.Zero(t, n)
		left, err := q.Len(ctx)
		require.NoError(t, err)
		require.Equal(t, 3, left, "status %d must not drop queued taps", status)
	}

	n, err := term.Sync(ctx)
	require.NoError(t, err)
	require.Equal(t, 3, n, "tap 1 recorded, tap 2 refused for its card and dropped, tap 3 recorded")
	require.Equal(t, []int64{1, 3}, api.got)
	left, err := q.Len(ctx)
	require.NoError(t, err)
	require.Zero(t, left)
}

// TestSyncGoesPastAHeldTap queues a tap under another token ahead of two
// taps under the terminal's own: Sync reports the first as kept aside and
// sends the others, instead of stopping at the head of the queue.
func TestSyncGoesPastAHeldTap(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "queue.db")
	old, err := terminal.OpenQueue(ctx, path, []byte("old token"))
	require.NoError(t, err)
	now := time.Now()
	require.NoError(t, old.Push(ctx, 9, wire.TapRequest{Seq: 1, Offline: true, At: &now}, now))
	require.NoError(t, old.Close())
	q, err := terminal.OpenQueue(ctx, path, []byte("tok"))
	require.NoError(t, err)
	defer q.Close()
	for _, seq := range []int64{2, 3} {
		require.NoError(t, q.Push(ctx, 9, wire.TapRequest{Seq: seq, Offline: true, At: &now}, now))
	}
	api := &scriptedAPI{}
	var out strings.Builder
	term, err := terminal.New(terminal.Config{API: api, Queue: q, ActivityID: 9, Out: &out})
	require.NoError(t, err)
	n, err := term.Sync(ctx)
	require.NoError(t, err)
	require.Equal(t, 2, n)
	require.Equal(t, []int64{2, 3}, api.got)
	require.Contains(t, out.String(), "离线记录 #1 无法读取")
	held, err := q.Held(ctx)
	require.NoError(t, err)
	require.Equal(t, 1, held, "kept in the file, not lost")
}
