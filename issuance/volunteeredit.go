package issuance

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/volcard/volcard/pii"
)

// VolunteerPatch is the input of Service.UpdateVolunteer: nil fields are
// kept.
type VolunteerPatch struct {
	Phone *string
	OrgID *int64
	// Name corrects the legal name; NameReason is then required (why: a
	// typo at registration, a changed name with its document).
	Name       *string
	NameReason string
	// EmbossName, when set with or without Name, replaces the name on the
	// card; a new Name without one derives it (pinyin).
	EmbossName *string
}

// VolunteerUpdater writes a volunteer's editable fields.
type VolunteerUpdater interface {
	// UpdateVolunteer writes v's name, emboss name, sealed phone,
	// organisation and its path; an organisation change moves what the
	// volunteer adds to the targets counters along. Unknown ids are
	// ErrNotFound.
	UpdateVolunteer(ctx context.Context, v *Volunteer) error
}

// UpdateVolunteer edits a volunteer the actor sees (VolunteerScope): the
// phone, the organisation (to one inside the actor's scope; province and
// organisation admins only) and a name correction with its reason. In the
// same transaction it records an audit event (fields changed, the reason;
// no values) and, when the name or the phone changed and the volunteer
// holds a card at a bank, queues a holder_update request to that bank per
// application with a live card (a 0300 change without ST, sent with the
// data current when it leaves). Roles: province_admin, org_admin,
// bank_staff (their bank's holders; phone and name only), system.
func (s *Service) UpdateVolunteer(ctx context.Context, a Actor, id int64, p VolunteerPatch) (Volunteer, error) {
	if err := RequireRole(a, RoleProvinceAdmin, RoleOrgAdmin, RoleBankStaff, RoleSystem); err != nil {
		return Volunteer{}, err
	}
	if p.Phone == nil && p.OrgID == nil && p.Name == nil && p.EmbossName == nil {
		return Volunteer{}, Invalid("body", "nothing to change")
	}
	if p.OrgID != nil && a.Role == RoleBankStaff {
		return Volunteer{}, fmt.Errorf("%w: bank staff do not move volunteers between organisations", ErrForbidden)
	}
	p.NameReason = strings.TrimSpace(p.NameReason)
	switch {
	case p.Phone != nil && !ValidMobile(strings.TrimSpace(*p.Phone)):
		return Volunteer{}, Invalid("phone", "must be an 11-digit mobile number")
	case p.OrgID != nil && *p.OrgID <= 0:
		return Volunteer{}, Invalid("org_id", "must be positive")
	case p.Name != nil && p.NameReason == "":
		return Volunteer{}, Invalid("name_reason", "required for a name correction")
	case !utf8.ValidString(p.NameReason) || utf8.RuneCountInString(p.NameReason) > 200:
		return Volunteer{}, Invalid("name_reason", "at most 200 characters")
	case p.Name == nil && p.NameReason != "":
		return Volunteer{}, Invalid("name_reason", "only with a name correction")
	}
	if p.Name != nil {
		n := strings.TrimSpace(*p.Name)
		if err := ValidName("name", n, 50); err != nil {
			return Volunteer{}, err
		}
		p.Name = &n
	}
	if p.EmbossName != nil {
		e := strings.ToUpper(strings.TrimSpace(*p.EmbossName))
		if !ValidEmbossName(e) {
			return Volunteer{}, Invalid("emboss_name", "must be 1–26 characters A–Z and single spaces")
		}
		p.EmbossName = &e
	}
	vsc, err := s.VolunteerScope(ctx, a)
	if err != nil {
		return Volunteer{}, err
	}
	osc, err := s.Scope(ctx, a)
	if err != nil {
		return Volunteer{}, err
	}
	osc.BankCode = ""
	var out Volunteer
	err = s.store.InTx(ctx, func(ctx context.Context) error {
		v, err := s.store.GetVolunteer(ctx, id, vsc)
		if err != nil {
			return err
		}
		if err := s.openVolunteer(&v); err != nil {
			return err
		}
		var changed, bank []string
		if p.Phone != nil && strings.TrimSpace(*p.Phone) != v.Phone.Reveal() {
			v.Phone = pii.Phone(strings.TrimSpace(*p.Phone))
			if v.PhoneSealed, err = s.keys.Seal(purposeVolunteerPhone, v.Phone.Reveal()); err != nil {
				return fmt.Errorf("seal phone: %w", err)
			}
			changed, bank = append(changed, "phone"), append(bank, "phone")
		}
		if p.Name != nil && *p.Name != v.Name {
			v.Name = *p.Name
			changed, bank = append(changed, "name"), append(bank, "name")
			if p.EmbossName == nil {
				e := EmbossName(v.Name)
				if e == "" {
					return Invalid("emboss_name", "cannot be derived from the name; give one")
				}
				p.EmbossName = &e
			}
		}
		if p.EmbossName != nil && *p.EmbossName != v.EmbossName {
			v.EmbossName = *p.EmbossName
			changed = append(changed, "emboss_name")
			if len(bank) == 0 || bank[len(bank)-1] != "name" {
				bank = append(bank, "name")
			}
		}
		if p.OrgID != nil && *p.OrgID != v.OrgID {
			o, err := s.store.GetOrg(ctx, *p.OrgID, osc)
			if err != nil {
				if isNotFound(err) {
					return Invalid("org_id", "no such organisation")
				}
				return err
			}
			changed = append(changed, fmt.Sprintf("org %d→%d", v.OrgID, o.ID))
			v.OrgID, v.OrgPath = o.ID, o.Path
		}
		out = v
		if len(changed) == 0 {
			return nil
		}
		// The store writes volunteer.updated to the feed (the fields'
		// names), in this transaction.
		if err := s.store.UpdateVolunteer(ctx, &v); err != nil {
			return err
		}
		detail := changedFields(changed)
		if p.NameReason != "" && p.Name != nil {
			detail += "; reason: " + p.NameReason
		}
		if len(bank) > 0 {
			n, err := s.queueHolderUpdates(ctx, v.ID, bank)
			if err != nil {
				return err
			}
			if n > 0 {
				detail += fmt.Sprintf("; sent to the bank (%d)", n)
			}
		}
		return s.audit(ctx, a, AuditVolunteerUpdated, "volunteer", strconv.FormatInt(v.ID, 10), v.OrgPath, detail)
	})
	if err != nil {
		return Volunteer{}, fmt.Errorf("update volunteer %d: %w", id, err)
	}
	return out, nil
}

// queueHolderUpdates writes a holder_update request for each application
// of the volunteer whose current card the bank holds (issued, active or
// blocked), and returns how many.
func (s *Service) queueHolderUpdates(ctx context.Context, volunteerID int64, fields []string) (int, error) {
	cards, err := s.store.CardsOfVolunteer(ctx, volunteerID)
	if err != nil {
		return 0, err
	}
	seen := map[int64]bool{}
	n := 0
	for _, c := range cards {
		switch c.State {
		case BankCardIssued, BankCardActive, BankCardBlocked:
		default:
			continue
		}
		if seen[c.ApplicationID] {
			continue
		}
		seen[c.ApplicationID] = true
		if s.outbox == nil {
			return 0, errors.New("issuance: the volunteer holds a bank card but no bank outbox is configured")
		}
		app, err := s.store.GetApplication(ctx, c.ApplicationID, Scope{})
		if err != nil {
			return 0, err
		}
		payload, err := json.Marshal(HolderUpdate{VolunteerID: volunteerID, Fields: fields})
		if err != nil {
			return 0, err
		}
		if err := s.outbox.EnqueueBankRequest(ctx, NewBankRequest{ApplicationID: app.ID, ApplicationNumber: app.Number,
			Kind: BankHolderUpdate, Payload: payload, At: s.clock.Now()}); err != nil {
			return 0, fmt.Errorf("enqueue holder update: %w", err)
		}
		n++
	}
	return n, nil
}
