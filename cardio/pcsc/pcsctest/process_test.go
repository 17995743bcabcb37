package pcsctest

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/volcard/volcard/cardio"
	"github.com/volcard/volcard/cardio/cardsim"
	"github.com/volcard/volcard/cardio/emv"
)

func TestMain(m *testing.M) {
	ServeCardProcess()
	os.Exit(m.Run())
}

// TestCardProcess reads a card served by a child process through pcscd,
// pulls it out and puts it back.
func TestCardProcess(t *testing.T) {
	r := Start(t)
	slot := Slot(t)
	img, err := cardsim.LoadImage(filepath.Join("..", "..", "..", "testdata", "cards", "default.json"))
	require.NoError(t, err)
	// What the same image says when read in this process.
	sim, err := cardsim.New(img)
	require.NoError(t, err)
	local, err := cardsim.NewReaders(sim).Connect(t.Context(), cardsim.ReaderName, cardio.ShareExclusive)
	require.NoError(t, err)
	want, err := emv.Read(t.Context(), local, emv.Options{SkipODA: true})
	require.NoError(t, err)

	p := InsertProcess(t, slot, img)
	read := func() {
		card, err := r.Connect(t.Context(), slot.Reader, cardio.ShareExclusive)
		require.NoError(t, err)
		defer card.Disconnect(context.Background())
		f, err := emv.Read(t.Context(), card, emv.Options{SkipODA: true})
		require.NoError(t, err)
		require.Equal(t, want.PAN.Digits(), f.PAN.Digits())
		require.Equal(t, want.CardholderName, f.CardholderName)
	}
	read()
	busy := p.Busy(t)
	require.Positive(t, busy, "the card's own time answering the read")
	require.NoError(t, p.Remove())
	ctx, cancel := context.WithTimeout(t.Context(), StepTimeout)
	defer cancel()
	require.NoError(t, r.WaitForRemoval(ctx, slot.Reader))
	require.NoError(t, p.Insert(ctx))
	require.NoError(t, r.WaitForCard(ctx, slot.Reader))
	read()
	require.Greater(t, p.Busy(t), busy, "the second read counts too")
	// Another card in the same process, with its own count.
	p.Swap(t, img)
	require.Less(t, p.Busy(t), busy)
	read()
}

// TestServeCardRefuses covers the card process's own errors: a missing
// image and an unknown request.
func TestServeCardRefuses(t *testing.T) {
	require.Error(t, serveCard("127.0.0.1:1", filepath.Join(t.TempDir(), "none.json"), strings.NewReader(""), &strings.Builder{}))
	img := filepath.Join("..", "..", "..", "testdata", "cards", "default.json")
	var out strings.Builder
	require.NoError(t, serveCard("127.0.0.1:1", img, strings.NewReader("jump\nremove\n"), &out))
	require.Equal(t, "unknown request \"jump\"\nok\n", out.String())
}
