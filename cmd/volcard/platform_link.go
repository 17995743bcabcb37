package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/volcard/volcard/issuance"
	"github.com/volcard/volcard/issuance/platformlink"
	"github.com/volcard/volcard/issuance/store"
	"github.com/volcard/volcard/platform"
	"github.com/volcard/volcard/platform/platformsim"
)

// Environment of the platform link (README.md, Configuration).
const (
	envPlatformURL     = "VOLCARD_PLATFORM_URL"     // the platform's base URL; empty → embedded simulator
	envPlatformToken   = "VOLCARD_PLATFORM_TOKEN"   // bearer token for the platform (required with the URL)
	envPlatformCA      = "VOLCARD_PLATFORM_CA"      // PEM CA file of the platform's certificate; empty → system
	envPlatformTimeout = "VOLCARD_PLATFORM_TIMEOUT" // one call's timeout, default 10s
	envPlatformPoll    = "VOLCARD_PLATFORM_POLL"    // worker's idle poll, default 1s
)

// platformConfig is the platform link's configuration.
type platformConfig struct {
	URL     string
	Token   string
	CAFile  string
	Timeout time.Duration
	Poll    time.Duration
	Owner   string // lease owner (serve's cluster member id)
}

func platformConfigFromEnv(getenv func(string) string) (platformConfig, error) {
	c := platformConfig{URL: strings.TrimSpace(getenv(envPlatformURL)), Token: getenv(envPlatformToken),
		CAFile: getenv(envPlatformCA), Timeout: 10 * time.Second, Poll: time.Second}
	for _, d := range []struct {
		env string
		to  *time.Duration
	}{{envPlatformTimeout, &c.Timeout}, {envPlatformPoll, &c.Poll}} {
		if v := getenv(d.env); v != "" {
			x, err := time.ParseDuration(v)
			if err != nil || x <= 0 || x > 10*time.Minute {
				return c, fmt.Errorf("%s=%q: want a Go duration up to 10m", d.env, v)
			}
			*d.to = x
		}
	}
	if c.URL != "" && c.Token == "" {
		return c, fmt.Errorf("%s is set: %s is required", envPlatformURL, envPlatformToken)
	}
	if c.URL == "" && (c.Token != "" || c.CAFile != "") {
		return c, fmt.Errorf("%s or %s set without %s", envPlatformToken, envPlatformCA, envPlatformURL)
	}
	return c, nil
}

// platformLink is serve's running platform link: the worker, and the
// embedded simulator when no platform is configured.
type platformLink struct {
	svc    *platformlink.Service
	cancel context.CancelFunc
	done   chan struct{}
	sim    *platformsim.Sim
}

// startPlatform starts the registration worker against the configured
// platform, or an embedded simulator on a loopback port (with a warning:
// numbers are not the platform's).
func startPlatform(ctx context.Context, c platformConfig, svc *issuance.Service, st *store.Store, reg prometheus.Registerer,
	log *slog.Logger) (*platformLink, error) {
	pl, err := platformlink.New(svc, st)
	if err != nil {
		return nil, err
	}
	l := &platformLink{svc: pl, done: make(chan struct{})}
	if c.URL == "" {
		tok := make([]byte, 16)
		_, _ = rand.Read(tok)
		c.Token = hex.EncodeToString(tok)
		l.sim, err = platformsim.New(platformsim.Config{Token: c.Token, Logger: log.With(slog.String("component", "platformsim"))})
		if err != nil {
			return nil, err
		}
		if err := l.sim.Start("127.0.0.1:0", nil); err != nil {
			return nil, withExit(exitUsage, err)
		}
		c.URL = "http://" + l.sim.Addr()
		log.Warn("no " + envPlatformURL + ": registrations go to an embedded platform simulator; its volunteer numbers are not the platform's")
	}
	client, err := platform.New(platform.Config{BaseURL: c.URL, Token: c.Token, Timeout: c.Timeout, CAFile: c.CAFile})
	if err != nil {
		l.close()
		return nil, withExit(exitUsage, fmt.Errorf("%s: %w", envPlatformURL, err))
	}
	w, err := platformlink.NewWorker(platformlink.WorkerConfig{Registrar: client, Service: svc, Store: st, Owner: c.Owner,
		PollInterval: c.Poll, Lease: max(time.Minute, 3*c.Timeout), Registerer: reg,
		Logger: log.With(slog.String("component", "platform"))})
	if err != nil {
		l.close()
		return nil, err
	}
	wctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	l.cancel = cancel
	go func() { defer close(l.done); w.Run(wctx) }()
	return l, nil
}

// stop ends the worker (rows in flight are finished first) and the
// simulator.
func (l *platformLink) stop() {
	l.cancel()
	<-l.done
	l.close()
}

func (l *platformLink) close() {
	if l.sim != nil {
		l.sim.Close()
	}
}
