package banksim_test

import (
	"context"
	"log/slog"
	"testing"
	"time"

	connection "github.com/moov-io/iso8583-connection"
	"github.com/stretchr/testify/require"

	"github.com/volcard/volcard/bankgw"
	"github.com/volcard/volcard/bankgw/banksim"
)

func TestLuhnValid(t *testing.T) {
	tests := []struct {
		name string
		pan  string
		want bool
	}{
		{"valid 16", "4111111111111111", true},
		{"valid 19 BOC", "6216600000000000018", true},
		{"wrong check digit", "4111111111111112", false},
		{"not digits", "41111111111111a1", false},
		{"too short", "4", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			require.Equal(t, tc.want, banksim.LuhnValid(tc.pan))
		})
	}
}

func TestNewValidates(t *testing.T) {
	tests := []struct {
		name string
		cfg  banksim.Config
	}{
		{"BIN not digits", banksim.Config{BIN: "62166X"}},
		{"PAN too long", banksim.Config{PANLength: 20}},
		{"bad MAC key", banksim.Config{MACKey: []byte{1}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := banksim.New(tc.cfg)
			require.Error(t, err)
		})
	}
}

// rawConn is a client without sign-on, to see what the host answers.
func rawConn(t *testing.T, addr string) *connection.Connection {
	t.Helper()
	c, err := connection.New(addr, bankgw.Spec, bankgw.ReadLength, bankgw.WriteLength, connection.SendTimeout(5*time.Second))
	require.NoError(t, err)
	require.NoError(t, c.Connect())
	t.Cleanup(func() { _ = c.Close() })
	return c
}

func TestHostRules(t *testing.T) {
	sim, err := banksim.New(banksim.Config{Logger: slog.New(slog.DiscardHandler)})
	require.NoError(t, err)
	require.NoError(t, sim.Start("127.0.0.1:0"))
	defer sim.Close()
	c := rawConn(t, sim.Addr())
	h := func(mti, stan string) bankgw.Header {
		return bankgw.Header{MTI: mti, TransmissionDateTime: "1123100000", STAN: stan, TerminalID: "VOLCARD1", InstitutionID: "GDVOLCARD000001"}
	}
	an, _ := bankgw.PrivateData{bankgw.TagApplicationNumber: "X1"}.Encode()
	send := func(t *testing.T, v any) string {
		msg, err := bankgw.NewMessage(v)
		require.NoError(t, err)
		resp, err := c.Send(msg)
		require.NoError(t, err)
		rc, err := resp.GetString(bankgw.FieldResponseCode)
		require.NoError(t, err)
		return rc
	}
	inquiry := func(stan string) any {
		return &bankgw.FileUpdateMessage{Header: h("0300", stan), RRN: "632710" + stan, PrivateData: an, FileUpdateCode: "5", FileName: bankgw.FileName}
	}
	tests := []struct {
		name string
		msg  any
		want string
	}{
		{"file update before sign-on: 91", inquiry("000001"), bankgw.CodeIssuerUnavailable},
		{"sign-on", &bankgw.NetworkMessage{Header: h("0800", "000002"), NetworkCode: "001"}, bankgw.CodeApproved},
		{"inquiry of an unknown application: 25", inquiry("000003"), bankgw.CodeRecordNotFound},
		{"unknown file update code: 12", &bankgw.FileUpdateMessage{Header: h("0300", "000004"), RRN: "632710000004", PrivateData: an, FileUpdateCode: "9", FileName: bankgw.FileName}, bankgw.CodeInvalidTxn},
		{"add without personal data: 30", &bankgw.FileUpdateMessage{Header: h("0300", "000005"), RRN: "632710000005", PrivateData: an, FileUpdateCode: "1", FileName: bankgw.FileName}, bankgw.CodeFormatError},
		{"reversal of something never received: 00", &bankgw.ReversalMessage{Header: h("0420", "000006"), RRN: "632710000099", ResponseCode: "68", PrivateData: an,
			OriginalData: bankgw.OriginalData("0300", "000099", "1123100000"), FileUpdateCode: "1", FileName: bankgw.FileName}, bankgw.CodeApproved},
		{"unknown network code: 12", &bankgw.NetworkMessage{Header: h("0800", "000007"), NetworkCode: "999"}, bankgw.CodeInvalidTxn},
		{"sign-off", &bankgw.NetworkMessage{Header: h("0800", "000008"), NetworkCode: "002"}, bankgw.CodeApproved},
		{"file update after sign-off: 91", inquiry("000009"), bankgw.CodeIssuerUnavailable},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			require.Equal(t, tc.want, send(t, tc.msg))
		})
	}
	require.Empty(t, sim.Ledger().Reversals)
	_, _, err = sim.PushAdvice(context.Background(), banksim.AdviceRequest{Kind: bankgw.AdviceActivation, PAN: "6216600000000000018"})
	require.ErrorIs(t, err, banksim.ErrNoClient)
}
