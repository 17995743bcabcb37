package pcsctest

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/volcard/volcard/cardio"
)

func TestLockFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "slot.lock")
	unlock, err := lockFile(context.Background(), path, false)
	require.NoError(t, err)

	_, err = lockFile(context.Background(), path, false)
	require.ErrorIs(t, err, errBusy, "second holder is refused")

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err = lockFile(ctx, path, true)
	require.ErrorIs(t, err, context.Canceled, "blocking wait ends with ctx")

	unlock()
	unlock2, err := lockFile(context.Background(), path, false)
	require.NoError(t, err, "free again after unlock")
	unlock2()
}

func TestSlotsAreDistinct(t *testing.T) {
	a := Slot(t)
	b := Slot(t)
	require.NotEqual(t, a, b)
	require.Contains(t, Slots, a)
	require.Contains(t, Slots, b)
}

func TestEchoCard(t *testing.T) {
	c := &EchoCard{RemoveAfter: 3}
	require.Equal(t, EchoATR, c.ATR())
	rsp, err := c.Process([]byte{0x00, 0x01, 0x00, 0x00, 0x02, 0xAB, 0xCD})
	require.NoError(t, err)
	require.Equal(t, []byte{0xAB, 0xCD, 0x90, 0x00}, rsp)
	rsp, err = c.Process([]byte{0x00, 0x00})
	require.NoError(t, err)
	require.Equal(t, []byte{0x90, 0x00}, rsp)
	_, err = c.Process([]byte{0x00, 0x00})
	require.ErrorIs(t, err, cardio.ErrCardRemoved)
}
