package issuance_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/volcard/volcard/issuance"
	"github.com/volcard/volcard/issuance/issuancetest"
	"github.com/volcard/volcard/issuance/store"
	"github.com/volcard/volcard/issuance/store/storetest"
)

// scriptedNumbers hands out application numbers from a list, so a test can
// make two applications draw the same random number.
type scriptedNumbers struct {
	mu   sync.Mutex
	next []string
}

func (g *scriptedNumbers) ApplicationNumber(time.Time) (string, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	n := g.next[0]
	g.next = g.next[1:]
	return n, nil
}

// TestApplicationNumberClashInsideTransaction applies twice inside one outer
// transaction (as the idempotency middleware runs commands) where the second
// application first draws the number the first one got: it must retry with a
// new number and succeed, on PostgreSQL too, where a failed statement would
// abort the whole transaction.
func TestApplicationNumberClashInsideTransaction(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		f := issuancetest.New(t, st)
		nums := &scriptedNumbers{next: []string{"GD2026112300000001", "GD2026112300000001", "GD2026112300000002"}}
		svc, err := issuance.NewService(st, issuancetest.Keys(t), issuance.WithClock(f.Clock), issuance.WithNumbers(nums))
		require.NoError(t, err)
		v1 := f.Volunteer(t, f.Sys, f.Guangzhou, "张一")
		v2 := f.Volunteer(t, f.Sys, f.Guangzhou, "张二")

		var a1, a2 issuance.Application
		require.NoError(t, svc.InTx(context.Background(), func(ctx context.Context) error {
			var err error
			if a1, err = svc.Apply(ctx, f.Sys, v1.ID, "GD-RV-BOC", issuance.ChannelOnline); err != nil {
				return err
			}
			a2, err = svc.Apply(ctx, f.Sys, v2.ID, "GD-RV-BOC", issuance.ChannelOnline)
			return err
		}))
		require.Equal(t, "GD2026112300000001", a1.Number)
		require.Equal(t, "GD2026112300000002", a2.Number)
		require.Empty(t, nums.next, "the clash cost exactly one extra draw")

		got, err := svc.GetApplication(context.Background(), f.Sys, a2.ID)
		require.NoError(t, err)
		require.Equal(t, a2.Number, got.Number)
		ev, err := svc.Events(context.Background(), f.Sys, a2.ID)
		require.NoError(t, err)
		require.Len(t, ev, 1)
	})
}
