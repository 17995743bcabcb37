package cardsim_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/volcard/volcard/cardio"
	"github.com/volcard/volcard/cardio/cardsim"
)

func TestReaders(t *testing.T) {
	ctx := context.Background()
	c := load(t, "default.json")
	r := cardsim.NewReaders()
	names, err := r.List(ctx)
	require.NoError(t, err)
	require.Equal(t, []string{"sim"}, names)

	t.Run("unknown reader", func(t *testing.T) {
		_, err := r.Connect(ctx, "other", cardio.ShareShared)
		require.ErrorIs(t, err, cardio.ErrNoReader)
		require.ErrorIs(t, r.WaitForCard(ctx, "other"), cardio.ErrNoReader)
	})
	t.Run("empty reader", func(t *testing.T) {
		_, err := r.Connect(ctx, cardsim.ReaderName, cardio.ShareShared)
		require.ErrorIs(t, err, cardio.ErrNoCard)
		cctx, cancel := context.WithCancel(ctx)
		cancel()
		require.ErrorIs(t, r.WaitForCard(cctx, cardsim.ReaderName), context.Canceled)
		require.NoError(t, r.WaitForRemoval(ctx, cardsim.ReaderName))
	})
	t.Run("insert wakes waiter", func(t *testing.T) {
		done := make(chan error, 1)
		go func() { done <- r.WaitForCard(ctx, cardsim.ReaderName) }()
		r.Insert(c)
		require.NoError(t, <-done)
	})
	t.Run("connect and transmit", func(t *testing.T) {
		card, err := r.Connect(ctx, cardsim.ReaderName, cardio.ShareExclusive)
		require.NoError(t, err)
		require.Equal(t, []byte(cardsim.DefaultATR), card.ATR())
		_, err = cardio.Transmit(ctx, card, cardio.Command{INS: cardio.INSSelect, P1: 4, Data: []byte("2PAY.SYS.DDF01"), Le: 256})
		require.NoError(t, err)
		require.NoError(t, card.Disconnect(ctx))
		_, err = card.Transmit(ctx, []byte{0, 0xA4, 4, 0})
		require.ErrorIs(t, err, cardsim.ErrDisconnected)
	})
	t.Run("removal breaks old connection", func(t *testing.T) {
		card, err := r.Connect(ctx, cardsim.ReaderName, cardio.ShareShared)
		require.NoError(t, err)
		done := make(chan error, 1)
		go func() { done <- r.WaitForRemoval(ctx, cardsim.ReaderName) }()
		r.Remove()
		require.NoError(t, <-done)
		_, err = card.Transmit(ctx, []byte{0, 0xA4, 4, 0})
		require.ErrorIs(t, err, cardio.ErrCardRemoved)
		r.Insert(c)
		_, err = card.Transmit(ctx, []byte{0, 0xA4, 4, 0})
		require.ErrorIs(t, err, cardio.ErrCardRemoved, "a new insertion needs a new connection")
	})
	t.Run("fault removal empties the reader", func(t *testing.T) {
		card, err := r.Connect(ctx, cardsim.ReaderName, cardio.ShareShared)
		require.NoError(t, err)
		c.RemoveAfter(0)
		_, err = card.Transmit(ctx, []byte{0, 0xA4, 4, 0})
		require.ErrorIs(t, err, cardio.ErrCardRemoved)
		wctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		defer cancel()
		require.NoError(t, r.WaitForRemoval(wctx, cardsim.ReaderName))
		r.Insert(c)
		require.False(t, c.Removed())
		card, err = r.Connect(ctx, cardsim.ReaderName, cardio.ShareShared)
		require.NoError(t, err)
		_, err = card.Transmit(ctx, []byte{0, 0xA4, 4, 0})
		require.NoError(t, err)
	})
}
