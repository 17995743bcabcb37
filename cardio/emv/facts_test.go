package emv_test

import (
	"encoding/json"
	"log/slog"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/volcard/volcard/cardio/emv"
)

func TestDecodeText(t *testing.T) {
	gbk, err := emv.EncodeGBK("志愿者借记卡")
	require.NoError(t, err)
	tests := []struct {
		name      string
		in        []byte
		table     int
		preferGBK bool
		want      string
	}{
		{"ascii with padding", []byte("PBOC DEBIT  "), 1, true, "PBOC DEBIT"},
		{"GBK preferred name", gbk, 1, true, "志愿者借记卡"},
		{"Latin-1 when not PBOC", []byte{'D', 0xE9, 'b', 'i', 't'}, 1, false, "Débit"},
		{"ISO 8859-5 Cyrillic", []byte{0xB4, 0xD5, 0xD1, 0xD5, 0xE2}, 5, false, "Дебет"},
		{"invalid GBK falls back to Latin-1", []byte{0x81, 0x20}, 1, true, "\u0081"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			require.Equal(t, tc.want, emv.DecodeText(tc.in, tc.table, tc.preferGBK))
		})
	}
}

func TestPANMasking(t *testing.T) {
	p, err := emv.NewPAN("6217850000000012349")
	require.NoError(t, err)
	require.True(t, p.LuhnValid())
	require.Equal(t, "2349", p.Last4())
	var sb strings.Builder
	slog.New(slog.NewTextHandler(&sb, nil)).Info("read", "pan", p)
	b, err := json.Marshal(struct{ PAN emv.PAN }{p})
	require.NoError(t, err)
	for _, out := range []string{p.String(), fmtAll(p), sb.String(), string(b)} {
		require.NotContains(t, out, p.Digits())
		require.Contains(t, out, "621785*********2349")
	}
	_, err = emv.NewPAN("12345")
	require.ErrorIs(t, err, emv.ErrMalformedData)
}

func TestParseTrack2AndCVM(t *testing.T) {
	tr, err := emv.ParseTrack2(mustHex(t, "6217850000000012349D30122200000000000F"))
	require.NoError(t, err)
	require.Equal(t, "3012", tr.Expiry)
	require.Equal(t, "220", tr.ServiceCode)
	require.Equal(t, "0000000000", tr.Discretionary())
	require.NotContains(t, fmtAll(tr), "6217850000000012349")
	_, err = emv.ParseTrack2(mustHex(t, "6217850000000012349301"))
	require.ErrorIs(t, err, emv.ErrMalformedData)

	l, err := emv.ParseCVMList(mustHex(t, "000003E8 00000000 4103 1F00"))
	require.NoError(t, err)
	require.Equal(t, uint32(1000), l.X)
	require.Equal(t, []emv.CVMRule{{Method: 1, ApplyNext: true, Condition: 3}, {Method: 0x1F, Condition: 0}}, l.Rules)
	_, err = emv.ParseCVMList(mustHex(t, "0000"))
	require.ErrorIs(t, err, emv.ErrMalformedData)
}

func TestPINBlock(t *testing.T) {
	b, err := emv.PINBlock("123456")
	require.NoError(t, err)
	require.Equal(t, []byte(mustHex(t, "26123456FFFFFFFF")), b)
	b, err = emv.PINBlock("123456789012")
	require.NoError(t, err)
	require.Equal(t, []byte(mustHex(t, "2C123456789012FF")), b)
}
