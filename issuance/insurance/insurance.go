package insurance

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/volcard/volcard/issuance"
)

// DefaultCoverFen is the cover the programme promises each holder: 100,000
// CNY in fen.
const DefaultCoverFen int64 = 10_000_000

// Day returns t's civil date in China as YYYY-MM-DD.
func Day(t time.Time) string { return t.In(issuance.ChinaTime).Format(time.DateOnly) }

// Policy is a group policy covering the holders enrolled under it.
type Policy struct {
	ID           int64
	Insurer      string
	PolicyNumber string
	CoverFen     int64
	// EffectiveFrom is the first day (YYYY-MM-DD, China) new enrolments
	// take this policy; EffectiveTo the first day they no longer do (""
	// while it is the current policy).
	EffectiveFrom string
	EffectiveTo   string
	CreatedAt     time.Time
}

// Enrolment is one holder's cover: started when the holder's first card is
// activated, ended when the holder's last live card expires or is closed.
// A replacement card keeps the cover (the holder is insured, not the card).
type Enrolment struct {
	ID            int64
	VolunteerID   int64
	ApplicationID int64
	CardID        int64 // the card whose activation started it (0 when unknown)
	OrgID         int64
	OrgPath       string
	PolicyID      int64
	CoverFen      int64
	StartsAt      time.Time
	StartDay      string    // China date the start was recorded (StartsAt's, except for holders enrolled by migration 00220): the daily file of that day adds it
	EndsAt        time.Time // zero while the cover runs
	EndDay        string    // China date the end was recorded: the daily file of that day terminates it
	EndReason     string
}

// Policies stores the policies.
type Policies interface {
	// ListPolicies returns every policy, oldest EffectiveFrom first.
	ListPolicies(ctx context.Context) ([]Policy, error)
	// AddPolicy ends the current policy (EffectiveTo "") at p.EffectiveFrom,
	// inserts p (setting p.ID) and its audit row ev, in one transaction.
	AddPolicy(ctx context.Context, p *Policy, ev PolicyEvent) error
}

// Enrolments stores the enrolments.
type Enrolments interface {
	// InsertEnrolment inserts e unless its holder has an open enrolment;
	// it reports whether it inserted (setting e.ID).
	InsertEnrolment(ctx context.Context, e *Enrolment) (bool, error)
	// EndEnrolments ends the open enrolment of volunteerID, if any, unless
	// the volunteer holds a live card (issued, active or blocked) other
	// than exceptCard; it reports whether it ended one.
	EndEnrolments(ctx context.Context, volunteerID, exceptCard int64, endsAt time.Time, endDay, reason string) (bool, error)
	// HolderOfCard returns the volunteer of a card's application.
	HolderOfCard(ctx context.Context, cardID int64) (int64, error)
}

// Reads are what the daily file and the report read.
type Reads interface {
	// FileRows returns the enrolments started on day, then those whose
	// end was recorded on day, each in id order, with the holder.
	FileRows(ctx context.Context, day string) ([]FileRow, error)
	// OrgCounts returns per organisation under pathPrefix the holders
	// insured now and the enrolments ended.
	OrgCounts(ctx context.Context, pathPrefix string) ([]OrgCount, error)
}

// Store is the storage insurance needs; issuance/store implements it.
type Store interface {
	Policies
	Enrolments
	Reads
	FileLog
	// InTx runs fn in one transaction (the Store's).
	InTx(ctx context.Context, fn func(ctx context.Context) error) error
}

// PolicyEvent is the audit row of a policy change.
type PolicyEvent struct {
	Action    string // "set"
	ActorRole issuance.Role
	TokenID   int64
	Detail    string
	At        time.Time
}

// policyOn picks the policy in force on day from ps (sorted by
// EffectiveFrom).
func policyOn(ps []Policy, day string) (Policy, bool) {
	for i := len(ps) - 1; i >= 0; i-- {
		p := ps[i]
		if p.EffectiveFrom <= day && (p.EffectiveTo == "" || day < p.EffectiveTo) {
			return p, true
		}
	}
	return Policy{}, false
}

// ErrNoPolicy means no policy is in force on the day of an activation.
// The seeded default starts 2017-01-01 and every policy set later starts
// where the previous one ends, so it means the clock is before 2017.
var ErrNoPolicy = errors.New("insurance: no policy in force")

// Enrol returns the transition hook that starts the holder's cover when
// an application becomes activated (its card activated by the bank's
// advice), in the same transaction. A holder already covered (a second
// card) keeps the enrolment they have. Wire it with
// issuance.WithTransitionHooks.
func Enrol(st Store) issuance.TransitionHook {
	return issuance.TransitionHookFunc(func(ctx context.Context, a issuance.Application, e issuance.Event) error {
		if e.To != issuance.StatusActivated {
			return nil
		}
		day := Day(e.At)
		ps, err := st.ListPolicies(ctx)
		if err != nil {
			return fmt.Errorf("enrol application %d: %w", a.ID, err)
		}
		p, ok := policyOn(ps, day)
		if !ok {
			return fmt.Errorf("enrol application %d on %s: %w", a.ID, day, ErrNoPolicy)
		}
		en := Enrolment{VolunteerID: a.VolunteerID, ApplicationID: a.ID, OrgID: a.OrgID, OrgPath: a.OrgPath,
			PolicyID: p.ID, CoverFen: p.CoverFen, StartsAt: e.At, StartDay: day}
		// The store writes insurance.enrolled to the feed when it inserts.
		if _, err := st.InsertEnrolment(ctx, &en); err != nil {
			return fmt.Errorf("enrol application %d: %w", a.ID, err)
		}
		return nil
	})
}

// End returns the card hook that ends the holder's cover when the card's
// use ends (issuance.WithCardHooks): at expiry the cover ends with the
// expiry month (issuance.ExpiryEnd), on any other event (the bank's
// confirmed closing, reason "closed") at the event. A holder with another
// live card keeps the cover.
func End(st Store) issuance.CardHook {
	return issuance.CardHookFunc(func(ctx context.Context, c issuance.Card, e issuance.CardEvent) error {
		endsAt := e.At
		reason := string(e.Kind)
		if e.Change == issuance.CardChangeClose {
			reason = "closed"
		}
		if e.Kind == issuance.CardEventExpired {
			if end, err := issuance.ExpiryEnd(c.Expiry); err == nil && end.Before(endsAt) {
				endsAt = end
			}
		}
		_, err := endForCard(ctx, st, c.ID, endsAt, e.At, reason)
		return err
	})
}

// EndCover ends the cover of the holder of card cardID at `at`, recorded
// at `at`, with reason (e.g. "closed"), unless the holder has another live
// card; it reports whether it ended an enrolment. Call it in the
// transaction that closes the card (issuance.Store.InTx) when that change
// does not run the card hooks (issuance.Service.RunCardHooks, which run
// End). It is idempotent.
func EndCover(ctx context.Context, st Store, cardID int64, at time.Time, reason string) (bool, error) {
	return endForCard(ctx, st, cardID, at, at, reason)
}

func endForCard(ctx context.Context, st Store, cardID int64, endsAt, recorded time.Time, reason string) (bool, error) {
	v, err := st.HolderOfCard(ctx, cardID)
	if err != nil {
		return false, fmt.Errorf("end cover of card %d: %w", cardID, err)
	}
	ended, err := st.EndEnrolments(ctx, v, cardID, endsAt, Day(recorded), reason)
	if err != nil {
		return false, fmt.Errorf("end cover of card %d: %w", cardID, err)
	}
	// The store writes insurance.ended to the feed when it ends one.
	return ended, nil
}

// Service reads and sets policies, writes the daily file and reports per
// organisation. Build it with New.
type Service struct {
	svc *issuance.Service
	st  Store
	now func() time.Time
}

// New returns the service over svc (actors, scope, the ID number vault)
// and st.
func New(svc *issuance.Service, st Store) (*Service, error) {
	if svc == nil || st == nil {
		return nil, errors.New("insurance: nil service or store")
	}
	return &Service{svc: svc, st: st, now: time.Now}, nil
}

// WithNow sets the clock (tests).
func (s *Service) WithNow(now func() time.Time) *Service { s.now = now; return s }

// Policies returns every policy, oldest first. Roles: province_admin,
// system.
func (s *Service) Policies(ctx context.Context, a issuance.Actor) ([]Policy, error) {
	if err := issuance.RequireRole(a, issuance.RoleProvinceAdmin, issuance.RoleSystem); err != nil {
		return nil, err
	}
	return s.st.ListPolicies(ctx)
}

// NewPolicy is a policy to set.
type NewPolicy struct {
	Insurer       string
	PolicyNumber  string
	CoverFen      int64
	EffectiveFrom string // YYYY-MM-DD, China; after the current policy's start, not in the past
}

// SetPolicy makes p the policy of enrolments starting on or after
// p.EffectiveFrom: the current policy ends there. Enrolments already
// started keep their policy. EffectiveFrom may not be in the past (China
// date), nor on or before the current policy's start; the policy number
// must be new. The change is audited. Roles: province_admin, system.
func (s *Service) SetPolicy(ctx context.Context, a issuance.Actor, in NewPolicy) (Policy, error) {
	if err := issuance.RequireRole(a, issuance.RoleProvinceAdmin, issuance.RoleSystem); err != nil {
		return Policy{}, err
	}
	in.Insurer, in.PolicyNumber = strings.TrimSpace(in.Insurer), strings.TrimSpace(in.PolicyNumber)
	if err := issuance.ValidName("insurer", in.Insurer, 100); err != nil {
		return Policy{}, err
	}
	if !validPolicyNumber(in.PolicyNumber) {
		return Policy{}, issuance.Invalid("policy_number", "1–40 characters: letters, digits and - / .")
	}
	if in.CoverFen <= 0 || in.CoverFen > 1_000_000_000 {
		return Policy{}, issuance.Invalid("cover_fen", "a positive amount in fen, at most 10,000,000 CNY")
	}
	if _, err := time.Parse(time.DateOnly, in.EffectiveFrom); err != nil {
		return Policy{}, issuance.Invalid("effective_from", "must be a date YYYY-MM-DD")
	}
	today := Day(s.now())
	if in.EffectiveFrom < today {
		return Policy{}, issuance.Invalid("effective_from", "may not be in the past (China date)")
	}
	p := Policy{Insurer: in.Insurer, PolicyNumber: in.PolicyNumber, CoverFen: in.CoverFen,
		EffectiveFrom: in.EffectiveFrom, CreatedAt: s.now()}
	err := s.st.InTx(ctx, func(ctx context.Context) error {
		ps, err := s.st.ListPolicies(ctx)
		if err != nil {
			return err
		}
		for _, q := range ps {
			if q.PolicyNumber == p.PolicyNumber {
				return &issuance.ConflictError{What: "policy_number"}
			}
			if q.EffectiveTo == "" && q.EffectiveFrom >= p.EffectiveFrom {
				return &issuance.ConflictError{What: "policy_effective_from"}
			}
		}
		return s.st.AddPolicy(ctx, &p, PolicyEvent{Action: "set", ActorRole: a.Role, TokenID: a.TokenID,
			Detail: fmt.Sprintf("policy %s of %s, cover %d fen, from %s", p.PolicyNumber, p.Insurer, p.CoverFen,
				p.EffectiveFrom), At: s.now()})
	})
	if err != nil {
		return Policy{}, fmt.Errorf("set insurance policy: %w", err)
	}
	return p, nil
}

func validPolicyNumber(n string) bool {
	if n == "" || len(n) > 40 {
		return false
	}
	for _, r := range n {
		if !(r >= '0' && r <= '9' || r >= 'A' && r <= 'Z' || r >= 'a' && r <= 'z' || r == '-' || r == '/' || r == '.') {
			return false
		}
	}
	return true
}

// OrgCount is one organisation's line of the report.
type OrgCount struct {
	OrgID    int64
	OrgName  string
	OrgKind  issuance.OrgKind
	OrgPath  string
	Insured  int64 // holders covered now
	Ended    int64 // enrolments ended
	CoverFen int64 // total cover of the holders covered now
}

// Report returns, for organisation orgID and its subtree, each
// organisation's holders insured now and enrolments ended, by org path.
// Roles: province_admin, org_admin (their subtree), system; an
// organisation out of scope is ErrNotFound.
func (s *Service) Report(ctx context.Context, a issuance.Actor, orgID int64) (issuance.Org, []OrgCount, error) {
	if err := issuance.RequireRole(a, issuance.RoleProvinceAdmin, issuance.RoleOrgAdmin, issuance.RoleSystem); err != nil {
		return issuance.Org{}, nil, err
	}
	o, err := s.svc.GetOrg(ctx, a, orgID)
	if err != nil {
		return issuance.Org{}, nil, err
	}
	rows, err := s.st.OrgCounts(ctx, o.Path)
	if err != nil {
		return issuance.Org{}, nil, fmt.Errorf("insurance report of org %d: %w", orgID, err)
	}
	slices.SortFunc(rows, func(x, y OrgCount) int { return strings.Compare(x.OrgPath, y.OrgPath) })
	return o, rows, nil
}
