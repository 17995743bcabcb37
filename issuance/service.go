package issuance

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"time"

	"github.com/volcard/volcard/pii"
)

// DefaultMinAge is the minimum applicant age for a card (a bank account).
const DefaultMinAge = 16

// Service runs the issuance commands. Construct it with NewService; it is
// safe for concurrent use.
type Service struct {
	store     Store
	keys      *pii.Keys
	clock     Clock
	numbers   NumberGenerator
	rand      io.Reader
	hooks     []TransitionHook
	cardHooks []CardHook
	outbox    BankOutbox // nil: no bank connection (see WithBankOutbox)
	// testBank sends advices from embedded bank simulators (testbank.go);
	// nil: the test helpers are refused.
	testBank TestBank
	minAge   int
	log      *slog.Logger

	products sync.Map // code → Product; products change only through PutProduct

	tokenTTL time.Duration
	tokens   sync.Map // string(hash) → cachedActor
}

type cachedActor struct {
	actor   Actor
	expires time.Time
}

// Option configures a Service.
type Option func(*Service) error

// WithClock sets the clock (default: the system clock, UTC).
func WithClock(c Clock) Option {
	return func(s *Service) error {
		if c == nil {
			return errors.New("issuance: nil clock")
		}
		s.clock = c
		return nil
	}
}

// WithNumbers sets the application number generator (default:
// RandomNumbers with prefix "GD").
func WithNumbers(g NumberGenerator) Option {
	return func(s *Service) error {
		if g == nil {
			return errors.New("issuance: nil number generator")
		}
		s.numbers = g
		return nil
	}
}

// WithRandom sets the randomness source for tokens (default crypto/rand).
func WithRandom(r io.Reader) Option {
	return func(s *Service) error {
		if r == nil {
			return errors.New("issuance: nil random source")
		}
		s.rand = r
		return nil
	}
}

// WithTransitionHooks adds hooks run inside every status-change transaction.
func WithTransitionHooks(h ...TransitionHook) Option {
	return func(s *Service) error {
		for _, x := range h {
			if x == nil {
				return errors.New("issuance: nil transition hook")
			}
		}
		s.hooks = append(s.hooks, h...)
		return nil
	}
}

// WithCardHooks adds hooks run inside the transaction of card events that
// end a card's use: today the expiry job's (ExpireCards, kind expired); the
// card closing (being built) is to run them too, with its own event kind.
// Insurance (issuance/insurance) ends a holder's cover through one.
func WithCardHooks(h ...CardHook) Option {
	return func(s *Service) error {
		for _, x := range h {
			if x == nil {
				return errors.New("issuance: nil card hook")
			}
		}
		s.cardHooks = append(s.cardHooks, h...)
		return nil
	}
}

// WithMinAge sets the minimum applicant age (default DefaultMinAge).
func WithMinAge(years int) Option {
	return func(s *Service) error {
		if years < 0 || years > 100 {
			return fmt.Errorf("issuance: min age %d out of range", years)
		}
		s.minAge = years
		return nil
	}
}

// WithTokenCache makes Authenticate remember resolved tokens for ttl, saving
// a database read per request. A token revoked through this Service is
// dropped at once; one revoked by another process keeps working here for up
// to ttl. Zero (the default) disables the cache.
func WithTokenCache(ttl time.Duration) Option {
	return func(s *Service) error {
		if ttl < 0 || ttl > 5*time.Minute {
			return fmt.Errorf("issuance: token cache ttl %s out of range (0–5m)", ttl)
		}
		s.tokenTTL = ttl
		return nil
	}
}

// WithLogger sets the logger (default slog.Default()). The Service never
// logs personal data.
func WithLogger(l *slog.Logger) Option {
	return func(s *Service) error {
		if l == nil {
			return errors.New("issuance: nil logger")
		}
		s.log = l
		return nil
	}
}

// NewService returns a Service over st, protecting personal data with keys.
func NewService(st Store, keys *pii.Keys, opts ...Option) (*Service, error) {
	if st == nil {
		return nil, errors.New("issuance: nil store")
	}
	if keys == nil {
		return nil, errors.New("issuance: nil pii keys")
	}
	s := &Service{
		store:   st,
		keys:    keys,
		clock:   ClockFunc(func() time.Time { return time.Now().UTC() }),
		numbers: RandomNumbers{Prefix: "GD"},
		rand:    rand.Reader,
		minAge:  DefaultMinAge,
		log:     slog.Default(),
	}
	for _, o := range opts {
		if err := o(s); err != nil {
			return nil, err
		}
	}
	return s, nil
}

// Now returns the Service clock's time.
func (s *Service) Now() time.Time { return s.clock.Now() }

// InTx runs fn in one storage transaction shared by the Service commands
// called with the ctx given to fn (they join it instead of opening their
// own). Later adapters use it to combine their writes with a command.
func (s *Service) InTx(ctx context.Context, fn func(ctx context.Context) error) error {
	return s.store.InTx(ctx, fn)
}

// MinAge returns the minimum applicant age in years (WithMinAge).
func (s *Service) MinAge() int { return s.minAge }

// BankConnected reports whether approved applications go on to the bank
// (WithBankOutbox): features that approve in bulk send them on too.
func (s *Service) BankConnected() bool { return s.outbox != nil }

// Seal encrypts a personal value for storage under purpose (a feature's
// own purposes, e.g. "roster.id_number"); Open reverses it.
func (s *Service) Seal(purpose, value string) ([]byte, error) { return s.keys.Seal(purpose, value) }

// Open decrypts what Seal sealed under the same purpose.
func (s *Service) Open(purpose string, sealed []byte) (string, error) {
	return s.keys.Open(purpose, sealed)
}
