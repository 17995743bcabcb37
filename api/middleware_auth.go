package api

import (
	"context"
	"crypto/sha256"
	"errors"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/volcard/volcard/issuance"
)

// Authenticator resolves a bearer token to an Actor. *issuance.Service
// implements it.
type Authenticator interface {
	Authenticate(ctx context.Context, token string) (issuance.Actor, error)
}

// maxTokenLen bounds the bearer token accepted from the header.
const maxTokenLen = 512

// authCache remembers successful authentications for a short TTL so that
// the hot path does not query the token table on every request. Revocation
// takes effect within the TTL. Failed authentications are not cached.
type authCache struct {
	ttl  time.Duration
	max  int
	now  func() time.Time
	mu   sync.RWMutex
	byID map[[sha256.Size]byte]authEntry
}

type authEntry struct {
	actor   issuance.Actor
	expires time.Time
}

func newAuthCache(ttl time.Duration, now func() time.Time) *authCache {
	return &authCache{ttl: ttl, max: 10_000, now: now, byID: make(map[[sha256.Size]byte]authEntry)}
}

func (c *authCache) get(k [sha256.Size]byte) (issuance.Actor, bool) {
	if c.ttl <= 0 {
		return issuance.Actor{}, false
	}
	c.mu.RLock()
	e, ok := c.byID[k]
	c.mu.RUnlock()
	if !ok || !c.now().Before(e.expires) {
		return issuance.Actor{}, false
	}
	return e.actor, true
}

// forget drops the cached actor of token id, so that a revocation or a
// new expiry made through this process applies to it at once (other
// processes notice within the TTL).
func (c *authCache) forget(id int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for k, e := range c.byID {
		if e.actor.TokenID == id {
			delete(c.byID, k)
		}
	}
}

func (c *authCache) put(k [sha256.Size]byte, a issuance.Actor) {
	if c.ttl <= 0 {
		return
	}
	now := c.now()
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.byID) >= c.max {
		for id, e := range c.byID {
			if !now.Before(e.expires) {
				delete(c.byID, id)
			}
		}
		if len(c.byID) >= c.max {
			clear(c.byID)
		}
	}
	exp := now.Add(c.ttl)
	if !a.Expires.IsZero() && a.Expires.Before(exp) {
		exp = a.Expires // an expiring token is kept no longer than it lives
	}
	c.byID[k] = authEntry{actor: a, expires: exp}
}

// authenticate requires "Authorization: Bearer <token>" and stores the
// resolved Actor in the context. Missing or bad tokens are 401.
func (s *Server) authenticate() echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			token, ok := bearerToken(c.Request().Header.Get(echo.HeaderAuthorization))
			if !ok {
				return newError(KindUnauthorized, "send Authorization: Bearer <token>")
			}
			k := sha256.Sum256([]byte(token))
			actor, hit := s.auth.get(k)
			if !hit {
				a, err := s.opts.Authenticator.Authenticate(c.Request().Context(), token)
				if err != nil {
					if errors.Is(err, issuance.ErrUnauthenticated) || errors.Is(err, issuance.ErrNotFound) {
						return newError(KindUnauthorized, "the bearer token is unknown or revoked")
					}
					return err
				}
				actor = a
				s.auth.put(k, actor)
			}
			c.Set(ctxActor, actor)
			return next(c)
		}
	}
}

func bearerToken(h string) (string, bool) {
	scheme, tok, ok := strings.Cut(h, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return "", false
	}
	tok = strings.TrimSpace(tok)
	if tok == "" || len(tok) > maxTokenLen {
		return "", false
	}
	return tok, true
}

// actorFrom returns the authenticated actor of the request.
func actorFrom(c echo.Context) (issuance.Actor, bool) {
	a, ok := c.Get(ctxActor).(issuance.Actor)
	return a, ok
}

// tokenScope is the idempotency scope of an actor: its token id.
func tokenScope(a issuance.Actor) string { return "token:" + strconv.FormatInt(a.TokenID, 10) }

// allow refuses with 403 actors whose role is not listed. It runs after
// authenticate; the Service then applies row scoping (404 outside scope).
func allow(roles ...issuance.Role) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			a, ok := actorFrom(c)
			if !ok {
				return newError(KindUnauthorized, "authentication required")
			}
			if !slices.Contains(roles, a.Role) {
				return newError(KindForbidden, "role %s may not use this route", a.Role)
			}
			return next(c)
		}
	}
}
