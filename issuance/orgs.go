package issuance

import (
	"context"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/volcard/volcard/pii"
)

// Purposes bound to sealed values (pii AAD) and blind indexes.
const (
	purposeIDNumber       = "volunteer.id_number"
	purposeVolunteerPhone = "volunteer.phone"
	purposeResponsible    = "org.responsible.phone"
	purposeLiaison        = "org.liaison.phone"
	purposeBranchContact  = "branch.contact.phone"
	indexIDNumber         = "id_number"
)

// Bounds of numbers that come from outside: anything else is refused as
// invalid, naming the field, before it reaches storage (whose integer
// columns would otherwise overflow on one backend and not the other).
const (
	// MinYear and MaxYear bound every calendar year a request may name
	// (population years, report years, service-hour years).
	MinYear = 1949
	MaxYear = 2200
	// MaxPopulation bounds head counts (resident population, league
	// members): more than any country.
	MaxPopulation = 10_000_000_000
)

func validRegionCode(c string) bool {
	if len(c) != 6 || !provinceCodes[c[:2]] {
		return false
	}
	for i := 0; i < 6; i++ {
		if c[i] < '0' || c[i] > '9' {
			return false
		}
	}
	return true
}

// validContactPhone accepts mobile numbers and landlines such as 0753-2188888.
func validContactPhone(p string) bool {
	if len(p) < 7 || len(p) > 20 {
		return false
	}
	for i := 0; i < len(p); i++ {
		if c := p[i]; (c < '0' || c > '9') && c != '-' && c != '+' && c != ' ' {
			return false
		}
	}
	return true
}

func ValidName(field, name string, max int) error {
	if strings.TrimSpace(name) == "" {
		return Invalid(field, "required")
	}
	if !utf8.ValidString(name) || utf8.RuneCountInString(name) > max {
		return Invalid(field, fmt.Sprintf("must be valid UTF-8 of at most %d characters", max))
	}
	return nil
}

func (s *Service) sealContact(field, purpose string, c *Contact) error {
	c.Name = strings.TrimSpace(c.Name)
	if utf8.RuneCountInString(c.Name) > 50 || !utf8.ValidString(c.Name) {
		return Invalid(field+".name", "at most 50 characters")
	}
	c.Position = strings.TrimSpace(c.Position)
	if utf8.RuneCountInString(c.Position) > 50 || !utf8.ValidString(c.Position) {
		return Invalid(field+".position", "at most 50 characters")
	}
	p := strings.TrimSpace(c.Phone.Reveal())
	if p != "" && !validContactPhone(p) {
		return Invalid(field+".phone", "not a phone number")
	}
	c.Phone = pii.Phone(p)
	sealed, err := s.keys.Seal(purpose, p)
	if err != nil {
		return fmt.Errorf("seal %s phone: %w", field, err)
	}
	c.PhoneSealed = sealed
	return nil
}

func (s *Service) openContact(purpose string, c *Contact) error {
	p, err := s.keys.Open(purpose, c.PhoneSealed)
	if err != nil {
		return err
	}
	c.Phone = pii.Phone(p)
	return nil
}

// OpenOrg decrypts o's contact phones (responsible person and liaison)
// in place, for reports that list them.
func (s *Service) OpenOrg(o *Org) error {
	if err := s.openContact(purposeResponsible, &o.Responsible); err != nil {
		return fmt.Errorf("org %d: %w", o.ID, err)
	}
	if err := s.openContact(purposeLiaison, &o.Liaison); err != nil {
		return fmt.Errorf("org %d: %w", o.ID, err)
	}
	return nil
}

// CreateOrg creates an organisation under in.ParentID. Province admins (and
// the system actor) may create anywhere, including the root province; org
// admins only inside their subtree. Duplicate names under one parent are a
// *ConflictError.
func (s *Service) CreateOrg(ctx context.Context, a Actor, in NewOrg) (Org, error) {
	if err := RequireRole(a, RoleProvinceAdmin, RoleSystem, RoleOrgAdmin); err != nil {
		return Org{}, err
	}
	in.Name = strings.TrimSpace(in.Name)
	if err := ValidName("name", in.Name, 100); err != nil {
		return Org{}, err
	}
	if !in.Kind.Valid() {
		return Org{}, Invalid("kind", "must be province, city, county, university or unit")
	}
	if in.RegionCode != "" && !validRegionCode(in.RegionCode) {
		return Org{}, Invalid("region_code", "must be a six-digit GB/T 2260 code")
	}
	switch {
	case in.ResidentPopulation < 0 || in.ResidentPopulation > MaxPopulation:
		return Org{}, Invalid("resident_population", fmt.Sprintf("must be 0–%d", MaxPopulation))
	case in.LeagueMembers < 0 || in.LeagueMembers > MaxPopulation:
		return Org{}, Invalid("league_members", fmt.Sprintf("must be 0–%d", MaxPopulation))
	case in.PopulationYear != 0 && (in.PopulationYear < MinYear || in.PopulationYear > MaxYear):
		return Org{}, Invalid("population_year", fmt.Sprintf("must be a year %d–%d, or 0 when unknown", MinYear, MaxYear))
	}
	if (in.ParentID == 0) != (in.Kind == OrgProvince) {
		return Org{}, Invalid("parent_id", "the province is the only root and has no parent")
	}
	if in.ParentID < 0 {
		return Org{}, Invalid("parent_id", "must be positive")
	}
	o := Org{
		ParentID: in.ParentID, Kind: in.Kind, Name: in.Name, RegionCode: in.RegionCode,
		ResidentPopulation: in.ResidentPopulation, PopulationYear: in.PopulationYear,
		LeagueMembers: in.LeagueMembers, Responsible: in.Responsible, Liaison: in.Liaison,
		CreatedAt: s.clock.Now(),
	}
	if err := s.sealContact("responsible", purposeResponsible, &o.Responsible); err != nil {
		return Org{}, err
	}
	if err := s.sealContact("liaison", purposeLiaison, &o.Liaison); err != nil {
		return Org{}, err
	}
	sc, err := s.Scope(ctx, a)
	if err != nil {
		return Org{}, err
	}
	err = s.store.InTx(ctx, func(ctx context.Context) error {
		if in.ParentID == 0 {
			if a.Role == RoleOrgAdmin {
				return fmt.Errorf("%w: org admins cannot create roots", ErrForbidden)
			}
		} else if _, err := s.store.GetOrg(ctx, in.ParentID, sc); err != nil {
			if isNotFound(err) {
				return Invalid("parent_id", "no such organisation")
			}
			return err
		}
		return s.store.CreateOrg(ctx, &o)
	})
	if err != nil {
		return Org{}, fmt.Errorf("create org: %w", err)
	}
	return o, nil
}

// GetOrg returns an organisation inside the actor's scope, else ErrNotFound.
func (s *Service) GetOrg(ctx context.Context, a Actor, id int64) (Org, error) {
	sc, err := s.Scope(ctx, a)
	if err != nil {
		return Org{}, err
	}
	o, err := s.store.GetOrg(ctx, id, sc)
	if err != nil {
		return Org{}, fmt.Errorf("get org %d: %w", id, err)
	}
	if err := s.OpenOrg(&o); err != nil {
		return Org{}, err
	}
	return o, nil
}

// FindOrg returns the organisation named name directly under parentID (0:
// the root) if it is inside the actor's scope.
func (s *Service) FindOrg(ctx context.Context, a Actor, parentID int64, name string) (Org, error) {
	sc, err := s.Scope(ctx, a)
	if err != nil {
		return Org{}, err
	}
	o, err := s.store.FindOrg(ctx, parentID, strings.TrimSpace(name))
	if err != nil {
		return Org{}, fmt.Errorf("find org: %w", err)
	}
	if !sc.Contains(o.Path, "") {
		return Org{}, fmt.Errorf("find org: %w", ErrNotFound)
	}
	if err := s.OpenOrg(&o); err != nil {
		return Org{}, err
	}
	return o, nil
}

// Branch returns a branch with its contact phone opened, unscoped: for
// features that show the branch serving something the actor may see.
func (s *Service) Branch(ctx context.Context, id int64) (Branch, error) {
	br, err := s.store.GetBranch(ctx, id)
	if err != nil {
		return Branch{}, err
	}
	if err := s.openContact(purposeBranchContact, &br.Contact); err != nil {
		return Branch{}, fmt.Errorf("branch %d: %w", id, err)
	}
	return br, nil
}
