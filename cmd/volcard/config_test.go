package main

import (
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/volcard/volcard/issuance"
)

func TestConfigFromEnv(t *testing.T) {
	_, loopback, _ := net.ParseCIDR("127.0.0.0/8")
	tests := []struct {
		name    string
		env     map[string]string
		check   func(t *testing.T, c config)
		wantErr string
	}{
		{name: "defaults", env: nil, check: func(t *testing.T, c config) {
			require.Equal(t, ":8080", c.Listen)
			require.Equal(t, "./data", c.DataDir)
			require.Empty(t, c.DatabaseURL)
			require.Equal(t, slog.LevelInfo, c.LogLevel)
			require.Equal(t, "json", c.LogFormat)
			require.Equal(t, filepath.Join("data", "volcard.db"), filepath.Clean(c.databaseURL()))
			require.GreaterOrEqual(t, c.DBMaxConns, 4)
			require.InDelta(t, 10.0, c.ProgressRate, 0)
		}},
		{name: "everything set", env: map[string]string{
			envListen: "127.0.0.1:9000", envDataDir: "/var/lib/volcard", envDatabaseURL: "postgres://db/volcard",
			envLogLevel: "debug", envLogFormat: "TEXT", envDBMaxConns: "12", envTrustedProxies: "127.0.0.0/8, ",
			envProgressRate: "30",
		}, check: func(t *testing.T, c config) {
			require.Equal(t, "127.0.0.1:9000", c.Listen)
			require.Equal(t, "postgres://db/volcard", c.databaseURL())
			require.Equal(t, slog.LevelDebug, c.LogLevel)
			require.Equal(t, "text", c.LogFormat)
			require.Equal(t, 12, c.DBMaxConns)
			require.Equal(t, []*net.IPNet{loopback}, c.TrustedProxies)
			require.InDelta(t, 30.0, c.ProgressRate, 0)
		}},
		{name: "bad level", env: map[string]string{envLogLevel: "loud"}, wantErr: envLogLevel},
		{name: "bad format", env: map[string]string{envLogFormat: "xml"}, wantErr: envLogFormat},
		{name: "bad pool", env: map[string]string{envDBMaxConns: "0"}, wantErr: envDBMaxConns},
		{name: "bad proxy", env: map[string]string{envTrustedProxies: "10.0.0.1"}, wantErr: envTrustedProxies},
		{name: "bad rate", env: map[string]string{envProgressRate: "-1"}, wantErr: envProgressRate},
		{name: "renewal rule", env: map[string]string{envBankRenewal: "new_pan"}, check: func(t *testing.T, c config) {
			require.Equal(t, issuance.RenewNewPAN, c.Bank.Renewal)
		}},
		{name: "bad renewal rule", env: map[string]string{envBankRenewal: "yearly"}, wantErr: envBankRenewal},
		{name: "renewal rule with the banks file", env: map[string]string{envBanksFile: "/etc/b.toml", envBankRenewal: "same_pan"},
			wantErr: envBankRenewal},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c, err := configFromEnv(func(k string) string { return tc.env[k] })
			if tc.wantErr != "" {
				require.ErrorContains(t, err, tc.wantErr)
				return
			}
			require.NoError(t, err)
			tc.check(t, c)
		})
	}
}

func TestLoadDataKey(t *testing.T) {
	discard := slog.New(slog.NewTextHandler(io.Discard, nil))
	t.Run("generated once with mode 0600", func(t *testing.T) {
		c := config{DataDir: filepath.Join(t.TempDir(), "data")}
		k1, err := c.loadDataKey(discard)
		require.NoError(t, err)
		require.Len(t, k1, 32)
		fi, err := os.Stat(filepath.Join(c.DataDir, dataKeyFile))
		require.NoError(t, err)
		require.Equal(t, os.FileMode(0o600), fi.Mode().Perm())
		k2, err := c.loadDataKey(discard)
		require.NoError(t, err)
		require.Equal(t, k1, k2, "the same key on the next start")
	})
	t.Run("from the environment", func(t *testing.T) {
		c := config{DataDir: t.TempDir(), DataKey: strings.Repeat("ab", 32)}
		k, err := c.loadDataKey(discard)
		require.NoError(t, err)
		require.Equal(t, byte(0xab), k[0])
		require.NoFileExists(t, filepath.Join(c.DataDir, dataKeyFile))
	})
	t.Run("bad key refused", func(t *testing.T) {
		c := config{DataDir: t.TempDir(), DataKey: "short"}
		_, err := c.loadDataKey(discard)
		require.Error(t, err)
		require.NotContains(t, err.Error(), "short", "the key is not echoed")
	})
}
