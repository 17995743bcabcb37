package pcsc_test

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/stretchr/testify/require"

	"github.com/volcard/volcard/cardio"
	"github.com/volcard/volcard/cardio/cardsim"
	"github.com/volcard/volcard/cardio/emv"
	"github.com/volcard/volcard/cardio/pcsc"
	"github.com/volcard/volcard/cardio/pcsc/pcsctest"
)

// Fixtures shared with cardio/cardsim and cardio/emv.
var (
	imageFile  = "../../testdata/cards/default.json"
	caKeysFile = "../../testdata/keys/ca-public.json"
)

func loadImage(t testing.TB) cardsim.Image {
	t.Helper()
	img, err := cardsim.LoadImage(filepath.FromSlash(imageFile))
	require.NoError(t, err)
	return img
}

func newSimCard(t testing.TB, img cardsim.Image) *cardsim.Card {
	t.Helper()
	card, err := cardsim.New(img)
	require.NoError(t, err)
	return card
}

func readOptions(t testing.TB) emv.Options {
	t.Helper()
	keys, err := emv.LoadCAKeys(filepath.FromSlash(caKeysFile))
	require.NoError(t, err)
	return emv.Options{CAKeys: keys}
}

// connectSim inserts card into a vpcd slot and connects through pcscd.
func connectSim(t testing.TB, card *cardsim.Card) (*pcsc.Readers, pcsctest.SlotInfo, cardio.Card) {
	t.Helper()
	r := pcsctest.Start(t)
	slot := pcsctest.Slot(t)
	pcsctest.Insert(t, slot, card)
	c, err := r.Connect(t.Context(), slot.Reader, cardio.ShareExclusive)
	require.NoError(t, err)
	t.Cleanup(func() { _ = c.Disconnect(context.Background()) })
	return r, slot, c
}

// readInProcess reads the same image through cardsim's in-process reader:
// the expected facts.
func readInProcess(t *testing.T, img cardsim.Image, opts emv.Options) *emv.CardFacts {
	t.Helper()
	r := cardsim.NewReaders(newSimCard(t, img))
	c, err := r.Connect(t.Context(), cardsim.ReaderName, cardio.ShareExclusive)
	require.NoError(t, err)
	defer c.Disconnect(t.Context())
	f, err := emv.Read(t.Context(), c, opts)
	require.NoError(t, err)
	return f
}

func TestReadThroughPCSCD(t *testing.T) {
	img := loadImage(t)
	opts := readOptions(t)
	_, _, card := connectSim(t, newSimCard(t, img))

	got, err := emv.Read(t.Context(), card, opts)
	require.NoError(t, err)

	// The facts equal the image...
	app := img.Applications[0]
	var fields []cardsim.Field
	for _, rec := range app.Records {
		fields = append(fields, rec.Fields...)
	}
	pan, ok := cardsim.Find(fields, "5A")
	require.True(t, ok, "image has a PAN")
	require.Equal(t, cardio.Hex(pan.Value).String(), padF(got.PAN.Digits()))
	require.Equal(t, app.AID, got.AID)
	if name, ok := cardsim.Find(fields, "5F20"); ok {
		require.NotEmpty(t, name.Value)
		require.NotEmpty(t, got.CardholderName)
	}
	if idType, ok := cardsim.Find(fields, "9F62"); ok {
		require.NotNil(t, got.IDType)
		require.Equal(t, idType.Value[0], byte(*got.IDType))
	}
	// ... and what the in-process reader sees, field by field.
	want := readInProcess(t, img, opts)
	require.Empty(t, cmp.Diff(want, got, cmpopts.IgnoreUnexported(emv.CardFacts{}, emv.PAN{}, emv.IDNumber{}, emv.Track2{})))
	require.Equal(t, want.PAN.Digits(), got.PAN.Digits())

	// DDA verified.
	require.True(t, got.ODA.Verified, "ODA: %+v", got.ODA)
	require.Equal(t, emv.ODADDA, got.ODA.Method)
	t.Logf("read: %d APDUs, ODA %s", got.APDUs, got.ODA.Method)
}

// padF renders PAN digits as the card stores them (BCD, F-padded).
func padF(digits string) string {
	if len(digits)%2 == 1 {
		digits += "F"
	}
	return digits
}

func TestReadTamperedICCCertificateFailsODA(t *testing.T) {
	img := loadImage(t)
	tampered := false
	for ri, rec := range img.Applications[0].Records {
		for fi, f := range rec.Fields {
			if f.Tag == "9F46" {
				v := append(cardio.Hex(nil), f.Value...)
				v[len(v)/2] ^= 0x01
				img.Applications[0].Records[ri].Fields[fi].Value = v
				tampered = true
			}
		}
	}
	require.True(t, tampered, "image has an ICC certificate (9F46) in a record")
	_, _, card := connectSim(t, newSimCard(t, img))

	facts, err := emv.Read(t.Context(), card, readOptions(t))
	var odaErr *emv.ODAError
	require.ErrorAs(t, err, &odaErr)
	require.ErrorIs(t, err, emv.ErrICCCertificate)
	require.NotNil(t, facts, "facts come back with the ODA error")
	require.False(t, facts.ODA.Verified)
}

func TestReadCardRemovedMidRead(t *testing.T) {
	for _, n := range []int{0, 2, 4, 6} {
		t.Run(fmt.Sprintf("after %d APDUs", n), func(t *testing.T) {
			sim := newSimCard(t, loadImage(t))
			_, _, card := connectSim(t, sim)
			sim.RemoveAfter(n)
			ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
			defer cancel()
			_, err := emv.Read(ctx, card, readOptions(t))
			require.ErrorIs(t, err, cardio.ErrCardRemoved)
			require.NoError(t, ctx.Err(), "returned within the deadline")
		})
	}
}

func TestReadHungCardHonoursDeadline(t *testing.T) {
	sim := newSimCard(t, loadImage(t))
	_, _, card := connectSim(t, sim)
	const delay = time.Second
	sim.SetDelay(delay)
	ctx, cancel := context.WithTimeout(t.Context(), 200*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := emv.Read(ctx, card, readOptions(t))
	require.ErrorIs(t, err, context.DeadlineExceeded)
	require.Less(t, time.Since(start), delay, "Read waited for the slow card")
}

func TestPINVerifyThroughPCSCD(t *testing.T) {
	img := loadImage(t)
	require.NotEmpty(t, img.PIN, "image has a PIN")
	wrong := "0000"
	if img.PIN == wrong {
		wrong = "1111"
	}
	sim := newSimCard(t, img)
	_, _, card := connectSim(t, sim)
	_, err := emv.Read(t.Context(), card, readOptions(t))
	require.NoError(t, err)
	ctx := t.Context()

	require.NoError(t, emv.VerifyPIN(ctx, card, img.PIN), "right PIN")
	limit := sim.PINTries()
	require.Positive(t, limit)

	for left := limit - 1; left >= 0; left-- {
		err := emv.VerifyPIN(ctx, card, wrong)
		if left == 0 && errors.Is(err, cardio.ErrBlocked) {
			break // 6983 on the last try
		}
		require.ErrorIs(t, err, cardio.ErrWrongPIN)
		var pe *cardio.PINError
		require.ErrorAs(t, err, &pe)
		require.Equal(t, left, pe.TriesLeft)
	}
	require.ErrorIs(t, emv.VerifyPIN(ctx, card, img.PIN), cardio.ErrBlocked, "blocked even with the right PIN")
}
