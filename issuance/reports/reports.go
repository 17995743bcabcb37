package reports

// Reports (issue 8) other than targets: the application funnel, the
// clothing-size order list, the responsible-person and liaison list and
// the service hours, each scoped by the actor.

import (
	"context"
	"fmt"
	"time"

	"github.com/volcard/volcard/issuance"
)

// FunnelRow is the number of applications in one status, channel and bank.
type FunnelRow struct {
	Status   issuance.Status
	Channel  issuance.Channel
	BankCode string
	Count    int64
}

// ClothingRow is the number of card holders of one organisation wanting
// one clothing size.
type ClothingRow struct {
	OrgID int64
	Size  issuance.ClothingSize
	Count int64
}

// HoursRow is the credited service of one organisation path in a year.
type HoursRow struct {
	OrgPath     string
	Minutes     int64
	Attendances int64
	Volunteers  int64 // distinct volunteers with an attendance
}

// ClothingOrder is the clothing to order for one organisation's card
// holders (its own, not its subtree's), by size.
type ClothingOrder struct {
	OrgID   int64
	OrgName string
	OrgKind issuance.OrgKind
	BySize  map[issuance.ClothingSize]int64
	Total   int64
}

// OrgHours is one organisation's service in a year, its subtree included.
type OrgHours struct {
	OrgID       int64
	OrgName     string
	OrgKind     issuance.OrgKind
	Depth       int
	Minutes     int64
	Attendances int64
	Volunteers  int64 // sum over the organisations; a volunteer in two counts twice
}

// ErrReportUnavailable means a report's data source does not exist in this
// deployment (for example the check-in tables).
var ErrReportUnavailable = fmt.Errorf("report not available: %w", issuance.ErrNotFound)

func (s *Service) reportPrelude(ctx context.Context, a issuance.Actor, orgID int64, roles ...issuance.Role) (Store, issuance.Org, issuance.Scope, error) {
	if err := issuance.RequireRole(a, roles...); err != nil {
		return nil, issuance.Org{}, issuance.Scope{}, err
	}
	rs := s.st
	root, sc, err := s.reportRoot(ctx, a, orgID)
	if err != nil {
		return nil, issuance.Org{}, issuance.Scope{}, err
	}
	return rs, root, sc, nil
}

// ApplicationFunnel counts the applications of an organisation's subtree
// (0: the actor's) by status, channel and bank, inside the actor's scope
// (bank staff see their bank only). Roles: province_admin, org_admin,
// bank_staff.
func (s *Service) ApplicationFunnel(ctx context.Context, a issuance.Actor, orgID int64) ([]FunnelRow, error) {
	rs, root, sc, err := s.reportPrelude(ctx, a, orgID, issuance.RoleProvinceAdmin, issuance.RoleOrgAdmin, issuance.RoleBankStaff, issuance.RoleSystem)
	if err != nil {
		return nil, err
	}
	rows, err := rs.ApplicationFunnel(ctx, sc, root.Path)
	if err != nil {
		return nil, fmt.Errorf("application funnel: %w", err)
	}
	return rows, nil
}

// ClothingOrders lists, per organisation of the subtree of orgID (0: the
// actor's), the clothing sizes of its card holders. Organisations with no
// holder are left out. Roles: province_admin, org_admin.
func (s *Service) ClothingOrders(ctx context.Context, a issuance.Actor, orgID int64) ([]ClothingOrder, error) {
	rs, root, sc, err := s.reportPrelude(ctx, a, orgID, issuance.RoleProvinceAdmin, issuance.RoleOrgAdmin, issuance.RoleSystem)
	if err != nil {
		return nil, err
	}
	rows, err := rs.ClothingCounts(ctx, issuance.Scope{PathPrefix: sc.PathPrefix}, root.Path)
	if err != nil {
		return nil, fmt.Errorf("clothing orders: %w", err)
	}
	orgs, err := rs.ListOrgs(ctx, root.Path)
	if err != nil {
		return nil, fmt.Errorf("clothing orders: %w", err)
	}
	byID := map[int64]*ClothingOrder{}
	var out []*ClothingOrder
	for _, o := range orgs {
		c := &ClothingOrder{OrgID: o.ID, OrgName: o.Name, OrgKind: o.Kind, BySize: map[issuance.ClothingSize]int64{}}
		byID[o.ID] = c
		out = append(out, c)
	}
	for _, r := range rows {
		if c, ok := byID[r.OrgID]; ok {
			c.BySize[r.Size] += r.Count
			c.Total += r.Count
		}
	}
	var res []ClothingOrder
	for _, c := range out {
		if c.Total > 0 {
			res = append(res, *c)
		}
	}
	return res, nil
}

// Contacts returns the cities, counties and universities of the subtree of
// orgID (0: the actor's) with their responsible person and liaison, phones
// decrypted: the caller masks them (the API's policy, api/mask.go). Roles:
// province_admin, org_admin, bank_staff.
func (s *Service) Contacts(ctx context.Context, a issuance.Actor, orgID int64) ([]issuance.Org, error) {
	rs, root, _, err := s.reportPrelude(ctx, a, orgID, issuance.RoleProvinceAdmin, issuance.RoleOrgAdmin, issuance.RoleBankStaff, issuance.RoleSystem)
	if err != nil {
		return nil, err
	}
	orgs, err := rs.ListOrgs(ctx, root.Path)
	if err != nil {
		return nil, fmt.Errorf("contacts: %w", err)
	}
	var out []issuance.Org
	for _, o := range orgs {
		if !ReportableKind(o.Kind) {
			continue
		}
		if err := s.svc.OpenOrg(&o); err != nil {
			return nil, err
		}
		out = append(out, o)
	}
	return out, nil
}

// ServiceHours sums the service credited at check-in in a year for the
// subtree of orgID (0: the actor's), per organisation including its
// subtree, in tree order. It returns ErrReportUnavailable when check-in is
// not installed. Roles: province_admin, org_admin.
func (s *Service) ServiceHours(ctx context.Context, a issuance.Actor, year int, orgID int64) ([]OrgHours, error) {
	if year < 2000 || year > 2100 {
		return nil, issuance.Invalid("year", "must be 2000–2100")
	}
	rs, root, sc, err := s.reportPrelude(ctx, a, orgID, issuance.RoleProvinceAdmin, issuance.RoleOrgAdmin, issuance.RoleSystem)
	if err != nil {
		return nil, err
	}
	rows, ok, err := rs.ServiceMinutes(ctx, issuance.Scope{PathPrefix: sc.PathPrefix}, root.Path, year)
	if err != nil {
		return nil, fmt.Errorf("service hours: %w", err)
	}
	if !ok {
		return nil, ErrReportUnavailable
	}
	orgs, err := rs.ListOrgs(ctx, root.Path)
	if err != nil {
		return nil, fmt.Errorf("service hours: %w", err)
	}
	sortTree(orgs)
	byID := map[int64]*OrgHours{}
	rootDepth := len(pathIDs(root.Path))
	out := make([]*OrgHours, 0, len(orgs))
	for _, o := range orgs {
		h := &OrgHours{OrgID: o.ID, OrgName: o.Name, OrgKind: o.Kind, Depth: len(pathIDs(o.Path)) - rootDepth}
		byID[o.ID] = h
		out = append(out, h)
	}
	for _, r := range rows {
		for _, id := range pathIDs(r.OrgPath) {
			if h, ok := byID[id]; ok {
				h.Minutes += r.Minutes
				h.Attendances += r.Attendances
				h.Volunteers += r.Volunteers
			}
		}
	}
	res := make([]OrgHours, 0, len(out))
	for _, h := range out {
		if ReportableKind(h.OrgKind) || h.OrgID == root.ID {
			res = append(res, *h)
		}
	}
	return res, nil
}

// CheckinRow is one attendance at an activity, newest first.
type CheckinRow struct {
	AttendanceID int64
	VolunteerID  int64
	Name         string // legal name; mask it before showing it to staff
	InAt         time.Time
	OutAt        time.Time // zero while on site
	Minutes      int64
}

// ActivityCheckins is the live view of one activity's check-ins.
type ActivityCheckins struct {
	ActivityID  int64
	Title       string
	Attendances int64 // all attendances
	Open        int64 // checked in, not yet out
	Minutes     int64 // credited so far
	Rows        []CheckinRow
}

// MaxCheckinRows bounds the rows of ActivityCheckins.
const MaxCheckinRows = 200

// ActivityCheckins returns the latest check-ins of an activity inside the
// actor's scope (ErrNotFound otherwise), or ErrReportUnavailable when
// check-in is not installed. Roles: province_admin, org_admin.
func (s *Service) ActivityCheckins(ctx context.Context, a issuance.Actor, activityID int64) (ActivityCheckins, error) {
	if err := issuance.RequireRole(a, issuance.RoleProvinceAdmin, issuance.RoleOrgAdmin, issuance.RoleSystem); err != nil {
		return ActivityCheckins{}, err
	}
	if activityID <= 0 {
		return ActivityCheckins{}, issuance.Invalid("activity", "must be a positive integer")
	}
	rs := s.st
	sc, err := s.svc.Scope(ctx, a)
	if err != nil {
		return ActivityCheckins{}, err
	}
	out, ok, err := rs.ActivityCheckins(ctx, issuance.Scope{PathPrefix: sc.PathPrefix}, activityID, MaxCheckinRows)
	if err != nil {
		return ActivityCheckins{}, fmt.Errorf("activity %d check-ins: %w", activityID, err)
	}
	if !ok {
		return ActivityCheckins{}, ErrReportUnavailable
	}
	return out, nil
}
