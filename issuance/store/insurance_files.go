package store

import (
	"context"
	"fmt"
	"time"

	"github.com/volcard/volcard/issuance/insurance"
)

// ClaimInsuranceFile implements insurance.FileLog: it inserts day's row
// for owner, or takes over a claim older than stale that was never
// finished; it reports whether owner now holds the claim.
func (s *Store) ClaimInsuranceFile(ctx context.Context, day, owner string, now time.Time, stale time.Duration) (bool, error) {
	db := s.DB(ctx)
	res := db.Exec(`INSERT INTO insurance_files (day, owner, claimed_at_ms) VALUES (?, ?, ?) ON CONFLICT (day) DO NOTHING`,
		day, owner, now.UnixMilli())
	if res.Error != nil {
		return false, fmt.Errorf("claim insurance file %s: %w", day, mapErr(res.Error))
	}
	if res.RowsAffected == 1 {
		return true, nil
	}
	res = db.Exec(`UPDATE insurance_files SET owner = ?, claimed_at_ms = ?
		WHERE day = ? AND written_at_ms = 0 AND claimed_at_ms < ?`, owner, now.UnixMilli(), day, now.Add(-stale).UnixMilli())
	if res.Error != nil {
		return false, fmt.Errorf("claim insurance file %s: %w", day, mapErr(res.Error))
	}
	return res.RowsAffected == 1, nil
}

// FinishInsuranceFile implements insurance.FileLog.
func (s *Store) FinishInsuranceFile(ctx context.Context, day, owner string, adds, terms int, at time.Time) error {
	res := s.DB(ctx).Exec(`UPDATE insurance_files SET written_at_ms = ?, additions = ?, terminations = ?
		WHERE day = ? AND owner = ?`, at.UnixMilli(), adds, terms, day, owner)
	if res.Error != nil {
		return fmt.Errorf("finish insurance file %s: %w", day, mapErr(res.Error))
	}
	if res.RowsAffected == 0 {
		return fmt.Errorf("finish insurance file %s: the claim was taken over", day)
	}
	return nil
}

var _ insurance.FileLog = (*Store)(nil)
