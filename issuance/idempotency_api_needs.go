package issuance

// This file holds the idempotency-key port that the HTTP API consumes and
// issuance/store implements (store/idempotency.go). It lives in issuance so
// that api does not import the storage adapter (cmd → api → issuance ←
// store). Owned by the API helper.

import (
	"context"
	"errors"
	"time"
)

// Idempotency-key errors.
var (
	// ErrIdempotencyKeyMismatch means an Idempotency-Key was reused with a
	// different request body.
	ErrIdempotencyKeyMismatch = errors.New("idempotency key reused with a different request")
	// ErrIdempotencyKeyInFlight means another request holding the same
	// Idempotency-Key has not finished yet.
	ErrIdempotencyKeyInFlight = errors.New("idempotency key in use by a request in flight")
)

// IdempotencyClaim identifies one use of an Idempotency-Key.
type IdempotencyClaim struct {
	// Scope separates callers: the same key from two tokens are two keys.
	Scope string
	// Key is the client's Idempotency-Key header value.
	Key string
	// RequestHash fingerprints method, route and body; a key reused with
	// another fingerprint is refused with ErrIdempotencyKeyMismatch.
	RequestHash string
	// TTL is how long the completed key is kept (Stripe keeps 24 h).
	TTL time.Duration
	// LockTTL is how long a claim may stay in flight before another request
	// may take it over (a crashed process never completes its claim).
	LockTTL time.Duration
}

// StoredResponse is the first response given for an Idempotency-Key,
// replayed to retries.
type StoredResponse struct {
	// Status is the HTTP status code.
	Status int
	// ContentType is the Content-Type header of the response.
	ContentType string
	// Location is the Location header of the response (created resources).
	Location string
	// Body is the response body.
	Body []byte
}

// IdempotencyStore keeps Idempotency-Keys durably so that several server
// processes sharing a database agree on them.
type IdempotencyStore interface {
	// Claim reserves the key for a new request and returns (nil, nil), or
	// returns the stored first response when the key has completed before.
	// It fails with ErrIdempotencyKeyMismatch or ErrIdempotencyKeyInFlight.
	Claim(ctx context.Context, c IdempotencyClaim) (*StoredResponse, error)
	// Complete stores the response for a claimed key.
	Complete(ctx context.Context, scope, key string, resp StoredResponse) error
	// Release drops a claim whose request failed without a result worth
	// keeping (a server error), so that the client may retry.
	Release(ctx context.Context, scope, key string) error
}
