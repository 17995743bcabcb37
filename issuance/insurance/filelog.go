package insurance

import (
	"context"
	"io"
	"strconv"
	"time"

	"github.com/volcard/volcard/issuance"
)

// FileLog records which daily files serve's job has written, in the
// database all serve processes share.
type FileLog interface {
	// ClaimInsuranceFile claims day's file for owner unless it was
	// written or is claimed by another owner since less than stale.
	ClaimInsuranceFile(ctx context.Context, day, owner string, now time.Time, stale time.Duration) (bool, error)
	// FinishInsuranceFile records owner's file of day written.
	FinishInsuranceFile(ctx context.Context, day, owner string, adds, terms int, at time.Time) error
}

// StaleFileClaim is how long a claimed file that was never recorded
// written holds off other processes.
const StaleFileClaim = 10 * time.Minute

// ClaimFile claims the writing of day's file for owner (a serve process):
// false when it was written already or another process is writing it.
// Role: system.
func (s *Service) ClaimFile(ctx context.Context, a issuance.Actor, day, owner string) (bool, error) {
	if err := issuance.RequireRole(a, issuance.RoleSystem); err != nil {
		return false, err
	}
	return s.st.ClaimInsuranceFile(ctx, day, owner, s.now(), StaleFileClaim)
}

// FileWritten records owner's file of day written, with its counts.
// Role: system.
func (s *Service) FileWritten(ctx context.Context, a issuance.Actor, day, owner string, adds, terms int) error {
	if err := issuance.RequireRole(a, issuance.RoleSystem); err != nil {
		return err
	}
	return s.st.FinishInsuranceFile(ctx, day, owner, adds, terms, s.now())
}

// Download writes day's file for a (DailyFile) and audits it: who, which
// day, how many records (insurance.file_downloaded). Roles:
// province_admin, system.
func (s *Service) Download(ctx context.Context, a issuance.Actor, day string, w io.Writer) (adds, terms int, err error) {
	adds, terms, err = s.DailyFile(ctx, a, day, w)
	if err != nil {
		return 0, 0, err
	}
	detail := "records: " + strconv.Itoa(adds+terms) + " (additions " + strconv.Itoa(adds) + ", terminations " + strconv.Itoa(terms) + ")"
	if err := s.svc.Audit(ctx, a, issuance.AuditInsuranceFileDownloaded, "insurance_file", day, "", detail); err != nil {
		return 0, 0, err
	}
	return adds, terms, nil
}
