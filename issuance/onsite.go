package issuance

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// ErrOnsiteUnsupported means the Service's Store does not implement
// OnsiteStore.
var ErrOnsiteUnsupported = errors.New("storage does not support on-site enrollment")

// errNoBranchReason explains the *ValidationError (field "product") of a
// request whose product's bank has no branch in the organisation's city:
// nobody can be sent on site.
const errNoBranchReason = "no branch of this product's bank serves the organisation's city; apply at a bank branch or online"

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
func (e *SessionTransitionError) Unwrap() error { return ErrIllegalTransition }

func (s *Service) onsiteStore() (OnsiteStore, error) {
	os, ok := s.store.(OnsiteStore)
	if !ok {
		return nil, ErrOnsiteUnsupported
	}
	return os, nil
}

// cityOf returns the city an organisation belongs to: itself when a city,
// else the nearest city on its path.
func (s *Service) cityOf(ctx context.Context, o Org) (Org, error) {
	if o.Kind == OrgCity {
		return o, nil
	}
	ids := strings.Split(strings.Trim(o.Path, "/"), "/")
	for i := len(ids) - 1; i >= 0; i-- {
		id, err := strconv.ParseInt(ids[i], 10, 64)
		if err != nil {
			continue
		}
		anc, err := s.store.GetOrg(ctx, id, Scope{})
		if err != nil {
			return Org{}, err
		}
		if anc.Kind == OrgCity {
			return anc, nil
		}
	}
	return Org{}, Invalid("org_id", "the organisation belongs to no city")
}

// RequestOnsiteSession records an organisation's request for on-site
// enrollment (site, date, expected head count, product) and assigns it to
// the branch of the product's bank in the organisation's city. Fewer than
// MinOnsiteHeadCount people are refused with a *ValidationError pointing to
// branch or online application. Roles: province_admin, org_admin (its
// subtree).
func (s *Service) RequestOnsiteSession(ctx context.Context, a Actor, in NewOnsiteSession) (OnsiteSession, error) {
	if err := RequireRole(a, RoleProvinceAdmin, RoleOrgAdmin, RoleSystem); err != nil {
		return OnsiteSession{}, err
	}
	st, err := s.onsiteStore()
	if err != nil {
		return OnsiteSession{}, err
	}
	in.Site = strings.TrimSpace(in.Site)
	switch {
	case in.OrgID <= 0:
		return OnsiteSession{}, Invalid("org_id", "required")
	case in.ExpectedCount < MinOnsiteHeadCount:
		return OnsiteSession{}, Invalid("expected_count", fmt.Sprintf(
			"on-site enrollment is for groups of at least %d; smaller groups apply at a bank branch or online", MinOnsiteHeadCount))
	case in.ExpectedCount > MaxOnsiteHeadCount:
		return OnsiteSession{}, Invalid("expected_count", fmt.Sprintf("at most %d per session; split the group", MaxOnsiteHeadCount))
	case in.Date.IsZero():
		return OnsiteSession{}, Invalid("date", "required")
	}
	if err := ValidName("site", in.Site, 200); err != nil {
		return OnsiteSession{}, err
	}
	now := s.clock.Now()
	y, m, d := in.Date.Date()
	day := time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
	ny, nm, nd := now.Date()
	if day.Before(time.Date(ny, nm, nd, 0, 0, 0, 0, time.UTC)) {
		return OnsiteSession{}, Invalid("date", "must not be in the past")
	}
	p, err := s.product(ctx, strings.TrimSpace(in.ProductCode))
	if err != nil {
		if isNotFound(err) {
			return OnsiteSession{}, Invalid("product", "no such product")
		}
		return OnsiteSession{}, fmt.Errorf("request on-site session: %w", err)
	}
	sc, err := s.Scope(ctx, a)
	if err != nil {
		return OnsiteSession{}, err
	}
	sess := OnsiteSession{
		OrgID: in.OrgID, ProductCode: p.Code, BankCode: p.BankCode, Site: in.Site, Date: day,
		ExpectedCount: in.ExpectedCount, Status: SessionRequested, Version: 1, RequestedBy: a.TokenID,
		CreatedAt: now, UpdatedAt: now,
	}
	err = s.store.InTx(ctx, func(ctx context.Context) error {
		o, err := s.store.GetOrg(ctx, in.OrgID, Scope{PathPrefix: sc.PathPrefix})
		if err != nil {
			if isNotFound(err) {
				return Invalid("org_id", "no such organisation")
			}
			return err
		}
		if p.OrgPath != "" && !strings.HasPrefix(o.Path, p.OrgPath) {
			return Invalid("product", "product not offered in the organisation")
		}
		city, err := s.cityOf(ctx, o)
		if err != nil {
			return err
		}
		branches, err := s.store.ListBranches(ctx, p.BankCode, city.ID)
		if err != nil {
			return err
		}
		if len(branches) == 0 {
			return Invalid("product", errNoBranchReason)
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
		return OnsiteSession{}, fmt.Errorf("request on-site session: %w", err)
	}
	return s.GetOnsiteSession(ctx, SystemActor(), sess.ID)
}

// sessionInScope loads a session and returns ErrNotFound unless it lies
// inside the actor's scope (its organisation's subtree, and for bank staff
// its bank).
func (s *Service) sessionInScope(ctx context.Context, a Actor, id int64) (OnsiteSession, OnsiteStore, error) {
	st, err := s.onsiteStore()
	if err != nil {
		return OnsiteSession{}, nil, err
	}
	sc, err := s.Scope(ctx, a)
	if err != nil {
		return OnsiteSession{}, nil, err
	}
	sess, err := st.GetOnsiteSession(ctx, id)
	if err != nil {
		return OnsiteSession{}, nil, fmt.Errorf("on-site session %d: %w", id, err)
	}
	if !sc.Contains(sess.OrgPath, sess.BankCode) {
		return OnsiteSession{}, nil, fmt.Errorf("on-site session %d: %w", id, ErrNotFound)
	}
	return sess, st, nil
}

// GetOnsiteSession returns a session inside the actor's scope with its
// assigned branch and contact. Roles: province_admin, org_admin, bank_staff.
func (s *Service) GetOnsiteSession(ctx context.Context, a Actor, id int64) (OnsiteSession, error) {
	if err := RequireRole(a, RoleProvinceAdmin, RoleOrgAdmin, RoleBankStaff, RoleSystem); err != nil {
		return OnsiteSession{}, err
	}
	sess, _, err := s.sessionInScope(ctx, a, id)
	if err != nil {
		return OnsiteSession{}, err
	}
	br, err := s.store.GetBranch(ctx, sess.BranchID)
	if err != nil {
		return OnsiteSession{}, fmt.Errorf("on-site session %d: branch: %w", id, err)
	}
	if err := s.openContact(purposeBranchContact, &br.Contact); err != nil {
		return OnsiteSession{}, fmt.Errorf("on-site session %d: branch %d: %w", id, br.ID, err)
	}
	sess.Branch = br
	return sess, nil
}

// ListOnsiteSessions returns the on-site sessions inside the actor's scope
// that match f, newest first, one page at a time: pass the returned
// NextCursor back in f.Cursor for the next page. An org admin sees its
// subtree's sessions, bank staff its bank's sessions in its branch's city,
// a province admin all. An f.OrgID outside the scope is ErrNotFound.
// Roles: province_admin, org_admin, bank_staff.
func (s *Service) ListOnsiteSessions(ctx context.Context, a Actor, f OnsiteSessionFilter) (OnsiteSessionPage, error) {
	if err := RequireRole(a, RoleProvinceAdmin, RoleOrgAdmin, RoleBankStaff, RoleSystem); err != nil {
		return OnsiteSessionPage{}, err
	}
	st, err := s.onsiteStore()
	if err != nil {
		return OnsiteSessionPage{}, err
	}
	sc, err := s.Scope(ctx, a)
	if err != nil {
		return OnsiteSessionPage{}, err
	}
	q := OnsiteSessionQuery{Scope: sc, Status: f.Status, Limit: f.Limit}
	if q.Status != "" && !q.Status.Valid() {
		return OnsiteSessionPage{}, Invalid("state", "unknown session state")
	}
	switch {
	case q.Limit < 0 || q.Limit > MaxPageSize:
		return OnsiteSessionPage{}, Invalid("limit", fmt.Sprintf("must be 1–%d", MaxPageSize))
	case q.Limit == 0:
		q.Limit = DefaultPageSize
	}
	if f.Cursor != "" {
		if q.BeforeID, err = decodeSessionCursor(f.Cursor); err != nil {
			return OnsiteSessionPage{}, err
		}
	}
	if f.OrgID < 0 {
		return OnsiteSessionPage{}, Invalid("org", "must be a positive integer")
	}
	if f.OrgID != 0 {
		o, err := s.store.GetOrg(ctx, f.OrgID, Scope{PathPrefix: sc.PathPrefix})
		if err != nil {
			return OnsiteSessionPage{}, fmt.Errorf("list on-site sessions: org filter: %w", err)
		}
		q.OrgPath = o.Path
	}
	want := q.Limit
	q.Limit++
	items, err := st.ListOnsiteSessions(ctx, q)
	if err != nil {
		return OnsiteSessionPage{}, fmt.Errorf("list on-site sessions: %w", err)
	}
	page := OnsiteSessionPage{Items: items}
	if len(items) > want {
		page.Items = items[:want]
		page.NextCursor = encodeSessionCursor(page.Items[want-1].ID)
	}
	return page, nil
}

// sessionTransitionRoles says who may move a session into a status: the
// bank runs the visit; the organisation (or the bank) may cancel.
var sessionTransitionRoles = map[SessionStatus][]Role{
	SessionScheduled:  {RoleProvinceAdmin, RoleBankStaff, RoleSystem},
	SessionInProgress: {RoleProvinceAdmin, RoleBankStaff, RoleSystem},
	SessionCompleted:  {RoleProvinceAdmin, RoleBankStaff, RoleSystem},
	SessionCancelled:  {RoleProvinceAdmin, RoleOrgAdmin, RoleBankStaff, RoleSystem},
}

// TransitionOnsiteSession moves a session to status to, writing an event.
// Schedule, start and complete are for bank staff (and province admins);
// cancel also for the organisation's admin. An illegal move is a
// *SessionTransitionError (errors.Is ErrIllegalTransition).
func (s *Service) TransitionOnsiteSession(ctx context.Context, a Actor, id int64, to SessionStatus, reason string) (OnsiteSession, error) {
	roles, ok := sessionTransitionRoles[to]
	if !ok {
		return OnsiteSession{}, Invalid("status", "unknown session status")
	}
	if err := RequireRole(a, roles...); err != nil {
		return OnsiteSession{}, err
	}
	reason = strings.TrimSpace(reason)
	if utf8.RuneCountInString(reason) > 500 || !utf8.ValidString(reason) {
		return OnsiteSession{}, Invalid("reason", "at most 500 characters")
	}
	now := s.clock.Now()
	err := s.store.InTx(ctx, func(ctx context.Context) error {
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
		return OnsiteSession{}, fmt.Errorf("on-site session %d → %s: %w", id, to, err)
	}
	return s.GetOnsiteSession(ctx, SystemActor(), id)
}

// OnsiteSessionEvents returns a session's status changes in order.
func (s *Service) OnsiteSessionEvents(ctx context.Context, a Actor, id int64) ([]SessionEvent, error) {
	if err := RequireRole(a, RoleProvinceAdmin, RoleOrgAdmin, RoleBankStaff, RoleSystem); err != nil {
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
