package cardsim_test

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/volcard/volcard/cardio"
	"github.com/volcard/volcard/cardio/cardsim"
	"github.com/volcard/volcard/cardio/gp"
)

// testKMC loads the test KMC of testdata/keys/kmc.json.
func testKMC(t testing.TB) gp.Key {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(keysDir, "kmc.json"))
	require.NoError(t, err)
	var f struct {
		KMC string `json:"kmc"`
	}
	require.NoError(t, json.Unmarshal(b, &f))
	k, err := gp.ParseKey(f.KMC)
	require.NoError(t, err)
	return k
}

func blankImage(t testing.TB, serial uint32) cardsim.Image {
	t.Helper()
	img, err := cardsim.NewBlankImage(cardsim.BlankOptions{KMC: testKMC(t), Diversification: gp.DiversifyEMV, Serial: serial})
	require.NoError(t, err)
	return img
}

// TestBlankImageUpToDate checks testdata/cards/blank.json (serial 00000001)
// against the test KMC; -update rewrites it.
func TestBlankImageUpToDate(t *testing.T) {
	img := blankImage(t, 1)
	_, err := cardsim.New(img)
	require.NoError(t, err)
	b, err := json.MarshalIndent(img, "", "  ")
	require.NoError(t, err)
	b = append(b, '\n')
	path := filepath.Join(cardsDir, "blank.json")
	if *update {
		require.NoError(t, os.WriteFile(path, b, 0o644))
		return
	}
	got, err := os.ReadFile(path)
	require.NoError(t, err)
	require.True(t, bytes.Equal(b, got), "blank.json is stale: go test ./cardio/cardsim -run TestBlankImageUpToDate -update")
}

func TestBlankCard(t *testing.T) {
	const selectISD = "00A4040008A00000015100000000"
	t.Run("not personalized", func(t *testing.T) {
		c, err := cardsim.Load(imagePath("blank.json"))
		require.NoError(t, err)
		require.False(t, c.Personalized())
		_, sw := run(t, c, selectDebit)
		require.Equal(t, "6A82", sw)
		data, sw := run(t, c, selectPPSE)
		require.Equal(t, "9000", sw)
		require.NotContains(t, string(data), string([]byte{0xA0, 0x00, 0x00, 0x03, 0x33}))
	})
	tests := []struct {
		name string
		cmds []string
		sw   string
	}{
		{"select ISD", []string{selectISD}, "9000"},
		{"CPLC", []string{selectISD, "80CA9F7F00"}, "9000"},
		{"other GET DATA", []string{selectISD, "80CA006600"}, "6A88"},
		{"store data before authentication", []string{selectISD, "84E2800010" + "0101037001AA" + "00000000000000000000"}, "6985"},
		{"install before authentication", []string{selectISD, "84E6200016" + "000008A000000333010101000000" + "0000000000000000"}, "6985"},
		{"external authenticate first", []string{selectISD, "8482010010" + "00000000000000000000000000000000"}, "6985"},
		{"bad host cryptogram", []string{selectISD, "8050000008" + "0011223344556677" + "00", "8482010010" + "00000000000000000000000000000000"}, "6982"},
		{"wrong key version", []string{selectISD, "8050310008" + "0011223344556677" + "00"}, "6A88"},
		{"ISD not selected", []string{selectPPSE, "8050000008" + "0011223344556677" + "00"}, "6D00"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c, err := cardsim.Load(imagePath("blank.json"))
			require.NoError(t, err)
			_, sw := run(t, c, tc.cmds...)
			require.Equal(t, tc.sw, sw)
		})
	}
	t.Run("CPLC carries the serial", func(t *testing.T) {
		c, err := cardsim.New(blankImage(t, 0x0A0B0C0D))
		require.NoError(t, err)
		data, sw := run(t, c, selectISD, "80CA9F7F00")
		require.Equal(t, "9000", sw)
		cplc, err := gp.ParseCPLC(data)
		require.NoError(t, err)
		require.Equal(t, "4790516800000000", cplc.ChipSerial()[:8]+"00000000")
		require.Equal(t, cardio.Hex{0x0A, 0x0B, 0x0C, 0x0D}, cplc.ICSerial)
	})
	t.Run("secure channel with the KMC", func(t *testing.T) {
		c, err := cardsim.New(blankImage(t, 7))
		require.NoError(t, err)
		s, err := gp.NewSession(gp.Options{KMC: testKMC(t), Diversification: gp.DiversifyEMV, KeyVersion: 0x20, Level: gp.LevelMACENC})
		require.NoError(t, err)
		send := func(cmd cardio.Command) cardio.Response {
			raw, err := cmd.Encode()
			require.NoError(t, err)
			out, err := c.Process(raw)
			require.NoError(t, err)
			r, err := cardio.ParseResponse(out)
			require.NoError(t, err)
			return r
		}
		require.True(t, send(gp.Select(cardsim.DefaultISDAID)).OK())
		iu, err := s.InitializeUpdate()
		require.NoError(t, err)
		r := send(iu)
		require.True(t, r.OK())
		_, err = s.Open(r.Data)
		require.NoError(t, err)
		ea, err := s.ExternalAuthenticate()
		require.NoError(t, err)
		require.True(t, send(ea).OK())
		require.Equal(t, uint64(1), c.Changes(), "the sequence counter moved")
		// A STORE DATA before INSTALL [for personalization] is out of order.
		sd, err := s.Wrap(cardio.Command{CLA: 0x80, INS: 0xE2, P1: 0x80, Data: []byte{0x01, 0x01, 0x01, 0x00}})
		require.NoError(t, err)
		require.Equal(t, uint16(0x6985), send(sd).SW)
		// A command without C-MAC in the open channel: 6982, channel closed.
		require.Equal(t, uint16(0x6982), send(cardio.Command{CLA: 0x80, INS: 0xE6, P1: 0x20, Data: []byte{0, 0, 5, 1, 2, 3, 4, 5, 0, 0, 0}}).SW)
		inst, err := gp.InstallForPersonalization(cardsim.DefaultISDAID)
		require.NoError(t, err)
		inst, err = s.Wrap(inst)
		require.NoError(t, err)
		require.Equal(t, uint16(0x6985), send(inst).SW, "channel closed after the bad command")
		img, err := c.Image()
		require.NoError(t, err)
		require.Equal(t, 1, img.GP.SequenceCounter)
	})
}

// FuzzBlankProcess feeds arbitrary APDUs to a blank card after selecting its
// security domain: it must always answer with a status word, never panic.
func FuzzBlankProcess(f *testing.F) {
	img := blankImage(f, 9)
	for _, s := range []string{"8050000008001122334455667700", "80CA9F7F00", "84E2800010" + "0101037001AA" + "00000000000000000000", "8482030010" + "00000000000000000000000000000000"} {
		b, err := cardio.ParseHex(s)
		require.NoError(f, err)
		f.Add(b, b)
	}
	f.Fuzz(func(t *testing.T, a, b []byte) {
		c, err := cardsim.New(img)
		require.NoError(t, err)
		sel, _ := cardio.ParseHex("00A4040008A00000015100000000")
		for _, cmd := range [][]byte{sel, a, b} {
			out, err := c.Process(cmd)
			require.NoError(t, err)
			require.GreaterOrEqual(t, len(out), 2)
		}
	})
}
