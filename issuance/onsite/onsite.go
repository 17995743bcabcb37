package onsite

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/volcard/volcard/issuance"
)

// errNoBranchReason explains the *ValidationError (field "product") of a
// request whose product's bank has no branch in the organisation's city:
// nobody can be sent on site.
const errNoBranchReason = "no branch of this product's bank serves the organisation's city; apply at a bank branch or online"

// Service runs on-site enrollment sessions over the core issuance.Service
// and the on-site storage. Build it with New; it is safe for concurrent use.
type Service struct {
	svc *issuance.Service
	st  Store
}

// New returns the on-site service over svc and st (issuance/store
// implements Store).
func New(svc *issuance.Service, st Store) (*Service, error) {
	if svc == nil || st == nil {
		return nil, errors.New("onsite: nil service or store")
	}
	return &Service{svc: svc, st: st}, nil
}

// sessionCursorPrefix marks session list cursors (issuance.EncodeIDCursor).
const sessionCursorPrefix = "s1:"

// isNotFound reports whether err is the core's not-found.
func isNotFound(err error) bool { return errors.Is(err, issuance.ErrNotFound) }

// SessionTransitionError reports a refused on-site session status change.
type SessionTransitionError struct {
	From SessionStatus
	To   SessionStatus
}

// Error implements error.
func (e *SessionTransitionError) Error() string {
	return fmt.Sprintf("illegal on-site session transition %s → %s", e.From, e.To)
}

// Unwrap makes errors.Is(err, ErrIllegalTransition) true.
func (e *SessionTransitionError) Unwrap() error { return issuance.ErrIllegalTransition }

// cityOf returns the city an organisation belongs to: itself when a city,
// else the nearest city on its path.
func (s *Service) cityOf(ctx context.Context, o issuance.Org) (issuance.Org, error) {
	if o.Kind == issuance.OrgCity {
		return o, nil
	}
	ids := strings.Split(strings.Trim(o.Path, "/"), "/")
	for i := len(ids) - 1; i >= 0; i-- {
		id, err := strconv.ParseInt(ids[i], 10, 64)
		if err != nil {
			continue
		}
		anc, err := s.st.GetOrg(ctx, id, issuance.Scope{})
		if err != nil {
			return issuance.Org{}, err
		}
		if anc.Kind == issuance.OrgCity {
			return anc, nil
		}
	}
	return issuance.Org{}, issuance.Invalid("org_id", "the organisation belongs to no city")
}

// Request records an organisation's request for on-site
// enrollment (site, date, expected head count, product) and assigns it to
// the branch of the product's bank in the organisation's city. Fewer than
// MinOnsiteHeadCount people are refused with a *ValidationError pointing to
// branch or online application. Roles: province_admin, org_admin (its
// subtree).
func (s *Service) Request(ctx context.Context, a issuance.Actor, in NewSession) (Session, error) {
	if err := issuance.RequireRole(a, issuance.RoleProvinceAdmin, issuance.RoleOrgAdmin, issuance.RoleSystem); err != nil {
		return Session{}, err
	}
	st := s.st
	in.Site = strings.TrimSpace(in.Site)
	switch {
	case in.OrgID <= 0:
		return Session{}, issuance.Invalid("org_id", "required")
	case in.ExpectedCount < MinOnsiteHeadCount:
		return Session{}, issuance.Invalid("expected_count", fmt.Sprintf(
			"on-site enrollment is for groups of at least %d; smaller groups apply at a bank branch or online", MinOnsiteHeadCount))
	case in.ExpectedCount > MaxOnsiteHeadCount:
		return Session{}, issuance.Invalid("expected_count", fmt.Sprintf("at most %d per session; split the group", MaxOnsiteHeadCount))
	case in.Date.IsZero():
		return Session{}, issuance.Invalid("date", "required")
	}
	if err := issuance.ValidName("site", in.Site, 200); err != nil {
		return Session{}, err
	}
	now := s.svc.Now()
	y, m, d := in.Date.Date()
	day := time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
	ny, nm, nd := now.Date()
	if day.Before(time.Date(ny, nm, nd, 0, 0, 0, 0, time.UTC)) {
		return Session{}, issuance.Invalid("date", "must not be in the past")
	}
	p, err := s.svc.Product(ctx, strings.TrimSpace(in.ProductCode))
	if err != nil {
		if isNotFound(err) {
			return Session{}, issuance.Invalid("product", "no such product")
		}
		return Session{}, fmt.Errorf("request on-site session: %w", err)
	}
	sc, err := s.svc.Scope(ctx, a)
	if err != nil {
		return Session{}, err
	}
	sess := Session{
		OrgID: in.OrgID, ProductCode: p.Code, BankCode: p.BankCode, Site: in.Site, Date: day,
		ExpectedCount: in.ExpectedCount, Status: SessionRequested, Version: 1, RequestedBy: a.TokenID,
		CreatedAt: now, UpdatedAt: now,
	}
	err = s.st.InTx(ctx, func(ctx context.Context) error {
		o, err := s.st.GetOrg(ctx, in.OrgID, issuance.Scope{PathPrefix: sc.PathPrefix})
		if err != nil {
			if isNotFound(err) {
				return issuance.Invalid("org_id", "no such organisation")
			}
			return err
		}
		if p.OrgPath != "" && !strings.HasPrefix(o.Path, p.OrgPath) {
			return issuance.Invalid("product", "product not offered in the organisation")
		}
		city, err := s.cityOf(ctx, o)
		if err != nil {
			return err
		}
		branches, err := s.st.ListBranches(ctx, p.BankCode, city.ID)
		if err != nil {
			return err
		}
		if len(branches) == 0 {
			return issuance.Invalid("product", errNoBranchReason)
		}
		br := branches[0]
		for _, b := range branches { // prefer a branch with a named contact
			if b.Contact.Name != "" {
				br = b
				break
			}
		}
		sess.OrgPath, sess.CityID, sess.BranchID = o.Path, city.ID, br.ID
		if err := st.CreateOnsiteSession(ctx, &sess); err != nil {
			return err
		}
		return st.AppendSessionEvent(ctx, &SessionEvent{SessionID: sess.ID, To: SessionRequested,
			ActorTokenID: a.TokenID, ActorRole: a.Role, At: now})
	})
	if err != nil {
		return Session{}, fmt.Errorf("request on-site session: %w", err)
	}
	return s.Get(ctx, issuance.SystemActor(), sess.ID)
}

// sessionInScope loads a session and returns ErrNotFound unless it lies
// inside the actor's scope (its organisation's subtree, and for bank staff
// its bank).
func (s *Service) sessionInScope(ctx context.Context, a issuance.Actor, id int64) (Session, Store, error) {
	st := s.st
	sc, err := s.svc.Scope(ctx, a)
	if err != nil {
		return Session{}, nil, err
	}
	sess, err := st.GetOnsiteSession(ctx, id)
	if err != nil {
		return Session{}, nil, fmt.Errorf("on-site session %d: %w", id, err)
	}
	if !sc.Contains(sess.OrgPath, sess.BankCode) {
		return Session{}, nil, fmt.Errorf("on-site session %d: %w", id, issuance.ErrNotFound)
	}
	return sess, st, nil
}

// Get returns a session inside the actor's scope with its
// assigned branch and contact. Roles: province_admin, org_admin, bank_staff.
func (s *Service) Get(ctx context.Context, a issuance.Actor, id int64) (Session, error) {
	if err := issuance.RequireRole(a, issuance.RoleProvinceAdmin, issuance.RoleOrgAdmin, issuance.RoleBankStaff, issuance.RoleSystem); err != nil {
		return Session{}, err
	}
	sess, _, err := s.sessionInScope(ctx, a, id)
	if err != nil {
		return Session{}, err
	}
	br, err := s.svc.Branch(ctx, sess.BranchID)
	if err != nil {
		return Session{}, fmt.Errorf("on-site session %d: %w", id, err)
	}
	sess.Branch = br
	return sess, nil
}

// List returns the on-site sessions inside the actor's scope
// that match f, newest first, one page at a time: pass the returned
// NextCursor back in f.Cursor for the next page. An org admin sees its
// subtree's sessions, bank staff its bank's sessions in its branch's city,
// a province admin all. An f.OrgID outside the scope is ErrNotFound.
// Roles: province_admin, org_admin, bank_staff.
func (s *Service) List(ctx context.Context, a issuance.Actor, f SessionFilter) (SessionPage, error) {
	if err := issuance.RequireRole(a, issuance.RoleProvinceAdmin, issuance.RoleOrgAdmin, issuance.RoleBankStaff, issuance.RoleSystem); err != nil {
		return SessionPage{}, err
	}
	st := s.st
	sc, err := s.svc.Scope(ctx, a)
	if err != nil {
		return SessionPage{}, err
	}
	q := SessionQuery{Scope: sc, Status: f.Status, Limit: f.Limit}
	if q.Status != "" && !q.Status.Valid() {
		return SessionPage{}, issuance.Invalid("state", "unknown session state")
	}
	switch {
	case q.Limit < 0 || q.Limit > issuance.MaxPageSize:
		return SessionPage{}, issuance.Invalid("limit", fmt.Sprintf("must be 1–%d", issuance.MaxPageSize))
	case q.Limit == 0:
		q.Limit = issuance.DefaultPageSize
	}
	if f.Cursor != "" {
		if q.BeforeID, err = issuance.DecodeIDCursor(sessionCursorPrefix, f.Cursor); err != nil {
			return SessionPage{}, err
		}
	}
	if f.OrgID < 0 {
		return SessionPage{}, issuance.Invalid("org", "must be a positive integer")
	}
	if f.OrgID != 0 {
		o, err := s.st.GetOrg(ctx, f.OrgID, issuance.Scope{PathPrefix: sc.PathPrefix})
		if err != nil {
			return SessionPage{}, fmt.Errorf("list on-site sessions: org filter: %w", err)
		}
		q.OrgPath = o.Path
	}
	want := q.Limit
	q.Limit++
	items, err := st.ListOnsiteSessions(ctx, q)
	if err != nil {
		return SessionPage{}, fmt.Errorf("list on-site sessions: %w", err)
	}
	page := SessionPage{Items: items}
	if len(items) > want {
		page.Items = items[:want]
		page.NextCursor = issuance.EncodeIDCursor(sessionCursorPrefix, page.Items[want-1].ID)
	}
	return page, nil
}

// sessionTransitionRoles says who may move a session into a status: the
// bank runs the visit; the organisation (or the bank) may cancel.
var sessionTransitionRoles = map[SessionStatus][]issuance.Role{
	SessionScheduled:  {issuance.RoleProvinceAdmin, issuance.RoleBankStaff, issuance.RoleSystem},
	SessionInProgress: {issuance.RoleProvinceAdmin, issuance.RoleBankStaff, issuance.RoleSystem},
	SessionCompleted:  {issuance.RoleProvinceAdmin, issuance.RoleBankStaff, issuance.RoleSystem},
	SessionCancelled:  {issuance.RoleProvinceAdmin, issuance.RoleOrgAdmin, issuance.RoleBankStaff, issuance.RoleSystem},
}

// Transition moves a session to status to, writing an event.
// Schedule, start and complete are for bank staff (and province admins);
// cancel also for the organisation's admin. An illegal move is a
// *SessionTransitionError (errors.Is ErrIllegalTransition).
func (s *Service) Transition(ctx context.Context, a issuance.Actor, id int64, to SessionStatus, reason string) (Session, error) {
	roles, ok := sessionTransitionRoles[to]
	if !ok {
		return Session{}, issuance.Invalid("status", "unknown session status")
	}
	if err := issuance.RequireRole(a, roles...); err != nil {
		return Session{}, err
	}
	reason = strings.TrimSpace(reason)
	if utf8.RuneCountInString(reason) > 500 || !utf8.ValidString(reason) {
		return Session{}, issuance.Invalid("reason", "at most 500 characters")
	}
	now := s.svc.Now()
	err := s.st.InTx(ctx, func(ctx context.Context) error {
		sess, st, err := s.sessionInScope(ctx, a, id)
		if err != nil {
			return err
		}
		from := sess.Status
		if !from.CanTransition(to) {
			return &SessionTransitionError{From: from, To: to}
		}
		sess.Status, sess.UpdatedAt = to, now
		if reason != "" {
			sess.Reason = reason
		}
		if err := st.UpdateOnsiteSessionStatus(ctx, &sess, from); err != nil {
			return err
		}
		return st.AppendSessionEvent(ctx, &SessionEvent{SessionID: id, From: from, To: to,
			ActorTokenID: a.TokenID, ActorRole: a.Role, Reason: reason, At: now})
	})
	if err != nil {
		return Session{}, fmt.Errorf("on-site session %d → %s: %w", id, to, err)
	}
	return s.Get(ctx, issuance.SystemActor(), id)
}

// Events returns a session's status changes in order.
func (s *Service) Events(ctx context.Context, a issuance.Actor, id int64) ([]SessionEvent, error) {
	if err := issuance.RequireRole(a, issuance.RoleProvinceAdmin, issuance.RoleOrgAdmin, issuance.RoleBankStaff, issuance.RoleSystem); err != nil {
		return nil, err
	}
	_, st, err := s.sessionInScope(ctx, a, id)
	if err != nil {
		return nil, err
	}
	ev, err := st.ListSessionEvents(ctx, id)
	if err != nil {
		return nil, fmt.Errorf("events of on-site session %d: %w", id, err)
	}
	return ev, nil
}
