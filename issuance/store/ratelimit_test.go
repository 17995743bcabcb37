package store_test

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"golang.org/x/time/rate"

	"github.com/volcard/volcard/issuance/store"
	"github.com/volcard/volcard/issuance/store/storetest"
)

func TestRateLimits(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		var mu sync.Mutex
		now := time.Unix(1_700_000_000, 0)
		clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
		advance := func(d time.Duration) { mu.Lock(); now = now.Add(d); mu.Unlock() }
		// Two limiters on one database stand for two serve processes.
		a, err := store.NewRateLimits(st, rate.Every(10*time.Second), 3, clock)
		require.NoError(t, err)
		b, err := store.NewRateLimits(st, rate.Every(10*time.Second), 3, clock)
		require.NoError(t, err)

		allow := func(l *store.RateLimits, key string) (bool, time.Duration) {
			ok, wait, err := l.Allow(ctx, key)
			require.NoError(t, err)
			return ok, wait
		}
		t.Run("the burst is shared by both processes", func(t *testing.T) {
			for i, l := range []*store.RateLimits{a, b, a} {
				ok, _ := allow(l, "progress:192.0.2.1")
				require.True(t, ok, "request %d within the burst", i+1)
			}
			ok, wait := allow(b, "progress:192.0.2.1")
			require.False(t, ok, "the fourth request, on the other process, is over the burst")
			require.Equal(t, 10*time.Second, wait)
			ok, _ = allow(a, "progress:192.0.2.2")
			require.True(t, ok, "another address has its own bucket")
		})
		t.Run("a refused request costs nothing; the rate refills", func(t *testing.T) {
			advance(4 * time.Second)
			ok, wait := allow(a, "progress:192.0.2.1")
			require.False(t, ok)
			require.Equal(t, 6*time.Second, wait)
			advance(6 * time.Second)
			ok, _ = allow(b, "progress:192.0.2.1")
			require.True(t, ok, "one interval later one request is allowed")
			ok, _ = allow(a, "progress:192.0.2.1")
			require.False(t, ok, "and only one")
		})
		t.Run("swept once idle; an idle key starts from a full bucket", func(t *testing.T) {
			advance(time.Minute)
			n, err := st.SweepRateLimits(ctx, clock())
			require.NoError(t, err)
			require.EqualValues(t, 2, n)
			for i := range 3 {
				ok, _ := allow(a, "progress:192.0.2.1")
				require.True(t, ok, "request %d after the sweep", i+1)
			}
		})
		t.Run("concurrent requests through both processes get the burst exactly", func(t *testing.T) {
			var allowed atomic.Int32
			var wg sync.WaitGroup
			for i := range 24 {
				wg.Go(func() {
					l := a
					if i%2 == 1 {
						l = b
					}
					ok, _, err := l.Allow(ctx, "progress:198.51.100.7")
					if err != nil {
						t.Error(err)
						return
					}
					if ok {
						allowed.Add(1)
					}
				})
			}
			wg.Wait()
			require.EqualValues(t, 3, allowed.Load())
		})
		t.Run("bad configuration", func(t *testing.T) {
			_, err := store.NewRateLimits(st, 0, 3, nil)
			require.Error(t, err)
			_, err = store.NewRateLimits(st, 1, 0, nil)
			require.Error(t, err)
			_, _, err = a.Allow(ctx, "")
			require.Error(t, err)
		})
	})
}
