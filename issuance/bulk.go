package issuance

import (
	"fmt"
	"time"
)

// PrepareVolunteer validates in and seals its personal data exactly as
// RegisterVolunteer does, without storing it: bulk loaders (volcard seed
// --volunteers) fill OrgPath, ID and CreatedAt themselves and insert many
// rows at once. createdAt is the registration time to record.
func (s *Service) PrepareVolunteer(in NewVolunteer, createdAt time.Time) (Volunteer, error) {
	v, err := s.validateVolunteer(in, createdAt)
	if err != nil {
		return Volunteer{}, err
	}
	if err := s.sealVolunteer(&v); err != nil {
		return Volunteer{}, fmt.Errorf("prepare volunteer: %w", err)
	}
	return v, nil
}
