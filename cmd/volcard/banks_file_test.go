package main

import (
	"context"
	"encoding/hex"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/volcard/volcard/internal/testpki"
	"github.com/volcard/volcard/issuance"
)

const goodBanksFile = `
# Bank of China: two hosts, mutual TLS
[bank.BOC]
addrs = ["10.0.0.5:6001", "10.0.0.6:6001"]
terminal_id = "VOLCARD1"
institution_id = "VOLCARD00000001"
mac_key_env = "VOLCARD_BANK_BOC_MAC_KEY"
workers = 4
timeout = "15s"
renewal = "new_pan"

[bank.PSBC]
addrs = ["psbc.example:7000"]
terminal_id = "VCPSBC01"
institution_id = "VCPSBC000000001"
no_mac = true
`

func TestParseBanksFile(t *testing.T) {
	f, err := parseBanksFile([]byte(goodBanksFile))
	require.NoError(t, err)
	require.Len(t, f.Bank, 2)
	require.Equal(t, []string{"10.0.0.5:6001", "10.0.0.6:6001"}, f.Bank["BOC"].Addrs)

	for _, tc := range []struct {
		name, file, want string
	}{
		{"empty", ``, "no [bank.CODE] table"},
		{"syntax", `[bank.BOC`, "line 1"},
		{"unknown key", goodBanksFile + "\n[bank.CEB]\nadress = [\"x:1\"]\n", "unknown setting bank.CEB.adress"},
		{"unknown top-level", "timeout = \"1s\"\n" + goodBanksFile, "unknown setting timeout"},
		{"no addrs", "[bank.BOC]\nterminal_id = \"VOLCARD1\"\n", "bank.BOC.addrs: missing"},
		{"bad addr", "[bank.BOC]\naddrs = [\"10.0.0.5\"]\n", `bank.BOC.addrs: "10.0.0.5" is not host:port`},
		{"no terminal", "[bank.BOC]\naddrs = [\"h:1\"]\n", "bank.BOC.terminal_id: missing"},
		{"short terminal", "[bank.BOC]\naddrs = [\"h:1\"]\nterminal_id = \"VOL\"\n", "bank.BOC.terminal_id: want exactly 8"},
		{"no institution", "[bank.BOC]\naddrs = [\"h:1\"]\nterminal_id = \"VOLCARD1\"\n", "bank.BOC.institution_id: missing"},
		{"no mac", "[bank.BOC]\naddrs = [\"h:1\"]\nterminal_id = \"VOLCARD1\"\ninstitution_id = \"VOLCARD00000001\"\n",
			"bank.BOC.mac_key_env: missing"},
		{"mac and no_mac", "[bank.BOC]\naddrs = [\"h:1\"]\nterminal_id = \"VOLCARD1\"\ninstitution_id = \"VOLCARD00000001\"\nmac_key_env = \"K\"\nno_mac = true\n",
			"set one, not both"},
		{"bad code", "[bank.boc]\naddrs = [\"h:1\"]\n", "[bank.boc]: a bank code"},
		{"bad timeout", strings.Replace(goodBanksFile, `"15s"`, `"soon"`, 1), `bank.BOC.timeout: "soon"`},
		{"bad workers", strings.Replace(goodBanksFile, `workers = 4`, `workers = 100`, 1), "bank.BOC.workers"},
		{"bad renewal", strings.Replace(goodBanksFile, `"new_pan"`, `"sometimes"`, 1), `bank.BOC.renewal: "sometimes": want same_pan`},
		{"wrong type", strings.Replace(goodBanksFile, `workers = 4`, `workers = "4"`, 1), "workers"},
		{"tls without ca", goodBanksFile + "[bank.BOC.tls]\ncert = \"c.pem\"\nkey = \"k.pem\"\n", "bank.BOC.tls.ca: missing"},
		{"tls cert without key", goodBanksFile + "[bank.BOC.tls]\nca = \"system\"\ncert = \"c.pem\"\n", "bank.BOC.tls.cert and bank.BOC.tls.key go together"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := parseBanksFile([]byte(tc.file))
			require.ErrorContains(t, err, tc.want)
		})
	}
}

func TestBankLinksFromFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "banks.toml")
	require.NoError(t, os.WriteFile(path, []byte(goodBanksFile), 0o600))
	mac := strings.Repeat("ab", 32)
	defaults := bankConfig{Workers: 2, Timeout: 10 * time.Second}

	t.Run("resolved", func(t *testing.T) {
		links, err := bankLinksFromFile(path, func(k string) string {
			return map[string]string{"VOLCARD_BANK_BOC_MAC_KEY": mac}[k]
		}, defaults)
		require.NoError(t, err)
		require.Len(t, links, 2)
		boc, psbc := links[0], links[1]
		require.Equal(t, "BOC", boc.Bank)
		require.Equal(t, mac, hex.EncodeToString(boc.MACKey))
		require.Equal(t, 4, boc.Workers)
		require.Equal(t, 15*time.Second, boc.Timeout)
		require.Equal(t, "BOC/VOLCARD1", boc.stanSender(), "each link counts its own STANs")
		require.Equal(t, issuance.RenewNewPAN, boc.Renewal)
		require.Empty(t, psbc.Renewal, "not declared: either answer applied")
		require.Nil(t, psbc.MACKey)
		require.Equal(t, 2, psbc.Workers)
		require.Equal(t, 10*time.Second, psbc.Timeout)
	})
	t.Run("MAC variable unset", func(t *testing.T) {
		_, err := bankLinksFromFile(path, func(string) string { return "" }, defaults)
		require.ErrorContains(t, err, "bank.BOC.mac_key_env: the variable VOLCARD_BANK_BOC_MAC_KEY is not set")
	})
	t.Run("MAC variable malformed", func(t *testing.T) {
		secret := "zz" + mac[2:]
		_, err := bankLinksFromFile(path, func(string) string { return secret }, defaults)
		require.ErrorContains(t, err, "want 64 hex digits")
		require.NotContains(t, err.Error(), secret, "a key never in an error")
	})
	t.Run("missing file", func(t *testing.T) {
		_, err := bankLinksFromFile(filepath.Join(dir, "nope.toml"), os.Getenv, defaults)
		require.ErrorContains(t, err, envBanksFile)
	})
	t.Run("mutual TLS with a passphrase", func(t *testing.T) {
		pki := testpki.New(t, "bank CA")
		file := goodBanksFile + "[bank.BOC.tls]\nca = " + quote(pki.CAFile) + "\ncert = " + quote(pki.ClientCertFile) +
			"\nkey = " + quote(pki.ClientKey) + "\nkey_passphrase_env = \"VOLCARD_BANK_BOC_TLS_PASS\"\nserver_name = \"bank.example\"\n"
		p := filepath.Join(dir, "tls.toml")
		require.NoError(t, os.WriteFile(p, []byte(file), 0o600))
		_, err := bankLinksFromFile(p, func(k string) string {
			return map[string]string{"VOLCARD_BANK_BOC_MAC_KEY": mac}[k]
		}, defaults)
		require.ErrorContains(t, err, "bank.BOC.tls.key_passphrase_env: the variable VOLCARD_BANK_BOC_TLS_PASS is not set")
		_, err = bankLinksFromFile(p, func(k string) string {
			return map[string]string{"VOLCARD_BANK_BOC_MAC_KEY": mac, "VOLCARD_BANK_BOC_TLS_PASS": "secret"}[k]
		}, defaults)
		require.ErrorContains(t, err, "the key is not encrypted")

		plain := strings.Replace(file, "key_passphrase_env = \"VOLCARD_BANK_BOC_TLS_PASS\"\n", "", 1)
		require.NoError(t, os.WriteFile(p, []byte(plain), 0o600))
		links, err := bankLinksFromFile(p, func(k string) string {
			return map[string]string{"VOLCARD_BANK_BOC_MAC_KEY": mac}[k]
		}, defaults)
		require.NoError(t, err)
		require.NotNil(t, links[0].TLS)
		require.Len(t, links[0].TLS.Certificates, 1)
		require.Equal(t, "bank.example", links[0].TLS.ServerName)
	})
}

func quote(s string) string { return `"` + strings.ReplaceAll(s, `\`, `\\`) + `"` }

// TestBanksFileWithSingleLinkVariables: the file and the single-link
// variables together are refused, naming the variable.
func TestBanksFileWithSingleLinkVariables(t *testing.T) {
	env := map[string]string{envBanksFile: "/etc/volcard/banks.toml", envBankAddr: "10.0.0.5:6001"}
	_, err := configFromEnv(func(k string) string { return env[k] })
	require.ErrorContains(t, err, "VOLCARD_BANK_ADDR is set together with VOLCARD_BANKS_FILE")
}

// TestServeRefusesIncompleteBanksFile: serve stops at start with exit 2
// when the file leaves out a catalog bank or names an unknown one.
func TestServeRefusesIncompleteBanksFile(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct{ name, file, want string }{
		{"catalog bank missing", goodBanksFile, "[bank.CCB] missing: products MZ-VC-CCB issue through bank CCB"},
		{"unknown bank", goodBanksFile + "[bank.ICBC]\naddrs = [\"h:1\"]\nterminal_id = \"VOLCARD1\"\ninstitution_id = \"VOLCARD00000001\"\nno_mac = true\n",
			"[bank.ICBC]: no product of the catalog issues through bank ICBC"},
		{"incomplete", "[bank.BOC]\naddrs = [\"h:1\"]\n", "bank.BOC.terminal_id: missing"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(dir, tc.name+".toml")
			require.NoError(t, os.WriteFile(path, []byte(tc.file), 0o600))
			t.Setenv("VOLCARD_BANK_BOC_MAC_KEY", strings.Repeat("ab", 32))
			cfg, err := configFromEnv(func(k string) string { return map[string]string{envBanksFile: path}[k] })
			require.NoError(t, err)
			cfg.DataDir, cfg.Listen = filepath.Join(dir, tc.name), freeAddr(t)
			var stdout, stderr lockedBuffer
			err = runServe(context.Background(), cfg, true, &stdout, &stderr)
			require.ErrorContains(t, err, tc.want)
			var ee *exitError
			require.True(t, errors.As(err, &ee), "%v", err)
			require.Equal(t, exitUsage, ee.code)
		})
	}
}

// FuzzParseBanksFile: any input is either refused with an error or gives
// links that pass the checks serve relies on.
func FuzzParseBanksFile(f *testing.F) {
	f.Add([]byte(goodBanksFile))
	f.Add([]byte("[bank.BOC]\naddrs = [\"h:1\"]\n"))
	f.Add([]byte("[bank.BOC.tls]\nca = \"system\"\n"))
	f.Add([]byte("bank = 1"))
	f.Add([]byte("[[bank]]\n"))
	f.Add([]byte("[bank.CEB]\naddrs = [\"[::1]:6001\"]\nterminal_id = \"中文中文\"\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		bf, err := parseBanksFile(data)
		if err != nil {
			return
		}
		require.NotEmpty(t, bf.Bank)
		for code, l := range bf.Bank {
			require.Regexp(t, bankCodeRE, code)
			require.NotEmpty(t, l.Addrs)
			require.Len(t, l.TerminalID, 8)
			require.Len(t, l.InstitutionID, 15)
			require.True(t, (l.MACKeyEnv == "") == l.NoMAC)
		}
	})
}
