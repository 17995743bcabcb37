package main

import (
	"crypto/tls"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/volcard/volcard/internal/testpki"
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

// TestBankTLSFromEnv covers the TLS settings of the bank link: off by
// default, the CA file and the client pair loaded, and every mistake named
// without a key's content.
func TestBankTLSFromEnv(t *testing.T) {
	pki := testpki.New(t, "bank CA")
	keyPEM, err := os.ReadFile(pki.ClientKey)
	require.NoError(t, err)
	notPEM := filepath.Join(t.TempDir(), "not.pem")
	require.NoError(t, os.WriteFile(notPEM, []byte("not a certificate"), 0o600))
	addr := map[string]string{envBankAddr: "10.0.0.1:8583"}
	with := func(kv ...string) map[string]string {
		env := map[string]string{}
		for k, v := range addr {
			env[k] = v
		}
		for i := 0; i < len(kv); i += 2 {
			env[kv[i]] = kv[i+1]
		}
		return env
	}
	tests := []struct {
		name    string
		env     map[string]string
		want    func(t *testing.T, c *tls.Config)
		wantErr string
	}{
		{name: "off", env: addr, want: func(t *testing.T, c *tls.Config) { require.Nil(t, c) }},
		{name: "system roots", env: with(envBankTLSCA, "system"), want: func(t *testing.T, c *tls.Config) {
			require.Nil(t, c.RootCAs)
			require.Empty(t, c.Certificates)
			require.Equal(t, uint16(tls.VersionTLS12), c.MinVersion)
		}},
		{name: "mutual TLS", env: with(envBankTLSCA, pki.CAFile, envBankTLSCert, pki.ClientCertFile, envBankTLSKey, pki.ClientKey,
			envBankTLSServerName, "bank.example"), want: func(t *testing.T, c *tls.Config) {
			require.NotNil(t, c.RootCAs)
			require.Len(t, c.Certificates, 1)
			require.Equal(t, "bank.example", c.ServerName)
		}},
		{name: "certificate without CA", env: with(envBankTLSCert, pki.ClientCertFile, envBankTLSKey, pki.ClientKey), wantErr: envBankTLSCA},
		{name: "CA file missing", env: with(envBankTLSCA, "/nonexistent/ca.pem"), wantErr: envBankTLSCA},
		{name: "CA file not PEM", env: with(envBankTLSCA, notPEM), wantErr: "no PEM certificate"},
		{name: "CA is a device", env: with(envBankTLSCA, "/dev/zero"), wantErr: "want a PEM file"},
		{name: "certificate without key", env: with(envBankTLSCA, pki.CAFile, envBankTLSCert, pki.ClientCertFile), wantErr: "go together"},
		{name: "key is not the certificate's", env: with(envBankTLSCA, pki.CAFile, envBankTLSCert, pki.CAFile, envBankTLSKey, pki.ClientKey), wantErr: envBankTLSKey},
		{name: "TLS for the embedded simulator", env: map[string]string{envBankTLSCA: "system"}, wantErr: "embedded bank simulator has no TLS"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c, err := bankConfigFromEnv(func(k string) string { return tc.env[k] })
			if tc.wantErr != "" {
				require.ErrorContains(t, err, tc.wantErr)
				require.NotContains(t, err.Error(), string(keyPEM))
				require.NotContains(t, err.Error(), "PRIVATE KEY-----")
				return
			}
			require.NoError(t, err)
			tc.want(t, c.TLS)
		})
	}
}
