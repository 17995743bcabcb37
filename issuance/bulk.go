package issuance

import (
	"context"
	"fmt"
	"time"
)

// PrepareVolunteer validates in and seals its personal data exactly as
// RegisterVolunteer does, without storing it: bulk loaders (volcard seed
// --volunteers) fill OrgPath, ID and CreatedAt themselves and insert many
// rows at once. createdAt is the registration time to record.
func (s *Service) PrepareVolunteer(in NewVolunteer, createdAt time.Time) (Volunteer, error) {
	v, err := s.ValidateVolunteer(in, createdAt)
	if err != nil {
		return Volunteer{}, err
	}
	if err := s.SealVolunteer(&v); err != nil {
		return Volunteer{}, fmt.Errorf("prepare volunteer: %w", err)
	}
	return v, nil
}

// BulkRepo inserts many rows at once and sets their IDs (one statement per
// batch where the database allows).
type BulkRepo interface {
	CreateVolunteers(ctx context.Context, vs []*Volunteer) error
	CreateApplications(ctx context.Context, as []*Application) error
	AppendEvents(ctx context.Context, es []*Event) error
}

// BulkApply creates one submitted application of product p for each of
// vols (already registered, checked by the caller: scope, age, no live
// application), with its first event carrying reason, at now, inside the
// caller's transaction; the transition hooks run for each as for Apply.
// It is the bulk form of Apply for features such as on-site sessions; the
// applications come back in the order of vols, with their IDs.
func (s *Service) BulkApply(ctx context.Context, a Actor, p Product, ch Channel, vols []Volunteer, reason string, now time.Time) ([]*Application, error) {
	if len(vols) == 0 {
		return nil, nil
	}
	apps := make([]*Application, len(vols))
	for i, v := range vols {
		number, err := s.numbers.ApplicationNumber(now)
		if err != nil {
			return nil, err
		}
		apps[i] = &Application{Number: number, VolunteerID: v.ID, OrgID: v.OrgID, OrgPath: v.OrgPath,
			ProductCode: p.Code, BankCode: p.BankCode, Channel: ch, Status: StatusSubmitted,
			Version: 1, CreatedAt: now, UpdatedAt: now}
	}
	if err := s.store.CreateApplications(ctx, apps); err != nil {
		return nil, err
	}
	events := make([]*Event, len(apps))
	for k, app := range apps {
		events[k] = &Event{ApplicationID: app.ID, To: StatusSubmitted, ActorTokenID: a.TokenID,
			ActorRole: a.Role, Channel: ch, Reason: reason, At: now}
	}
	if err := s.store.AppendEvents(ctx, events); err != nil {
		return nil, err
	}
	for k, app := range apps {
		if err := s.RunHooks(ctx, *app, *events[k]); err != nil {
			return nil, err
		}
	}
	return apps, nil
}
