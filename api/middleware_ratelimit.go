package api

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/labstack/echo/v4"
	"golang.org/x/time/rate"
)

// RateLimiter decides whether one more request under key may run now, and
// if not how long to wait. Keys name a route's limit and a client address
// ("progress:192.0.2.1"). serve gives one kept in the database
// (store.RateLimits), shared by every process on it; the default is the
// in-process ipLimiter.
type RateLimiter interface {
	Allow(ctx context.Context, key string) (ok bool, retryAfter time.Duration, err error)
}

// ipLimiter keeps one token bucket per key in memory. Buckets idle for longer
// than idle are dropped by a sweep that runs on access.
type ipLimiter struct {
	limit rate.Limit
	burst int
	idle  time.Duration
	now   func() time.Time

	mu        sync.Mutex
	buckets   map[string]*ipBucket
	lastSweep time.Time
}

type ipBucket struct {
	lim  *rate.Limiter
	seen time.Time
}

func newIPLimiter(limit rate.Limit, burst int, now func() time.Time) *ipLimiter {
	return &ipLimiter{limit: limit, burst: burst, idle: 10 * time.Minute, now: now,
		buckets: make(map[string]*ipBucket), lastSweep: now()}
}

// Allow implements RateLimiter; it never fails.
func (l *ipLimiter) Allow(_ context.Context, ip string) (bool, time.Duration, error) {
	ok, wait := l.allow(ip)
	return ok, wait, nil
}

// allow reports whether ip may make a request now, and if not how long it
// should wait.
func (l *ipLimiter) allow(ip string) (bool, time.Duration) {
	now := l.now()
	l.mu.Lock()
	defer l.mu.Unlock()
	if now.Sub(l.lastSweep) > l.idle {
		for k, b := range l.buckets {
			if now.Sub(b.seen) > l.idle {
				delete(l.buckets, k)
			}
		}
		l.lastSweep = now
	}
	b, ok := l.buckets[ip]
	if !ok {
		b = &ipBucket{lim: rate.NewLimiter(l.limit, l.burst)}
		l.buckets[ip] = b
	}
	b.seen = now
	r := b.lim.ReserveN(now, 1)
	if !r.OK() {
		return false, time.Second
	}
	if d := r.DelayFrom(now); d > 0 {
		r.CancelAt(now)
		return false, d
	}
	return true, 0
}

// rateLimit refuses requests over the per-IP limit of route with 429 and
// Retry-After. The client IP comes from Echo's IPExtractor (the direct peer
// unless trusted proxies are configured). A limiter that cannot decide (its
// database is down) refuses with 503: the limit guards a lookup by ID
// number, so it fails closed.
func rateLimit(l RateLimiter, route string, log *slog.Logger) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			ok, wait, err := l.Allow(c.Request().Context(), route+":"+c.RealIP())
			if err != nil {
				log.Warn("rate limit unavailable", slog.String("route", route), slog.String("error", err.Error()))
				return &Error{Kind: KindUnavailable, Detail: "the lookup limit cannot be checked right now; retry in a minute", RetryAfter: time.Minute}
			}
			if !ok {
				return &Error{Kind: KindRateLimited, Detail: "too many lookups from your address; retry after the time in Retry-After", RetryAfter: wait}
			}
			return next(c)
		}
	}
}
