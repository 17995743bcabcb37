package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/volcard/volcard/api"
	"github.com/volcard/volcard/api/webhook"
	"github.com/volcard/volcard/issuance"
	"github.com/volcard/volcard/issuance/feed"
	"github.com/volcard/volcard/issuance/store"
	"github.com/volcard/volcard/pii"
)

// envWebhookRetryBase sets the first retry delay of a failed webhook
// delivery (a Go duration, default 10s); the delay doubles up to an hour.
const envWebhookRetryBase = "VOLCARD_WEBHOOK_RETRY_BASE"

// envWebhookAllowPrivate lists the internal addresses (loopback, private,
// link-local, CGNAT) webhook endpoints may reach, comma-separated
// addresses or prefixes such as 127.0.0.1 or 10.20.0.0/16; default none.
const envWebhookAllowPrivate = "VOLCARD_WEBHOOK_ALLOW_PRIVATE"

// startEvents serves the event feed and webhook routes and starts this
// process's webhook delivery worker, its leases named by the member. wait
// returns once the worker has stopped (ctx done) and handed its leases
// back.
func startEvents(ctx context.Context, cfg config, svc *issuance.Service, st *store.Store, srv *api.Server,
	member *store.Member, reg prometheus.Registerer, log *slog.Logger) (wait func(), err error) {
	addrs, err := feed.ParseAddrPolicy(os.Getenv(envWebhookAllowPrivate))
	if err != nil {
		return nil, withExit(exitUsage, fmt.Errorf("%s: %w", envWebhookAllowPrivate, err))
	}
	if len(addrs.Allow) > 0 {
		log.Warn("webhooks may reach internal addresses", slog.String("allowed", addrs.String()))
	}
	fs, err := feed.New(svc, st, feed.WithAddrPolicy(addrs))
	if err != nil {
		return nil, err
	}
	if err := srv.EnableEvents(fs); err != nil {
		return nil, err
	}
	key, err := cfg.loadDataKey(log)
	if err != nil {
		return nil, withExit(exitUsage, err)
	}
	keys, err := pii.New(key)
	if err != nil {
		return nil, withExit(exitUsage, err)
	}
	base := 10 * time.Second
	if v := os.Getenv(envWebhookRetryBase); v != "" {
		if base, err = time.ParseDuration(v); err != nil || base <= 0 || base > time.Hour {
			return nil, withExit(exitUsage, fmt.Errorf("%s: want a duration between 0 and 1h", envWebhookRetryBase))
		}
	}
	w, err := webhook.NewWorker(st, keys, webhook.Options{Owner: member.ID(), Registerer: reg, Logger: log,
		Backoff: webhook.Backoff(base, time.Hour), Addrs: addrs})
	if err != nil {
		return nil, err
	}
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		w.Run(ctx)
	}()
	return wg.Wait, nil
}
