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
	"maps"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
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
	// envBankRenewal is the bank's renewal rule, same_pan or new_pan: the
	// rule the embedded simulators follow, or the rule a bank at
	// VOLCARD_BANK_ADDR declared (a renewal answered against it is not
	// applied). Empty: the simulators keep the PAN; a real bank's answer
	// is applied either way.
	envBankRenewal = "VOLCARD_BANK_RENEWAL"
	// TLS to the bank: on when envBankTLSCA is set.
	envBankTLSCA         = "VOLCARD_BANK_TLS_CA"          // PEM file of the CAs that sign the bank's certificate, or "system"
	envBankTLSCert       = "VOLCARD_BANK_TLS_CERT"        // PEM file of our client certificate (chain), for mutual TLS
	envBankTLSKey        = "VOLCARD_BANK_TLS_KEY"         // PEM file of its private key
	envBankTLSServerName = "VOLCARD_BANK_TLS_SERVER_NAME" // name in the bank's certificate; default the host of each address
)

// bankConfig is the partner-bank part of the configuration.
type bankConfig struct {
	// File is the bank links file (VOLCARD_BANKS_FILE), read by serve at
	// start; when set, Addrs, the identities, MACKey and TLS are unset
	// (each link has its own, in the file).
	File          string
	Addrs         []string
	TerminalID    string
	InstitutionID string
	MACKey        []byte
	Workers       int
	Poll          time.Duration
	Timeout       time.Duration
	// Renewal is VOLCARD_BANK_RENEWAL (see envBankRenewal).
	Renewal issuance.RenewalRule
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
	if c.File = strings.TrimSpace(getenv(envBanksFile)); c.File != "" {
		// Each link's address, identities, MAC key and TLS are in the
		// file: the single-link variables would be ambiguous.
		for _, v := range []string{envBankAddr, envBankTerminalID, envBankInstitutionID, envBankMACKey, envBankRenewal,
			envBankTLSCA, envBankTLSCert, envBankTLSKey, envBankTLSServerName} {
			if strings.TrimSpace(getenv(v)) != "" {
				return c, fmt.Errorf("%s is set together with %s: put each bank's settings in the file and unset %s", v, envBanksFile, v)
			}
		}
	}
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
	if v := strings.TrimSpace(getenv(envBankRenewal)); v != "" {
		c.Renewal = issuance.RenewalRule(v)
		if !c.Renewal.Valid() {
			return c, fmt.Errorf("%s=%q: want same_pan or new_pan", envBankRenewal, v)
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

// bank is the running partner-bank side of serve: one link per partner
// bank (its gateway client and its outbox worker), the embedded simulators
// when nothing is configured, and the per-bank health.
type bank struct {
	sims []*banksim.Sim
	// simByCode are the embedded simulators by bank code (the test
	// helpers' banks; a bank with a real link is not there).
	simByCode map[string]*banksim.Sim
	links     []*runningLink
	banks     *outbox.Banks
	cancel    context.CancelFunc
}

// runningLink is one bank's client and worker.
type runningLink struct {
	code   string
	client *bankgw.Client
	worker *outbox.Worker
	done   chan error
}

// catalogBanks returns the catalog's products by bank code: the banks that
// need a link.
func catalogBanks(ctx context.Context, svc *issuance.Service) (map[string][]issuance.Product, error) {
	ps, err := svc.ListProducts(ctx)
	if err != nil {
		return nil, fmt.Errorf("list products: %w", err)
	}
	out := map[string][]issuance.Product{}
	for _, p := range ps {
		out[p.BankCode] = append(out[p.BankCode], p)
	}
	return out, nil
}

// bankLinks decides the links: the bank links file, or the
// VOLCARD_BANK_ADDR shorthand (every catalog bank on the same host), or
// one embedded simulator per catalog bank on loopback. Every catalog bank
// with products must have a link, and every link a catalog bank.
func (b *bank) bankLinks(ctx context.Context, c bankConfig, svc *issuance.Service, st *store.Store, log *slog.Logger) ([]bankLink, error) {
	catalog, err := catalogBanks(ctx, svc)
	if err != nil {
		return nil, err
	}
	codes := slices.Sorted(maps.Keys(catalog))
	switch {
	case c.File != "":
		links, err := bankLinksFromFile(c.File, os.Getenv, c)
		if err != nil {
			return nil, withExit(exitUsage, err)
		}
		linked := map[string]bool{}
		for _, l := range links {
			if _, ok := catalog[l.Bank]; !ok {
				return nil, withExit(exitUsage, fmt.Errorf("%s=%s: [bank.%s]: no product of the catalog issues through bank %s (catalog banks: %s)",
					envBanksFile, c.File, l.Bank, l.Bank, strings.Join(codes, ", ")))
			}
			linked[l.Bank] = true
		}
		for _, code := range codes {
			if !linked[code] {
				return nil, withExit(exitUsage, fmt.Errorf("%s=%s: [bank.%s] missing: products %s issue through bank %s; add its link",
					envBanksFile, c.File, code, productCodes(catalog[code]), code))
			}
		}
		return links, nil
	case len(c.Addrs) > 0:
		links := make([]bankLink, 0, len(codes))
		for _, code := range codes {
			links = append(links, bankLink{Bank: code, Addrs: c.Addrs, TerminalID: c.TerminalID, InstitutionID: c.InstitutionID,
				MACKey: c.MACKey, TLS: c.TLS, Workers: c.Workers, Timeout: c.Timeout, SharedSTAN: true, Renewal: c.Renewal})
		}
		return links, nil
	}
	imk, err := simMasterKeyAC(os.Getenv)
	if err != nil {
		return nil, withExit(exitUsage, err)
	}
	links := make([]bankLink, 0, len(codes))
	for _, code := range codes {
		// Each product's PANs come from its BIN, as the issuer
		// certificates of personalization expect (serve_personalization.go).
		bins := map[string]string{}
		for _, p := range catalog[code] {
			bins[issuance.BankProductCode(p.Code)] = p.BIN
		}
		rule := c.Renewal
		if rule == "" {
			rule = issuance.RenewSamePAN
		}
		sim, err := banksim.New(banksim.Config{BIN: catalog[code][0].BIN, MACKey: c.MACKey, Logger: log.With(slog.String("bank", code)),
			ProductBINs: bins, MasterKeyAC: imk, Taken: cardTaken(ctx, svc, st), Renewal: banksim.RenewalRule(rule)})
		if err != nil {
			return nil, err
		}
		if err := sim.Start("127.0.0.1:0"); err != nil {
			return nil, withExit(exitFailure, err)
		}
		b.sims = append(b.sims, sim)
		if b.simByCode == nil {
			b.simByCode = map[string]*banksim.Sim{}
		}
		b.simByCode[code] = sim
		links = append(links, bankLink{Bank: code, Addrs: []string{sim.Addr()}, TerminalID: c.TerminalID,
			InstitutionID: c.InstitutionID, MACKey: c.MACKey, Workers: c.Workers, Timeout: c.Timeout, Renewal: rule})
		log.Warn("no "+envBanksFile+" nor "+envBankAddr+": using the embedded bank simulator (cards are not real)",
			slog.String("bank", code), slog.String("addr", sim.Addr()))
	}
	return links, nil
}

func productCodes(ps []issuance.Product) string {
	out := make([]string, len(ps))
	for i, p := range ps {
		out[i] = p.Code
	}
	return strings.Join(out, ", ")
}

// startBank starts one link per partner bank (bankLinks) and runs each
// link's outbox worker, which claims only its bank's requests, until stop:
// a bank that is down holds its own requests and no other's. svc must have
// been built with issuance.WithBankOutbox(st).
//
// Each link's metrics carry a bank label; they, the outbox gauges and the
// per-bank health (outbox.Banks) go to reg, the registry the API serves on
// /metrics.
func startBank(ctx context.Context, c bankConfig, svc *issuance.Service, st *store.Store, reg prometheus.Registerer, log *slog.Logger) (_ *bank, err error) {
	b := &bank{}
	// The workers outlive ctx (the signal context) so that stop can end
	// them after the HTTP server.
	wctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	b.cancel = cancel
	defer func() {
		if err != nil {
			_ = b.stop(context.WithoutCancel(ctx))
		}
	}()
	links, err := b.bankLinks(ctx, c, svc, st, log)
	if err != nil {
		return nil, err
	}
	h, err := outbox.NewHandlers(svc, st, log)
	if err != nil {
		return nil, err
	}
	health := map[string]outbox.LinkHealth{}
	for i, l := range links {
		stan, err := st.STAN(l.stanSender())
		if err != nil {
			return nil, withExit(exitUsage, err)
		}
		llog := log.With(slog.String("bank", l.Bank))
		cfg := bankgw.DefaultConfig(l.Addrs, l.TerminalID, l.InstitutionID)
		cfg.STAN, cfg.MACKey, cfg.Logger, cfg.RequestTimeout, cfg.TLS = stan, l.MACKey, llog, l.Timeout, l.TLS
		cfg.AdviceHandler, cfg.LateResponseHandler = h.Advice, h.LateResponse
		cfg.Registerer = prometheus.WrapRegistererWith(prometheus.Labels{"bank": l.Bank}, reg)
		// Requests held while this bank was down go out when it signs on
		// again, not after their back-off (the worker is set below).
		var worker atomic.Pointer[outbox.Worker]
		cfg.OnSignOn = func() {
			if w := worker.Load(); w != nil {
				rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
				defer cancel()
				w.Resume(rctx)
			}
		}
		client, err := bankgw.NewClient(cfg)
		if err != nil {
			return nil, withExit(exitUsage, fmt.Errorf("bank %s: %w", l.Bank, err))
		}
		rl := &runningLink{code: l.Bank, client: client, done: make(chan error, 1)}
		b.links = append(b.links, rl)
		if err := client.Connect(ctx); err != nil { // never fails for a bank that is down (MinConnections 0)
			return nil, withExit(exitNoDevice, fmt.Errorf("bank %s: %w", l.Bank, err))
		}
		owner := ""
		if c.Owner != "" {
			owner = c.Owner + "/" + l.Bank
		}
		// One worker dispatches approved applications for every bank.
		rl.worker, err = outbox.New(outbox.Config{Gateway: client, Service: svc, Outbox: st, Workers: l.Workers, Owner: owner,
			Banks: []string{l.Bank}, NoDispatch: i > 0, PollInterval: c.Poll, Lease: max(time.Minute, 3*l.Timeout), Logger: llog,
			Renewal: l.Renewal})
		if err != nil {
			return nil, err
		}
		health[l.Bank] = client
		worker.Store(rl.worker)
		// The first sign-on (in Connect above) came before the worker:
		// resume once now, so that rows held in a back-off by an earlier
		// run go out at start.
		go func() {
			rctx, cancel := context.WithTimeout(wctx, 10*time.Second)
			defer cancel()
			rl.worker.Resume(rctx)
		}()
		go func() { rl.done <- rl.worker.Run(wctx) }()
		log.Info("bank link running", slog.String("bank", l.Bank), slog.Int("workers", l.Workers),
			slog.String("owner", rl.worker.Owner()), slog.Int("addresses", len(l.Addrs)), slog.Bool("tls", l.TLS != nil),
			slog.Bool("mac", l.MACKey != nil))
	}
	if len(links) == 0 {
		log.Warn("no bank link: the catalog has no product, so no bank to link to")
	}
	mon, err := outbox.NewMonitor(outbox.MonitorConfig{Stats: st, Registerer: reg, Logger: log})
	if err != nil {
		return nil, err
	}
	if b.banks, err = outbox.NewBanks(health, st, log); err != nil {
		return nil, err
	}
	if err := reg.Register(b.banks); err != nil {
		return nil, fmt.Errorf("register per-bank metrics: %w", err)
	}
	go mon.Run(wctx)
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

// stop ends the workers (their leased rows are handed back, claimable by
// other processes at once), signs off and closes the embedded simulators.
func (b *bank) stop(ctx context.Context) error {
	b.cancel()
	var err error
	for _, l := range b.links {
		if l.worker != nil {
			err = errors.Join(err, <-l.done)
		}
		err = errors.Join(err, l.client.Close(ctx))
	}
	for _, s := range b.sims {
		s.Close()
	}
	return err
}
