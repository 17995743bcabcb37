package wire

import "time"

// Bodies of the platform link's routes: the registration requests
// (/v1/admin/platform-requests), a volunteer's platform number set later
// (/v1/volunteers/{id}/platform-number) and the bulk import (/v1/imports).

// PlatformRequest is a registration request as operators see it: the
// volunteer's id, never their data.
type PlatformRequest struct {
	ID              int64      `json:"id"`
	VolunteerID     int64      `json:"volunteer_id"`
	State           string     `json:"state"` // pending, in_flight, done, failed
	Attempts        int        `json:"attempts"`
	VolunteerNumber string     `json:"volunteer_number,omitempty"`
	Matched         bool       `json:"matched"`
	LastError       string     `json:"last_error,omitempty"`
	NextAttemptAt   *time.Time `json:"next_attempt_at,omitempty"`
	CreatedAt       time.Time  `json:"created_at"`
	UpdatedAt       time.Time  `json:"updated_at"`
}

// PlatformRequestList is a page of registration requests, newest first.
type PlatformRequestList struct {
	Items      []PlatformRequest `json:"items"`
	NextCursor string            `json:"next_cursor,omitempty"`
}

// PlatformRetry is the body of POST /v1/admin/platform-requests/{id}/retry.
type PlatformRetry struct {
	Reason string `json:"reason,omitempty"`
}

// PlatformNumber is the body of PUT /v1/volunteers/{id}/platform-number.
type PlatformNumber struct {
	VolunteerNumber string `json:"volunteer_number"`
	Reason          string `json:"reason"`
}

// ImportVolunteer is one volunteer of the platform's export: a JSONL line
// or CSV record of `volcard import volunteers`, and a row of an import
// batch (Line set by the client).
type ImportVolunteer struct {
	Line            int    `json:"line,omitempty"`
	VolunteerNumber string `json:"volunteer_number"`
	Name            string `json:"name"`
	IDType          string `json:"id_type,omitempty"` // resident_id when empty
	IDNumber        string `json:"id_number"`
	BirthDate       string `json:"birth_date,omitempty"`
	Phone           string `json:"phone"`
	OrgID           int64  `json:"org_id"`
	LeagueMember    bool   `json:"league_member,omitempty"`
	PartyMember     bool   `json:"party_member,omitempty"`
	ClothingSize    string `json:"clothing_size,omitempty"`
	EmbossName      string `json:"emboss_name,omitempty"`
}

// ImportHours is one volunteer's platform service hours (total).
type ImportHours struct {
	Line            int     `json:"line,omitempty"`
	VolunteerNumber string  `json:"volunteer_number"`
	Hours           float64 `json:"hours"`
}

// ImportVolunteersBatch is the body of POST /v1/imports/volunteers.
type ImportVolunteersBatch struct {
	ImportID string            `json:"import_id"`
	Seq      int               `json:"seq"`
	Rows     []ImportVolunteer `json:"rows"`
}

// ImportHoursBatch is the body of POST /v1/imports/hours.
type ImportHoursBatch struct {
	ImportID string        `json:"import_id"`
	Seq      int           `json:"seq"`
	Rows     []ImportHours `json:"rows"`
}

// ImportReject is a row an import refused: its line and why, never its data.
type ImportReject struct {
	Line   int    `json:"line"`
	Field  string `json:"field,omitempty"`
	Reason string `json:"reason"`
}

// ImportBatchResult is what one batch did.
type ImportBatchResult struct {
	ImportID string         `json:"import_id"`
	Seq      int            `json:"seq"`
	Kind     string         `json:"kind"`
	Rows     int            `json:"rows"`
	Created  int            `json:"created"`
	Updated  int            `json:"updated"`
	Rejects  []ImportReject `json:"rejects"`
	Replayed bool           `json:"replayed"`
}

// ImportStatus is GET /v1/imports/{id}: the batches committed so far.
type ImportStatus struct {
	ImportID string              `json:"import_id"`
	Batches  []ImportBatchResult `json:"batches"`
}
