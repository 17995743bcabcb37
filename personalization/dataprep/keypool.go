package dataprep

import (
	"context"
	"crypto/rand"
	"errors"
	"sync/atomic"
	"time"

	"github.com/volcard/volcard/cardio/emv"
)

// Defaults of KeyPoolConfig.
const (
	DefaultKeyPoolSize  = 4
	DefaultKeyPoolQuiet = 200 * time.Millisecond
)

// KeyPool keeps ICC key pairs generated ahead of need, so that opening a
// personalization does not wait for an RSA key generation (about 15 ms of
// CPU for 768 bits on the benchmark machine, and very variable: a prime
// search). One goroutine refills it after a quiet spell: a generation
// starts only when no key has been taken for KeyPoolConfig.Quiet, so that
// it does not compete with the sessions being served. A burst of openings
// empties the pool, and Prepare then generates its keys itself, as without
// a pool. The keys live in this process's memory only, exactly
// as a key generated during Prepare does; each is handed out once, and
// the ones left when the process ends are lost with it. An HSM deployment
// does the same inside the HSM (pre-generated key pairs).
type KeyPool struct {
	bits     int
	quiet    time.Duration
	keys     chan *emv.PrivateKey
	taken    chan struct{} // a key was taken: the pool has room
	lastTake atomic.Int64  // UnixNano of the last Take
	hits     atomic.Int64
	misses   atomic.Int64
	failure  atomic.Int64 // generations that failed
}

// KeyPoolConfig configures NewKeyPool; zero fields take the defaults.
type KeyPoolConfig struct {
	// Bits is the key size, 512 to 1024 in steps of 16;
	// DefaultICCKeyBits when zero. The public exponent is 3.
	Bits int
	// Size is the number of keys kept ready, 1 to 1024;
	// DefaultKeyPoolSize when zero.
	Size int
	// Quiet is how long no key must have been taken before the next
	// generation starts; DefaultKeyPoolQuiet when zero, none when
	// negative.
	Quiet time.Duration
}

// NewKeyPool starts a pool (primes from crypto/rand). Its goroutine stops
// when ctx ends; a key not yet generated then is simply not there, and
// the Preparer generates its own.
func NewKeyPool(ctx context.Context, cfg KeyPoolConfig) (*KeyPool, error) {
	if cfg.Bits == 0 {
		cfg.Bits = DefaultICCKeyBits
	}
	if cfg.Size == 0 {
		cfg.Size = DefaultKeyPoolSize
	}
	switch {
	case cfg.Quiet == 0:
		cfg.Quiet = DefaultKeyPoolQuiet
	case cfg.Quiet < 0:
		cfg.Quiet = 0
	}
	if cfg.Bits < 512 || cfg.Bits > 1024 || cfg.Bits%16 != 0 {
		return nil, invalid("ICC key size", "must be 512 to 1024 bits, a multiple of 16")
	}
	if cfg.Size < 1 || cfg.Size > 1024 {
		return nil, invalid("ICC key pool size", "must be 1 to 1024")
	}
	p := &KeyPool{bits: cfg.Bits, quiet: cfg.Quiet, keys: make(chan *emv.PrivateKey, cfg.Size), taken: make(chan struct{}, 1)}
	go p.fill(ctx)
	return p, nil
}

// fill generates keys while the pool has room, each after a quiet spell,
// until ctx ends. A failed generation (the system's random source failing)
// is retried after a second; meanwhile Prepare generates its own keys and
// fails as loudly.
func (p *KeyPool) fill(ctx context.Context) {
	for ctx.Err() == nil {
		if len(p.keys) == cap(p.keys) {
			select {
			case <-p.taken:
			case <-ctx.Done():
			}
			continue
		}
		wait := p.quiet - time.Since(time.Unix(0, p.lastTake.Load()))
		if wait <= 0 {
			k, err := emv.GenerateKey(rand.Reader, p.bits, 3)
			if err == nil {
				p.keys <- k // only fill sends, and there is room
				continue
			}
			p.failure.Add(1)
			wait = time.Second
		}
		t := time.NewTimer(wait) // then look again: a key may have been taken meanwhile
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
		}
	}
}

// Bits is the size of the pool's keys.
func (p *KeyPool) Bits() int { return p.bits }

// Take returns a ready key and removes it from the pool, or false at once
// when none is ready. Either way the next generation waits for the quiet
// spell.
func (p *KeyPool) Take() (*emv.PrivateKey, bool) {
	p.lastTake.Store(time.Now().UnixNano()) // a miss is demand too: no refill in the middle of it
	select {
	case k := <-p.keys:
		p.hits.Add(1)
		select {
		case p.taken <- struct{}{}:
		default:
		}
		return k, true
	default:
		p.misses.Add(1)
		return nil, false
	}
}

// KeyPoolStats counts what a pool has done.
type KeyPoolStats struct {
	Ready    int   // keys in the pool now
	Hits     int64 // Take calls that got a key
	Misses   int64 // Take calls that found the pool empty
	Failures int64 // generations that failed
}

// Stats returns the pool's counters.
func (p *KeyPool) Stats() KeyPoolStats {
	return KeyPoolStats{Ready: len(p.keys), Hits: p.hits.Load(), Misses: p.misses.Load(), Failures: p.failure.Load()}
}

// WithKeyPool makes Prepare take ICC keys from pool, generating one itself
// only when the pool is empty. The pool's key size must be the Preparer's
// (WithICCKeyBits, DefaultICCKeyBits by default).
func WithKeyPool(pool *KeyPool) Option {
	return func(p *Preparer) error {
		if pool == nil {
			return errors.New("dataprep: nil key pool")
		}
		p.pool = pool
		return nil
	}
}

// iccKey returns a fresh ICC key pair: from the pool when one is ready.
func (p *Preparer) iccKey() (*emv.PrivateKey, error) {
	if p.pool != nil {
		if k, ok := p.pool.Take(); ok {
			return k, nil
		}
	}
	return emv.GenerateKey(p.rand, p.bits, 3)
}
