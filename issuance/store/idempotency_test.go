package store_test

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/volcard/volcard/issuance"
	"github.com/volcard/volcard/issuance/store"
	"github.com/volcard/volcard/issuance/store/storetest"
)

func TestIdempotencyKeys(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		var mu sync.Mutex
		now := time.Unix(1_700_000_000, 0)
		clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
		advance := func(d time.Duration) { mu.Lock(); now = now.Add(d); mu.Unlock() }
		keys, err := store.NewIdempotencyKeys(st, clock)
		require.NoError(t, err)
		claim := func(key, hash string) issuance.IdempotencyClaim {
			return issuance.IdempotencyClaim{Scope: "token:1", Key: key, RequestHash: hash, TTL: 24 * time.Hour, LockTTL: time.Minute}
		}
		resp := issuance.StoredResponse{Status: 201, ContentType: "application/json", Location: "/v1/applications/1", Body: []byte(`{"id":1}`)}

		t.Run("first claim runs, retry replays", func(t *testing.T) {
			got, err := keys.Claim(ctx, claim("k1", "h1"))
			require.NoError(t, err)
			require.Nil(t, got)
			require.NoError(t, keys.Complete(ctx, "token:1", "k1", resp))
			got, err = keys.Claim(ctx, claim("k1", "h1"))
			require.NoError(t, err)
			require.Equal(t, &resp, got)
		})
		t.Run("other body is a mismatch", func(t *testing.T) {
			_, err := keys.Claim(ctx, claim("k1", "h2"))
			require.ErrorIs(t, err, issuance.ErrIdempotencyKeyMismatch)
		})
		t.Run("other scope is another key", func(t *testing.T) {
			c := claim("k1", "h2")
			c.Scope = "token:2"
			got, err := keys.Claim(ctx, c)
			require.NoError(t, err)
			require.Nil(t, got)
		})
		t.Run("in flight, then taken over after the lock expires", func(t *testing.T) {
			_, err := keys.Claim(ctx, claim("k2", "h1"))
			require.NoError(t, err)
			_, err = keys.Claim(ctx, claim("k2", "h1"))
			require.ErrorIs(t, err, issuance.ErrIdempotencyKeyInFlight)
			advance(2 * time.Minute)
			got, err := keys.Claim(ctx, claim("k2", "h1"))
			require.NoError(t, err)
			require.Nil(t, got, "abandoned claim taken over")
		})
		t.Run("release frees the key", func(t *testing.T) {
			_, err := keys.Claim(ctx, claim("k3", "h1"))
			require.NoError(t, err)
			require.NoError(t, keys.Release(ctx, "token:1", "k3"))
			got, err := keys.Claim(ctx, claim("k3", "h2"))
			require.NoError(t, err)
			require.Nil(t, got)
		})
		t.Run("release keeps completed keys", func(t *testing.T) {
			require.NoError(t, keys.Release(ctx, "token:1", "k1"))
			got, err := keys.Claim(ctx, claim("k1", "h1"))
			require.NoError(t, err)
			require.Equal(t, &resp, got)
		})
		t.Run("expired keys are free and swept", func(t *testing.T) {
			advance(25 * time.Hour)
			got, err := keys.Claim(ctx, claim("k1", "h9"))
			require.NoError(t, err)
			require.Nil(t, got, "expired key reused with another body")
			advance(25 * time.Hour)
			n, err := keys.DeleteExpired(ctx)
			require.NoError(t, err)
			require.GreaterOrEqual(t, n, int64(3))
		})
		t.Run("concurrent claims: exactly one wins", func(t *testing.T) {
			var won, inFlight atomic.Int32
			var wg sync.WaitGroup
			for range 8 {
				wg.Go(func() {
					got, err := keys.Claim(ctx, claim("race", "h1"))
					switch {
					case err == nil && got == nil:
						won.Add(1)
					case err != nil:
						require.ErrorIs(t, err, issuance.ErrIdempotencyKeyInFlight)
						inFlight.Add(1)
					}
				})
			}
			wg.Wait()
			require.Equal(t, int32(1), won.Load())
			require.Equal(t, int32(7), inFlight.Load())
		})
		t.Run("incomplete claims are refused", func(t *testing.T) {
			_, err := keys.Claim(ctx, issuance.IdempotencyClaim{Key: "x"})
			require.Error(t, err)
		})
	})
}

// TestIdempotencyClaimOfDeadMember: a request in flight on a serve process
// that dies is taken over at once by the retry on another process, not
// after its one-minute lock (issue 20).
func TestIdempotencyClaimOfDeadMember(t *testing.T) {
	ctx := context.Background()
	st := storetest.Postgres(t)
	m1, err := st.Join(ctx, "", nil)
	require.NoError(t, err)
	m2, err := st.Join(ctx, "", nil)
	require.NoError(t, err)
	defer m2.Close()
	base, err := store.NewIdempotencyKeys(st, nil)
	require.NoError(t, err)
	k1, k2 := base.OwnedBy(m1.ID()), base.OwnedBy(m2.ID())
	claim := issuance.IdempotencyClaim{Scope: "token:1", Key: "approve-7", RequestHash: "h", TTL: time.Hour, LockTTL: time.Minute}

	got, err := k1.Claim(ctx, claim)
	require.NoError(t, err)
	require.Nil(t, got)
	_, err = k2.Claim(ctx, claim)
	require.ErrorIs(t, err, issuance.ErrIdempotencyKeyInFlight, "its process is alive: the first request may still finish")
	_, err = base.Claim(ctx, claim)
	require.ErrorIs(t, err, issuance.ErrIdempotencyKeyInFlight)

	require.NoError(t, m1.Close()) // the first process dies mid-request
	got, err = k2.Claim(ctx, claim)
	require.NoError(t, err)
	require.Nil(t, got, "taken over at once")
	_, err = base.Claim(ctx, claim)
	require.ErrorIs(t, err, issuance.ErrIdempotencyKeyInFlight, "now held by the live process")
}
