package outbox

import (
	"context"
	"time"

	"github.com/volcard/volcard/bankgw"
	"github.com/volcard/volcard/issuance"
)

// Kind is what an outbox row asks of the partner bank.
type Kind string

// Row kinds. An apply and a status change are written by the domain
// (issuance.BankOutbox); a reversal only by the worker. A repeat
// (0301/0421) is not a kind of its own: it is the same row sent again with
// its stored trace (Request.MaybeSent).
const (
	KindApply             = Kind(issuance.BankApply)
	KindStatusChange      = Kind(issuance.BankStatusChange)
	KindHolderUpdate      = Kind(issuance.BankHolderUpdate)
	KindReversal     Kind = "reversal"
	KindInquiry      Kind = "inquiry"
)

// State is where an outbox row stands.
type State string

// Row states.
//
//	pending   due at NextAttemptAt; never sent with its current trace
//	in_flight claimed by a worker until LeaseUntil
//	sent      sent at least once, outcome unknown: the next send repeats it
//	waiting   an apply parked until its reversal is acknowledged
//	done      the result is applied (approved, declined, reversal acked)
//	failed    given up; needs an operator (for example a format error)
//	cancelled given up by an operator (volcard outbox cancel); never sent again
const (
	StatePending   State = "pending"
	StateInFlight  State = "in_flight"
	StateSent      State = "sent"
	StateWaiting   State = "waiting"
	StateDone      State = "done"
	StateFailed    State = "failed"
	StateCancelled State = "cancelled"
)

// Request is one row of the bank outbox: a request to the partner bank with
// the gateway's bookkeeping (state, lease, repeats, trace). It holds no
// personal data: the worker loads and decrypts the applicant when it sends
// (issuance.Service.BankApplicant).
type Request struct {
	ID                int64
	ApplicationID     int64
	ApplicationNumber string
	// ParentID links a reversal to the apply it reverses.
	ParentID int64
	Kind     Kind
	// Payload is kind-specific JSON without personal data (for a status
	// change an issuance.CardStatusChange; for a reversal the original
	// trace and file update code).
	Payload []byte
	State   State
	// Attempts counts claims; Repeats the sends without an answer in a row;
	// PermanentErrors the tries whose answer could not be applied for a
	// cause that repeats (see Config.PermanentTries).
	Attempts        int
	Repeats         int
	PermanentErrors int
	NextAttemptAt   time.Time
	// Trace identifies the request on the wire (MTI, STAN, field 7, RRN).
	// It is stored before the request is sent so that a repeat after a
	// crash reuses it.
	Trace bankgw.Trace
	// MaybeSent is set (and stored) just before the request goes on the
	// wire: from then on the next send is a repeat with the same trace.
	MaybeSent  bool
	ResultCode string
	// LastError is masked: bank gateway errors carry no card or personal data.
	LastError  string
	LeaseOwner string
	LeaseUntil time.Time
	CreatedAt  time.Time
	UpdatedAt  time.Time
}

// Claim asks for due rows.
type Claim struct {
	Owner string
	Now   time.Time
	Lease time.Duration
	Limit int
	// Banks, when set, limits the claim to rows of applications for these
	// bank codes (one worker per bank link); empty claims every bank's rows.
	Banks []string
}

// RowStore reads and writes single rows.
type RowStore interface {
	// InsertBankRequest inserts r as it is and sets r.ID. A second apply
	// for one application, or a second open status change, is a
	// *issuance.ConflictError ("bank_request").
	InsertBankRequest(ctx context.Context, r *Request) error
	// GetBankRequest returns one row, or issuance.ErrNotFound.
	GetBankRequest(ctx context.Context, id int64) (Request, error)
	// SaveBankRequest writes the mutable fields of r (state, attempts,
	// repeats, next attempt, trace, MaybeSent, result, error, lease; the
	// lease is dropped unless r stays in_flight) if r is still leased to
	// owner and unresolved; else ErrLeaseLost. An empty owner writes any
	// unresolved row (late responses).
	SaveBankRequest(ctx context.Context, r *Request, owner string) error
}

// Leases hands due rows to workers and takes them back. Claims use FOR
// UPDATE SKIP LOCKED on PostgreSQL and a conditional UPDATE on SQLite, so
// that several workers (and processes) never hold the same row.
type Leases interface {
	// ClaimBankRequests leases up to c.Limit due rows (pending or sent with
	// NextAttemptAt ≤ c.Now, or in_flight with an expired lease) to c.Owner.
	ClaimBankRequests(ctx context.Context, c Claim) ([]Request, error)
	// ReleaseBankRequests hands the rows leased to owner back (state
	// pending, or sent when MaybeSent) for others to claim at once.
	ReleaseBankRequests(ctx context.Context, owner string) (int64, error)
	// ResumeBankRequests makes the rows of these banks that wait for a
	// later attempt (pending or sent, next attempt after now) due now.
	ResumeBankRequests(ctx context.Context, banks []string, now time.Time) (int64, error)
}

// Finder finds the open row a late answer belongs to.
type Finder interface {
	// OpenBankRequest returns the unresolved row of a kind for an
	// application number, or issuance.ErrNotFound.
	OpenBankRequest(ctx context.Context, applicationNumber string, kind Kind) (Request, error)
	// OpenBankRequestByRRN is OpenBankRequest by the RRN of the row's trace
	// (a 0430 carries no application number).
	OpenBankRequestByRRN(ctx context.Context, rrn string, kind Kind) (Request, error)
}

// Rows is the outbox's storage as the Worker and the Handlers use it.
// issuance/store implements it on the same database (and in the same
// transactions) as the domain, which writes new rows through
// issuance.BankOutbox.
type Rows interface {
	RowStore
	Leases
	Finder
}
