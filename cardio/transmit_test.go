package cardio

import (
	"context"
	"encoding/hex"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// scriptCard answers a fixed script of command/response pairs in order.
type scriptCard struct {
	t      *testing.T
	script [][2]string
	sent   int
}

func (s *scriptCard) Transmit(_ context.Context, cmd []byte) ([]byte, error) {
	if s.sent >= len(s.script) {
		s.t.Fatalf("unexpected command %X", cmd)
	}
	step := s.script[s.sent]
	s.sent++
	require.Equal(s.t, strings.ReplaceAll(step[0], " ", ""), strings.ToUpper(hex.EncodeToString(cmd)))
	if step[1] == "removed" {
		return nil, ErrCardRemoved
	}
	return mustHex(s.t, step[1]), nil
}
func (s *scriptCard) ATR() []byte                        { return []byte{0x3B, 0} }
func (s *scriptCard) Disconnect(_ context.Context) error { return nil }

func TestTransmit(t *testing.T) {
	readRec := Command{INS: INSReadRecord, P1: 1, P2: 0x0C, Le: 256}
	tests := []struct {
		name    string
		cmd     Command
		script  [][2]string
		data    string
		sw      uint16
		wantErr error
	}{
		{"plain", readRec, [][2]string{{"00B2010C00", "7003 5A01 11 9000"}}, "70035A0111", 0x9000, nil},
		{"61xx get response", readRec, [][2]string{
			{"00B2010C00", "610A"},
			{"00C000000A", "7003 5A01 11 6103"},
			{"00C0000003", "AABBCC 9000"},
		}, "70035A0111AABBCC", 0x9000, nil},
		{"6Cxx re-send", readRec, [][2]string{
			{"00B2010C00", "6C05"},
			{"00B2010C05", "7003 5A01 11 9000"},
		}, "70035A0111", 0x9000, nil},
		{"6Cxx then 61xx", Command{INS: INSGetData, CLA: 0x80, P1: 0x9F, P2: 0x36, Le: 256}, [][2]string{
			{"80CA9F3600", "6C05"},
			{"80CA9F3605", "6105"},
			{"00C0000005", "9F36020001 9000"},
		}, "9F36020001", 0x9000, nil},
		{"status error keeps response", readRec, [][2]string{{"00B2010C00", "6A83"}}, "", 0x6A83, ErrRecordNotFound},
		{"PIN tries", Command{INS: INSVerify, P2: 0x80, Data: mustHex(t, "241234FFFFFFFFFF")}, [][2]string{
			{"0020008008241234FFFFFFFFFF", "63C2"},
		}, "", 0x63C2, ErrWrongPIN},
		{"removed", readRec, [][2]string{{"00B2010C00", "removed"}}, "", 0, ErrCardRemoved},
		{"removed during get response", readRec, [][2]string{{"00B2010C00", "6110"}, {"00C0000010", "removed"}}, "", 0, ErrCardRemoved},
		{"repeated 6C", readRec, [][2]string{{"00B2010C00", "6C05"}, {"00B2010C05", "6C06"}}, "", 0x6C06, ErrTooManyResponses},
		{"malformed", readRec, [][2]string{{"00B2010C00", "90"}}, "", 0, ErrMalformedAPDU},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			card := &scriptCard{t: t, script: tc.script}
			resp, err := Transmit(context.Background(), card, tc.cmd)
			require.Equal(t, len(tc.script), card.sent)
			if tc.wantErr != nil {
				require.ErrorIs(t, err, tc.wantErr)
			} else {
				require.NoError(t, err)
			}
			require.Equal(t, tc.sw, resp.SW)
			require.Equal(t, strings.ReplaceAll(tc.data, " ", ""), strings.ToUpper(hex.EncodeToString(resp.Data)))
		})
	}
	t.Run("endless 61xx is bounded", func(t *testing.T) {
		card := &loopCard{}
		_, err := Transmit(context.Background(), card, readRec)
		require.ErrorIs(t, err, ErrTooManyResponses)
		require.LessOrEqual(t, card.n, maxChain+1)
	})
	t.Run("cancelled context", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		_, err := Transmit(ctx, &loopCard{}, readRec)
		require.ErrorIs(t, err, context.Canceled)
	})
}

type loopCard struct{ n int }

func (l *loopCard) Transmit(context.Context, []byte) ([]byte, error) {
	l.n++
	return []byte{0x61, 0x01}, nil
}
func (l *loopCard) ATR() []byte                      { return nil }
func (l *loopCard) Disconnect(context.Context) error { return nil }

func TestTranscriptMasks(t *testing.T) {
	pan := "6217850000000012345"
	card := &scriptCard{t: t, script: [][2]string{
		{"00B2010C00", "7036 57 13 6217850000000012345D30122200000000000F 5A 0A 6217850000000012345F 9F61 12 343431343032313939393031303131323358 9000"},
		{"0020008008241234FFFFFFFFFF", "63C2"},
		{"0084000008", "0102030405060708 9000"},
		{"00B2020C00", "5A0A6217850000000012345F 9000"},
	}}
	tr := NewTranscript()
	c := tr.Wrap(card)
	ctx := context.Background()
	_, err := Transmit(ctx, c, Command{INS: INSReadRecord, P1: 1, P2: 0x0C, Le: 256})
	require.NoError(t, err)
	_, err = Transmit(ctx, c, Command{INS: INSVerify, P2: 0x80, Data: mustHex(t, "241234FFFFFFFFFF")})
	require.ErrorIs(t, err, ErrWrongPIN)
	_, err = Transmit(ctx, c, Command{INS: INSGetChallenge, Le: 8})
	require.NoError(t, err)
	_, err = Transmit(ctx, c, Command{INS: INSReadRecord, P1: 2, P2: 0x0C, Le: 256})
	require.NoError(t, err)
	require.Equal(t, 4, tr.Len())

	out := tr.String()
	t.Log("\n" + out)
	for _, secret := range []string{pan, "241234", "343431343032", "D3012220000"} {
		require.NotContains(t, out, secret)
	}
	require.Contains(t, out, "621785*********2345")
	require.Contains(t, out, "63C2")
	require.Contains(t, out, "0102030405060708")
	require.Contains(t, out, "{ID number, 18 bytes}")
}
