package main

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestBankConfigFromEnv(t *testing.T) {
	key := strings.Repeat("ab", 32)
	tests := []struct {
		name    string
		env     map[string]string
		want    func(t *testing.T, c bankConfig)
		wantErr string
	}{
		{name: "defaults: embedded simulator", env: nil, want: func(t *testing.T, c bankConfig) {
			require.Empty(t, c.Addrs)
			require.Equal(t, "VOLCARD1", c.TerminalID)
			require.Equal(t, "VOLCARD00000001", c.InstitutionID)
			require.Nil(t, c.MACKey)
			require.Equal(t, 2, c.Workers)
			require.Equal(t, 500*time.Millisecond, c.Poll)
			require.Equal(t, 10*time.Second, c.Timeout)
		}},
		{name: "everything set", env: map[string]string{
			envBankAddr: " 10.0.0.1:8583, 10.0.0.2:8583 ", envBankTerminalID: "GDTERM01",
			envBankInstitutionID: "440000000000001", envBankMACKey: key, envBankWorkers: "4",
			envBankPoll: "1s", envBankTimeout: "15s",
		}, want: func(t *testing.T, c bankConfig) {
			require.Equal(t, []string{"10.0.0.1:8583", "10.0.0.2:8583"}, c.Addrs)
			require.Equal(t, "GDTERM01", c.TerminalID)
			require.Equal(t, "440000000000001", c.InstitutionID)
			require.Len(t, c.MACKey, 32)
			require.Equal(t, 4, c.Workers)
			require.Equal(t, time.Second, c.Poll)
			require.Equal(t, 15*time.Second, c.Timeout)
		}},
		{name: "short terminal id", env: map[string]string{envBankTerminalID: "T1"}, wantErr: envBankTerminalID},
		{name: "long institution id", env: map[string]string{envBankInstitutionID: strings.Repeat("9", 16)}, wantErr: envBankInstitutionID},
		{name: "MAC key not hex", env: map[string]string{envBankMACKey: "zz"}, wantErr: envBankMACKey},
		{name: "MAC key short", env: map[string]string{envBankMACKey: "abcd"}, wantErr: envBankMACKey},
		{name: "workers zero", env: map[string]string{envBankWorkers: "0"}, wantErr: envBankWorkers},
		{name: "bad poll", env: map[string]string{envBankPoll: "soon"}, wantErr: envBankPoll},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c, err := bankConfigFromEnv(func(k string) string { return tc.env[k] })
			if tc.wantErr != "" {
				require.ErrorContains(t, err, tc.wantErr)
				require.NotContains(t, err.Error(), key)
				return
			}
			require.NoError(t, err)
			tc.want(t, c)
		})
	}
}
