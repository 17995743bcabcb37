package store

import (
	"context"
	"fmt"
	"time"
)

// maxSTAN is the highest STAN (field 11 is n 6; 000000 is never used).
const maxSTAN = 999999

// STAN allocates STANs (field 11) from a counter row per sender per UTC
// day, incremented atomically with INSERT … ON CONFLICT DO UPDATE …
// RETURNING on both dialects. The increment commits before the STAN is
// used, outside any caller transaction, so a STAN is never handed out twice
// within a day — across restarts and across processes sharing the
// database. It implements bankgw.STANAllocator.
type STAN struct {
	s      *Store
	sender string
}

// STAN returns the allocator for a sender (our terminal id, field 41).
func (s *Store) STAN(sender string) (*STAN, error) {
	if sender == "" || len(sender) > 64 {
		return nil, fmt.Errorf("STAN sender %q: must be 1–64 characters", sender)
	}
	return &STAN{s: s, sender: sender}, nil
}

// Next returns the next STAN ("000001"–"999999") of the UTC day of at.
func (a *STAN) Next(ctx context.Context, at time.Time) (string, error) {
	day := at.UTC().Format("20060102")
	var last int64
	// s.db, not s.DB(ctx): never join a caller's transaction, whose
	// rollback would give the STAN out again.
	err := a.s.db.WithContext(ctx).Raw(
		`INSERT INTO bank_stan (sender, day, last) VALUES (?, ?, 1)
		 ON CONFLICT (sender, day) DO UPDATE SET last = bank_stan.last + 1
		 RETURNING last`, a.sender, day).Row().Scan(&last)
	if err != nil {
		return "", fmt.Errorf("allocate STAN: %w", mapErr(err))
	}
	if last > maxSTAN {
		return "", ErrSTANExhausted
	}
	return fmt.Sprintf("%06d", last), nil
}

// PruneSTANs deletes the counters of days before the UTC day of before
// (they can never be used again) and returns how many it deleted.
func (s *Store) PruneSTANs(ctx context.Context, before time.Time) (int64, error) {
	res := s.db.WithContext(ctx).Exec(`DELETE FROM bank_stan WHERE day < ?`, before.UTC().Format("20060102"))
	if res.Error != nil {
		return 0, fmt.Errorf("prune STANs: %w", mapErr(res.Error))
	}
	return res.RowsAffected, nil
}
