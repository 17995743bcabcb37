package issuance

import (
	"context"
	"fmt"
)

// SealedIdempotency wraps an IdempotencyStore so that the stored response
// bodies are encrypted at rest: a replayed response may carry a volunteer's
// full ID number and phone (to bank staff or the platform), and those are
// never kept in clear. Bodies are sealed with AES-GCM under a key derived
// from the data key, bound to the key's scope and value, and opened again
// when Claim returns them.
func (s *Service) SealedIdempotency(inner IdempotencyStore) IdempotencyStore {
	if inner == nil {
		return nil
	}
	return sealedIdempotency{inner: inner, svc: s}
}

type sealedIdempotency struct {
	inner IdempotencyStore
	svc   *Service
}

func idempotencyPurpose(scope, key string) string {
	return "idempotency.response/" + scope + "/" + key
}

// Claim implements IdempotencyStore.
func (si sealedIdempotency) Claim(ctx context.Context, c IdempotencyClaim) (*StoredResponse, error) {
	stored, err := si.inner.Claim(ctx, c)
	if err != nil || stored == nil || len(stored.Body) == 0 {
		return stored, err
	}
	body, err := si.svc.keys.Open(idempotencyPurpose(c.Scope, c.Key), stored.Body)
	if err != nil {
		return nil, fmt.Errorf("stored idempotent response: %w", err)
	}
	out := *stored
	out.Body = []byte(body)
	return &out, nil
}

// Complete implements IdempotencyStore.
func (si sealedIdempotency) Complete(ctx context.Context, scope, key string, resp StoredResponse) error {
	if len(resp.Body) > 0 {
		sealed, err := si.svc.keys.Seal(idempotencyPurpose(scope, key), string(resp.Body))
		if err != nil {
			return fmt.Errorf("seal idempotent response: %w", err)
		}
		resp.Body = sealed
	}
	return si.inner.Complete(ctx, scope, key, resp)
}

// Release implements IdempotencyStore.
func (si sealedIdempotency) Release(ctx context.Context, scope, key string) error {
	return si.inner.Release(ctx, scope, key)
}
