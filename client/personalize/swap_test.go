package personalize_test

import (
	"context"
	"slices"
	"sync"
	"testing"
	"testing/synctest"

	"github.com/stretchr/testify/require"

	"github.com/volcard/volcard/cardio/cardsim"
	"github.com/volcard/volcard/client/personalize"
)

// TestAwaitSwap: with a card in the reader the swap waits for it to be
// taken out, then for another card; it returns only once the next card is
// in, telling each step before waiting for it. synctest.Wait lets every
// goroutine block first, so "still waiting" is a fact, not a timing.
func TestAwaitSwap(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		readers := cardsim.NewReaders(load(t, "default.json"))
		var mu sync.Mutex
		var said []personalize.SwapStep
		steps := func() []personalize.SwapStep { mu.Lock(); defer mu.Unlock(); return slices.Clone(said) }
		done := make(chan error, 1)
		go func() {
			done <- personalize.AwaitSwap(t.Context(), readers, cardsim.ReaderName, func(s personalize.SwapStep) {
				mu.Lock()
				defer mu.Unlock()
				said = append(said, s)
			})
		}()
		waiting := func() bool {
			synctest.Wait()
			select {
			case err := <-done:
				require.NoError(t, err)
				return false
			default:
				return true
			}
		}
		require.True(t, waiting(), "the used card is still in the reader")
		require.Equal(t, []personalize.SwapStep{personalize.TakeOut}, steps())

		readers.Remove()
		require.True(t, waiting(), "the reader is empty: it waits for the next card")
		require.Equal(t, []personalize.SwapStep{personalize.TakeOut, personalize.PutIn}, steps())

		readers.Insert(load(t, "blank.json"))
		require.False(t, waiting(), "the next card is in")
		require.Equal(t, []personalize.SwapStep{personalize.TakeOut, personalize.PutIn}, steps())
	})
	t.Run("empty reader: straight to the next card", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			readers := cardsim.NewReaders()
			done := make(chan error, 1)
			go func() { done <- personalize.AwaitSwap(t.Context(), readers, cardsim.ReaderName, nil) }()
			synctest.Wait()
			require.Empty(t, done)
			readers.Insert(load(t, "blank.json"))
			require.NoError(t, <-done)
		})
	})
	t.Run("stopped while waiting", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			readers := cardsim.NewReaders(load(t, "default.json"))
			ctx, cancel := context.WithCancel(t.Context())
			done := make(chan error, 1)
			go func() { done <- personalize.AwaitSwap(ctx, readers, cardsim.ReaderName, nil) }()
			synctest.Wait()
			cancel()
			require.ErrorIs(t, <-done, context.Canceled)
		})
	})
}

func load(t testing.TB, name string) *cardsim.Card {
	t.Helper()
	c, err := cardsim.Load("../../testdata/cards/" + name)
	require.NoError(t, err)
	return c
}
