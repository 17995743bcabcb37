package wire

import "time"

// Bodies of the on-site enrollment routes (/v1/onsite-sessions).

// NewOnsiteSession is the body of POST /v1/onsite-sessions.
type NewOnsiteSession struct {
	OrgID         int64  `json:"org_id"`
	Site          string `json:"site"`
	Date          string `json:"date"` // YYYY-MM-DD
	ExpectedCount int    `json:"expected_count"`
	Product       string `json:"product"`
}

// OnsiteBranch is the bank branch assigned to a session and its contact.
type OnsiteBranch struct {
	ID           int64  `json:"id"`
	Bank         string `json:"bank"`
	Name         string `json:"name"`
	ContactName  string `json:"contact_name"`
	ContactPhone string `json:"contact_phone"`
}

// OnsiteSession is an on-site enrollment session.
type OnsiteSession struct {
	ID            int64        `json:"id"`
	OrgID         int64        `json:"org_id"`
	CityID        int64        `json:"city_id"`
	Product       string       `json:"product"`
	Bank          string       `json:"bank"`
	Site          string       `json:"site"`
	Date          string       `json:"date"`
	ExpectedCount int          `json:"expected_count"`
	Status        string       `json:"status"`
	Reason        string       `json:"reason,omitempty"`
	Branch        OnsiteBranch `json:"branch"`
	CreatedAt     time.Time    `json:"created_at"`
	UpdatedAt     time.Time    `json:"updated_at"`
}

// OnsiteSessionItem is a session in GET /v1/onsite-sessions: the session
// (its branch without the contact) with its organisation's name and its
// roster figures.
type OnsiteSessionItem struct {
	OnsiteSession
	OrgName  string `json:"org_name"`
	Accepted int    `json:"accepted"` // roster rows stored
	Rejected int    `json:"rejected"` // rejected rows of the latest upload
}

// OnsiteSessionPage is one page of sessions, newest first.
type OnsiteSessionPage struct {
	Items      []OnsiteSessionItem `json:"items"`
	NextCursor string              `json:"next_cursor,omitempty"`
}

// RowReason is why a roster row was rejected.
type RowReason struct {
	Code    string `json:"code"`
	Field   string `json:"field,omitempty"`
	Message string `json:"message"`
}

// RosterRow is one row of a roster report.
type RosterRow struct {
	Line          int         `json:"line"`
	Status        string      `json:"status"` // accepted or rejected
	Existing      bool        `json:"existing,omitempty"`
	Name          string      `json:"name"`
	IDNumber      string      `json:"id_number"` // masked unless the role may see it
	Phone         string      `json:"phone"`
	VolunteerID   int64       `json:"volunteer_id,omitempty"`
	ApplicationID int64       `json:"application_id,omitempty"`
	NewVolunteer  bool        `json:"new_volunteer,omitempty"`
	Reasons       []RowReason `json:"reasons,omitempty"`
}

// RosterReport is the answer of a roster upload.
type RosterReport struct {
	SessionID     int64  `json:"session_id"`
	UploadID      int64  `json:"upload_id"`
	SHA256        string `json:"sha256"`
	Format        string `json:"format"`
	Encoding      string `json:"encoding"`
	Repeated      bool   `json:"repeated"`
	Rows          int    `json:"rows"`
	Accepted      int    `json:"accepted"`
	Stored        int    `json:"stored"`
	AlreadyStored int    `json:"already_stored"`
	Rejected      int    `json:"rejected"`
	BlankRows     int    `json:"blank_rows"`
	// Mode is what this upload did: first, append or replace; Removed the
	// earlier rows a replacement removed.
	Mode        string      `json:"mode"`
	Removed     int         `json:"removed,omitempty"`
	RejectedURL string      `json:"rejected_url,omitempty"`
	Items       []RosterRow `json:"items"`
}

// OnsiteApproval is the answer of POST /v1/onsite-sessions/{id}/approve.
type OnsiteApproval struct {
	SessionID int64 `json:"session_id"`
	Approved  int   `json:"approved"`
	Sent      int   `json:"sent"`
}

// OnsiteReport is a session's counts.
type OnsiteReport struct {
	SessionID    int64  `json:"session_id"`
	Status       string `json:"status"`
	Requested    int    `json:"requested"`
	Accepted     int    `json:"accepted"`
	Rejected     int    `json:"rejected"`
	Submitted    int    `json:"submitted"`
	Approved     int    `json:"approved"`
	Sent         int    `json:"sent"`
	BankApproved int    `json:"bank_approved"`
	BankDeclined int    `json:"bank_declined"`
	Personalized int    `json:"personalized"`
	Failed       int    `json:"failed"`
	Cancelled    int    `json:"cancelled"`
	// UploadedRows counts the data rows of every roster upload, Uploads
	// lists them, oldest first.
	UploadedRows int                   `json:"uploaded_rows"`
	Uploads      []RosterUploadSummary `json:"uploads"`
}

// RosterUploadSummary is one roster upload of a session, in its report.
type RosterUploadSummary struct {
	ID       int64     `json:"id"`
	Filename string    `json:"filename,omitempty"`
	Mode     string    `json:"mode"`
	Rows     int       `json:"rows"`
	Accepted int       `json:"accepted"`
	Rejected int       `json:"rejected"`
	Removed  int       `json:"removed,omitempty"`
	At       time.Time `json:"at"`
}

// QueueItem is one entry of a session's batch personalization queue.
type QueueItem struct {
	Position          int    `json:"position"`
	EntryID           int64  `json:"entry_id"`
	ApplicationID     int64  `json:"application_id"`
	ApplicationNumber string `json:"application_number"`
	VolunteerID       int64  `json:"volunteer_id"`
	Name              string `json:"name"`
	EmbossName        string `json:"emboss_name"`
	Status            string `json:"status"`      // the application's status
	Personalize       string `json:"personalize"` // pending, personalized, failed, skipped
	Attempts          int    `json:"attempts"`
	Note              string `json:"note,omitempty"`
}

// States of a queue entry (QueueItem.Personalize, QueueMark.State).
const (
	EntryPending      = "pending"
	EntryPersonalized = "personalized"
	EntryFailed       = "failed"
	EntrySkipped      = "skipped"
)

// OnsiteQueue is the answer of GET /v1/onsite-sessions/{id}/queue.
type OnsiteQueue struct {
	SessionID int64       `json:"session_id"`
	Items     []QueueItem `json:"items"`
}

// QueueMark is the body of POST /v1/onsite-sessions/{id}/queue/{entry}.
type QueueMark struct {
	State string `json:"state"` // pending, personalized, failed or skipped
	Note  string `json:"note,omitempty"`
}
