package store

import (
	"time"

	"github.com/volcard/volcard/issuance"
)

// Row types map tables to GORM; they never leave the package.

type orgRow struct {
	ID                  int64 `gorm:"primaryKey"`
	ParentID            *int64
	Kind                string
	Name                string
	RegionCode          string
	Path                string
	ResidentPopulation  int64
	PopulationYear      int
	LeagueMembers       int64
	ResponsibleName     string
	ResponsiblePosition string
	ResponsiblePhone    []byte
	LiaisonName         string
	LiaisonPosition     string
	LiaisonPhone        []byte
	InstantIssuance     bool
	CreatedAt           time.Time
}

func (orgRow) TableName() string { return "orgs" }

func orgToRow(o *issuance.Org) orgRow {
	r := orgRow{
		ID: o.ID, Kind: string(o.Kind), Name: o.Name, RegionCode: o.RegionCode, Path: o.Path,
		ResidentPopulation: o.ResidentPopulation, PopulationYear: o.PopulationYear, LeagueMembers: o.LeagueMembers,
		ResponsibleName: o.Responsible.Name, ResponsiblePosition: o.Responsible.Position, ResponsiblePhone: o.Responsible.PhoneSealed,
		LiaisonName: o.Liaison.Name, LiaisonPosition: o.Liaison.Position, LiaisonPhone: o.Liaison.PhoneSealed,
		InstantIssuance: o.InstantIssuance, CreatedAt: o.CreatedAt.UTC(),
	}
	if o.ParentID != 0 {
		p := o.ParentID
		r.ParentID = &p
	}
	return r
}

func (r orgRow) domain() issuance.Org {
	o := issuance.Org{
		ID: r.ID, Kind: issuance.OrgKind(r.Kind), Name: r.Name, RegionCode: r.RegionCode, Path: r.Path,
		ResidentPopulation: r.ResidentPopulation, PopulationYear: r.PopulationYear, LeagueMembers: r.LeagueMembers,
		Responsible:     issuance.Contact{Name: r.ResponsibleName, Position: r.ResponsiblePosition, PhoneSealed: r.ResponsiblePhone},
		Liaison:         issuance.Contact{Name: r.LiaisonName, Position: r.LiaisonPosition, PhoneSealed: r.LiaisonPhone},
		InstantIssuance: r.InstantIssuance,
		CreatedAt:       r.CreatedAt.UTC(),
	}
	if r.ParentID != nil {
		o.ParentID = *r.ParentID
	}
	return o
}

type bankRow struct {
	Code string `gorm:"primaryKey"`
	Name string
}

func (bankRow) TableName() string { return "banks" }

type productRow struct {
	Code     string `gorm:"primaryKey"`
	Name     string
	BankCode string
	BIN      string `gorm:"column:bin"`
	AID      string `gorm:"column:aid"`
	Kind     string
	OrgID    int64
	OrgPath  string
}

func (productRow) TableName() string { return "products" }

func (r productRow) domain() issuance.Product {
	return issuance.Product{Code: r.Code, Name: r.Name, BankCode: r.BankCode, BIN: r.BIN, AID: r.AID,
		Kind: issuance.CardKind(r.Kind), OrgID: r.OrgID, OrgPath: r.OrgPath}
}

type branchRow struct {
	ID              int64 `gorm:"primaryKey"`
	BankCode        string
	OrgID           int64
	OrgPath         string
	Name            string
	ContactName     string
	ContactPosition string
	ContactPhone    []byte
}

func (branchRow) TableName() string { return "branches" }

func (r branchRow) domain() issuance.Branch {
	return issuance.Branch{ID: r.ID, BankCode: r.BankCode, OrgID: r.OrgID, OrgPath: r.OrgPath, Name: r.Name,
		Contact: issuance.Contact{Name: r.ContactName, Position: r.ContactPosition, PhoneSealed: r.ContactPhone}}
}

type volunteerRow struct {
	ID              int64 `gorm:"primaryKey"`
	OrgID           int64
	OrgPath         string
	Name            string
	EmbossName      string
	IDType          string `gorm:"column:id_type"`
	IDNumberEnc     []byte `gorm:"column:id_number_enc"`
	IDNumberIdx     []byte `gorm:"column:id_number_idx"`
	Gender          string
	BirthDate       *time.Time
	PhoneEnc        []byte
	LeagueMember    bool
	PartyMember     bool
	ClothingSize    string
	Source          string
	VolunteerNumber string
	CreatedAt       time.Time
}

func (volunteerRow) TableName() string { return "volunteers" }

func volunteerToRow(v *issuance.Volunteer) volunteerRow {
	r := volunteerRow{
		ID: v.ID, OrgID: v.OrgID, OrgPath: v.OrgPath, Name: v.Name, EmbossName: v.EmbossName,
		IDType: string(v.IDType), IDNumberEnc: v.IDNumberSealed, IDNumberIdx: v.IDNumberIndex,
		Gender: string(v.Gender), PhoneEnc: v.PhoneSealed, LeagueMember: v.LeagueMember,
		PartyMember: v.PartyMember, ClothingSize: string(v.ClothingSize), Source: string(v.Source),
		VolunteerNumber: v.VolunteerNumber, CreatedAt: v.CreatedAt.UTC(),
	}
	if !v.BirthDate.IsZero() {
		b := v.BirthDate.UTC()
		r.BirthDate = &b
	}
	return r
}

func (r volunteerRow) domain() issuance.Volunteer {
	v := issuance.Volunteer{
		ID: r.ID, OrgID: r.OrgID, OrgPath: r.OrgPath, Name: r.Name, EmbossName: r.EmbossName,
		IDType: issuance.IDType(r.IDType), Gender: issuance.Gender(r.Gender), LeagueMember: r.LeagueMember,
		PartyMember: r.PartyMember, ClothingSize: issuance.ClothingSize(r.ClothingSize),
		Source: issuance.Channel(r.Source), VolunteerNumber: r.VolunteerNumber, CreatedAt: r.CreatedAt.UTC(),
		IDNumberSealed: r.IDNumberEnc, IDNumberIndex: r.IDNumberIdx, PhoneSealed: r.PhoneEnc,
	}
	if r.BirthDate != nil {
		y, m, d := r.BirthDate.Date()
		v.BirthDate = time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
	}
	return v
}

type applicationRow struct {
	ID          int64 `gorm:"primaryKey"`
	Number      string
	VolunteerID int64
	OrgID       int64
	OrgPath     string
	ProductCode string
	BankCode    string
	Channel     string
	Status      string
	Reason      string
	Version     int64
	CreatedAt   time.Time
	UpdatedAt   time.Time
}

func (applicationRow) TableName() string { return "applications" }

func applicationToRow(a *issuance.Application) applicationRow {
	return applicationRow{
		ID: a.ID, Number: a.Number, VolunteerID: a.VolunteerID, OrgID: a.OrgID, OrgPath: a.OrgPath,
		ProductCode: a.ProductCode, BankCode: a.BankCode, Channel: string(a.Channel), Status: string(a.Status),
		Reason: a.Reason, Version: a.Version, CreatedAt: a.CreatedAt.UTC(), UpdatedAt: a.UpdatedAt.UTC(),
	}
}

func (r applicationRow) domain() issuance.Application {
	return issuance.Application{
		ID: r.ID, Number: r.Number, VolunteerID: r.VolunteerID, OrgID: r.OrgID, OrgPath: r.OrgPath,
		ProductCode: r.ProductCode, BankCode: r.BankCode, Channel: issuance.Channel(r.Channel),
		Status: issuance.Status(r.Status), Reason: r.Reason, Version: r.Version,
		CreatedAt: r.CreatedAt.UTC(), UpdatedAt: r.UpdatedAt.UTC(),
	}
}

type eventRow struct {
	ID            int64 `gorm:"primaryKey"`
	ApplicationID int64
	FromStatus    string
	ToStatus      string
	ActorTokenID  int64
	ActorRole     string
	Channel       string
	Reason        string
	At            time.Time
}

func (eventRow) TableName() string { return "application_events" }

func (r eventRow) domain() issuance.Event {
	return issuance.Event{
		ID: r.ID, ApplicationID: r.ApplicationID, From: issuance.Status(r.FromStatus), To: issuance.Status(r.ToStatus),
		ActorTokenID: r.ActorTokenID, ActorRole: issuance.Role(r.ActorRole), Channel: issuance.Channel(r.Channel),
		Reason: r.Reason, At: r.At.UTC(),
	}
}

type tokenRow struct {
	ID        int64 `gorm:"primaryKey"`
	Name      string
	Role      string
	OrgID     int64
	BankCode  string
	BranchID  int64
	ScopePath string
	Hash      []byte
	Hint      string
	CreatedAt time.Time
	RevokedAt *time.Time
	ExpiresAt *time.Time
}

func (tokenRow) TableName() string { return "api_tokens" }

func (r tokenRow) domain() issuance.Token {
	t := issuance.Token{
		ID: r.ID, Name: r.Name, Role: issuance.Role(r.Role), OrgID: r.OrgID, BankCode: r.BankCode,
		BranchID: r.BranchID, ScopePath: r.ScopePath, Hash: r.Hash, Hint: r.Hint, CreatedAt: r.CreatedAt.UTC(),
	}
	if r.RevokedAt != nil {
		t.RevokedAt = r.RevokedAt.UTC()
	}
	if r.ExpiresAt != nil {
		t.ExpiresAt = r.ExpiresAt.UTC()
	}
	return t
}
