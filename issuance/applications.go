package issuance

import (
	"context"
	"crypto/hmac"
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/volcard/volcard/pii"
)

// Limits of ListApplications.
const (
	DefaultPageSize = 50
	MaxPageSize     = 200
)

const numberAttempts = 4

// Product returns a product by code, unscoped and cached (products change
// only via PutProduct): for features that check an actor's right to the
// product themselves.
func (s *Service) Product(ctx context.Context, code string) (Product, error) {
	if p, ok := s.products.Load(code); ok {
		return p.(Product), nil
	}
	p, err := s.store.GetProduct(ctx, code)
	if err != nil {
		return Product{}, err
	}
	s.products.Store(code, p)
	return p, nil
}

// Apply creates a submitted application of a volunteer (inside the actor's
// scope) for a product, with its creation event, in one transaction. The
// volunteer must belong to the product's organisation subtree (the Meizhou
// card is for Meizhou volunteers) and be at least the minimum age. A second
// live application for the same volunteer and product is a *ConflictError
// ("live_application"). An empty channel is the actor's
// (Role.ApplicationChannel). Roles: province_admin, org_admin, bank_staff
// (own bank's products), platform.
func (s *Service) Apply(ctx context.Context, a Actor, volunteerID int64, productCode string, ch Channel) (Application, error) {
	if err := RequireRole(a, RoleProvinceAdmin, RoleOrgAdmin, RoleBankStaff, RolePlatform, RoleSystem); err != nil {
		return Application{}, err
	}
	if ch == "" {
		ch = a.Role.ApplicationChannel()
	}
	if !ch.ValidSource() {
		return Application{}, Invalid("channel", "must be platform, online, branch or on_site")
	}
	if volunteerID <= 0 {
		return Application{}, Invalid("volunteer_id", "required")
	}
	p, err := s.Product(ctx, strings.TrimSpace(productCode))
	if err != nil {
		if isNotFound(err) {
			return Application{}, Invalid("product", "no such product")
		}
		return Application{}, fmt.Errorf("apply: %w", err)
	}
	sc, err := s.Scope(ctx, a)
	if err != nil {
		return Application{}, err
	}
	if sc.BankCode != "" && sc.BankCode != p.BankCode {
		return Application{}, Invalid("product", "not a product of your bank")
	}
	sc.BankCode = ""
	now := s.clock.Now()
	var app Application
	for attempt := 1; ; attempt++ {
		number, err := s.numbers.ApplicationNumber(now)
		if err != nil {
			return Application{}, err
		}
		err = s.store.InTx(ctx, func(ctx context.Context) error {
			v, err := s.store.GetVolunteer(ctx, volunteerID, sc)
			if err != nil {
				if isNotFound(err) {
					return Invalid("volunteer_id", "no such volunteer")
				}
				return err
			}
			if p.OrgPath != "" && !strings.HasPrefix(v.OrgPath, p.OrgPath) {
				return Invalid("product", "product not offered in the volunteer's organisation")
			}
			if age := v.Age(now); age >= 0 && age < s.minAge {
				return Invalid("volunteer_id", fmt.Sprintf("applicant must be at least %d", s.minAge))
			}
			app = Application{
				Number: number, VolunteerID: v.ID, OrgID: v.OrgID, OrgPath: v.OrgPath,
				ProductCode: p.Code, BankCode: p.BankCode, Channel: ch, Status: StatusSubmitted,
				Version: 1, CreatedAt: now, UpdatedAt: now,
			}
			e := Event{To: StatusSubmitted, ActorTokenID: a.TokenID, ActorRole: a.Role, Channel: ch, At: now}
			if cw, ok := s.store.(ApplicationEventCreator); ok {
				if err := cw.CreateApplicationWithEvent(ctx, &app, &e); err != nil {
					return err
				}
			} else {
				if err := s.store.CreateApplication(ctx, &app); err != nil {
					return err
				}
				e.ApplicationID = app.ID
				if err := s.store.AppendEvent(ctx, &e); err != nil {
					return err
				}
			}
			return s.RunHooks(ctx, app, e)
		})
		var ce *ConflictError
		if err != nil && errors.As(err, &ce) && ce.What == "application_number" && attempt < numberAttempts {
			continue
		}
		if err != nil {
			return Application{}, fmt.Errorf("apply: %w", err)
		}
		return app, nil
	}
}

// RunHooks runs the transition hooks (WithTransitionHooks) for a's change
// recorded by e, inside the caller's transaction: features that write
// applications in bulk call it for each, as Apply and Transition do.
func (s *Service) RunHooks(ctx context.Context, a Application, e Event) error {
	for _, h := range s.hooks {
		if err := h.OnTransition(ctx, a, e); err != nil {
			return fmt.Errorf("transition hook: %w", err)
		}
	}
	return nil
}

// GetApplication returns an application inside the actor's scope, else
// ErrNotFound.
func (s *Service) GetApplication(ctx context.Context, a Actor, id int64) (Application, error) {
	sc, err := s.Scope(ctx, a)
	if err != nil {
		return Application{}, err
	}
	app, err := s.store.GetApplication(ctx, id, sc)
	if err != nil {
		return Application{}, fmt.Errorf("get application %d: %w", id, err)
	}
	return app, nil
}

// ListApplications returns the applications inside the actor's scope that
// match f, newest first, one page at a time: pass the returned NextCursor
// back in f.Cursor for the next page.
func (s *Service) ListApplications(ctx context.Context, a Actor, f ApplicationFilter) (ApplicationPage, error) {
	sc, err := s.Scope(ctx, a)
	if err != nil {
		return ApplicationPage{}, err
	}
	q := ApplicationQuery{Scope: sc, Status: f.Status, ProductCode: f.ProductCode, Channel: f.Channel, Limit: f.Limit}
	if q.Status != "" && !q.Status.Valid() {
		return ApplicationPage{}, Invalid("status", "unknown status")
	}
	if q.Channel != "" && !q.Channel.ValidSource() {
		return ApplicationPage{}, Invalid("channel", "unknown channel")
	}
	switch {
	case q.Limit < 0 || q.Limit > MaxPageSize:
		return ApplicationPage{}, Invalid("limit", fmt.Sprintf("must be 1–%d", MaxPageSize))
	case q.Limit == 0:
		q.Limit = DefaultPageSize
	}
	if f.Cursor != "" {
		if q.BeforeID, err = decodeCursor(f.Cursor); err != nil {
			return ApplicationPage{}, err
		}
	}
	if f.OrgID != 0 {
		o, err := s.store.GetOrg(ctx, f.OrgID, Scope{PathPrefix: sc.PathPrefix})
		if err != nil {
			return ApplicationPage{}, fmt.Errorf("list applications: org filter: %w", err)
		}
		q.OrgPath = o.Path
	}
	want := q.Limit
	q.Limit++
	items, err := s.store.ListApplications(ctx, q)
	if err != nil {
		return ApplicationPage{}, fmt.Errorf("list applications: %w", err)
	}
	page := ApplicationPage{Items: items}
	if len(items) > want {
		page.Items = items[:want]
		page.NextCursor = encodeCursor(page.Items[want-1].ID)
	}
	return page, nil
}

// Approve moves a submitted application to approved (staff review). Roles:
// province_admin, org_admin.
func (s *Service) Approve(ctx context.Context, a Actor, id int64) (Application, error) {
	return s.Transition(ctx, a, id, StatusApproved, "")
}

// Reject moves a submitted application to rejected with a reason (required).
// Roles: province_admin, org_admin.
func (s *Service) Reject(ctx context.Context, a Actor, id int64, reason string) (Application, error) {
	if strings.TrimSpace(reason) == "" {
		return Application{}, Invalid("reason", "required")
	}
	return s.Transition(ctx, a, id, StatusRejected, reason)
}

// Cancel cancels an application before it reaches the bank (from submitted
// or approved). Roles: province_admin, org_admin, bank_staff, platform.
func (s *Service) Cancel(ctx context.Context, a Actor, id int64, reason string) (Application, error) {
	return s.Transition(ctx, a, id, StatusCancelled, reason)
}

// transitionRoles says which roles may move an application into a status.
var transitionRoles = map[Status][]Role{
	StatusApproved:     {RoleProvinceAdmin, RoleOrgAdmin, RoleSystem},
	StatusRejected:     {RoleProvinceAdmin, RoleOrgAdmin, RoleSystem},
	StatusCancelled:    {RoleProvinceAdmin, RoleOrgAdmin, RoleBankStaff, RolePlatform, RoleSystem},
	StatusBankPending:  {RoleProvinceAdmin, RoleBankStaff, RoleSystem},
	StatusBankApproved: {RoleBankStaff, RoleSystem},
	StatusBankDeclined: {RoleBankStaff, RoleSystem},
	StatusPersonalized: {RoleBankStaff, RoleSystem},
	StatusIssued:       {RoleBankStaff, RoleSystem},
	StatusActivated:    {RoleBankStaff, RoleSystem},
}

// Transition moves an application inside the actor's scope to status to,
// writing the event (actor, role, channel, reason, time) and running the
// transition hooks in the same transaction. An illegal move is a
// *TransitionError (errors.Is ErrIllegalTransition); a concurrent change is
// ErrConflict. The bank gateway and personalization call it with
// SystemActor or a bank_staff actor.
func (s *Service) Transition(ctx context.Context, a Actor, id int64, to Status, reason string) (Application, error) {
	return s.transition(ctx, a, transitionRoles[to], id, to, reason, nil)
}

// transition is Transition for the given roles, with an extra check of the
// application inside the transaction, before it changes (nil: none).
func (s *Service) transition(ctx context.Context, a Actor, roles []Role, id int64, to Status, reason string,
	check func(ctx context.Context, app Application) error) (Application, error) {
	if !to.Valid() {
		return Application{}, Invalid("status", "unknown status")
	}
	if to == StatusSubmitted {
		return Application{}, &TransitionError{From: "", To: to}
	}
	if err := RequireRole(a, roles...); err != nil {
		return Application{}, err
	}
	reason = strings.TrimSpace(reason)
	if utf8.RuneCountInString(reason) > 500 || !utf8.ValidString(reason) {
		return Application{}, Invalid("reason", "at most 500 characters")
	}
	sc, err := s.Scope(ctx, a)
	if err != nil {
		return Application{}, err
	}
	now := s.clock.Now()
	var app Application
	err = s.store.InTx(ctx, func(ctx context.Context) error {
		var err error
		if app, err = s.store.GetApplication(ctx, id, sc); err != nil {
			return err
		}
		from := app.Status
		if err := CheckTransition(from, to); err != nil {
			return err
		}
		if systemOnly(from, to) && a.Role != RoleSystem {
			return &TransitionError{From: from, To: to}
		}
		if check != nil {
			if err := check(ctx, app); err != nil {
				return err
			}
		}
		app.Status, app.UpdatedAt = to, now
		if reason != "" {
			app.Reason = reason
		}
		if err := s.store.UpdateApplicationStatus(ctx, &app, from); err != nil {
			return err
		}
		e := Event{ApplicationID: app.ID, From: from, To: to, ActorTokenID: a.TokenID,
			ActorRole: a.Role, Channel: a.Role.Channel(), Reason: reason, At: now}
		if err := s.store.AppendEvent(ctx, &e); err != nil {
			return err
		}
		return s.RunHooks(ctx, app, e)
	})
	if err != nil {
		return Application{}, fmt.Errorf("application %d → %s: %w", id, to, err)
	}
	return app, nil
}

// Events returns the events of an application inside the actor's scope, in
// the order they happened.
func (s *Service) Events(ctx context.Context, a Actor, id int64) ([]Event, error) {
	if _, err := s.GetApplication(ctx, a, id); err != nil {
		return nil, err
	}
	ev, err := s.store.ListEvents(ctx, id)
	if err != nil {
		return nil, fmt.Errorf("events of application %d: %w", id, err)
	}
	return ev, nil
}

// Progress is the public lookup: given an application number and the
// applicant's ID number it returns the masked name, status and steps. Any
// mismatch (unknown number, wrong ID number, malformed input) is the same
// ErrNotFound, so the lookup cannot be used as an oracle. The caller must
// rate-limit it.
func (s *Service) Progress(ctx context.Context, applicationNumber, idNumber string) (Progress, error) {
	app, v, err := s.holderApplication(ctx, applicationNumber, idNumber)
	if err != nil {
		return Progress{}, fmt.Errorf("progress: %w", err)
	}
	events, err := s.store.ListEvents(ctx, app.ID)
	if err != nil {
		return Progress{}, fmt.Errorf("progress: %w", err)
	}
	p := Progress{
		ApplicationNumber: app.Number, MaskedName: pii.MaskName(v.Name), ProductCode: app.ProductCode,
		Status: app.Status, UpdatedAt: app.UpdatedAt,
	}
	reached := map[Status]Event{}
	for _, e := range events {
		reached[e.To] = e
	}
	for _, st := range ProgressSteps {
		e, ok := reached[st]
		p.Steps = append(p.Steps, ProgressStep{Status: st, Done: ok, At: e.At})
	}
	if !app.Status.Final() {
		for _, st := range ProgressSteps {
			if _, ok := reached[st]; !ok {
				p.Next = st
				break
			}
		}
	}
	return p, nil
}

// holderApplication finds an application by its number and checks the ID
// number of its volunteer against the keyed index: the proof a holder gives
// on the public routes (progress lookup, loss report). An unknown number and
// a wrong ID number are the same ErrNotFound.
func (s *Service) holderApplication(ctx context.Context, applicationNumber, idNumber string) (Application, Volunteer, error) {
	number := strings.ToUpper(strings.TrimSpace(applicationNumber))
	num := NormalizeIDNumber(idNumber)
	if number == "" || len(number) > 40 || num == "" || len(num) > 40 {
		return Application{}, Volunteer{}, ErrNotFound
	}
	app, err := s.store.GetApplicationByNumber(ctx, number)
	if isNotFound(err) {
		return Application{}, Volunteer{}, ErrNotFound
	} else if err != nil {
		return Application{}, Volunteer{}, err
	}
	v, err := s.store.GetVolunteer(ctx, app.VolunteerID, Scope{})
	if isNotFound(err) {
		return Application{}, Volunteer{}, ErrNotFound
	} else if err != nil {
		return Application{}, Volunteer{}, err
	}
	if !hmac.Equal(v.IDNumberIndex, s.IDIndex(num)) {
		return Application{}, Volunteer{}, ErrNotFound
	}
	return app, v, nil
}
