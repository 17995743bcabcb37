package dataprep_test

import (
	"bytes"
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/volcard/volcard/cardio/cardsim"
	"github.com/volcard/volcard/cardio/emv"
	"github.com/volcard/volcard/personalization/dataprep"
)

// TestKeyPool: the pool fills up to its size with distinct valid keys;
// Prepare takes its ICC key from it, and the card personalized with that
// key passes the read-back's DDA check.
func TestKeyPool(t *testing.T) {
	ctx := t.Context()
	pool, err := dataprep.NewKeyPool(ctx, dataprep.KeyPoolConfig{Bits: 768, Size: 3, Quiet: -1})
	require.NoError(t, err)
	require.Equal(t, 768, pool.Bits())
	require.Eventually(t, func() bool { return pool.Stats().Ready == 3 }, time.Minute, 5*time.Millisecond)

	var keys []*emv.PrivateKey
	for range 2 {
		k, ok := pool.Take()
		require.True(t, ok)
		require.NoError(t, k.Validate())
		require.Equal(t, 96, k.Size())
		for _, other := range keys {
			require.False(t, bytes.Equal(k.Public().Modulus, other.Public().Modulus), "a key handed out twice")
		}
		keys = append(keys, k)
	}

	e := newEnv(t)
	p, err := dataprep.New(e.keys, dataprep.WithClock(func() time.Time { return testNow }), dataprep.WithKeyPool(pool))
	require.NoError(t, err)
	before := pool.Stats().Hits
	prepared, err := p.Prepare(ctx, input(t, "246810"))
	require.NoError(t, err)
	require.Equal(t, before+1, pool.Stats().Hits, "Prepare took its key from the pool")
	card := blankCard(t, e.kmc, 0x0A0B0C0D)
	res, err := personalize(ctx, t, e, cardsim.NewReaders(card), prepared)
	require.NoError(t, err)
	require.Equal(t, emv.ODADDA, res.facts.ODA.Method)
	require.True(t, res.facts.ODA.Verified, res.facts.ODA.Failure)
}

// TestKeyPoolQuiet: a taken key is replaced only after the quiet spell
// (here 400 ms without a Take), never during it.
func TestKeyPoolQuiet(t *testing.T) {
	pool, err := dataprep.NewKeyPool(t.Context(), dataprep.KeyPoolConfig{Size: 1, Quiet: 400 * time.Millisecond})
	require.NoError(t, err)
	require.Eventually(t, func() bool { return pool.Stats().Ready == 1 }, time.Minute, 5*time.Millisecond)
	taken := time.Now()
	_, ok := pool.Take()
	require.True(t, ok)
	for time.Since(taken) < 300*time.Millisecond {
		require.Zero(t, pool.Stats().Ready, "refilled %v after a Take", time.Since(taken))
		time.Sleep(10 * time.Millisecond)
	}
	require.Eventually(t, func() bool { return pool.Stats().Ready == 1 }, time.Minute, 5*time.Millisecond)
	require.GreaterOrEqual(t, time.Since(taken), 400*time.Millisecond)
}

// TestKeyPoolEmpty: when the pool has nothing ready (here its context
// ended before it generated a key), Prepare generates the key itself: an
// empty pool is slower, never an error.
func TestKeyPoolEmpty(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	pool, err := dataprep.NewKeyPool(ctx, dataprep.KeyPoolConfig{Size: 2})
	require.NoError(t, err)
	_, ok := pool.Take()
	require.False(t, ok)

	e := newEnv(t)
	p, err := dataprep.New(e.keys, dataprep.WithClock(func() time.Time { return testNow }), dataprep.WithKeyPool(pool))
	require.NoError(t, err)
	_, err = p.Prepare(t.Context(), input(t, "246810"))
	require.NoError(t, err)
	st := pool.Stats()
	require.Equal(t, 0, st.Ready)
	require.Equal(t, int64(0), st.Hits)
	require.Equal(t, int64(2), st.Misses)
}

// TestKeyPoolSettings: sizes out of range and a pool of another key size
// than the Preparer's are refused with the setting named.
func TestKeyPoolSettings(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel() // no generation needed here
	for _, tc := range []struct{ bits, size int }{{768, -1}, {768, 1025}, {500, 4}, {2048, 4}, {770, 4}, {-768, 4}} {
		_, err := dataprep.NewKeyPool(ctx, dataprep.KeyPoolConfig{Bits: tc.bits, Size: tc.size})
		var ie *dataprep.InputError
		require.ErrorAs(t, err, &ie, "bits %d size %d", tc.bits, tc.size)
	}
	pool, err := dataprep.NewKeyPool(ctx, dataprep.KeyPoolConfig{Bits: 1024, Size: 1})
	require.NoError(t, err)
	e := newEnv(t)
	_, err = dataprep.New(e.keys, dataprep.WithKeyPool(pool))
	require.ErrorContains(t, err, "1024-bit keys")
	_, err = dataprep.New(e.keys, dataprep.WithKeyPool(nil))
	require.Error(t, err)
	_, err = dataprep.New(e.keys, dataprep.WithICCKeyBits(1024), dataprep.WithKeyPool(pool))
	require.NoError(t, err)
}
