package checkin

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/volcard/volcard/evidence"
	"github.com/volcard/volcard/issuance"
)

// BenefitTier is the benefit class of a card holder.
type BenefitTier string

// Benefit tiers, lowest first.
const (
	TierCardHolder BenefitTier = "card_holder" // holds a volunteer card, no star yet
	TierStar       BenefitTier = "star"        // star volunteer, 1 to 4 stars
	TierFiveStar   BenefitTier = "five_star"   // the top level
)

// Tiers lists the tiers lowest first.
var Tiers = []BenefitTier{TierCardHolder, TierStar, TierFiveStar}

// Valid reports whether t is a known tier.
func (t BenefitTier) Valid() bool {
	return t == TierCardHolder || t == TierStar || t == TierFiveStar
}

func (t BenefitTier) rank() int {
	for i, x := range Tiers {
		if x == t {
			return i
		}
	}
	return -1
}

// TierFor returns the tier of a star level when top stars is the highest.
func TierFor(stars, top int) BenefitTier {
	switch {
	case stars <= 0:
		return TierCardHolder
	case stars >= top:
		return TierFiveStar
	default:
		return TierStar
	}
}

// StarsFor returns the star level reached with lifetime minutes under the
// thresholds (hours, increasing).
func StarsFor(minutes int64, thresholds []float64) int {
	n := 0
	for _, h := range thresholds {
		if float64(minutes) >= h*60 {
			n++
		}
	}
	return n
}

// Stars returns the star level of lifetime minutes under this Service's
// thresholds.
func (c *Service) Stars(minutes int64) int { return StarsFor(minutes, c.cfg.StarThresholds) }

// tier returns the tier of a star level under this Service's thresholds.
func (c *Service) tier(stars int) BenefitTier { return TierFor(stars, len(c.cfg.StarThresholds)) }

// addMinutes adds delta minutes to a volunteer's year and lifetime totals
// and settles the star level (settleStars). It must run inside a
// transaction.
func (c *Service) addMinutes(ctx context.Context, a issuance.Actor, volunteerID int64, year int, delta int64) (HoursTotals, error) {
	t, err := c.st.AddMinutes(ctx, volunteerID, year, delta)
	if err != nil {
		return HoursTotals{}, err
	}
	if err := c.settleStars(ctx, a, volunteerID, t.Stars, t.Lifetime); err != nil {
		return HoursTotals{}, err
	}
	return t, nil
}

// settleStars brings the star level stored with a volunteer's lifetime
// total to the level of that total, lifetime minutes, when it differs from
// stored, the level read with the total, and records the change as a
// stars_changed event. The change is made only while the row still holds
// stored and lifetime (ChangeStars): of concurrent writers of one
// volunteer's hours, the one that wrote the latest total makes it, once;
// the others find the row moved on and leave it to that one.
func (c *Service) settleStars(ctx context.Context, a issuance.Actor, volunteerID int64, stored int, lifetime int64) error {
	stars := c.Stars(lifetime)
	if stars == stored {
		return nil
	}
	detail, err := json.Marshal(map[string]any{"from": stored, "to": stars, "lifetime_minutes": lifetime})
	if err != nil {
		return err
	}
	_, err = c.st.ChangeStars(ctx, StarsChange{VolunteerID: volunteerID, From: stored, To: stars, Lifetime: lifetime,
		Event: Event{Kind: EventStarsChanged, VolunteerID: volunteerID, ActorTokenID: a.TokenID, ActorRole: a.Role,
			Detail: string(detail), At: c.svc.Now().UTC()}})
	if err != nil {
		return fmt.Errorf("star level: %w", err)
	}
	return nil
}

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
// star level and tier. Roles: any, within scope.
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
	r.Tier = c.tier(r.Stars)
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

// Offer is a benefit an organisation attaches to a tier: holders of that
// tier or higher, belonging to the organisation's subtree, get it.
type Offer struct {
	ID          int64
	OrgID       int64
	OrgPath     string
	Tier        BenefitTier
	Title       string
	Description string
	CreatedAt   time.Time
}

// NewOffer is the input of CreateOffer.
type NewOffer struct {
	OrgID       int64
	Tier        BenefitTier
	Title       string
	Description string
}

// CreateOffer attaches an offer to a tier for an organisation in scope.
// Roles: province_admin, org_admin, system.
func (c *Service) CreateOffer(ctx context.Context, a issuance.Actor, in NewOffer) (Offer, error) {
	if err := issuance.RequireRole(a, issuance.RoleProvinceAdmin, issuance.RoleOrgAdmin, issuance.RoleSystem); err != nil {
		return Offer{}, err
	}
	o := Offer{OrgID: in.OrgID, Tier: in.Tier, Title: strings.TrimSpace(in.Title),
		Description: strings.TrimSpace(in.Description), CreatedAt: c.svc.Now().UTC()}
	if !o.Tier.Valid() {
		return Offer{}, issuance.Invalid("tier", "must be card_holder, star or five_star")
	}
	if err := issuance.ValidName("title", o.Title, 100); err != nil {
		return Offer{}, err
	}
	if len([]rune(o.Description)) > 500 {
		return Offer{}, issuance.Invalid("description", "at most 500 characters")
	}
	org, err := c.svc.GetOrg(ctx, a, in.OrgID)
	if err != nil {
		return Offer{}, err
	}
	o.OrgPath = org.Path
	if err := c.st.CreateOffer(ctx, &o); err != nil {
		return Offer{}, fmt.Errorf("create offer: %w", err)
	}
	return o, nil
}

// ancestorPaths returns the paths of an org path's ancestors and itself:
// "/1/5/12/" → "/1/", "/1/5/", "/1/5/12/".
func ancestorPaths(p string) []string {
	var out []string
	parts := strings.Split(strings.Trim(p, "/"), "/")
	cur := "/"
	for _, s := range parts {
		if _, err := strconv.ParseInt(s, 10, 64); err != nil {
			break
		}
		cur += s + "/"
		out = append(out, cur)
	}
	return out
}

// BenefitsInput is a merchant's benefit check: card evidence over a
// challenge the merchant's terminal obtained.
type BenefitsInput struct {
	ChallengeID string
	Evidence    evidence.Card
}

// Benefits is the answer to a merchant: masked name, star level, tier and
// the offers of that tier and below.
type Benefits struct {
	MaskedName string
	Stars      int
	Tier       BenefitTier
	Offers     []Offer
}

// CheckBenefits verifies a card presented at a merchant (same evidence and
// challenge rules as a tap) and returns the holder's tier and offers with
// the masked name only. Offers come from the holder's organisation and its
// ancestors, for the holder's tier and the tiers below. Roles: terminal,
// platform, province_admin, org_admin, system.
func (c *Service) CheckBenefits(ctx context.Context, a issuance.Actor, in BenefitsInput) (Benefits, error) {
	if err := issuance.RequireRole(a, issuance.RoleTerminal, issuance.RolePlatform, issuance.RoleProvinceAdmin, issuance.RoleOrgAdmin, issuance.RoleSystem); err != nil {
		return Benefits{}, err
	}
	if in.ChallengeID == "" || len(in.ChallengeID) > 64 {
		return Benefits{}, issuance.Invalid("challenge_id", "required")
	}
	now := c.svc.Now().UTC()
	ch, err := c.st.ConsumeChallenge(ctx, in.ChallengeID, a.TokenID, now)
	if err != nil {
		return Benefits{}, fmt.Errorf("check benefits: %w", err)
	}
	card, err := c.verify(in.Evidence, ch.UN, now)
	if err != nil {
		return Benefits{}, fmt.Errorf("check benefits: %w", err)
	}
	v, err := c.cardHolder(ctx, c.svc.PANToken(card.PAN), card)
	if err != nil {
		return Benefits{}, fmt.Errorf("check benefits: %w", err)
	}
	ys, err := c.st.HoursByYear(ctx, v.ID)
	if err != nil {
		return Benefits{}, fmt.Errorf("check benefits: %w", err)
	}
	var lifetime int64
	for _, y := range ys {
		if y.Year == 0 {
			lifetime = y.Minutes
		}
	}
	b := Benefits{MaskedName: maskedName(v.Name), Stars: c.Stars(lifetime)}
	b.Tier = c.tier(b.Stars)
	tiers := Tiers[:b.Tier.rank()+1]
	if b.Offers, err = c.st.ListOffers(ctx, ancestorPaths(v.OrgPath), tiers); err != nil {
		return Benefits{}, fmt.Errorf("check benefits: %w", err)
	}
	return b, nil
}

// Events returns a volunteer's check-in audit events, oldest first.
// Roles: province_admin, org_admin (volunteer in scope), system.
func (c *Service) Events(ctx context.Context, a issuance.Actor, volunteerID int64) ([]Event, error) {
	if err := issuance.RequireRole(a, issuance.RoleProvinceAdmin, issuance.RoleOrgAdmin, issuance.RoleSystem); err != nil {
		return nil, err
	}
	if _, err := c.svc.GetVolunteer(ctx, a, volunteerID); err != nil {
		return nil, err
	}
	return c.st.ListCheckinEvents(ctx, volunteerID)
}
