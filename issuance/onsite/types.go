package onsite

import (
	"context"
	"time"

	"github.com/volcard/volcard/issuance"
	"github.com/volcard/volcard/pii"
)

// MinOnsiteHeadCount is the smallest group that may ask for on-site
// enrollment; smaller groups apply at a bank branch or online.
const MinOnsiteHeadCount = 30

// MaxOnsiteHeadCount bounds the expected head count of one session.
const MaxOnsiteHeadCount = 20_000

// SessionStatus is the state of an on-site enrollment session.
type SessionStatus string

// Session statuses: requested → scheduled → in_progress → completed, or
// cancelled from any of the first three.
const (
	SessionRequested  SessionStatus = "requested"
	SessionScheduled  SessionStatus = "scheduled"
	SessionInProgress SessionStatus = "in_progress"
	SessionCompleted  SessionStatus = "completed"
	SessionCancelled  SessionStatus = "cancelled"
)

var sessionTransitions = map[SessionStatus][]SessionStatus{
	SessionRequested:  {SessionScheduled, SessionCancelled},
	SessionScheduled:  {SessionInProgress, SessionCancelled},
	SessionInProgress: {SessionCompleted, SessionCancelled},
}

// CanTransition reports whether a session may move from s to to.
func (s SessionStatus) CanTransition(to SessionStatus) bool {
	for _, x := range sessionTransitions[s] {
		if x == to {
			return true
		}
	}
	return false
}

// Open reports whether rosters may still be uploaded and approved: the
// session is neither completed nor cancelled.
func (s SessionStatus) Open() bool {
	return s == SessionRequested || s == SessionScheduled || s == SessionInProgress
}

// Session is a request by an organisation for the issuing bank's
// branch to enroll a group on site.
type Session struct {
	ID            int64
	OrgID         int64  // the requesting organisation (university, unit, ...)
	OrgPath       string // its Path, for scoped queries
	CityID        int64  // the organisation's city, whose branch serves it
	ProductCode   string
	BankCode      string
	BranchID      int64           // the assigned branch
	Branch        issuance.Branch // filled by GetOnsiteSession (contact decrypted)
	Site          string          // where, e.g. "嘉应学院体育馆"
	Date          time.Time
	ExpectedCount int
	Status        SessionStatus
	Reason        string // reason of a cancellation
	Version       int64
	RequestedBy   int64 // token id of the requester; 0 for internal actors
	CreatedAt     time.Time
	UpdatedAt     time.Time
}

// NewSession is the input of Service.RequestOnsiteSession.
type NewSession struct {
	OrgID         int64
	Site          string
	Date          time.Time // the day; the time of day is ignored
	ExpectedCount int
	ProductCode   string
}

// SessionEvent is one status change of an on-site session.
type SessionEvent struct {
	ID           int64
	SessionID    int64
	From         SessionStatus
	To           SessionStatus
	ActorTokenID int64
	ActorRole    issuance.Role
	Reason       string
	At           time.Time
}

// RosterUpload is one roster file received for a session. The same file
// (same SHA-256) uploaded again is the same upload.
type RosterUpload struct {
	ID           int64
	SessionID    int64
	SHA256       string // hex
	Filename     string
	Format       string
	Encoding     string
	Rows         int
	Accepted     int
	Rejected     int
	ActorTokenID int64
	ActorRole    issuance.Role
	CreatedAt    time.Time
	FinishedAt   time.Time // zero until every row is stored
	// Mode is what the upload did to the session's roster; Removed counts
	// the earlier rows a replacement removed.
	Mode    RosterMode
	Removed int
}

// RosterMode is what an upload does to a session that has a roster.
type RosterMode string

// Roster modes.
const (
	RosterFirst   RosterMode = "first"   // the session's first roster
	RosterAppend  RosterMode = "append"  // its rows are added to the roster
	RosterReplace RosterMode = "replace" // its rows become the roster
)

// Entry is an accepted roster row: a volunteer with an on-site
// application in the session's queue. One per session and ID number.
type Entry struct {
	ID            int64
	SessionID     int64
	UploadID      int64
	Line          int    // line in the upload; the queue is in (upload, line) order
	IDNumberIndex []byte // blind index of the ID number
	VolunteerID   int64
	ApplicationID int64
	Name          string
	NewVolunteer  bool  // registered by this session
	VerifiedBy    int64 // token id of the staff member who verified the identity
	VerifiedRole  issuance.Role
	Personalize   PersonalizeState
	Attempts      int
	Note          string // last personalization error or skip reason
	CreatedAt     time.Time
	UpdatedAt     time.Time
}

// PersonalizeState is where an entry stands in the batch personalization
// queue.
type PersonalizeState string

// Personalization states of queue entries.
const (
	PersonalizePending PersonalizeState = "pending"
	PersonalizeDone    PersonalizeState = "personalized"
	PersonalizeFailed  PersonalizeState = "failed"
	PersonalizeSkipped PersonalizeState = "skipped"
)

// Valid reports whether p is a known state.
func (p PersonalizeState) Valid() bool {
	switch p {
	case PersonalizePending, PersonalizeDone, PersonalizeFailed, PersonalizeSkipped:
		return true
	}
	return false
}

// RosterReject is a rejected roster row, kept (sealed) so that the
// rejected-rows file can be downloaded later.
type RosterReject struct {
	ID        int64
	UploadID  int64
	SessionID int64
	Line      int
	Name      string
	IDNumber  pii.Secret
	Phone     pii.Secret
	League    string
	Size      string
	Emboss    string
	Reasons   []RowReason

	IDNumberSealed []byte `json:"-"`
	PhoneSealed    []byte `json:"-"`
}

// QueueItem is one entry of a session's personalization queue with its
// application's state.
type QueueItem struct {
	Position          int // 1-based, roster order
	Entry             Entry
	ApplicationNumber string
	Status            issuance.Status // the application's status
	EmbossName        string
}

// Counts are a session's figures.
type Counts struct {
	Requested    int // expected head count
	Accepted     int // roster rows stored (entries)
	Rejected     int // rejected rows of the latest upload
	Submitted    int // applications awaiting staff approval
	Approved     int // approved by staff, not yet sent
	Sent         int // sent to the bank (bank_pending or later, including declined)
	BankApproved int // approved by the bank (bank_approved or later)
	BankDeclined int
	Personalized int // personalized or later
	Failed       int // personalization failed and not personalized since
	Cancelled    int // applications cancelled or rejected
	// Uploads are every finished roster upload of the session, oldest
	// first, and UploadedRows the data rows of them all.
	Uploads      []RosterUpload
	UploadedRows int
}

// SessionRepo stores sessions and their status changes.
type SessionRepo interface {
	CreateOnsiteSession(ctx context.Context, s *Session) error
	GetOnsiteSession(ctx context.Context, id int64) (Session, error)
	// UpdateOnsiteSessionStatus writes Status, Reason, UpdatedAt and
	// Version+1 if the row still has status from and version s.Version,
	// else ErrConflict.
	UpdateOnsiteSessionStatus(ctx context.Context, s *Session, from SessionStatus) error
	AppendSessionEvent(ctx context.Context, e *SessionEvent) error
	ListSessionEvents(ctx context.Context, sessionID int64) ([]SessionEvent, error)
	// ListOnsiteSessions returns up to q.Limit sessions inside q.Scope
	// matching q, newest (highest id) first.
	ListOnsiteSessions(ctx context.Context, q SessionQuery) ([]SessionSummary, error)
}

// RosterRepo stores roster uploads and their rejected rows.
type RosterRepo interface {
	// PutRosterUpload inserts u, or loads the existing upload of the same
	// session and SHA-256 into u (existing true).
	PutRosterUpload(ctx context.Context, u *RosterUpload) (existing bool, err error)
	FinishRosterUpload(ctx context.Context, u *RosterUpload) error
	LatestRosterUpload(ctx context.Context, sessionID int64) (RosterUpload, error)
	// PutRosterRejects inserts rejects, ignoring those already stored for
	// the same upload and line.
	PutRosterRejects(ctx context.Context, rs []*RosterReject) error
	ListRosterRejects(ctx context.Context, uploadID int64) ([]RosterReject, error)
	// ListRosterUploads returns every upload of a session, oldest first.
	ListRosterUploads(ctx context.Context, sessionID int64) ([]RosterUpload, error)
}

// EntryRepo stores a session's accepted rows (entries).
type EntryRepo interface {
	// OnsiteEntriesByIndex returns the session's entries among these blind
	// indexes, keyed by string(index).
	OnsiteEntriesByIndex(ctx context.Context, sessionID int64, idx [][]byte) (map[string]Entry, error)
	// CreateOnsiteEntries inserts many entries at once and sets their IDs.
	CreateOnsiteEntries(ctx context.Context, es []*Entry) error
	// GetOnsiteEntry returns one entry.
	GetOnsiteEntry(ctx context.Context, id int64) (Entry, error)
	// UpdateOnsiteEntry writes Personalize, Attempts, Note and UpdatedAt.
	UpdateOnsiteEntry(ctx context.Context, e *Entry) error
	// DeleteOnsiteEntries removes entries of a session (a roster
	// replacement).
	DeleteOnsiteEntries(ctx context.Context, sessionID int64, ids []int64) error
	// LockOnsiteSession locks, until the transaction ends, the session
	// and the applications of its entries against concurrent changes.
	LockOnsiteSession(ctx context.Context, sessionID int64) error
}

// QueueReads read a session's entries as the batch queue and its counts.
type QueueReads interface {
	// OnsiteQueue returns the entries of a session in roster order with
	// their applications' numbers and statuses and volunteers' emboss names.
	OnsiteQueue(ctx context.Context, sessionID int64) ([]QueueItem, error)
	// OnsiteApplicationIDs returns the session's application ids in status
	// st, in roster order.
	OnsiteApplicationIDs(ctx context.Context, sessionID int64, st issuance.Status) ([]int64, error)
	// CountOnsite fills the entry and application counts of a session.
	CountOnsite(ctx context.Context, sessionID int64) (Counts, error)
}

// CoreReads are the reads of the core's records a roster check needs, in
// bulk and unscoped (the session's scope was checked).
type CoreReads interface {
	GetOrg(ctx context.Context, id int64, sc issuance.Scope) (issuance.Org, error)
	ListBranches(ctx context.Context, bankCode string, orgID int64) ([]issuance.Branch, error)
	// VolunteersByIndex returns the volunteers among these blind indexes,
	// keyed by string(index), unscoped.
	VolunteersByIndex(ctx context.Context, idx [][]byte) (map[string]issuance.Volunteer, error)
	// LiveApplicationsOf returns, per volunteer, a live application for the
	// product.
	LiveApplicationsOf(ctx context.Context, volunteerIDs []int64, productCode string) (map[int64]issuance.Application, error)
	// CreateVolunteers inserts new volunteers at once and sets their IDs.
	CreateVolunteers(ctx context.Context, vs []*issuance.Volunteer) error
}

// Store is the storage on-site enrollment needs; issuance/store implements
// it on PostgreSQL and SQLite (asserted at compile time there).
type Store interface {
	issuance.Transactor
	CoreReads
	SessionRepo
	RosterRepo
	EntryRepo
	QueueReads
}

// SessionFilter selects sessions in Service.ListOnsiteSessions. Zero
// fields do not filter.
type SessionFilter struct {
	Status SessionStatus
	OrgID  int64  // sessions of this organisation's subtree
	Cursor string // opaque, from a previous page's NextCursor
	Limit  int    // default DefaultPageSize, at most MaxPageSize
}

// SessionQuery is the storage-level form of SessionFilter.
type SessionQuery struct {
	Scope    issuance.Scope // path prefix and, for bank staff, bank
	OrgPath  string         // subtree filter, empty: any
	Status   SessionStatus
	BeforeID int64 // only sessions with a smaller id, when non-zero
	Limit    int
}

// SessionSummary is a session as listed: without its branch contact,
// with the names of its organisation and branch and its roster figures.
type SessionSummary struct {
	Session
	OrgName    string
	BranchName string
	Accepted   int // roster rows stored (queue entries)
	Rejected   int // rejected rows of the latest upload
}

// SessionPage is one page of sessions, newest first.
type SessionPage struct {
	Items      []SessionSummary
	NextCursor string // empty on the last page
}

// Valid reports whether s is a known session status.
func (s SessionStatus) Valid() bool {
	switch s {
	case SessionRequested, SessionScheduled, SessionInProgress, SessionCompleted, SessionCancelled:
		return true
	}
	return false
}
