package store

// Idempotency-Key storage for the HTTP API (owned by the API helper). The
// table is created by migrations 00010_idempotency.sql.

import (
	"context"
	"errors"
	"fmt"
	"time"

	"gorm.io/gorm"

	"github.com/volcard/volcard/issuance"
)

var _ issuance.IdempotencyStore = (*IdempotencyKeys)(nil)

// claimAttempts bounds the claim loop when rows change under it.
const claimAttempts = 4

// IdempotencyKeys implements issuance.IdempotencyStore on the
// idempotency_keys table. Several processes sharing one database agree on
// keys: the claim is a single INSERT … ON CONFLICT DO NOTHING, and take-overs
// of expired or abandoned claims are compare-and-set UPDATEs.
type IdempotencyKeys struct {
	st    *Store
	now   func() time.Time
	owner string // the cluster member whose claims these are ("" outside serve)
}

// OwnedBy makes k's claims those of cluster member id (serve's
// Member.ID()): on PostgreSQL a claim still in flight when its member's
// connection ends (the process died) is taken over at once by a retry,
// instead of after its lock (one minute).
func (s *IdempotencyKeys) OwnedBy(id string) *IdempotencyKeys {
	k := *s
	k.owner = id
	return &k
}

// NewIdempotencyKeys returns the idempotency-key store on st. now may be nil
// (time.Now). Calls made with a ctx inside Store.InTx join that transaction.
func NewIdempotencyKeys(st *Store, now func() time.Time) (*IdempotencyKeys, error) {
	if st == nil {
		return nil, errors.New("idempotency keys: nil store")
	}
	if now == nil {
		now = time.Now
	}
	return &IdempotencyKeys{st: st, now: now}, nil
}

func (s *IdempotencyKeys) db(ctx context.Context) *gorm.DB { return s.st.DB(ctx) }

type idempotencyRow struct {
	RequestHash   string
	StatusCode    int
	ContentType   string
	Location      string
	ResponseBody  []byte
	LockedUntilMs int64
	ExpiresAtMs   int64
	Owner         string
}

// Claim implements issuance.IdempotencyStore.
func (s *IdempotencyKeys) Claim(ctx context.Context, c issuance.IdempotencyClaim) (*issuance.StoredResponse, error) {
	if c.Scope == "" || c.Key == "" || c.RequestHash == "" || c.TTL <= 0 || c.LockTTL <= 0 {
		return nil, errors.New("claim idempotency key: incomplete claim")
	}
	db := s.db(ctx)
	for range claimAttempts {
		now := s.now().UnixMilli()
		lock := now + c.LockTTL.Milliseconds()
		exp := now + c.TTL.Milliseconds()
		res := db.Exec(`INSERT INTO idempotency_keys
			(scope, idem_key, request_hash, status_code, content_type, locked_until_ms, created_at_ms, expires_at_ms, owner)
			VALUES (?, ?, ?, 0, '', ?, ?, ?, ?) ON CONFLICT (scope, idem_key) DO NOTHING`,
			c.Scope, c.Key, c.RequestHash, lock, now, exp, s.owner)
		if res.Error != nil {
			return nil, fmt.Errorf("claim idempotency key: insert: %w", res.Error)
		}
		if res.RowsAffected == 1 {
			return nil, nil
		}

		var rows []idempotencyRow
		err := db.Raw(`SELECT request_hash, status_code, content_type, location, response_body, locked_until_ms, expires_at_ms, owner
			FROM idempotency_keys WHERE scope = ? AND idem_key = ?`, c.Scope, c.Key).Scan(&rows).Error
		if err != nil {
			return nil, fmt.Errorf("claim idempotency key: read: %w", err)
		}
		if len(rows) == 0 {
			continue // released or swept meanwhile: insert again
		}
		r := rows[0]
		switch {
		case r.ExpiresAtMs <= now:
			// Expired: the key is free again, whatever the body.
			ok, err := s.takeOver(ctx, c, lock, now, exp, "expires_at_ms = ?", r.ExpiresAtMs)
			if err != nil {
				return nil, err
			}
			if ok {
				return nil, nil
			}
			continue
		case r.RequestHash != c.RequestHash:
			return nil, issuance.ErrIdempotencyKeyMismatch
		case r.StatusCode == 0 && r.LockedUntilMs > now:
			gone, err := s.st.memberGone(ctx, r.Owner)
			if err != nil {
				return nil, fmt.Errorf("claim idempotency key: %w", err)
			}
			if !gone {
				return nil, issuance.ErrIdempotencyKeyInFlight
			}
			// Its process died mid-request: take it over now.
			ok, err := s.takeOver(ctx, c, lock, now, exp, "status_code = 0 AND owner = ?", r.Owner)
			if err != nil {
				return nil, err
			}
			if ok {
				return nil, nil
			}
			continue
		case r.StatusCode == 0:
			// Abandoned claim (its process died): take it over.
			ok, err := s.takeOver(ctx, c, lock, now, exp, "status_code = 0 AND locked_until_ms = ?", r.LockedUntilMs)
			if err != nil {
				return nil, err
			}
			if ok {
				return nil, nil
			}
			continue
		default:
			return &issuance.StoredResponse{Status: r.StatusCode, ContentType: r.ContentType, Location: r.Location, Body: r.ResponseBody}, nil
		}
	}
	return nil, issuance.ErrIdempotencyKeyInFlight
}

func (s *IdempotencyKeys) takeOver(ctx context.Context, c issuance.IdempotencyClaim, lock, now, exp int64, cond string, arg any) (bool, error) {
	res := s.db(ctx).Exec(`UPDATE idempotency_keys
		SET request_hash = ?, status_code = 0, content_type = '', location = '', response_body = NULL,
		    locked_until_ms = ?, created_at_ms = ?, expires_at_ms = ?, owner = ?
		WHERE scope = ? AND idem_key = ? AND `+cond,
		c.RequestHash, lock, now, exp, s.owner, c.Scope, c.Key, arg)
	if res.Error != nil {
		return false, fmt.Errorf("claim idempotency key: take over: %w", res.Error)
	}
	return res.RowsAffected == 1, nil
}

// Complete implements issuance.IdempotencyStore.
func (s *IdempotencyKeys) Complete(ctx context.Context, scope, key string, resp issuance.StoredResponse) error {
	if resp.Status <= 0 {
		return errors.New("complete idempotency key: no status")
	}
	err := s.db(ctx).Exec(`UPDATE idempotency_keys
		SET status_code = ?, content_type = ?, location = ?, response_body = ?, locked_until_ms = 0
		WHERE scope = ? AND idem_key = ?`,
		resp.Status, resp.ContentType, resp.Location, resp.Body, scope, key).Error
	if err != nil {
		return fmt.Errorf("complete idempotency key: %w", err)
	}
	return nil
}

// Release implements issuance.IdempotencyStore.
func (s *IdempotencyKeys) Release(ctx context.Context, scope, key string) error {
	err := s.db(ctx).Exec(`DELETE FROM idempotency_keys
		WHERE scope = ? AND idem_key = ? AND status_code = 0`, scope, key).Error
	if err != nil {
		return fmt.Errorf("release idempotency key: %w", err)
	}
	return nil
}

// DeleteExpired removes keys whose time to live has passed and returns how
// many it removed. serve calls it periodically.
func (s *IdempotencyKeys) DeleteExpired(ctx context.Context) (int64, error) {
	res := s.db(ctx).Exec(`DELETE FROM idempotency_keys WHERE expires_at_ms <= ?`, s.now().UnixMilli())
	if res.Error != nil {
		return 0, fmt.Errorf("delete expired idempotency keys: %w", res.Error)
	}
	return res.RowsAffected, nil
}
