package store

import (
	"context"
	"errors"
	"fmt"
	"math"
	"time"

	"golang.org/x/time/rate"
)

// RateLimits is a rate limiter whose state lives in the database, so that
// every serve process on it enforces one limit together (issue 20: N
// processes with a limiter each allowed N times the rate). It implements the
// generic cell rate algorithm, a token bucket kept as one number per key:
// the theoretical arrival time (TAT). A request at now is allowed when
// max(TAT, now) + T − now ≤ burst·T, with T the interval between requests at
// the sustained rate, and then moves the TAT to max(TAT, now) + T.
//
// One statement decides and records: an INSERT … ON CONFLICT DO UPDATE …
// WHERE, atomic per key on both dialects (PostgreSQL locks the row, SQLite
// writes under its database lock). A refused request changes nothing.
type RateLimits struct {
	st       *Store
	interval time.Duration
	burst    int
	now      func() time.Time
}

// NewRateLimits returns a limiter of limit requests per second with the
// given burst per key. now may be nil (time.Now).
func NewRateLimits(st *Store, limit rate.Limit, burst int, now func() time.Time) (*RateLimits, error) {
	if st == nil {
		return nil, errors.New("rate limits: nil store")
	}
	if limit <= 0 || limit == rate.Inf || burst < 1 {
		return nil, fmt.Errorf("rate limits: want a positive finite rate and a burst of at least 1 (got %v, %d)", limit, burst)
	}
	iv := time.Duration(math.Round(float64(time.Second) / float64(limit)))
	if iv < time.Microsecond {
		iv = time.Microsecond
	}
	if now == nil {
		now = time.Now
	}
	return &RateLimits{st: st, interval: iv, burst: burst, now: now}, nil
}

// Allow takes one request for key. When it is refused it reports how long
// to wait until one would be allowed.
func (r *RateLimits) Allow(ctx context.Context, key string) (bool, time.Duration, error) {
	if key == "" {
		return false, 0, errors.New("rate limit: empty key")
	}
	now := r.now().UnixMicro()
	t := r.interval.Microseconds()
	window := int64(r.burst) * t
	greatest := "GREATEST"
	if r.st.dialect == SQLite {
		greatest = "MAX" // SQLite's scalar max
	}
	db := r.st.DB(ctx)
	var tats []int64
	err := db.Raw(`INSERT INTO rate_limits AS r (limit_key, tat_us) VALUES (?, ?)
		ON CONFLICT (limit_key) DO UPDATE SET tat_us = `+greatest+`(r.tat_us, ?) + ?
		WHERE `+greatest+`(r.tat_us, ?) + ? - ? <= ?
		RETURNING tat_us`, key, now+t, now, t, now, t, now, window).Scan(&tats).Error
	if err != nil {
		return false, 0, fmt.Errorf("rate limit: %w", mapErr(err))
	}
	if len(tats) == 1 {
		return true, 0, nil
	}
	var tat int64
	if err := db.Raw(`SELECT tat_us FROM rate_limits WHERE limit_key = ?`, key).Scan(&tat).Error; err != nil {
		return false, 0, fmt.Errorf("rate limit: %w", mapErr(err))
	}
	wait := time.Duration(max(tat, now)+t-now-window) * time.Microsecond
	return false, max(wait, time.Millisecond), nil
}

// SweepRateLimits deletes the keys that carry no debt any more (their TAT
// has passed: a new request would start from a full bucket anyway).
func (s *Store) SweepRateLimits(ctx context.Context, now time.Time) (int64, error) {
	res := s.DB(ctx).Exec(`DELETE FROM rate_limits WHERE tat_us < ?`, now.UnixMicro())
	if res.Error != nil {
		return 0, fmt.Errorf("sweep rate limits: %w", mapErr(res.Error))
	}
	return res.RowsAffected, nil
}
