package platformlink

import (
	"context"
	"time"

	"github.com/volcard/volcard/issuance"
	"github.com/volcard/volcard/pii"
)

// Person is what the platform is sent to register someone (or to match
// them with the record it holds under the same ID number).
type Person struct {
	// RequestID is the registration request's id: the idempotency key of
	// the platform call is derived from it, so a request sent again after a
	// lost answer is answered, not applied twice.
	RequestID int64
	Name      string
	IDType    issuance.IDType
	IDNumber  pii.Secret
	Gender    issuance.Gender
	BirthDate time.Time // zero when unknown
	Phone     pii.Secret
	Source    issuance.Channel // branch or on_site
	OrgName   string           // the volunteer's organisation in volcard
}

// Registrar is the platform port: Register registers p on the platform, or
// matches the record the platform already holds under p's ID number, and
// returns the platform's volunteer number and whether it was a match.
// A *RefusedError is a final answer (the request ends failed); any other
// error is passing (the request is tried again after a back-off).
type Registrar interface {
	Register(ctx context.Context, p Person) (number string, matched bool, err error)
}

// State is a registration request's state.
type State string

// Request states.
const (
	StatePending  State = "pending"   // due at NextAttemptAt
	StateInFlight State = "in_flight" // leased by a worker
	StateDone     State = "done"      // the number is written back
	StateFailed   State = "failed"    // refused: waits for an operator's retry
)

// Request is a registration request row.
type Request struct {
	ID            int64
	VolunteerID   int64
	State         State
	Attempts      int
	NextAttemptAt time.Time
	Number        string
	Matched       bool
	LastError     string // no personal data
	LeaseOwner    string
	LeaseUntil    time.Time
	CreatedAt     time.Time
	UpdatedAt     time.Time
}

// Claim asks for up to Limit due rows leased to Owner until Now+Lease.
type Claim struct {
	Owner string
	Now   time.Time
	Lease time.Duration
	Limit int
}

// Filter selects registration requests for the operators' list.
type Filter struct {
	State    State // empty: any
	BeforeID int64 // newest first, ids below this when non-zero
	Limit    int
}

// NumberSource says who set a platform number.
type NumberSource string

// Number sources.
const (
	NumberFromPlatform NumberSource = "platform" // the platform's answer to a registration request
	NumberFromStaff    NumberSource = "staff"    // set later by staff
)

// NumberChange sets a volunteer's platform number and records who did it
// (the audit row of volunteer_number_changes).
type NumberChange struct {
	VolunteerID int64
	// From is the number the volunteer must still hold (optimistic check);
	// the change is refused with issuance.ErrConflict when it differs.
	From         string
	To           string
	Source       NumberSource
	ActorTokenID int64
	ActorRole    issuance.Role
	Reason       string
	At           time.Time
}

// Queue is the worker's side of the request rows.
type Queue interface {
	// ClaimPlatformRequests leases up to c.Limit due rows (pending and due,
	// or in flight with an ended lease or a gone owner) and counts a try.
	ClaimPlatformRequests(ctx context.Context, c Claim) ([]Request, error)
	// SavePlatformRequest writes r's state, number, error and schedule if
	// the row is still leased to owner; else issuance.ErrConflict.
	SavePlatformRequest(ctx context.Context, r *Request, owner string) error
}

// Admin is the operators' side of the request rows.
type Admin interface {
	ListPlatformRequests(ctx context.Context, f Filter) ([]Request, error)
	// RetryPlatformRequest makes a failed row pending and due at now;
	// issuance.ErrNotFound when there is no such row, ErrNotFailed when
	// the row is not failed.
	RetryPlatformRequest(ctx context.Context, id int64, note string, now time.Time) (Request, error)
	// CountPlatformRequests returns the number of rows per state.
	CountPlatformRequests(ctx context.Context) (map[State]int64, error)
}

// Numbers writes platform numbers.
type Numbers interface {
	// SetPlatformNumber applies c: a number another volunteer holds is a
	// *issuance.ConflictError (What "platform_number"); a volunteer that no
	// longer holds c.From is issuance.ErrConflict. It also ends the
	// volunteer's open registration request (done) when the number comes
	// from staff.
	SetPlatformNumber(ctx context.Context, c NumberChange) error
}

// Store is the storage this package needs; issuance/store implements it.
type Store interface {
	issuance.Transactor
	Queue
	Admin
	Numbers
	Imports
}
