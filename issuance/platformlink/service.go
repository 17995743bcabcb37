package platformlink

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/volcard/volcard/issuance"
)

// Service runs the platform link's commands for actors: the operators'
// list and retry of registration requests, setting a platform number
// later, and the bulk import.
type Service struct {
	svc  *issuance.Service
	st   Store
	orgs sync.Map // org id → path (orgPath)
}

// New returns the Service over svc and st (the same storage).
func New(svc *issuance.Service, st Store) (*Service, error) {
	if svc == nil || st == nil {
		return nil, errors.New("platformlink: nil service or store")
	}
	return &Service{svc: svc, st: st}, nil
}

// List returns registration requests, newest first. Roles:
// province_admin, system.
func (s *Service) List(ctx context.Context, a issuance.Actor, f Filter) ([]Request, error) {
	if err := issuance.RequireRole(a, issuance.RoleProvinceAdmin, issuance.RoleSystem); err != nil {
		return nil, err
	}
	if f.Limit <= 0 || f.Limit > 1000 {
		f.Limit = 100
	}
	return s.st.ListPlatformRequests(ctx, f)
}

// Retry makes a failed registration request due again now, keeping a note
// of who asked. Roles: province_admin, system.
func (s *Service) Retry(ctx context.Context, a issuance.Actor, id int64, reason string) (Request, error) {
	if err := issuance.RequireRole(a, issuance.RoleProvinceAdmin, issuance.RoleSystem); err != nil {
		return Request{}, err
	}
	reason = strings.TrimSpace(reason)
	if len([]rune(reason)) > 200 {
		return Request{}, issuance.Invalid("reason", "at most 200 characters")
	}
	note := fmt.Sprintf("retried by %s token %d", a.Role, a.TokenID)
	if reason != "" {
		note += ": " + reason
	}
	r, err := s.st.RetryPlatformRequest(ctx, id, note, s.svc.Now())
	if err != nil {
		return Request{}, fmt.Errorf("retry platform request %d: %w", id, err)
	}
	return r, nil
}

// SetNumber sets (or corrects) a volunteer's platform number by hand, for
// a volunteer registered on the platform outside volcard's requests. The
// number must be free (a number another volunteer holds is a
// *issuance.ConflictError, What "platform_number"); the change is audited
// with the actor and reason, and a registration request still open for
// the volunteer is closed as done. Roles: province_admin, org_admin
// (volunteer in scope).
func (s *Service) SetNumber(ctx context.Context, a issuance.Actor, volunteerID int64, number, reason string) (issuance.Volunteer, error) {
	if err := issuance.RequireRole(a, issuance.RoleProvinceAdmin, issuance.RoleOrgAdmin); err != nil {
		return issuance.Volunteer{}, err
	}
	number = strings.TrimSpace(number)
	if !issuance.ValidPlatformNumber(number) {
		return issuance.Volunteer{}, issuance.Invalid("volunteer_number", "must be 1–32 letters, digits or '-'")
	}
	reason = strings.TrimSpace(reason)
	if reason == "" || len([]rune(reason)) > 200 {
		return issuance.Volunteer{}, issuance.Invalid("reason", "required, at most 200 characters")
	}
	var out issuance.Volunteer
	err := s.st.InTx(ctx, func(ctx context.Context) error {
		v, err := s.svc.GetVolunteer(ctx, a, volunteerID)
		if err != nil {
			return err
		}
		if v.VolunteerNumber == number {
			out = v
			return nil
		}
		if err := s.st.SetPlatformNumber(ctx, NumberChange{VolunteerID: v.ID, From: v.VolunteerNumber, To: number,
			Source: NumberFromStaff, ActorTokenID: a.TokenID, ActorRole: a.Role, Reason: reason,
			At: s.svc.Now().UTC()}); err != nil {
			return err
		}
		// SetPlatformNumber wrote volunteer.updated to the feed.
		v.VolunteerNumber = number
		out = v
		return nil
	})
	if err != nil {
		return issuance.Volunteer{}, fmt.Errorf("set platform number of volunteer %d: %w", volunteerID, err)
	}
	return out, nil
}

// now is the clock of the worker's schedule; tests replace it.
var now = time.Now
