package issuance

import (
	"time"

	"github.com/volcard/volcard/pii"
)

// OrgKind is the level of an organisation in the tree.
type OrgKind string

// Organisation kinds. The tree is province → city → county, with
// universities and units (league branches, companies) under any of them.
const (
	OrgProvince   OrgKind = "province"
	OrgCity       OrgKind = "city"
	OrgCounty     OrgKind = "county"
	OrgUniversity OrgKind = "university"
	OrgUnit       OrgKind = "unit"
)

// Valid reports whether k is a known kind.
func (k OrgKind) Valid() bool {
	switch k {
	case OrgProvince, OrgCity, OrgCounty, OrgUniversity, OrgUnit:
		return true
	}
	return false
}

// Contact is a named person with a phone: an organisation's responsible
// person or liaison, or a bank branch's contact.
type Contact struct {
	Name     string
	Position string     // 职务, e.g. 副书记; may be empty
	Phone    pii.Secret // plaintext in memory, masked when printed
	// PhoneSealed is Phone encrypted by the Service; storage adapters store
	// and return this and never read Phone.
	PhoneSealed []byte `json:"-"`
}

// Org is an organisation: the province, a city, a county, a university or a
// unit. Path is the materialised path of ids from the root, e.g. "/1/5/12/";
// scoping filters on it.
type Org struct {
	ID                 int64
	ParentID           int64 // 0 for the root
	Kind               OrgKind
	Name               string
	RegionCode         string // GB/T 2260, six digits; empty for universities and units
	Path               string
	ResidentPopulation int64 // people
	PopulationYear     int   // year the population figure refers to; 0 if unknown
	LeagueMembers      int64 // Communist Youth League members in the organisation
	Responsible        Contact
	Liaison            Contact
	// InstantIssuance lets bank staff approve a walk-in application they
	// made at their branch in this organisation's subtree
	// (Service.ApproveInstant). Set by the province admin.
	InstantIssuance bool
	CreatedAt       time.Time
}

// NewOrg is the input of Service.CreateOrg.
type NewOrg struct {
	ParentID           int64 // 0 only for the province (root)
	Kind               OrgKind
	Name               string
	RegionCode         string
	ResidentPopulation int64
	PopulationYear     int
	LeagueMembers      int64
	Responsible        Contact // Phone set with pii.Phone
	Liaison            Contact
}

// IDType is the kind of identity document.
type IDType string

// Identity document types.
const (
	IDResident IDType = "resident_id" // 居民身份证, GB 11643-1999
	IDPassport IDType = "passport"
	IDHKMacau  IDType = "hk_macau_permit" // 港澳居民来往内地通行证
	IDTaiwan   IDType = "taiwan_permit"   // 台湾居民来往大陆通行证
)

// Valid reports whether t is a known ID type.
func (t IDType) Valid() bool {
	switch t {
	case IDResident, IDPassport, IDHKMacau, IDTaiwan:
		return true
	}
	return false
}

// Gender is derived from the resident ID sequence digit (odd: male).
type Gender string

// Genders.
const (
	GenderUnknown Gender = ""
	GenderMale    Gender = "male"
	GenderFemale  Gender = "female"
)

// ClothingSize is the size of the free volunteer clothing.
type ClothingSize string

// Clothing sizes, smallest first.
const (
	SizeXS   ClothingSize = "XS"
	SizeS    ClothingSize = "S"
	SizeM    ClothingSize = "M"
	SizeL    ClothingSize = "L"
	SizeXL   ClothingSize = "XL"
	SizeXXL  ClothingSize = "XXL"
	SizeXXXL ClothingSize = "XXXL"
)

// ClothingSizes lists the sizes smallest first.
var ClothingSizes = []ClothingSize{SizeXS, SizeS, SizeM, SizeL, SizeXL, SizeXXL, SizeXXXL}

// Valid reports whether s is a known size.
func (s ClothingSize) Valid() bool {
	for _, x := range ClothingSizes {
		if x == s {
			return true
		}
	}
	return false
}

// Channel is where a volunteer was registered or an application or event
// came from.
type Channel string

// Channels. The first four are valid sources of volunteers and channels of
// applications; console and system appear only on events.
const (
	ChannelPlatform Channel = "platform" // the volunteer platform's integration (i志愿)
	ChannelOnline   Channel = "online"   // the applicant online
	ChannelBranch   Channel = "branch"   // at a bank branch
	ChannelOnSite   Channel = "on_site"  // on-site batch enrollment
	ChannelConsole  Channel = "console"  // league-committee staff
	ChannelSystem   Channel = "system"   // internal processes (bank gateway, personalization)
)

// ValidSource reports whether c may be a volunteer source or application channel.
func (c Channel) ValidSource() bool {
	switch c {
	case ChannelPlatform, ChannelOnline, ChannelBranch, ChannelOnSite:
		return true
	}
	return false
}

// ValidVolunteerSource reports whether c may be where a volunteer was
// registered: an application channel, or the console (league-committee
// staff registering someone by hand).
func (c Channel) ValidVolunteerSource() bool { return c.ValidSource() || c == ChannelConsole }

// Volunteer is a registered volunteer.
type Volunteer struct {
	ID              int64
	OrgID           int64
	OrgPath         string // copy of the org's Path, for scoped queries
	Name            string // legal name, UTF-8
	EmbossName      string // pinyin, A–Z and space, ≤ 26
	IDType          IDType
	IDNumber        pii.Secret
	Gender          Gender
	BirthDate       time.Time // zero when unknown (non-resident IDs)
	Phone           pii.Secret
	LeagueMember    bool
	PartyMember     bool
	ClothingSize    ClothingSize
	Source          Channel
	VolunteerNumber string // number on the volunteer platform, may be empty
	CreatedAt       time.Time

	// Set by the Service; storage adapters store and return these and never
	// read the plaintext fields above.
	IDNumberSealed []byte `json:"-"`
	IDNumberIndex  []byte `json:"-"` // blind index, unique
	PhoneSealed    []byte `json:"-"`
}

// Age returns the volunteer's age in whole years at now, or -1 when the
// birth date is unknown.
func (v Volunteer) Age(now time.Time) int {
	if v.BirthDate.IsZero() {
		return -1
	}
	return AgeAt(v.BirthDate, now)
}

// NewVolunteer is the input of Service.RegisterVolunteer.
type NewVolunteer struct {
	OrgID      int64
	Name       string
	EmbossName string // derived from Name when empty
	IDType     IDType // IDResident when empty
	IDNumber   string
	// BirthDate is YYYY-MM-DD. Required for the non-resident ID types (the
	// bank needs it, docs/bank-interface.md field 48 BD); for a resident ID
	// it comes from the number and, when given, must agree with it.
	BirthDate       string
	Phone           string
	LeagueMember    bool
	PartyMember     bool
	ClothingSize    ClothingSize
	Source          Channel // the registering role's channel when empty (RegisterVolunteer)
	VolunteerNumber string
}

// CardKind is debit or credit.
type CardKind string

// Card kinds.
const (
	CardDebit  CardKind = "debit"
	CardCredit CardKind = "credit"
)

// Bank is a partner bank.
type Bank struct {
	Code string // BOC, CEB, CCB, PSBC
	Name string
}

// Product is a card product issued by one bank.
type Product struct {
	Code     string // e.g. GD-RV-BOC
	Name     string
	BankCode string
	BIN      string // first six digits of the PAN
	AID      string // application identifier, hex
	Kind     CardKind
	OrgID    int64  // organisation whose subtree may apply (the province, or Meizhou)
	OrgPath  string // copy of that org's Path
}

// Branch is a bank branch serving one city, with a named contact for
// on-site enrollment.
type Branch struct {
	ID       int64
	BankCode string
	OrgID    int64 // the city
	OrgPath  string
	Name     string
	Contact  Contact
}

// Application is a card application.
type Application struct {
	ID          int64
	Number      string // human-readable, e.g. GD2026112312345678
	VolunteerID int64
	OrgID       int64  // the volunteer's org at application time
	OrgPath     string // its Path, for scoped queries
	OrgName     string // the organisation's name; filled by ListApplications only
	ProductCode string
	BankCode    string
	Channel     Channel
	Status      Status
	Reason      string // reason of the last rejection, decline or cancellation
	Version     int64  // incremented on every transition
	CreatedAt   time.Time
	UpdatedAt   time.Time

	// VolunteerName is the applicant's legal name; filled by
	// ListApplications only (staff lists show who applied).
	VolunteerName string
}

// Event is one application status change, written in the same transaction
// as the change. The creation of an application is an event with From "".
type Event struct {
	ID            int64
	ApplicationID int64
	From          Status
	To            Status
	ActorTokenID  int64 // 0 for internal actors
	ActorRole     Role
	Channel       Channel
	Reason        string
	At            time.Time
}

// ApplicationFilter selects applications in Service.ListApplications. Zero
// fields do not filter.
type ApplicationFilter struct {
	Status      Status
	OrgID       int64 // applications in this org's subtree
	ProductCode string
	Channel     Channel
	Cursor      string // opaque, from a previous page's NextCursor
	Limit       int    // default 50, at most 200
}

// ApplicationPage is one page of applications, newest first.
type ApplicationPage struct {
	Items      []Application
	NextCursor string // empty on the last page
}

// ProgressStep is one step of the happy path in a progress lookup.
type ProgressStep struct {
	Status Status
	Done   bool
	At     time.Time // zero when not done
}

// Progress is the public view of an application: masked name, current
// status, the steps done and the next one.
type Progress struct {
	ApplicationNumber string
	MaskedName        string
	ProductCode       string
	Status            Status
	Steps             []ProgressStep
	Next              Status // empty when final (rejected, declined, cancelled, activated)
	UpdatedAt         time.Time
}

// Token is an API token. Only the SHA-256 hash of the plaintext is stored.
type Token struct {
	ID        int64
	Name      string // label, e.g. "meizhou console"
	Role      Role
	OrgID     int64
	BankCode  string
	BranchID  int64
	ScopePath string // org path the token is confined to; empty for none
	Hash      []byte `json:"-"`
	Hint      string // first characters of the plaintext, for display ("vc_AbCd")
	CreatedAt time.Time
	RevokedAt time.Time // zero while valid
	ExpiresAt time.Time // zero: never expires
}

// Valid reports whether t authenticates at now: not revoked, not expired.
func (t Token) Valid(now time.Time) bool {
	return t.RevokedAt.IsZero() && (t.ExpiresAt.IsZero() || now.Before(t.ExpiresAt))
}

// TokenQuery selects tokens in Service.ListTokens.
type TokenQuery struct {
	Role     Role // empty: any
	Inactive bool // include revoked and expired tokens
}

// NewToken is the input of Service.CreateToken.
type NewToken struct {
	Name     string
	Role     Role
	OrgID    int64  // required for org_admin; optional for terminal
	BankCode string // required for bank_staff
	BranchID int64  // optional for bank_staff
	// ExpiresAt, when set, is when the token stops authenticating; it must
	// be in the future.
	ExpiresAt time.Time
}
