package cardsim_test

import (
	"context"
	"encoding/hex"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/volcard/volcard/cardio"
	"github.com/volcard/volcard/cardio/cardsim"
)

const (
	selectPPSE  = "00A404000E325041592E5359532E444446303100"
	selectPSE   = "00A404000E315041592E5359532E444446303100"
	selectDebit = "00A4040008A00000033301010100"
	// GPO with the default card's 36-byte PDOL data.
	gpoDefault = "80A8000026 8324" + "46000000" + "000000000000" + "000000000000" + "0156" + "0000000000" + "0156" + "261123" + "00" + "11223344" + "093000" + "00"
	// First GENERATE AC asking for an ARQC with the 52 bytes of CDOL1 data
	// (amount 1.00 CNY), second asking for a TC with the 31 bytes of CDOL2
	// data (ARC "00"), and EXTERNAL AUTHENTICATE with a made-up ARPC.
	genAC1  = "80AE800034" + "000000000100" + "000000000000" + "0156" + "0000000000" + "0156" + "261123" + "00" + "55667788" + "093000" + "5445535420534850000000000000000000000000" + "00"
	genAC2  = "80AE40001F" + "3030" + "000000000100" + "000000000000" + "0156" + "0000000000" + "0156" + "261123" + "00" + "55667788" + "00"
	extAuth = "008200000A" + "1122334455667788" + "3030"
)

func load(t testing.TB, name string) *cardsim.Card {
	t.Helper()
	c, err := cardsim.Load(imagePath(name))
	require.NoError(t, err)
	return c
}

func imagePath(name string) string { return cardsDir + "/" + name }

// sw sends raw commands in order and returns the last response's SW as hex.
func run(t testing.TB, c *cardsim.Card, cmds ...string) (data []byte, sw string) {
	t.Helper()
	for _, h := range cmds {
		raw, err := cardio.ParseHex(h)
		require.NoError(t, err)
		resp, err := c.Process(raw)
		require.NoError(t, err)
		require.GreaterOrEqual(t, len(resp), 2)
		data, sw = resp[:len(resp)-2], strings.ToUpper(hex.EncodeToString(resp[len(resp)-2:]))
	}
	return data, sw
}

func TestStatusWords(t *testing.T) {
	tests := []struct {
		name string
		cmds []string
		sw   string
	}{
		{"select PPSE", []string{selectPPSE}, "9000"},
		{"select PSE", []string{selectPSE}, "9000"},
		{"select debit", []string{selectDebit}, "9000"},
		{"select partial AID", []string{"00A4040007A000000333010100"}, "9000"},
		{"select unknown AID", []string{"00A4040008A00000000310101000"}, "6A82"},
		{"select next occurrence", []string{"00A4040208A00000033301010100"}, "6A82"},
		{"select by FID", []string{"00A40000023F0000"}, "6A86"},
		{"select without name", []string{"00A4040000"}, "6700"},
		{"unknown CLA", []string{"A0A404000E325041592E5359532E444446303100"}, "6E00"},
		{"wrong CLA for GPO", []string{selectDebit, "00A8000002830000"}, "6E00"},
		{"unknown INS", []string{"00FE000000"}, "6D00"},
		{"extended APDU refused", []string{"00B2010C000100"}, "6700"},
		{"malformed Lc", []string{"00A4040005A000"}, "6700"},
		{"GPO without selection", []string{gpoDefault}, "6985"},
		{"GPO wrong Lc", []string{selectDebit, "80A80000028300 00"}, "6700"},
		{"GPO wrong template", []string{selectDebit, strings.Replace(gpoDefault, "8324", "8424", 1)}, "6A80"},
		{"GPO bad P1P2", []string{selectDebit, "80A80100028300 00"}, "6A86"},
		{"GPO", []string{selectDebit, gpoDefault}, "9000"},
		{"GPO twice", []string{selectDebit, gpoDefault, gpoDefault}, "6985"},
		{"read record", []string{selectDebit, "00B2010C00"}, "9000"},
		{"read record missing", []string{selectDebit, "00B2050C00"}, "6A83"},
		{"read record unknown SFI", []string{selectDebit, "00B2014C00"}, "6A82"},
		{"read record bad P2", []string{selectDebit, "00B2010800"}, "6A86"},
		{"read record P1 zero", []string{selectDebit, "00B2000C00"}, "6A86"},
		{"read record without selection", []string{"00B2010C00"}, "6985"},
		{"read PSE directory", []string{selectPSE, "00B2010C00"}, "9000"},
		{"read PSE end", []string{selectPSE, "00B2020C00"}, "6A83"},
		{"get data ATC", []string{selectDebit, "80CA9F3600"}, "9000"},
		{"get data PIN try counter", []string{selectDebit, "80CA9F1700"}, "9000"},
		{"get data 9F13", []string{selectDebit, "80CA9F1300"}, "9000"},
		{"get data unknown", []string{selectDebit, "80CA9F7900"}, "6A88"},
		{"get data without selection", []string{"80CA9F3600"}, "6985"},
		{"verify right", []string{selectDebit, "002000800826123456FFFFFFFF"}, "9000"},
		{"verify wrong", []string{selectDebit, "002000800826000000FFFFFFFF"}, "63C2"},
		{"verify counter query", []string{selectDebit, "0020008000"}, "63C3"},
		{"verify bad block", []string{selectDebit, "002000800836123456FFFFFFFF"}, "6A80"},
		{"verify bad padding", []string{selectDebit, "002000800826123456FFFFFF00"}, "6A80"},
		{"verify wrong length", []string{selectDebit, "002000800426123456"}, "6700"},
		{"verify enciphered PIN", []string{selectDebit, "002000880826123456FFFFFFFF"}, "6A86"},
		{"verify without selection", []string{"002000800826123456FFFFFFFF"}, "6985"},
		{"get challenge", []string{"0084000008"}, "9000"},
		{"get challenge wrong Le", []string{"0084000005"}, "6700"},
		{"internal auth before GPO", []string{selectDebit, "008800000411223344 00"}, "6985"},
		{"internal auth wrong length", []string{selectDebit, gpoDefault, "00880000021122 00"}, "6700"},
		{"internal auth", []string{selectDebit, gpoDefault, "008800000411223344 00"}, "9000"},
		{"internal auth bad P1P2", []string{selectDebit, gpoDefault, "008801000411223344 00"}, "6A86"},
		{"get response without data", []string{"00C0000010"}, "6985"},
		{"no Le gives 61xx", []string{"00A404000E325041592E5359532E4444463031"}, "6144"},
		{"get response after 61xx", []string{"00A404000E325041592E5359532E4444463031", "00C0000044"}, "9000"},
		{"partial get response", []string{"00A404000E325041592E5359532E4444463031", "00C0000028"}, "611C"},
		{"short Le gives 6Cxx", []string{selectDebit, "80CA9F3602"}, "6C05"},
		{"get data log format", []string{selectDebit, "80CA9F4F00"}, "9000"},
		{"read empty transaction log", []string{selectDebit, gpoDefault, "00B2015C00"}, "6A83"},
		{"generate AC before GPO", []string{selectDebit, genAC1}, "6985"},
		{"generate AC", []string{selectDebit, gpoDefault, genAC1}, "9000"},
		{"generate AC wrong length", []string{selectDebit, gpoDefault, "80AE80000300000000"}, "6700"},
		{"generate AC with CDA", []string{selectDebit, gpoDefault, strings.Replace(genAC1, "80AE80", "80AE90", 1)}, "6A86"},
		{"generate AC wrong CLA", []string{selectDebit, gpoDefault, "00" + genAC1[2:]}, "6E00"},
		{"second generate AC", []string{selectDebit, gpoDefault, genAC1, genAC2}, "9000"},
		{"second generate AC asking ARQC", []string{selectDebit, gpoDefault, genAC1, strings.Replace(genAC2, "80AE40", "80AE80", 1)}, "6A86"},
		{"third generate AC", []string{selectDebit, gpoDefault, genAC1, genAC2, genAC2}, "6985"},
		{"generate AC after an AAC", []string{selectDebit, gpoDefault, strings.Replace(genAC1, "80AE80", "80AE00", 1), genAC2}, "6985"},
		{"external authenticate before an ARQC", []string{selectDebit, gpoDefault, extAuth}, "6985"},
		{"external authenticate with a wrong ARPC", []string{selectDebit, gpoDefault, genAC1, extAuth}, "6300"},
		{"external authenticate twice", []string{selectDebit, gpoDefault, genAC1, extAuth, extAuth}, "6985"},
		{"external authenticate wrong length", []string{selectDebit, gpoDefault, genAC1, "008200000811223344556677"}, "6700"},
		{"external authenticate after the second generate AC", []string{selectDebit, gpoDefault, genAC1, genAC2, extAuth}, "6985"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, got := run(t, load(t, "default.json"), tc.cmds...)
			require.Equal(t, tc.sw, got)
		})
	}
	t.Run("SDA card has no INTERNAL AUTHENTICATE", func(t *testing.T) {
		_, got := run(t, load(t, "sda-only.json"), selectDebit, gpoDefault, "008800000411223344 00")
		require.Equal(t, "6D00", got)
	})
	t.Run("non-financial card", func(t *testing.T) {
		c := load(t, "non-financial.json")
		for _, cmd := range []string{selectPPSE, selectPSE, selectDebit} {
			_, got := run(t, c, cmd)
			require.Equal(t, "6A82", got)
		}
		_, got := run(t, c, "00A404000CD1560000050100000000000000")
		require.Equal(t, "9000", got)
	})
}

// TestTransmitHandlesT0 checks cardio.Transmit against the simulator's
// 61xx/6Cxx behaviour.
func TestTransmitHandlesT0(t *testing.T) {
	c := load(t, "default.json")
	r := cardsim.NewReaders(c)
	card, err := r.Connect(context.Background(), cardsim.ReaderName, cardio.ShareShared)
	require.NoError(t, err)
	tr := cardio.NewTranscript()
	card = tr.Wrap(card)
	ctx := context.Background()

	resp, err := cardio.Transmit(ctx, card, cardio.Command{INS: cardio.INSSelect, P1: 4, Data: []byte("2PAY.SYS.DDF01")}) // no Le: 61xx
	require.NoError(t, err)
	require.Equal(t, byte(0x6F), resp.Data[0])
	require.Equal(t, 2, tr.Len(), "SELECT + GET RESPONSE")

	_, err = cardio.Transmit(ctx, card, cardio.Command{INS: cardio.INSSelect, P1: 4, Data: []byte{0xA0, 0, 0, 3, 0x33, 1, 1, 1}, Le: 256})
	require.NoError(t, err)
	resp, err = cardio.Transmit(ctx, card, cardio.Command{CLA: 0x80, INS: cardio.INSGetData, P1: 0x9F, P2: 0x36, Le: 2}) // wrong Le: 6Cxx
	require.NoError(t, err)
	require.Len(t, resp.Data, 5)
	require.Equal(t, 5, tr.Len(), "GET DATA re-sent with Le=05")
}

func TestPINCounterAndReset(t *testing.T) {
	c := load(t, "default.json")
	wrong := "002000800826999999FFFFFFFF"
	right := "002000800826123456FFFFFFFF"
	steps := []struct{ cmd, sw string }{
		{selectDebit, "9000"}, {wrong, "63C2"}, {wrong, "63C1"}, {wrong, "63C0"}, {wrong, "6983"}, {right, "6983"},
	}
	for i, s := range steps {
		_, got := run(t, c, s.cmd)
		require.Equal(t, s.sw, got, "step %d", i)
	}
	require.Equal(t, 0, c.PINTries())
	c.Reset()
	_, got := run(t, c, right)
	require.Equal(t, "6985", got, "reset deselects the application")
	_, got = run(t, c, selectDebit, right)
	require.Equal(t, "6983", got, "try counter survives reset")
	_, got = run(t, c, "80CA9F1700")
	require.Equal(t, "9000", got)
}

func TestFaults(t *testing.T) {
	t.Run("remove after N", func(t *testing.T) {
		c := load(t, "default.json")
		c.RemoveAfter(2)
		for i := 0; i < 2; i++ {
			_, err := c.Process(mustHex(t, selectPPSE))
			require.NoError(t, err)
		}
		for i := 0; i < 3; i++ {
			_, err := c.Process(mustHex(t, selectPPSE))
			require.ErrorIs(t, err, cardio.ErrCardRemoved)
		}
		require.True(t, c.Removed())
		c.Reset()
		_, err := c.Process(mustHex(t, selectPPSE))
		require.ErrorIs(t, err, cardio.ErrCardRemoved, "reset does not bring a removed card back")
	})
	t.Run("fail command", func(t *testing.T) {
		c := load(t, "default.json")
		c.FailCommand(mustHex(t, "80A8"), 0x6985)
		_, got := run(t, c, selectDebit, gpoDefault)
		require.Equal(t, "6985", got)
		c.ClearFaults()
		_, got = run(t, c, gpoDefault)
		require.Equal(t, "9000", got)
	})
	t.Run("delay honours context", func(t *testing.T) {
		c := load(t, "default.json")
		c.SetDelay(time.Hour)
		r := cardsim.NewReaders(c)
		card, err := r.Connect(context.Background(), cardsim.ReaderName, cardio.ShareShared)
		require.NoError(t, err)
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		_, err = card.Transmit(ctx, mustHex(t, selectPPSE))
		require.ErrorIs(t, err, context.Canceled)
	})
}

func TestNewValidatesImage(t *testing.T) {
	img, err := cardsim.LoadImage(imagePath("default.json"))
	require.NoError(t, err)
	tests := []struct {
		name  string
		tweak func(*cardsim.Image)
	}{
		{"bad ATR", func(i *cardsim.Image) { i.ATR = cardio.Hex{0x00} }},
		{"bad PIN", func(i *cardsim.Image) { i.PIN = "12" }},
		{"bad AFL", func(i *cardsim.Image) { i.Applications[0].AFL = cardio.Hex{0x08, 1} }},
		{"AFL names missing record", func(i *cardsim.Image) { i.Applications[0].AFL = cardio.Hex{0x08, 1, 2, 0} }},
		{"bad GPO format", func(i *cardsim.Image) { i.Applications[0].GPOFormat = 3 }},
		{"bad AID", func(i *cardsim.Image) { i.Applications[0].AID = cardio.Hex{0xA0} }},
		{"bad ICC key", func(i *cardsim.Image) { i.Applications[0].ICCKey.D = cardio.Hex{1} }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			fresh, err := cardsim.LoadImage(imagePath("default.json"))
			require.NoError(t, err)
			tc.tweak(&fresh)
			_, err = cardsim.New(fresh)
			require.ErrorIs(t, err, cardsim.ErrInvalidImage)
		})
	}
	_, err = cardsim.New(img)
	require.NoError(t, err)
	_, err = cardsim.Load("testdata/does-not-exist.json")
	require.Error(t, err)
}

func mustHex(t testing.TB, s string) []byte {
	t.Helper()
	b, err := cardio.ParseHex(s)
	require.NoError(t, err)
	return b
}

// FuzzCardProcess feeds arbitrary commands to the card in every selection
// state: it must never panic and always answer data + SW.
func FuzzCardProcess(f *testing.F) {
	for _, s := range []string{selectPPSE, selectPSE, selectDebit, gpoDefault, "00B2010C00", "80CA9F3600",
		"002000800826123456FFFFFFFF", "0084000008", "008800000411223344 00", "00C0000000", "00", "", "00B2010C000100"} {
		f.Add(byte(0), mustHex(f, s))
	}
	img, err := cardsim.LoadImage(cardsDir + "/default.json")
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, state byte, cmd []byte) {
		c, err := cardsim.New(img)
		if err != nil {
			t.Fatal(err)
		}
		setup := [][]string{{}, {selectPPSE}, {selectPSE}, {selectDebit}, {selectDebit, gpoDefault}}[int(state)%5]
		for _, s := range setup {
			_, _ = c.Process(mustHex(t, s))
		}
		resp, err := c.Process(cmd)
		if err != nil {
			t.Fatalf("Process error %v", err)
		}
		if len(resp) < 2 {
			t.Fatalf("response %X has no SW", resp)
		}
		if sw1 := resp[len(resp)-2]; sw1 != 0x90 && sw1 != 0x61 && sw1 != 0x6C && sw1 != 0x62 && sw1 != 0x63 &&
			(sw1 < 0x67 || sw1 > 0x6F) {
			t.Fatalf("unexpected SW %X", resp[len(resp)-2:])
		}
		if resp[len(resp)-2] != 0x90 && len(resp) != 2 {
			t.Fatalf("error SW with data: %X", resp)
		}
		_ = fmt.Sprint(resp)
	})
}
