package main

// The bank links file (VOLCARD_BANKS_FILE): one [bank.CODE] table per
// partner bank, read with github.com/BurntSushi/toml; unknown keys are
// refused. Secrets are not in the file: it names the environment variables
// that hold them (mac_key_env, tls.key_passphrase_env). README.md
// ("Bank links") documents the format; docs/operations.md ("Bank link")
// how to run it.

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"maps"
	"net"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/BurntSushi/toml"

	"github.com/volcard/volcard/bankgw"
	"github.com/volcard/volcard/issuance"
)

// envBanksFile names the bank links file.
const envBanksFile = "VOLCARD_BANKS_FILE"

// maxBanksFile bounds the bank links file.
const maxBanksFile = 1 << 20

// banksFile is the bank links file as written.
type banksFile struct {
	Bank map[string]bankFileLink `toml:"bank"`
}

// bankFileLink is one [bank.CODE] table.
type bankFileLink struct {
	Addrs         []string `toml:"addrs"`
	TerminalID    string   `toml:"terminal_id"`
	InstitutionID string   `toml:"institution_id"`
	// MACKeyEnv names the variable holding the link's MAC key (64 hex
	// digits); NoMAC = true says deliberately that the link has none.
	MACKeyEnv string `toml:"mac_key_env"`
	NoMAC     bool   `toml:"no_mac"`
	Workers   int    `toml:"workers"`
	Timeout   string `toml:"timeout"`
	// Renewal is the bank's renewal rule, same_pan or new_pan
	// (docs/bank-interface.md 7.1); empty: either answer is applied.
	Renewal string       `toml:"renewal"`
	TLS     *bankFileTLS `toml:"tls"`
}

// bankFileTLS is a [bank.CODE.tls] table.
type bankFileTLS struct {
	CA               string `toml:"ca"`
	Cert             string `toml:"cert"`
	Key              string `toml:"key"`
	KeyPassphraseEnv string `toml:"key_passphrase_env"`
	ServerName       string `toml:"server_name"`
}

// bankLink is one bank's link, resolved: secrets read from the environment
// and TLS files loaded.
type bankLink struct {
	Bank          string
	Addrs         []string
	TerminalID    string
	InstitutionID string
	MACKey        []byte
	TLS           *tls.Config
	Workers       int
	Timeout       time.Duration
	// Renewal is the bank's declared renewal rule ("" when not declared).
	Renewal issuance.RenewalRule
	// SharedSTAN: the link's STAN counter is the terminal id's alone,
	// shared with the other links of the VOLCARD_BANK_ADDR shorthand (one
	// host sees them all); otherwise each link counts its own.
	SharedSTAN bool
}

// stanSender is the key of the link's STAN counter (store.STAN).
func (l bankLink) stanSender() string {
	if l.SharedSTAN {
		return l.TerminalID
	}
	return l.Bank + "/" + l.TerminalID
}

// bankCodeRE is the shape of a bank code (the catalog's banks.code).
var bankCodeRE = regexp.MustCompile(`^[A-Z][A-Z0-9]{1,15}$`)

// envNameRE is the shape of an environment variable name the file may name.
var envNameRE = regexp.MustCompile(`^[A-Z_][A-Z0-9_]{0,127}$`)

// parseBanksFile decodes and checks the bank links file without touching
// the environment or other files. Errors name the setting as
// bank.CODE.key.
func parseBanksFile(data []byte) (banksFile, error) {
	var f banksFile
	if len(data) > maxBanksFile {
		return f, fmt.Errorf("larger than %d bytes", maxBanksFile)
	}
	md, err := toml.NewDecoder(bytes.NewReader(data)).Decode(&f)
	if err != nil {
		var pe toml.ParseError
		if errors.As(err, &pe) {
			return f, fmt.Errorf("line %d: %s", pe.Position.Line, pe.Message)
		}
		return f, err
	}
	if u := md.Undecoded(); len(u) > 0 {
		keys := make([]string, len(u))
		for i, k := range u {
			keys[i] = k.String()
		}
		return f, fmt.Errorf("unknown setting %s (see README.md, Bank links)", strings.Join(keys, ", "))
	}
	if len(f.Bank) == 0 {
		return f, errors.New("no [bank.CODE] table: name at least one bank")
	}
	for _, code := range slices.Sorted(maps.Keys(f.Bank)) {
		if err := f.Bank[code].check(code); err != nil {
			return f, err
		}
	}
	return f, nil
}

// check validates one link's settings; errors name the setting.
func (l bankFileLink) check(code string) error {
	at := func(key string) string { return "bank." + code + "." + key }
	if !bankCodeRE.MatchString(code) {
		return fmt.Errorf("[bank.%s]: a bank code is 2–16 capital letters and digits, as in the catalog (BOC, CEB, CCB, PSBC)", code)
	}
	if len(l.Addrs) == 0 {
		return fmt.Errorf("%s: missing: the bank host's addresses, e.g. [\"10.0.0.5:6001\"]", at("addrs"))
	}
	for _, a := range l.Addrs {
		if host, port, err := net.SplitHostPort(a); err != nil || host == "" || port == "" {
			return fmt.Errorf("%s: %q is not host:port", at("addrs"), a)
		}
	}
	if l.TerminalID == "" {
		return fmt.Errorf("%s: missing: field 41 the bank gave us (8 characters)", at("terminal_id"))
	}
	if !fixedASCII(l.TerminalID, 8) {
		return fmt.Errorf("%s: want exactly 8 printable ASCII characters", at("terminal_id"))
	}
	if l.InstitutionID == "" {
		return fmt.Errorf("%s: missing: field 42 the bank gave us (15 characters)", at("institution_id"))
	}
	if !fixedASCII(l.InstitutionID, 15) {
		return fmt.Errorf("%s: want exactly 15 printable ASCII characters", at("institution_id"))
	}
	switch {
	case l.MACKeyEnv == "" && !l.NoMAC:
		return fmt.Errorf("%s: missing: the variable holding the MAC key (or no_mac = true for a link without MAC)", at("mac_key_env"))
	case l.MACKeyEnv != "" && l.NoMAC:
		return fmt.Errorf("%s and %s: set one, not both", at("mac_key_env"), at("no_mac"))
	case l.MACKeyEnv != "" && !envNameRE.MatchString(l.MACKeyEnv):
		return fmt.Errorf("%s: %q is not an environment variable name", at("mac_key_env"), l.MACKeyEnv)
	}
	if l.Workers < 0 || l.Workers > 64 {
		return fmt.Errorf("%s: want an integer from 1 to 64", at("workers"))
	}
	if l.Timeout != "" {
		if d, err := time.ParseDuration(l.Timeout); err != nil || d <= 0 || d > 10*time.Minute {
			return fmt.Errorf("%s: %q: want a duration such as 10s", at("timeout"), l.Timeout)
		}
	}
	if l.Renewal != "" && !issuance.RenewalRule(l.Renewal).Valid() {
		return fmt.Errorf("%s: %q: want same_pan (the renewed card keeps its PAN) or new_pan", at("renewal"), l.Renewal)
	}
	if t := l.TLS; t != nil {
		if t.CA == "" {
			return fmt.Errorf("%s: missing: the bank CA's PEM file, or \"system\"", at("tls.ca"))
		}
		if (t.Cert == "") != (t.Key == "") {
			return fmt.Errorf("%s and %s go together: set both for mutual TLS, or neither", at("tls.cert"), at("tls.key"))
		}
		if t.KeyPassphraseEnv != "" && t.Key == "" {
			return fmt.Errorf("%s is set without %s", at("tls.key_passphrase_env"), at("tls.key"))
		}
		if t.KeyPassphraseEnv != "" && !envNameRE.MatchString(t.KeyPassphraseEnv) {
			return fmt.Errorf("%s: %q is not an environment variable name", at("tls.key_passphrase_env"), t.KeyPassphraseEnv)
		}
	}
	return nil
}

func fixedASCII(s string, n int) bool {
	if len(s) != n {
		return false
	}
	for i := range len(s) {
		if s[i] < 0x20 || s[i] > 0x7e {
			return false
		}
	}
	return true
}

// bankLinksFromFile reads the bank links file at path and resolves it:
// secrets from getenv, TLS files from disk. defaults gives the workers and
// timeout of links that do not set them.
func bankLinksFromFile(path string, getenv func(string) string, defaults bankConfig) ([]bankLink, error) {
	data, err := readPEMFile(envBanksFile, path) // the same bounded, regular-file read
	if err != nil {
		return nil, err
	}
	f, err := parseBanksFile(data)
	if err != nil {
		return nil, fmt.Errorf("%s=%s: %w", envBanksFile, path, err)
	}
	links, err := f.resolve(getenv, defaults)
	if err != nil {
		return nil, fmt.Errorf("%s=%s: %w", envBanksFile, path, err)
	}
	return links, nil
}

// resolve turns the checked file into links, sorted by bank code.
func (f banksFile) resolve(getenv func(string) string, defaults bankConfig) ([]bankLink, error) {
	var out []bankLink
	for _, code := range slices.Sorted(maps.Keys(f.Bank)) {
		l := f.Bank[code]
		at := func(key string) string { return "bank." + code + "." + key }
		link := bankLink{Bank: code, Addrs: l.Addrs, TerminalID: l.TerminalID, InstitutionID: l.InstitutionID,
			Workers: defaults.Workers, Timeout: defaults.Timeout, Renewal: issuance.RenewalRule(l.Renewal)}
		if l.Workers > 0 {
			link.Workers = l.Workers
		}
		if l.Timeout != "" {
			link.Timeout, _ = time.ParseDuration(l.Timeout) // checked by parseBanksFile
		}
		if l.MACKeyEnv != "" {
			v := strings.TrimSpace(getenv(l.MACKeyEnv))
			if v == "" {
				return nil, fmt.Errorf("%s: the variable %s is not set: export the bank's MAC key (%d hex digits) in it",
					at("mac_key_env"), l.MACKeyEnv, 2*bankgw.MACKeySize)
			}
			k, err := hex.DecodeString(v)
			if err != nil || len(k) != bankgw.MACKeySize {
				return nil, fmt.Errorf("%s: the variable %s: want %d hex digits", at("mac_key_env"), l.MACKeyEnv, 2*bankgw.MACKeySize)
			}
			link.MACKey = k
		}
		if l.TLS != nil {
			cfg, err := l.TLS.config(at, getenv)
			if err != nil {
				return nil, err
			}
			link.TLS = cfg
		}
		out = append(out, link)
	}
	return out, nil
}

// config builds the link's TLS client configuration (TLS 1.2 or later).
// Errors name the setting and the file, never a key's content.
func (t bankFileTLS) config(at func(string) string, getenv func(string) string) (*tls.Config, error) {
	cfg := &tls.Config{MinVersion: tls.VersionTLS12, ServerName: t.ServerName}
	if t.CA != "system" {
		b, err := readPEMFile(at("tls.ca"), t.CA)
		if err != nil {
			return nil, err
		}
		cfg.RootCAs = x509.NewCertPool()
		if !cfg.RootCAs.AppendCertsFromPEM(b) {
			return nil, fmt.Errorf("%s=%s: no PEM certificate in the file", at("tls.ca"), t.CA)
		}
	}
	if t.Cert == "" {
		return cfg, nil
	}
	certPEM, err := readPEMFile(at("tls.cert"), t.Cert)
	if err != nil {
		return nil, err
	}
	keyPEM, err := readPEMFile(at("tls.key"), t.Key)
	if err != nil {
		return nil, err
	}
	if t.KeyPassphraseEnv != "" {
		pass := getenv(t.KeyPassphraseEnv)
		if pass == "" {
			return nil, fmt.Errorf("%s: the variable %s is not set: export the key's passphrase in it", at("tls.key_passphrase_env"), t.KeyPassphraseEnv)
		}
		if keyPEM, err = decryptKeyPEM(keyPEM, []byte(pass)); err != nil {
			return nil, fmt.Errorf("%s=%s: %w", at("tls.key"), t.Key, err)
		}
	}
	cert, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		return nil, fmt.Errorf("%s=%s, %s=%s: %w", at("tls.cert"), t.Cert, at("tls.key"), t.Key, err)
	}
	cfg.Certificates = []tls.Certificate{cert}
	return cfg, nil
}

// decryptKeyPEM decrypts a private key in the OpenSSL "Proc-Type:
// 4,ENCRYPTED" PEM form (openssl rsa/ec -aes256). An encrypted PKCS #8 key
// ("ENCRYPTED PRIVATE KEY") is refused with what to do instead: the
// standard library does not read it and we add no dependency for it.
func decryptKeyPEM(keyPEM, pass []byte) ([]byte, error) {
	block, _ := pem.Decode(keyPEM)
	if block == nil {
		return nil, errors.New("no PEM block in the key file")
	}
	if block.Type == "ENCRYPTED PRIVATE KEY" {
		return nil, errors.New("an encrypted PKCS #8 key is not supported: convert it with `openssl pkey -in KEY -aes256 -traditional` or keep the key unencrypted on a protected disk")
	}
	//lint:ignore SA1019 the legacy form is the one the standard library reads; its weakness is documented in docs/operations.md.
	if !x509.IsEncryptedPEMBlock(block) { //nolint:staticcheck
		return nil, errors.New("tls.key_passphrase_env is set but the key is not encrypted")
	}
	der, err := x509.DecryptPEMBlock(block, pass) //nolint:staticcheck
	if err != nil {
		return nil, fmt.Errorf("decrypt the key: %w", err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: block.Type, Bytes: der}), nil
}
