package pcsc_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/volcard/volcard/cardio"
	"github.com/volcard/volcard/cardio/pcsc"
	"github.com/volcard/volcard/cardio/pcsc/pcsctest"
)

func TestListShowsVirtualReaders(t *testing.T) {
	r := pcsctest.Start(t)
	names, err := r.List(t.Context())
	require.NoError(t, err)
	require.Contains(t, names, "Virtual PCD 00 00")
	require.Contains(t, names, "Virtual PCD 00 01")
}

func TestTransmitThroughPCSCD(t *testing.T) {
	r := pcsctest.Start(t)
	slot := pcsctest.Slot(t)
	pcsctest.Insert(t, slot, &pcsctest.EchoCard{})

	st, err := r.Status(t.Context())
	require.NoError(t, err)
	i := slices.IndexFunc(st, func(s pcsc.ReaderStatus) bool { return s.Name == slot.Reader })
	require.GreaterOrEqual(t, i, 0)
	require.True(t, st[i].CardPresent)

	card, err := r.Connect(t.Context(), slot.Reader, cardio.ShareExclusive)
	require.NoError(t, err)
	defer card.Disconnect(t.Context())
	require.Equal(t, pcsctest.EchoATR, card.ATR())

	tests := []struct {
		name string
		cmd  []byte
		want []byte
	}{
		{name: "case 1", cmd: []byte{0x00, 0x70, 0x00, 0x00}, want: []byte{0x90, 0x00}},
		{name: "case 3", cmd: []byte{0x80, 0x01, 0x00, 0x00, 0x02, 0xCA, 0xFE}, want: []byte{0xCA, 0xFE, 0x90, 0x00}},
		{name: "two bytes", cmd: []byte{0x00, 0x00}, want: []byte{0x90, 0x00}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := card.Transmit(t.Context(), tt.cmd)
			require.NoError(t, err)
			require.Equal(t, tt.want, got)
		})
	}

	t.Run("exclusive", func(t *testing.T) {
		_, err := r.Connect(t.Context(), slot.Reader, cardio.ShareShared)
		require.ErrorIs(t, err, pcsc.ErrCardInUse)
	})
}

func TestCardRemovedMidSession(t *testing.T) {
	r := pcsctest.Start(t)
	slot := pcsctest.Slot(t)
	pcsctest.Insert(t, slot, &pcsctest.EchoCard{RemoveAfter: 3})
	card, err := r.Connect(t.Context(), slot.Reader, cardio.ShareExclusive)
	require.NoError(t, err)
	defer card.Disconnect(t.Context())

	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
	defer cancel()
	var n int
	for ; n < 10; n++ {
		_, err = card.Transmit(ctx, []byte{0x00, 0xB2, 0x01, 0x0C, 0x00})
		if err != nil {
			break
		}
	}
	t.Logf("error after %d APDUs: %v", n, err)
	require.ErrorIs(t, err, cardio.ErrCardRemoved)
	require.NoError(t, ctx.Err())

	_, err = card.Transmit(ctx, []byte{0x00, 0xB2, 0x01, 0x0C, 0x00})
	require.ErrorIs(t, err, cardio.ErrCardRemoved)
	require.NoError(t, r.WaitForRemoval(ctx, slot.Reader))
}

func TestTransmitHungCardHonoursContext(t *testing.T) {
	r := pcsctest.Start(t)
	slot := pcsctest.Slot(t)
	const delay = time.Second
	echo := &pcsctest.EchoCard{Delay: delay}
	pcsctest.Insert(t, slot, echo)
	card, err := r.Connect(t.Context(), slot.Reader, cardio.ShareExclusive)
	require.NoError(t, err)

	ctx, cancel := context.WithTimeout(t.Context(), 100*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err = card.Transmit(ctx, []byte{0x00, 0x84, 0x00, 0x00, 0x08})
	elapsed := time.Since(start)
	require.ErrorIs(t, err, context.DeadlineExceeded)
	require.Less(t, elapsed, delay, "Transmit waited for the hung card")

	// The next call waits for the abandoned one, bounded by its own ctx.
	ctx2, cancel2 := context.WithTimeout(t.Context(), 50*time.Millisecond)
	defer cancel2()
	_, err = card.Transmit(ctx2, []byte{0x00, 0x84, 0x00, 0x00, 0x08})
	require.ErrorIs(t, err, context.DeadlineExceeded)
	require.ErrorIs(t, err, pcsc.ErrCardBroken)
	require.NoError(t, card.Disconnect(t.Context()))
}

func TestWaits(t *testing.T) {
	r := pcsctest.Start(t)
	slot := pcsctest.Slot(t)

	t.Run("no card: bounded by ctx", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(t.Context(), 100*time.Millisecond)
		defer cancel()
		require.ErrorIs(t, r.WaitForCard(ctx, slot.Reader), context.DeadlineExceeded)
	})
	t.Run("connect to empty reader", func(t *testing.T) {
		_, err := r.Connect(t.Context(), slot.Reader, cardio.ShareShared)
		require.ErrorIs(t, err, cardio.ErrNoCard)
	})
	t.Run("unknown reader", func(t *testing.T) {
		require.ErrorIs(t, r.WaitForCard(t.Context(), "No Such Reader 99"), cardio.ErrNoReader)
		_, err := r.Connect(t.Context(), "No Such Reader 99", cardio.ShareShared)
		require.ErrorIs(t, err, cardio.ErrNoReader)
	})
	t.Run("insert and remove", func(t *testing.T) {
		s := pcsctest.Insert(t, slot, &pcsctest.EchoCard{})
		ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
		defer cancel()
		name, err := r.WaitForAnyCard(ctx)
		require.NoError(t, err)
		require.Contains(t, []string{pcsctest.Slots[0].Reader, pcsctest.Slots[1].Reader}, name)
		require.NoError(t, s.Remove())
		require.NoError(t, r.WaitForRemoval(ctx, slot.Reader))
	})
	t.Run("reader list unchanged: bounded by ctx", func(t *testing.T) {
		names, err := r.List(t.Context())
		require.NoError(t, err)
		ctx, cancel := context.WithTimeout(t.Context(), 100*time.Millisecond)
		defer cancel()
		_, err = r.WaitForReaderChange(ctx, names)
		require.ErrorIs(t, err, context.DeadlineExceeded)
		got, err := r.WaitForReaderChange(t.Context(), names[:1])
		require.NoError(t, err)
		require.ElementsMatch(t, names, got)
	})
}
