package cardsim_test

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/volcard/volcard/cardio/cardsim"
	"github.com/volcard/volcard/cardio/emv"
	"github.com/volcard/volcard/cardio/gp"
)

const (
	// VERIFY with the default card's PIN (123456) and a wrong one.
	verifyRight = "0020008008" + "26123456FFFFFFFF"
	verifyWrong = "0020008008" + "26111111FFFFFFFF"
)

// TestSaveRoundTrip uses a card (an ATC step, a wrong PIN; payments), saves
// it and loads it back: the reloaded card has the same state, file by file,
// counter by counter and log record by log record, and carries on from it.
func TestSaveRoundTrip(t *testing.T) {
	c := load(t, "default.json")
	require.Zero(t, c.Changes())
	_, sw := run(t, c, selectDebit, gpoDefault)
	require.Equal(t, "9000", sw)
	_, sw = run(t, c, verifyWrong)
	require.Equal(t, "63C2", sw)
	require.Equal(t, uint64(2), c.Changes(), "ATC and PIN try counter")
	_, sw = run(t, c, selectDebit, "00B2010C00", "80CA9F3600")
	require.Equal(t, "9000", sw)
	require.Equal(t, uint64(2), c.Changes(), "reads change nothing")

	path := filepath.Join(t.TempDir(), "card.json")
	require.NoError(t, c.Save(path))
	fi, err := os.Stat(path)
	require.NoError(t, err)
	require.Equal(t, os.FileMode(0o600), fi.Mode().Perm(), "a card file holds keys")
	entries, err := os.ReadDir(filepath.Dir(path))
	require.NoError(t, err)
	require.Len(t, entries, 1, "no temporary file left")

	again, err := cardsim.Load(path)
	require.NoError(t, err)
	want, err := c.Image()
	require.NoError(t, err)
	got, err := again.Image()
	require.NoError(t, err)
	require.Equal(t, want, got)
	require.Equal(t, 2, again.PINTries())
	data, sw := run(t, again, selectDebit, "80CA9F3600")
	require.Equal(t, "9000", sw)
	require.Equal(t, []byte{0x9F, 0x36, 0x02, byte(want.ATC >> 8), byte(want.ATC)}, data, "the ATC carries on")
	first, err := cardsim.LoadImage(imagePath("default.json"))
	require.NoError(t, err)
	require.Equal(t, first.ATC+1, want.ATC)
	_, sw = run(t, again, verifyRight)
	require.Equal(t, "9000", sw)
	require.Equal(t, 3, again.PINTries())
	require.Equal(t, uint64(1), again.Changes())

	t.Run("payment state", func(t *testing.T) {
		// Keys, ATC, last online ATC, issuer authentication flags and the
		// transaction log: an online approval the issuer authenticated, an
		// offline approval, then an ARQC left without its second GENERATE
		// AC (the card pulled mid-transaction).
		sc := load(t, "default.json")
		is := testIssuer(t)
		card := connectCard(t, sc)
		r := transact(t, card, is, 1234, emv.TC, "00", false)
		require.Equal(t, emv.ARQC, r.first.Type())
		require.NoError(t, r.extAuthErr)
		require.Equal(t, emv.TC, r.second.Type())
		r2 := transact(t, card, is, 500, emv.TC, "", false)
		require.Equal(t, emv.TC, r2.first.Type())
		before := sc.Changes()
		_, sw := run(t, sc, selectDebit, gpoDefault, genAC1)
		require.Equal(t, "9000", sw)
		require.Equal(t, before+2, sc.Changes(), "the ATC and the online transaction left incomplete")

		img, err := sc.Image()
		require.NoError(t, err)
		require.Equal(t, cardsim.CurrentFormat, img.Format)
		pay := img.Applications[0].Payment
		require.NotNil(t, pay)
		first, err := cardsim.LoadImage(imagePath("default.json"))
		require.NoError(t, err)
		orig := first.Applications[0].Payment
		require.Equal(t, orig.AC, pay.AC)
		require.Equal(t, orig.SMI, pay.SMI)
		require.Equal(t, orig.SMC, pay.SMC)
		require.Equal(t, int(r.first.ATC), pay.LastOnlineATC)
		require.True(t, pay.OnlineIncomplete)
		require.Len(t, pay.Log, 2)
		require.Equal(t, first.ATC+3, img.ATC)

		path := filepath.Join(t.TempDir(), "card.json")
		require.NoError(t, sc.Save(path))
		again, err := cardsim.Load(path)
		require.NoError(t, err)
		got, err := again.Image()
		require.NoError(t, err)
		require.Equal(t, img, got)

		// The reloaded card serves that state and carries on from it.
		card2 := connectCard(t, again)
		f, err := emv.Read(context.Background(), card2, emv.Options{SkipODA: true, Fast: true})
		require.NoError(t, err)
		entry, ok := f.Tag("9F4D")
		require.True(t, ok)
		log, err := emv.TransactionLog(context.Background(), card2, entry)
		require.NoError(t, err)
		require.Len(t, log, 2)
		require.Equal(t, bcdAmount(500), log[0]["9F02"])
		require.Equal(t, bcdAmount(1234), log[1]["9F02"])
		require.Equal(t, r.first.ATC, binary.BigEndian.Uint16(getData(t, card2, "9F13")))
		r4 := transact(t, card2, is, 100, emv.TC, "00", false)
		require.Equal(t, uint16(img.ATC+2), r4.first.ATC, "the ATC carries on (one for the read above)")
		require.Equal(t, emv.ARQC, r4.first.Type())
		iad, err := emv.ParseIssuerApplicationData(r4.first.IAD)
		require.NoError(t, err)
		require.NotZero(t, iad.CVR[1]&0x80, "CVR: last online transaction not completed")
		require.NoError(t, r4.extAuthErr, "the card keys survived: the issuer's ARPC verifies")
	})

	t.Run("security domain counter", func(t *testing.T) {
		img := blankImage(t, 0x42)
		img.GP.SequenceCounter = 5
		b, err := cardsim.New(img)
		require.NoError(t, err)
		p := filepath.Join(t.TempDir(), "blank.json")
		require.NoError(t, b.Save(p))
		back, err := cardsim.LoadImage(p)
		require.NoError(t, err)
		require.Equal(t, 5, back.GP.SequenceCounter)
		require.Equal(t, img.GP.KDD, back.GP.KDD)
	})
}

func TestParseImage(t *testing.T) {
	good, err := os.ReadFile(imagePath("default.json"))
	require.NoError(t, err)
	var m map[string]any
	require.NoError(t, json.Unmarshal(good, &m))
	with := func(kv ...any) []byte { // key, value, key, value...
		c := map[string]any{}
		for k, v := range m {
			c[k] = v
		}
		for i := 0; i+1 < len(kv); i += 2 {
			c[kv[i].(string)] = kv[i+1]
		}
		b, err := json.Marshal(c)
		require.NoError(t, err)
		return b
	}
	// A format 1 personalized card kept its DGI 8000 keys in "keys".
	withKeys := func(format int) []byte {
		var c map[string]any
		require.NoError(t, json.Unmarshal(good, &c))
		c["format"] = format
		app := c["applications"].([]any)[0].(map[string]any)
		delete(app, "payment")
		app["keys"] = map[string]string{"ac": "00112233445566778899AABBCCDDEEFF", "smi": "00112233445566778899AABBCCDDEEFF", "smc": "00112233445566778899AABBCCDDEEFF"}
		b, err := json.Marshal(c)
		require.NoError(t, err)
		return b
	}
	blank, err := os.ReadFile(imagePath("blank.json"))
	require.NoError(t, err)
	var bm map[string]any
	require.NoError(t, json.Unmarshal(blank, &bm))
	delete(bm, "format")
	blankV1, err := json.Marshal(bm)
	require.NoError(t, err)
	tests := []struct {
		name string
		in   []byte
		want error
	}{
		{"committed image", good, nil},
		{"format 1", with("format", 1), nil},
		{"format 1 blank card", blankV1, nil},
		{"format 1 personalized card with application keys", withKeys(1), cardsim.ErrOldFormat},
		{"application keys without a format", withKeys(0), cardsim.ErrOldFormat},
		{"application keys in format 2", withKeys(2), cardsim.ErrInvalidImage},
		{"newer format", with("format", cardsim.CurrentFormat+1), cardsim.ErrNewerFormat},
		{"newer format with a field unknown here", with("format", cardsim.CurrentFormat+1, "loyalty", 7), cardsim.ErrNewerFormat},
		{"negative format", with("format", -1), cardsim.ErrInvalidImage},
		{"unknown field", with("transactionLog", []int{1}), cardsim.ErrInvalidImage},
		{"two images", append(append([]byte{}, good...), good...), cardsim.ErrInvalidImage},
		{"not JSON", []byte("blank"), cardsim.ErrInvalidImage},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			img, err := cardsim.ParseImage(tc.in)
			if tc.want != nil {
				require.ErrorIs(t, err, tc.want)
				return
			}
			require.NoError(t, err)
			_, err = cardsim.New(img)
			require.NoError(t, err)
		})
	}
}

// FuzzParseImage: any bytes give an image or an error, never a panic, and
// an image that parses either builds or is refused by New.
func FuzzParseImage(f *testing.F) {
	for _, name := range []string{"default.json", "blank.json", "pse-only.json"} {
		b, err := os.ReadFile(imagePath(name))
		require.NoError(f, err)
		f.Add(b)
	}
	f.Add([]byte(`{"format":3}`))
	f.Add([]byte(`{"applications":[{"aid":"A0000003330101","keys":{"ac":"00"}}]}`))
	f.Add([]byte(`{"format":2,"applications":[{"aid":"A0000003330101","payment":{"ac":"00","log":["00"]}}]}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		img, err := cardsim.ParseImage(b)
		if err != nil {
			return
		}
		_, _ = cardsim.New(img)
	})
}

func TestNewBlankImages(t *testing.T) {
	o := cardsim.BlankOptions{KMC: testKMC(t), Diversification: gp.DiversifyEMV, Serial: 0x00A00001}
	imgs, err := cardsim.NewBlankImages(o, 5)
	require.NoError(t, err)
	require.Len(t, imgs, 5)
	seen := map[string]bool{}
	for i, img := range imgs {
		c, err := cardsim.New(img)
		require.NoError(t, err)
		data, sw := run(t, c, "00A4040008A00000015100000000", "80CA9F7F00")
		require.Equal(t, "9000", sw)
		cplc, err := gp.ParseCPLC(data)
		require.NoError(t, err)
		require.Equal(t, []byte{0x00, 0xA0, 0x00, byte(1 + i)}, []byte(cplc.ICSerial))
		for _, v := range []string{"cplc " + img.GP.CPLC.String(), "kdd " + img.GP.KDD.String(), "enc " + img.GP.ENC.String(),
			"mac " + img.GP.MAC.String(), "dek " + img.GP.DEK.String()} {
			require.False(t, seen[v], "card %d repeats %s", i, v)
			seen[v] = true
		}
	}
	again, err := cardsim.NewBlankImages(o, 5)
	require.NoError(t, err)
	require.Equal(t, imgs, again, "the same options make the same cards")
	one, err := cardsim.NewBlankImage(cardsim.BlankOptions{KMC: o.KMC, Diversification: o.Diversification, Serial: 0x00A00003})
	require.NoError(t, err)
	require.Equal(t, one, imgs[2])

	for _, tc := range []struct {
		name   string
		serial uint32
		n      int
	}{
		{"none", 1, 0},
		{"too many", 1, cardsim.MaxBlankSeries + 1},
		{"past FFFFFFFF", 0xFFFFFFFE, 3},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o := o
			o.Serial = tc.serial
			_, err := cardsim.NewBlankImages(o, tc.n)
			require.ErrorIs(t, err, cardsim.ErrInvalidImage)
		})
	}
	last, err := cardsim.NewBlankImages(cardsim.BlankOptions{KMC: o.KMC, Diversification: o.Diversification, Serial: 0xFFFFFFFE}, 2)
	require.NoError(t, err, "up to FFFFFFFF itself")
	require.Len(t, last, 2)
}
