package checkin

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"sort"
	"strings"
	"time"

	"github.com/volcard/volcard/issuance"
)

// Service hours: corrections and hours added by staff, a volunteer's
// service record, and the member-hours report.

// yearMinutes returns the volunteer's credited minutes in year (0 when none).
func (c *Service) yearMinutes(ctx context.Context, volunteerID int64, year int) (int64, error) {
	ys, err := c.st.HoursByYear(ctx, volunteerID)
	if err != nil {
		return 0, err
	}
	for _, y := range ys {
		if y.Year == year {
			return y.Minutes, nil
		}
	}
	return 0, nil
}

// Correction is the input of CorrectAttendance: the corrected check-in and
// check-out times and why.
type Correction struct {
	InAt   time.Time
	OutAt  time.Time
	Reason string
}

// CorrectAttendance sets an attendance's check-in and check-out times (a
// forgotten check-out, a wrong tap), recomputes its credited minutes, moves
// the difference into the volunteer's totals and star level, and writes an
// audit event with the values before and after. Roles: province_admin,
// org_admin of the activity's organisation subtree, system.
func (c *Service) CorrectAttendance(ctx context.Context, a issuance.Actor, attendanceID int64, in Correction) (Attendance, error) {
	if err := issuance.RequireRole(a, issuance.RoleProvinceAdmin, issuance.RoleOrgAdmin, issuance.RoleSystem); err != nil {
		return Attendance{}, err
	}
	in.Reason = strings.TrimSpace(in.Reason)
	switch {
	case in.Reason == "" || len([]rune(in.Reason)) > 200:
		return Attendance{}, issuance.Invalid("reason", "required, at most 200 characters")
	case in.InAt.IsZero() || in.OutAt.IsZero():
		return Attendance{}, issuance.Invalid("in_at", "check-in and check-out times are required")
	case in.OutAt.Before(in.InAt):
		return Attendance{}, issuance.Invalid("out_at", "must not be before in_at")
	}
	sc, err := c.svc.Scope(ctx, a)
	if err != nil {
		return Attendance{}, err
	}
	sc.BankCode = ""
	var out Attendance
	err = c.st.InTx(ctx, func(ctx context.Context) error {
		att, err := c.st.GetAttendance(ctx, attendanceID, sc)
		if err != nil {
			return err
		}
		act, err := c.st.GetActivity(ctx, att.ActivityID, issuance.Scope{})
		if err != nil {
			return err
		}
		before := att
		att.InAt, att.OutAt = in.InAt.UTC(), in.OutAt.UTC()
		att.Year = att.InAt.In(c.cfg.Location).Year()
		att.Minutes = credit(act, att.InAt, att.OutAt, c.cfg.Rounding)
		att.Corrected = true
		// The totals first, then the attendance: taps take the hours rows
		// before the attendance rows too, so the two cannot deadlock.
		if before.Minutes != 0 {
			if _, err := c.addMinutes(ctx, a, att.VolunteerID, before.Year, -before.Minutes); err != nil {
				return err
			}
		}
		if _, err := c.addMinutes(ctx, a, att.VolunteerID, att.Year, att.Minutes); err != nil {
			return err
		}
		if err := c.st.UpdateAttendance(ctx, att); err != nil {
			return err
		}
		detail, _ := json.Marshal(map[string]any{
			"before": map[string]any{"in_at": before.InAt, "out_at": nullTime(before.OutAt), "minutes": before.Minutes},
			"after":  map[string]any{"in_at": att.InAt, "out_at": att.OutAt, "minutes": att.Minutes},
		})
		out = att
		return c.st.AppendCheckinEvent(ctx, &Event{Kind: EventAttendanceCorrected, VolunteerID: att.VolunteerID,
			AttendanceID: att.ID, ActorTokenID: a.TokenID, ActorRole: a.Role, Reason: in.Reason,
			Detail: string(detail), At: c.svc.Now().UTC()})
	})
	if err != nil {
		return Attendance{}, fmt.Errorf("correct attendance %d: %w", attendanceID, err)
	}
	return out, nil
}

func nullTime(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t
}

// AddServiceHours adds (or, negative, removes) service hours to a
// volunteer's year outside any tap: hours served before the card, imported
// from the volunteer platform. The star level follows; an audit event
// records it. Roles: province_admin, org_admin (volunteer in scope),
// system.
func (c *Service) AddServiceHours(ctx context.Context, a issuance.Actor, volunteerID int64, year int, hours float64, reason string) error {
	if err := issuance.RequireRole(a, issuance.RoleProvinceAdmin, issuance.RoleOrgAdmin, issuance.RoleSystem); err != nil {
		return err
	}
	minutes := int64(math.Round(hours * 60))
	reason = strings.TrimSpace(reason)
	switch {
	case year < 1990 || year > 2200:
		return issuance.Invalid("year", "out of range")
	case minutes == 0 || math.Abs(hours) > 10000 || math.IsNaN(hours):
		return issuance.Invalid("hours", "must be non-zero, at most 10000")
	case reason == "" || len([]rune(reason)) > 200:
		return issuance.Invalid("reason", "required, at most 200 characters")
	}
	sc, err := c.svc.Scope(ctx, a)
	if err != nil {
		return err
	}
	sc.BankCode = ""
	return c.st.InTx(ctx, func(ctx context.Context) error {
		if _, err := c.st.GetVolunteer(ctx, volunteerID, sc); err != nil {
			return fmt.Errorf("add service hours: %w", err)
		}
		if minutes < 0 {
			cur, err := c.yearMinutes(ctx, volunteerID, year)
			if err != nil {
				return err
			}
			if cur+minutes < 0 {
				return issuance.Invalid("hours", "would make the year's total negative")
			}
		}
		if _, err := c.addMinutes(ctx, a, volunteerID, year, minutes); err != nil {
			return err
		}
		detail, _ := json.Marshal(map[string]any{"year": year, "minutes": minutes})
		return c.st.AppendCheckinEvent(ctx, &Event{Kind: EventHoursAdded, VolunteerID: volunteerID,
			ActorTokenID: a.TokenID, ActorRole: a.Role, Reason: reason, Detail: string(detail), At: c.svc.Now().UTC()})
	})
}

// YearMinutes is a volunteer's service total of one year (0: lifetime).
type YearMinutes struct {
	Year    int
	Minutes int64
	Stars   int // on the lifetime row only
}

// Hours returns the minutes as hours.
func (y YearMinutes) Hours() float64 { return float64(y.Minutes) / 60 }

// ServiceRecord is a volunteer's service history.
type ServiceRecord struct {
	VolunteerID     int64
	Name            string
	Years           []YearMinutes // by year, lifetime excluded
	LifetimeMinutes int64
	Stars           int
	Tier            BenefitTier
	// MemberExpectation is the yearly hours expected (league and party
	// members), 0 for other volunteers.
	MemberExpectation float64
	Attendances       []AttendanceView // newest first, at most 200
}

// ServiceRecord returns a volunteer's hours by year, recent attendances,
// star level and tier (TierNone without a card, holdsCard). Roles: any,
// within scope.
func (c *Service) ServiceRecord(ctx context.Context, a issuance.Actor, volunteerID int64) (ServiceRecord, error) {
	v, err := c.svc.GetVolunteer(ctx, a, volunteerID)
	if err != nil {
		return ServiceRecord{}, err
	}
	ys, err := c.st.HoursByYear(ctx, v.ID)
	if err != nil {
		return ServiceRecord{}, fmt.Errorf("service record: %w", err)
	}
	r := ServiceRecord{VolunteerID: v.ID, Name: v.Name, Years: []YearMinutes{}}
	for _, y := range ys {
		if y.Year == 0 {
			r.LifetimeMinutes = y.Minutes
			continue
		}
		r.Years = append(r.Years, y)
	}
	r.Stars = c.Stars(r.LifetimeMinutes)
	holds, err := c.holdsCard(ctx, v.ID)
	if err != nil {
		return ServiceRecord{}, fmt.Errorf("service record: %w", err)
	}
	r.Tier = TierNone
	if holds {
		r.Tier = c.tier(r.Stars)
	}
	if v.LeagueMember || v.PartyMember {
		r.MemberExpectation = c.cfg.MemberExpectation
	}
	if r.Attendances, err = c.st.ListAttendances(ctx, v.ID, 200); err != nil {
		return ServiceRecord{}, fmt.Errorf("service record: %w", err)
	}
	return r, nil
}

// MemberMinutes is one league or party member's total in a year, as the
// store reports it.
type MemberMinutes struct {
	VolunteerID  int64
	OrgID        int64
	Name         string
	LeagueMember bool
	PartyMember  bool
	Minutes      int64
}

// MemberShortfall is a member below the yearly expectation.
type MemberShortfall struct {
	VolunteerID int64
	MaskedName  string
	Hours       float64
}

// OrgMemberHours is the expectation report line of one organisation (its
// own members, not its sub-organisations').
type OrgMemberHours struct {
	OrgID   int64
	Members int // league or party members
	Met     int // with at least the expected hours
	Below   []MemberShortfall
}

// MemberReport is the yearly member-hours expectation report of an
// organisation's subtree, one line per organisation with members.
type MemberReport struct {
	OrgID         int64
	Year          int
	ExpectedHours float64
	Members       int
	Met           int
	Orgs          []OrgMemberHours
}

// MemberHoursReport reports, per organisation in orgID's subtree, how many
// league and party members served at least the expected hours in year and
// who fell short (masked names). Roles: province_admin, org_admin (own
// subtree), system.
func (c *Service) MemberHoursReport(ctx context.Context, a issuance.Actor, orgID int64, year int) (MemberReport, error) {
	if err := issuance.RequireRole(a, issuance.RoleProvinceAdmin, issuance.RoleOrgAdmin, issuance.RoleSystem); err != nil {
		return MemberReport{}, err
	}
	if year < 1990 || year > 2200 {
		return MemberReport{}, issuance.Invalid("year", "out of range")
	}
	o, err := c.svc.GetOrg(ctx, a, orgID)
	if err != nil {
		return MemberReport{}, err
	}
	rows, err := c.st.MemberMinutes(ctx, o.Path, year)
	if err != nil {
		return MemberReport{}, fmt.Errorf("member report: %w", err)
	}
	rep := MemberReport{OrgID: o.ID, Year: year, ExpectedHours: c.cfg.MemberExpectation}
	byOrg := map[int64]*OrgMemberHours{}
	need := int64(math.Round(c.cfg.MemberExpectation * 60))
	for _, m := range rows {
		line := byOrg[m.OrgID]
		if line == nil {
			line = &OrgMemberHours{OrgID: m.OrgID, Below: []MemberShortfall{}}
			byOrg[m.OrgID] = line
		}
		line.Members++
		rep.Members++
		if m.Minutes >= need {
			line.Met++
			rep.Met++
		} else {
			line.Below = append(line.Below, MemberShortfall{VolunteerID: m.VolunteerID,
				MaskedName: maskedName(m.Name), Hours: float64(m.Minutes) / 60})
		}
	}
	for _, l := range byOrg {
		rep.Orgs = append(rep.Orgs, *l)
	}
	sort.Slice(rep.Orgs, func(i, j int) bool { return rep.Orgs[i].OrgID < rep.Orgs[j].OrgID })
	return rep, nil
}
