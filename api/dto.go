package api

import (
	"time"

	"github.com/volcard/volcard/issuance"
	"github.com/volcard/volcard/pii"
)

// Request and response bodies. Field names are the API's; they are mapped
// to and from issuance types explicitly, so renaming a domain field never
// changes the API silently.

type contactJSON struct {
	Name     string `json:"name"`
	Position string `json:"position,omitempty"`
	Phone    string `json:"phone"`
}

// contact checks a contact of a request (field: its JSON name) and makes
// the domain value.
func (c contactJSON) contact(field string) (issuance.Contact, error) {
	for _, f := range []struct {
		name, v string
		max     int
	}{{field + ".name", c.Name, 50}, {field + ".position", c.Position, 50}, {field + ".phone", c.Phone, 20}} {
		if err := checkText(f.name, f.v, f.max, false); err != nil {
			return issuance.Contact{}, err
		}
	}
	return issuance.Contact{Name: c.Name, Position: c.Position, Phone: pii.Phone(c.Phone)}, nil
}

// toContact shows a contact with its phone masked.
func toContact(c issuance.Contact) contactJSON {
	return contactJSON{Name: c.Name, Position: c.Position, Phone: c.Phone.Masked()}
}

type newOrgRequest struct {
	ParentID           int64       `json:"parent_id"`
	Kind               string      `json:"kind"`
	Name               string      `json:"name"`
	RegionCode         string      `json:"region_code"`
	ResidentPopulation int64       `json:"resident_population"`
	PopulationYear     int         `json:"population_year"`
	LeagueMembers      int64       `json:"league_members"`
	Responsible        contactJSON `json:"responsible"`
	Liaison            contactJSON `json:"liaison"`
}

type orgResponse struct {
	ID                 int64       `json:"id"`
	ParentID           int64       `json:"parent_id"`
	Kind               string      `json:"kind"`
	Name               string      `json:"name"`
	RegionCode         string      `json:"region_code,omitempty"`
	Path               string      `json:"path"`
	ResidentPopulation int64       `json:"resident_population"`
	PopulationYear     int         `json:"population_year,omitempty"`
	LeagueMembers      int64       `json:"league_members"`
	Responsible        contactJSON `json:"responsible"`
	Liaison            contactJSON `json:"liaison"`
	InstantIssuance    bool        `json:"instant_issuance"`
	CreatedAt          time.Time   `json:"created_at"`
}

func toOrg(o issuance.Org) orgResponse {
	return orgResponse{
		ID: o.ID, ParentID: o.ParentID, Kind: string(o.Kind), Name: o.Name, RegionCode: o.RegionCode,
		Path: o.Path, ResidentPopulation: o.ResidentPopulation, PopulationYear: o.PopulationYear,
		LeagueMembers:   o.LeagueMembers,
		Responsible:     toContact(o.Responsible),
		Liaison:         toContact(o.Liaison),
		InstantIssuance: o.InstantIssuance,
		CreatedAt:       o.CreatedAt,
	}
}

type listResponse[T any] struct {
	Items      []T    `json:"items"`
	NextCursor string `json:"next_cursor,omitempty"`
}

type productResponse struct {
	Code  string `json:"code"`
	Name  string `json:"name"`
	Bank  string `json:"bank"`
	BIN   string `json:"bin"`
	AID   string `json:"aid"`
	Kind  string `json:"kind"`
	OrgID int64  `json:"org_id"`
}

func toProduct(p issuance.Product) productResponse {
	return productResponse{Code: p.Code, Name: p.Name, Bank: p.BankCode, BIN: p.BIN, AID: p.AID, Kind: string(p.Kind), OrgID: p.OrgID}
}

type newVolunteerRequest struct {
	Name            string `json:"name"`
	IDType          string `json:"id_type"`
	IDNumber        string `json:"id_number"`
	BirthDate       string `json:"birth_date"`
	Phone           string `json:"phone"`
	OrgID           int64  `json:"org_id"`
	LeagueMember    bool   `json:"league_member"`
	PartyMember     bool   `json:"party_member"`
	ClothingSize    string `json:"clothing_size"`
	EmbossName      string `json:"emboss_name"`
	Source          string `json:"source"`
	VolunteerNumber string `json:"volunteer_number"`
}

type volunteerResponse struct {
	ID              int64     `json:"id"`
	OrgID           int64     `json:"org_id"`
	Name            string    `json:"name"`
	EmbossName      string    `json:"emboss_name"`
	IDType          string    `json:"id_type"`
	IDNumber        string    `json:"id_number"`
	Masked          bool      `json:"id_number_masked"`
	Gender          string    `json:"gender,omitempty"`
	BirthDate       string    `json:"birth_date,omitempty"`
	Phone           string    `json:"phone"`
	LeagueMember    bool      `json:"league_member"`
	PartyMember     bool      `json:"party_member"`
	ClothingSize    string    `json:"clothing_size"`
	Source          string    `json:"source"`
	VolunteerNumber string    `json:"volunteer_number,omitempty"`
	CreatedAt       time.Time `json:"created_at"`
}

// toVolunteer shows v, with ID number and phone in full only when reveal
// (Service.RevealsPII).
func toVolunteer(v issuance.Volunteer, reveal bool) volunteerResponse {
	r := volunteerResponse{
		ID: v.ID, OrgID: v.OrgID, Name: v.Name, EmbossName: v.EmbossName, IDType: string(v.IDType),
		Gender: string(v.Gender), LeagueMember: v.LeagueMember, PartyMember: v.PartyMember,
		ClothingSize: string(v.ClothingSize), Source: string(v.Source), VolunteerNumber: v.VolunteerNumber,
		CreatedAt: v.CreatedAt,
	}
	if reveal {
		r.IDNumber, r.Phone = v.IDNumber.Reveal(), v.Phone.Reveal()
		if !v.BirthDate.IsZero() {
			r.BirthDate = v.BirthDate.Format(time.DateOnly)
		}
	} else {
		r.IDNumber, r.Phone, r.Masked = v.IDNumber.Masked(), v.Phone.Masked(), true
	}
	return r
}

type newApplicationRequest struct {
	VolunteerID int64  `json:"volunteer_id"`
	Product     string `json:"product"`
	Channel     string `json:"channel"`
}

type applicationResponse struct {
	ID          int64     `json:"id"`
	Number      string    `json:"number"`
	VolunteerID int64     `json:"volunteer_id"`
	OrgID       int64     `json:"org_id"`
	OrgName     string    `json:"org_name,omitempty"` // in lists only
	Product     string    `json:"product"`
	Bank        string    `json:"bank"`
	Channel     string    `json:"channel"`
	Status      string    `json:"status"`
	Reason      string    `json:"reason,omitempty"`
	Version     int64     `json:"version"`
	CreatedAt   time.Time `json:"created_at"`
	UpdatedAt   time.Time `json:"updated_at"`

	// VolunteerName is the applicant's name, in lists only (the staff
	// console's queue shows who applied, not a volunteer id).
	VolunteerName string `json:"volunteer_name,omitempty"`
}

func toApplication(a issuance.Application) applicationResponse {
	return applicationResponse{
		ID: a.ID, Number: a.Number, VolunteerID: a.VolunteerID, OrgID: a.OrgID, OrgName: a.OrgName, Product: a.ProductCode,
		Bank: a.BankCode, Channel: string(a.Channel), Status: string(a.Status), Reason: a.Reason,
		Version: a.Version, CreatedAt: a.CreatedAt, UpdatedAt: a.UpdatedAt, VolunteerName: a.VolunteerName,
	}
}

type eventResponse struct {
	ID           int64     `json:"id"`
	From         string    `json:"from"`
	To           string    `json:"to"`
	ActorRole    string    `json:"actor_role"`
	ActorTokenID int64     `json:"actor_token_id"`
	Channel      string    `json:"channel"`
	Reason       string    `json:"reason,omitempty"`
	At           time.Time `json:"at"`
}

func toEvent(e issuance.Event) eventResponse {
	return eventResponse{ID: e.ID, From: string(e.From), To: string(e.To), ActorRole: string(e.ActorRole),
		ActorTokenID: e.ActorTokenID, Channel: string(e.Channel), Reason: e.Reason, At: e.At}
}

type progressStep struct {
	Status string     `json:"status"`
	Done   bool       `json:"done"`
	At     *time.Time `json:"at,omitempty"`
}

type progressResponse struct {
	ApplicationNumber string         `json:"application_number"`
	Name              string         `json:"name"`
	Product           string         `json:"product"`
	Status            string         `json:"status"`
	Steps             []progressStep `json:"steps"`
	Next              string         `json:"next,omitempty"`
	UpdatedAt         time.Time      `json:"updated_at"`
}

func toProgress(p issuance.Progress) progressResponse {
	r := progressResponse{ApplicationNumber: p.ApplicationNumber, Name: p.MaskedName, Product: p.ProductCode,
		Status: string(p.Status), Next: string(p.Next), UpdatedAt: p.UpdatedAt, Steps: make([]progressStep, 0, len(p.Steps))}
	for _, st := range p.Steps {
		ps := progressStep{Status: string(st.Status), Done: st.Done}
		if !st.At.IsZero() {
			at := st.At
			ps.At = &at
		}
		r.Steps = append(r.Steps, ps)
	}
	return r
}
