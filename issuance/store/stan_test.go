package store_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/volcard/volcard/issuance/store"
	"github.com/volcard/volcard/issuance/store/storetest"
)

func TestSTAN(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		day := time.Date(2026, 11, 23, 23, 59, 0, 0, time.UTC)
		a, err := st.STAN("VOLCARD1")
		require.NoError(t, err)
		t.Run("sequence", func(t *testing.T) {
			for _, want := range []string{"000001", "000002", "000003"} {
				got, err := a.Next(ctx, day)
				require.NoError(t, err)
				require.Equal(t, want, got)
			}
		})
		t.Run("a restart continues the day", func(t *testing.T) {
			b, err := st.STAN("VOLCARD1")
			require.NoError(t, err)
			got, err := b.Next(ctx, day)
			require.NoError(t, err)
			require.Equal(t, "000004", got)
		})
		t.Run("senders count apart", func(t *testing.T) {
			o, err := st.STAN("OTHER001")
			require.NoError(t, err)
			got, err := o.Next(ctx, day)
			require.NoError(t, err)
			require.Equal(t, "000001", got)
		})
		t.Run("a new UTC day starts at 000001", func(t *testing.T) {
			got, err := a.Next(ctx, day.Add(2*time.Minute))
			require.NoError(t, err)
			require.Equal(t, "000001", got)
		})
		t.Run("concurrent allocations are unique", func(t *testing.T) {
			at := day.AddDate(0, 0, 5)
			var mu sync.Mutex
			seen := map[string]bool{}
			var wg sync.WaitGroup
			for range 4 {
				wg.Go(func() {
					b, _ := st.STAN("VOLCARD1")
					for range 25 {
						s, err := b.Next(ctx, at)
						if !assertNoErr(t, err) {
							return
						}
						mu.Lock()
						require.False(t, seen[s], "STAN %s handed out twice", s)
						seen[s] = true
						mu.Unlock()
					}
				})
			}
			wg.Wait()
			require.Len(t, seen, 100)
		})
		t.Run("not rolled back with a caller's transaction", func(t *testing.T) {
			if st.Dialect() == store.SQLite {
				t.Skip("SQLite has one writer: the allocation would wait for the caller's transaction")
			}
			at := day.AddDate(0, 0, 9)
			_ = st.InTx(ctx, func(ctx context.Context) error {
				_, err := a.Next(ctx, at)
				require.NoError(t, err)
				return context.Canceled
			})
			got, err := a.Next(ctx, at)
			require.NoError(t, err)
			require.Equal(t, "000002", got)
		})
		t.Run("prune", func(t *testing.T) {
			n, err := st.PruneSTANs(ctx, day.AddDate(0, 0, 9))
			require.NoError(t, err)
			require.Positive(t, n)
		})
	})
}

func assertNoErr(t *testing.T, err error) bool {
	t.Helper()
	if err != nil {
		t.Error(err)
		return false
	}
	return true
}
