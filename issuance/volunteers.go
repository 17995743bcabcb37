package issuance

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/volcard/volcard/pii"
)

// ValidMobile reports whether p is a mainland mobile number: 11 digits
// starting 1[3-9].
func ValidMobile(p string) bool {
	if len(p) != 11 || p[0] != '1' || p[1] < '3' || p[1] > '9' {
		return false
	}
	for i := 2; i < 11; i++ {
		if p[i] < '0' || p[i] > '9' {
			return false
		}
	}
	return true
}

// NormalizeIDNumber trims and upper-cases an ID number, the form that is
// indexed and stored.
func NormalizeIDNumber(s string) string { return strings.ToUpper(strings.TrimSpace(s)) }

// validOtherID accepts passport and permit numbers: 5–20 letters and digits.
func validOtherID(s string) bool {
	if len(s) < 5 || len(s) > 20 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if (c < '0' || c > '9') && (c < 'A' || c > 'Z') {
			return false
		}
	}
	return true
}

// earliestBirth is the earliest birth date accepted.
var earliestBirth = time.Date(1900, 1, 1, 0, 0, 0, 0, time.UTC)

// checkBirthDate validates the given birth date (YYYY-MM-DD) against v:
// required for a non-resident ID type (v.BirthDate is then set from it), for
// a resident ID optional and equal to the date in the number when given. A
// date must exist, lie in 1900 or later and not after today (Beijing). The
// age rule (Service.MinAge) applies when applying for a card, as for
// residents.
func checkBirthDate(v *Volunteer, given string, now time.Time) error {
	given = strings.TrimSpace(given)
	if given == "" {
		if v.BirthDate.IsZero() {
			return Invalid("birth_date", "required for "+string(v.IDType)+" (YYYY-MM-DD)")
		}
		return nil
	}
	d, err := time.Parse(time.DateOnly, given)
	if err != nil {
		return Invalid("birth_date", "must be a real date YYYY-MM-DD")
	}
	y, m, day := now.In(ChinaTime).Date()
	if d.After(time.Date(y, m, day, 0, 0, 0, 0, time.UTC)) {
		return Invalid("birth_date", "must not be in the future")
	}
	if d.Before(earliestBirth) {
		return Invalid("birth_date", "must be 1900-01-01 or later")
	}
	if !v.BirthDate.IsZero() {
		if !v.BirthDate.Equal(d) {
			return Invalid("birth_date", "does not agree with the birth date in the ID number")
		}
		return nil
	}
	v.BirthDate = d
	return nil
}

// IDIndex is the blind index of a normalised ID number.
func (s *Service) IDIndex(normalized string) []byte {
	return s.keys.Index(indexIDNumber, normalized)
}

// ValidateVolunteer checks and normalises in and returns the volunteer to store.
func (s *Service) ValidateVolunteer(in NewVolunteer, now time.Time) (Volunteer, error) {
	v := Volunteer{
		OrgID: in.OrgID, Name: strings.TrimSpace(in.Name), IDType: in.IDType,
		LeagueMember: in.LeagueMember, PartyMember: in.PartyMember,
		ClothingSize: ClothingSize(strings.ToUpper(strings.TrimSpace(string(in.ClothingSize)))),
		Source:       in.Source, VolunteerNumber: strings.TrimSpace(in.VolunteerNumber),
		CreatedAt: now,
	}
	if v.OrgID <= 0 {
		return v, Invalid("org_id", "required")
	}
	if err := ValidName("name", v.Name, 50); err != nil {
		return v, err
	}
	if v.IDType == "" {
		v.IDType = IDResident
	}
	if !v.IDType.Valid() {
		return v, Invalid("id_type", "unknown ID type")
	}
	num := NormalizeIDNumber(in.IDNumber)
	if v.IDType == IDResident {
		rid, err := ParseResidentID(num, now)
		if err != nil {
			return v, err
		}
		num, v.BirthDate, v.Gender = rid.Number, rid.BirthDate, rid.Gender
	} else if !validOtherID(num) {
		return v, Invalid("id_number", "must be 5–20 letters and digits")
	}
	if err := checkBirthDate(&v, in.BirthDate, now); err != nil {
		return v, err
	}
	v.IDNumber = pii.IDNumber(num)
	phone := strings.TrimSpace(in.Phone)
	if !ValidMobile(phone) {
		return v, Invalid("phone", "must be an 11-digit mobile number")
	}
	v.Phone = pii.Phone(phone)
	if v.ClothingSize == "" {
		v.ClothingSize = SizeM
	}
	if !v.ClothingSize.Valid() {
		return v, Invalid("clothing_size", "must be one of XS, S, M, L, XL, XXL, XXXL")
	}
	if v.Source == "" {
		// Internal loads (the demo seed, bulk volunteers, the platform's
		// exports) are the platform's records; RegisterVolunteer fills in
		// the registering role's channel before this.
		v.Source = ChannelPlatform
	}
	if !v.Source.ValidVolunteerSource() {
		return v, Invalid("source", "must be platform, online, branch, on_site or console")
	}
	if len(v.VolunteerNumber) > 32 {
		return v, Invalid("volunteer_number", "at most 32 characters")
	}
	if e := strings.ToUpper(strings.TrimSpace(in.EmbossName)); e != "" {
		if !ValidEmbossName(e) {
			return v, Invalid("emboss_name", "must be 1–26 characters A–Z and single spaces")
		}
		v.EmbossName = e
	} else if v.EmbossName = EmbossName(v.Name); v.EmbossName == "" {
		return v, Invalid("emboss_name", "cannot be derived from the name; give one")
	}
	return v, nil
}

// SealVolunteer encrypts v's ID number and phone and sets the blind index
// of the ID number; the plaintext never reaches storage.
func (s *Service) SealVolunteer(v *Volunteer) error {
	var err error
	num := v.IDNumber.Reveal()
	if v.IDNumberSealed, err = s.keys.Seal(purposeIDNumber, num); err != nil {
		return fmt.Errorf("seal id number: %w", err)
	}
	v.IDNumberIndex = s.IDIndex(num)
	if v.PhoneSealed, err = s.keys.Seal(purposeVolunteerPhone, v.Phone.Reveal()); err != nil {
		return fmt.Errorf("seal phone: %w", err)
	}
	return nil
}

func (s *Service) openVolunteer(v *Volunteer) error {
	num, err := s.keys.Open(purposeIDNumber, v.IDNumberSealed)
	if err != nil {
		return fmt.Errorf("volunteer %d: %w", v.ID, err)
	}
	phone, err := s.keys.Open(purposeVolunteerPhone, v.PhoneSealed)
	if err != nil {
		return fmt.Errorf("volunteer %d: %w", v.ID, err)
	}
	v.IDNumber, v.Phone = pii.IDNumber(num), pii.Phone(phone)
	return nil
}

// RegisterVolunteer validates and registers a volunteer in an org inside the
// actor's scope. The ID number is validated (GB 11643-1999 for resident
// IDs), the emboss name derived when absent, ID number and phone encrypted.
// A second volunteer with the same ID number is a *ConflictError
// ("id_number"). Roles: province_admin, org_admin, bank_staff, platform.
func (s *Service) RegisterVolunteer(ctx context.Context, a Actor, in NewVolunteer) (Volunteer, error) {
	if err := RequireRole(a, RoleProvinceAdmin, RoleOrgAdmin, RoleBankStaff, RolePlatform, RoleSystem); err != nil {
		return Volunteer{}, err
	}
	switch {
	case a.Role == RoleSystem:
	case in.Source == "":
		in.Source = a.Role.Channel()
	case in.Source == ChannelPlatform && a.Role != RolePlatform:
		// The platform sees in full the people it supplied (source
		// platform): nobody else may claim that for a record.
		return Volunteer{}, Invalid("source", "only the platform registers volunteers of source platform")
	}
	v, err := s.ValidateVolunteer(in, s.clock.Now())
	if err != nil {
		return Volunteer{}, err
	}
	if err := s.SealVolunteer(&v); err != nil {
		return Volunteer{}, err
	}
	sc, err := s.Scope(ctx, a)
	if err != nil {
		return Volunteer{}, err
	}
	sc.BankCode = ""
	err = s.store.InTx(ctx, func(ctx context.Context) error {
		o, err := s.store.GetOrg(ctx, v.OrgID, sc)
		if err != nil {
			if isNotFound(err) {
				return Invalid("org_id", "no such organisation")
			}
			return err
		}
		v.OrgPath = o.Path
		return s.store.CreateVolunteer(ctx, &v)
	})
	if err != nil {
		return Volunteer{}, fmt.Errorf("register volunteer: %w", err)
	}
	return v, nil
}

// GetVolunteer returns a volunteer the actor sees (volunteerScope), else
// ErrNotFound.
func (s *Service) GetVolunteer(ctx context.Context, a Actor, id int64) (Volunteer, error) {
	sc, err := s.VolunteerScope(ctx, a)
	if err != nil {
		return Volunteer{}, err
	}
	v, err := s.store.GetVolunteer(ctx, id, sc)
	if err != nil {
		return Volunteer{}, fmt.Errorf("get volunteer %d: %w", id, err)
	}
	if err := s.openVolunteer(&v); err != nil {
		return Volunteer{}, err
	}
	return v, nil
}

// FindVolunteerByIDNumber looks a volunteer up by ID number through the
// blind index (exact match after trimming and upper-casing), inside the
// actor's organisation scope. Bank staff reach here everyone in their
// branch's city, not only their bank's holders: the person stands at the
// counter with the ID card, and the branch applies for people registered
// elsewhere (registering them again would be a conflict anyway). Whether
// the answer shows ID number and phone in full is RevealsPII's.
func (s *Service) FindVolunteerByIDNumber(ctx context.Context, a Actor, idNumber string) (Volunteer, error) {
	sc, err := s.Scope(ctx, a)
	if err != nil {
		return Volunteer{}, err
	}
	sc.BankCode = ""
	num := NormalizeIDNumber(idNumber)
	if num == "" {
		return Volunteer{}, Invalid("id_number", "required")
	}
	v, err := s.store.FindVolunteerByIndex(ctx, s.IDIndex(num), sc)
	if err != nil {
		return Volunteer{}, fmt.Errorf("find volunteer: %w", err)
	}
	if err := s.openVolunteer(&v); err != nil {
		return Volunteer{}, err
	}
	return v, nil
}

// SentToPlatform reports whether a newly registered volunteer is to be
// registered on the provincial platform by the issuer: people registered at
// a bank branch or on site who have no platform number yet (the 2017
// notice: the issuer enters them into the platform after verification).
// Storage writes the platform request in the transaction that registers
// such a volunteer (issuance/platformlink drains it).
func SentToPlatform(v Volunteer) bool {
	return (v.Source == ChannelBranch || v.Source == ChannelOnSite) && v.VolunteerNumber == ""
}

// ValidPlatformNumber reports whether s can be a volunteer number of the
// platform: 1–32 characters A–Z, a–z, 0–9 and '-'.
func ValidPlatformNumber(s string) bool {
	if len(s) == 0 || len(s) > 32 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if (c < '0' || c > '9') && (c < 'A' || c > 'Z') && (c < 'a' || c > 'z') && c != '-' {
			return false
		}
	}
	return true
}
