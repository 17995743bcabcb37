package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/volcard/volcard/api"
	"github.com/volcard/volcard/bankgw"
	"github.com/volcard/volcard/bankgw/banksim"
	"github.com/volcard/volcard/bankgw/outbox"
	"github.com/volcard/volcard/issuance"
	"github.com/volcard/volcard/issuance/store"
)

// Environment variables of the partner-bank connection. README.md
// documents them.
const (
	envBankAddr          = "VOLCARD_BANK_ADDR"           // host:port[,host:port…]; empty → embedded bank simulator
	envBankTerminalID    = "VOLCARD_BANK_TERMINAL_ID"    // field 41, 8 characters, default VOLCARD1
	envBankInstitutionID = "VOLCARD_BANK_INSTITUTION_ID" // field 42, 15 characters, default VOLCARD00000001
	envBankMACKey        = "VOLCARD_BANK_MAC_KEY"        // 64 hex digits; empty → no MAC (field 128)
	envBankWorkers       = "VOLCARD_BANK_WORKERS"        // outbox claim loops, default 2
	envBankPoll          = "VOLCARD_BANK_POLL_INTERVAL"  // outbox poll when idle, default 500ms
	envBankTimeout       = "VOLCARD_BANK_TIMEOUT"        // request timeout, default 10s
	// TLS to the bank: on when envBankTLSCA is set.
	envBankTLSCA         = "VOLCARD_BANK_TLS_CA"          // PEM file of the CAs that sign the bank's certificate, or "system"
	envBankTLSCert       = "VOLCARD_BANK_TLS_CERT"        // PEM file of our client certificate (chain), for mutual TLS
	envBankTLSKey        = "VOLCARD_BANK_TLS_KEY"         // PEM file of its private key
	envBankTLSServerName = "VOLCARD_BANK_TLS_SERVER_NAME" // name in the bank's certificate; default the host of each address
)

// bankConfig is the partner-bank part of the configuration.
type bankConfig struct {
	Addrs         []string
	TerminalID    string
	InstitutionID string
	MACKey        []byte
	Workers       int
	Poll          time.Duration
	Timeout       time.Duration
	// TLS, when set, is the link's TLS client configuration.
	TLS *tls.Config
	// Owner names the outbox worker in leases: serve's cluster member id,
	// so that its leases end with the process (store.MemberPrefix).
	Owner string
}

// bankConfigFromEnv reads the VOLCARD_BANK_* variables through getenv.
func bankConfigFromEnv(getenv func(string) string) (bankConfig, error) {
	c := bankConfig{TerminalID: "VOLCARD1", InstitutionID: "VOLCARD00000001", Workers: 2,
		Poll: 500 * time.Millisecond, Timeout: 10 * time.Second}
	for _, a := range strings.Split(getenv(envBankAddr), ",") {
		if a = strings.TrimSpace(a); a != "" {
			c.Addrs = append(c.Addrs, a)
		}
	}
	if v := getenv(envBankTerminalID); v != "" {
		c.TerminalID = v
	}
	if len(c.TerminalID) != 8 {
		return c, fmt.Errorf("%s=%q: want exactly 8 characters", envBankTerminalID, c.TerminalID)
	}
	if v := getenv(envBankInstitutionID); v != "" {
		c.InstitutionID = v
	}
	if len(c.InstitutionID) != 15 {
		return c, fmt.Errorf("%s=%q: want exactly 15 characters", envBankInstitutionID, c.InstitutionID)
	}
	if v := strings.TrimSpace(getenv(envBankMACKey)); v != "" {
		k, err := hex.DecodeString(v)
		if err != nil || len(k) != bankgw.MACKeySize {
			return c, fmt.Errorf("%s: want %d hex digits", envBankMACKey, 2*bankgw.MACKeySize)
		}
		c.MACKey = k
	}
	if v := getenv(envBankWorkers); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 64 {
			return c, fmt.Errorf("%s=%q: want an integer from 1 to 64", envBankWorkers, v)
		}
		c.Workers = n
	}
	for _, d := range []struct {
		env string
		dst *time.Duration
	}{{envBankPoll, &c.Poll}, {envBankTimeout, &c.Timeout}} {
		if v := getenv(d.env); v != "" {
			x, err := time.ParseDuration(v)
			if err != nil || x <= 0 || x > 10*time.Minute {
				return c, fmt.Errorf("%s=%q: want a duration such as 500ms", d.env, v)
			}
			*d.dst = x
		}
	}
	var err error
	if c.TLS, err = bankTLSFromEnv(getenv); err != nil {
		return c, err
	}
	if c.TLS != nil && len(c.Addrs) == 0 {
		return c, fmt.Errorf("%s is set but %s is not: the embedded bank simulator has no TLS", envBankTLSCA, envBankAddr)
	}
	return c, nil
}

// maxPEMFile bounds the certificate and key files read at start.
const maxPEMFile = 1 << 20

// readPEMFile reads a certificate or key file named by env: a regular file
// of at most maxPEMFile bytes (not a device or a pipe that would hang
// serve's start).
func readPEMFile(env, path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", env, err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("%s: %w", env, err)
	}
	if !fi.Mode().IsRegular() || fi.Size() > maxPEMFile {
		return nil, fmt.Errorf("%s=%s: want a PEM file of at most %d bytes", env, path, maxPEMFile)
	}
	b, err := io.ReadAll(io.LimitReader(f, maxPEMFile))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", env, err)
	}
	return b, nil
}

// bankTLSFromEnv builds the bank link's TLS configuration (TLS 1.2 or
// later) from the VOLCARD_BANK_TLS_* variables; nil when TLS is off.
// Errors name the variable and the file, never a key's content.
func bankTLSFromEnv(getenv func(string) string) (*tls.Config, error) {
	ca := strings.TrimSpace(getenv(envBankTLSCA))
	certFile, keyFile := strings.TrimSpace(getenv(envBankTLSCert)), strings.TrimSpace(getenv(envBankTLSKey))
	name := strings.TrimSpace(getenv(envBankTLSServerName))
	if ca == "" {
		for _, v := range []string{envBankTLSCert, envBankTLSKey, envBankTLSServerName} {
			if strings.TrimSpace(getenv(v)) != "" {
				return nil, fmt.Errorf("%s is set but %s is not: set it to the bank's CA file (or \"system\") to use TLS", v, envBankTLSCA)
			}
		}
		return nil, nil
	}
	cfg := &tls.Config{MinVersion: tls.VersionTLS12, ServerName: name}
	if ca != "system" {
		pem, err := readPEMFile(envBankTLSCA, ca)
		if err != nil {
			return nil, err
		}
		cfg.RootCAs = x509.NewCertPool()
		if !cfg.RootCAs.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("%s=%s: no PEM certificate in the file", envBankTLSCA, ca)
		}
	}
	if (certFile == "") != (keyFile == "") {
		return nil, fmt.Errorf("%s and %s go together: set both for mutual TLS, or neither", envBankTLSCert, envBankTLSKey)
	}
	if certFile != "" {
		certPEM, err := readPEMFile(envBankTLSCert, certFile)
		if err != nil {
			return nil, err
		}
		keyPEM, err := readPEMFile(envBankTLSKey, keyFile)
		if err != nil {
			return nil, err
		}
		cert, err := tls.X509KeyPair(certPEM, keyPEM)
		if err != nil {
			// crypto/tls names what is wrong (no PEM data, a key that
			// does not match the certificate), not the key material.
			return nil, fmt.Errorf("%s=%s, %s=%s: %w", envBankTLSCert, certFile, envBankTLSKey, keyFile, err)
		}
		cfg.Certificates = []tls.Certificate{cert}
	}
	return cfg, nil
}

// bank is the running partner-bank side of serve: the embedded simulator
// (when no address is configured), the gateway client and the outbox
// worker.
type bank struct {
	sim    *banksim.Sim
	client *bankgw.Client
	worker *outbox.Worker
	cancel context.CancelFunc
	done   chan error
}

// startBank connects to the bank (or embeds the simulator on loopback) and
// runs the outbox worker until stop. svc must have been built with
// issuance.WithBankOutbox(st).
//
// The bank link's metrics and the outbox gauges go to reg, the registry the
// API serves on /metrics.
func startBank(ctx context.Context, c bankConfig, svc *issuance.Service, st *store.Store, reg prometheus.Registerer, log *slog.Logger) (*bank, error) {
	b := &bank{done: make(chan error, 1)}
	addrs := c.Addrs
	if len(addrs) == 0 {
		// Each product's PANs come from its BIN, as the issuer
		// certificates of personalization expect (serve_personalization.go).
		bins, err := bankProductBINs(ctx, svc)
		if err != nil {
			return nil, err
		}
		imk, err := simMasterKeyAC(os.Getenv)
		if err != nil {
			return nil, withExit(exitUsage, err)
		}
		sim, err := banksim.New(banksim.Config{MACKey: c.MACKey, Logger: log, ProductBINs: bins, MasterKeyAC: imk,
			Taken: cardTaken(ctx, svc, st)})
		if err != nil {
			return nil, err
		}
		if err := sim.Start("127.0.0.1:0"); err != nil {
			return nil, withExit(exitFailure, err)
		}
		b.sim, addrs = sim, []string{sim.Addr()}
		log.Warn("no "+envBankAddr+": using the embedded bank simulator (cards are not real)", slog.String("addr", sim.Addr()))
	}
	stan, err := st.STAN(c.TerminalID)
	if err != nil {
		b.closeSim()
		return nil, withExit(exitUsage, err)
	}
	h, err := outbox.NewHandlers(svc, st, log)
	if err != nil {
		b.closeSim()
		return nil, err
	}
	cfg := bankgw.DefaultConfig(addrs, c.TerminalID, c.InstitutionID)
	cfg.STAN, cfg.MACKey, cfg.Logger, cfg.RequestTimeout, cfg.TLS = stan, c.MACKey, log, c.Timeout, c.TLS
	cfg.AdviceHandler, cfg.LateResponseHandler = h.Advice, h.LateResponse
	cfg.Registerer = reg
	mon, err := outbox.NewMonitor(outbox.MonitorConfig{Stats: st, Registerer: reg, Logger: log})
	if err != nil {
		b.closeSim()
		return nil, err
	}
	if b.client, err = bankgw.NewClient(cfg); err != nil {
		b.closeSim()
		return nil, withExit(exitUsage, err)
	}
	if err := b.client.Connect(ctx); err != nil { // never fails for a bank that is down (MinConnections 0)
		b.closeSim()
		return nil, withExit(exitNoDevice, err)
	}
	b.worker, err = outbox.New(outbox.Config{Gateway: b.client, Service: svc, Outbox: st, Workers: c.Workers, Owner: c.Owner,
		PollInterval: c.Poll, Lease: max(time.Minute, 3*c.Timeout), Logger: log})
	if err != nil {
		_ = b.client.Close(ctx)
		b.closeSim()
		return nil, err
	}
	// The worker outlives ctx (the signal context) so that stop can end
	// it after the HTTP server.
	wctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	b.cancel = cancel
	go func() { b.done <- b.worker.Run(wctx) }()
	go mon.Run(wctx)
	log.Info("bank outbox running", slog.Int("workers", c.Workers), slog.String("owner", b.worker.Owner()),
		slog.Int("addresses", len(addrs)), slog.Bool("tls", c.TLS != nil))
	return b, nil
}

// cardTaken is the embedded simulator's Config.Taken: a PAN is taken when
// our database has a card with its token. The simulator's counter starts
// at 1 in every process, so without this the first application after a
// restart would get an existing card's PAN (duplicate card_pan).
func cardTaken(ctx context.Context, svc *issuance.Service, st *store.Store) func(pan string) (bool, error) {
	ctx = context.WithoutCancel(ctx)
	return func(pan string) (bool, error) {
		qctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		defer cancel()
		_, err := st.GetCardByToken(qctx, svc.PANToken(pan))
		switch {
		case err == nil:
			return true, nil
		case errors.Is(err, issuance.ErrNotFound):
			return false, nil
		default:
			return false, fmt.Errorf("look up card by PAN token: %w", err)
		}
	}
}

// enableBankRequests serves the operators' outbox routes (the same commands
// as volcard outbox) on srv.
func enableBankRequests(svc *issuance.Service, st *store.Store, srv *api.Server, log *slog.Logger) error {
	admin, err := outbox.NewAdmin(svc, st, log)
	if err != nil {
		return err
	}
	return srv.EnableBankRequests(admin)
}

func (b *bank) closeSim() {
	if b.sim != nil {
		b.sim.Close()
	}
}

// stop ends the worker (its leased rows are handed back, claimable by other
// processes at once), signs off and closes the embedded simulator.
func (b *bank) stop(ctx context.Context) error {
	b.cancel()
	err := <-b.done
	err = errors.Join(err, b.client.Close(ctx))
	b.closeSim()
	return err
}
