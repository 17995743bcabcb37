package wire

import (
	"encoding/json"
	"time"

	"github.com/volcard/volcard/evidence"
)

// Bodies of the check-in routes: terminal challenges, taps, activities,
// service records, benefit checks.

// Hex is a byte string sent as upper-case hex in JSON.
type Hex = evidence.Hex

// Challenge is the answer to POST /v1/terminals/challenge: a fresh
// unpredictable number for one DDA, usable once before ExpiresAt.
type Challenge struct {
	ID        string    `json:"challenge_id"`
	UN        Hex       `json:"un"`
	ExpiresAt time.Time `json:"expires_at"`
}

// TerminalState is the answer to GET /v1/terminals/self: what a terminal
// checks when it starts. LastSeq is the highest sequence number the server
// holds for the terminal's token (0 when none); Activity is the activity
// asked for with ?activity=, when it is in the token's scope.
type TerminalState struct {
	LastSeq  int64     `json:"last_seq"`
	Activity *Activity `json:"activity,omitempty"`
}

// Record, Certificates and CardEvidence are the card evidence a terminal
// sends (package evidence): the server, the check-in domain and the card
// verifier (cardio/emv) use the same types, so there is nothing to copy.
type (
	Record       = evidence.Record
	Certificates = evidence.Certificates
	CardEvidence = evidence.Card
)

// TapRequest is the body of POST /v1/activities/{id}/taps.
type TapRequest struct {
	// Seq is the terminal's persisted sequence number: the same seq from
	// the same terminal token returns the first result.
	Seq int64 `json:"seq"`
	// ChallengeID names the server challenge signed by the card; empty for
	// an offline tap.
	ChallengeID string `json:"challenge_id,omitempty"`
	// Offline marks a tap made while the server was unreachable (the
	// terminal's own unpredictable number); At is then required.
	Offline bool         `json:"offline,omitempty"`
	At      *time.Time   `json:"at,omitempty"`
	Card    CardEvidence `json:"card"`
}

// TapResult is the server's decision on a tap.
type TapResult struct {
	TapID           int64     `json:"tap_id"`
	Kind            string    `json:"kind"` // check_in or check_out
	ActivityID      int64     `json:"activity_id"`
	ActivityTitle   string    `json:"activity_title"`
	VolunteerID     int64     `json:"volunteer_id"`
	VolunteerName   string    `json:"volunteer_name"`
	At              time.Time `json:"at"`
	CheckedInAt     time.Time `json:"checked_in_at"`
	SessionMinutes  int64     `json:"session_minutes"`
	SessionHours    float64   `json:"session_hours"`
	YearHours       float64   `json:"year_hours"`
	LifetimeHours   float64   `json:"lifetime_hours"`
	Stars           int       `json:"stars"`
	StarsBefore     int       `json:"stars_before"`
	Tier            string    `json:"tier"`
	OfflineEvidence bool      `json:"offline_evidence"`
	Replayed        bool      `json:"replayed"`
}

// Tap kinds in TapResult.Kind.
const (
	KindCheckIn  = "check_in"
	KindCheckOut = "check_out"
)

// NewActivity is the body of POST /v1/activities.
type NewActivity struct {
	OrgID    int64     `json:"org_id"`
	Title    string    `json:"title"`
	Site     string    `json:"site,omitempty"`
	StartsAt time.Time `json:"starts_at"`
	EndsAt   time.Time `json:"ends_at"`
}

// Activity is a volunteer activity.
type Activity struct {
	ID        int64     `json:"id"`
	OrgID     int64     `json:"org_id"`
	Title     string    `json:"title"`
	Site      string    `json:"site,omitempty"`
	StartsAt  time.Time `json:"starts_at"`
	EndsAt    time.Time `json:"ends_at"`
	CreatedAt time.Time `json:"created_at"`
}

// YearHours is a volunteer's service in one year.
type YearHours struct {
	Year    int     `json:"year"`
	Minutes int64   `json:"minutes"`
	Hours   float64 `json:"hours"`
}

// AttendanceItem is one visit to an activity in a service record.
type AttendanceItem struct {
	AttendanceID int64      `json:"attendance_id"`
	ActivityID   int64      `json:"activity_id"`
	Title        string     `json:"title"`
	Site         string     `json:"site,omitempty"`
	InAt         time.Time  `json:"in_at"`
	OutAt        *time.Time `json:"out_at,omitempty"`
	Minutes      int64      `json:"minutes"`
	Hours        float64    `json:"hours"`
	Corrected    bool       `json:"corrected"`
}

// ServiceRecord is the answer to GET /v1/volunteers/{id}/service-record.
type ServiceRecord struct {
	VolunteerID            int64            `json:"volunteer_id"`
	Name                   string           `json:"name"`
	Years                  []YearHours      `json:"years"`
	LifetimeHours          float64          `json:"lifetime_hours"`
	Stars                  int              `json:"stars"`
	Tier                   string           `json:"tier"`
	MemberExpectationHours float64          `json:"member_expectation_hours,omitempty"`
	Activities             []AttendanceItem `json:"activities"`
}

// BenefitsRequest is the body of POST /v1/benefits/check.
type BenefitsRequest struct {
	ChallengeID string       `json:"challenge_id"`
	Card        CardEvidence `json:"card"`
}

// Offer is a benefit attached to a tier by an organisation (a caring
// merchant's): GET /v1/offers lists them, POST /v1/benefits/check answers
// those offered to a card's holder.
type Offer struct {
	ID          int64  `json:"id"`
	OrgID       int64  `json:"org_id"`
	Tier        string `json:"tier"`
	Title       string `json:"title"`
	Description string `json:"description,omitempty"`
	// RequiresPIN: the merchant grants it only after the holder's offline
	// PIN verified on the card.
	RequiresPIN bool `json:"requires_pin"`
	// ValidFrom and ValidUntil bound when it is offered (absent: open;
	// ValidUntil exclusive).
	ValidFrom  *time.Time `json:"valid_from,omitempty"`
	ValidUntil *time.Time `json:"valid_until,omitempty"`
	// WithdrawnAt is set once the organisation withdrew it: kept for
	// history, no longer offered.
	WithdrawnAt    *time.Time `json:"withdrawn_at,omitempty"`
	WithdrawReason string     `json:"withdraw_reason,omitempty"`
	CreatedAt      *time.Time `json:"created_at,omitempty"`
	UpdatedAt      *time.Time `json:"updated_at,omitempty"`
}

// NewOffer is the body of POST /v1/offers.
type NewOffer struct {
	OrgID       int64      `json:"org_id"`
	Tier        string     `json:"tier"`
	Title       string     `json:"title"`
	Description string     `json:"description"`
	RequiresPIN bool       `json:"requires_pin"`
	ValidFrom   *time.Time `json:"valid_from"`
	ValidUntil  *time.Time `json:"valid_until"`
}

// OfferChange is the body of PATCH /v1/offers/{id}: absent fields stay as
// they are; valid_from or valid_until null removes that end (open).
type OfferChange struct {
	Tier        *string      `json:"tier"`
	Title       *string      `json:"title"`
	Description *string      `json:"description"`
	RequiresPIN *bool        `json:"requires_pin"`
	ValidFrom   NullableTime `json:"valid_from,omitzero"`
	ValidUntil  NullableTime `json:"valid_until,omitzero"`
}

// NullableTime is a time in a partial change: Set when the field was
// present, Time nil when it was null.
type NullableTime struct {
	Set  bool
	Time *time.Time
}

// UnmarshalJSON implements json.Unmarshaler (called for null too).
func (n *NullableTime) UnmarshalJSON(b []byte) error {
	n.Set = true
	if string(b) == "null" {
		n.Time = nil
		return nil
	}
	var t time.Time
	if err := json.Unmarshal(b, &t); err != nil {
		return err
	}
	n.Time = &t
	return nil
}

// MarshalJSON implements json.Marshaler: null when unset or cleared.
func (n NullableTime) MarshalJSON() ([]byte, error) {
	if n.Time == nil {
		return []byte("null"), nil
	}
	return json.Marshal(n.Time)
}

// OfferList is the answer of GET /v1/offers, oldest first.
type OfferList struct {
	Items []Offer `json:"items"`
}

// Benefits is the answer to a merchant: masked name, stars, tier, offers,
// and the check's reference to redeem one of them.
type Benefits struct {
	Name    string  `json:"name"`
	Stars   int     `json:"stars"`
	Tier    string  `json:"tier"`
	Offers  []Offer `json:"offers"`
	CheckID string  `json:"check_id,omitempty"`
}

// Cardholder verification methods of a redemption.
const (
	CVMOfflinePIN = "offline_pin" // the card verified the offline PIN
	CVMNone       = "none"
)

// RedemptionRequest is the body of POST /v1/benefits/redemptions: the
// terminal that made the check granted the offer.
type RedemptionRequest struct {
	CheckID string `json:"check_id"`
	OfferID int64  `json:"offer_id"`
	CVM     string `json:"cvm"`
}

// Redemption is a recorded redemption.
type Redemption struct {
	ID          int64     `json:"id"`
	OfferID     int64     `json:"offer_id"`
	VolunteerID int64     `json:"volunteer_id,omitempty"` // in GET /v1/offers/{id}/redemptions
	TerminalID  int64     `json:"terminal_token_id,omitempty"`
	CVM         string    `json:"cvm"`
	At          time.Time `json:"at"`
	Replayed    bool      `json:"replayed,omitempty"`
}

// RedemptionList is the answer of GET /v1/offers/{id}/redemptions, oldest
// first.
type RedemptionList struct {
	Items []Redemption `json:"items"`
}

// ActivityItem is an activity in GET /v1/activities: the activity with its
// organisation's name and its check-in figures.
type ActivityItem struct {
	Activity
	OrgName  string `json:"org_name"`
	CheckIns int64  `json:"check_ins"` // check-ins recorded (attendances)
	OnSite   int64  `json:"on_site"`   // checked in, not checked out yet
}

// ActivityPage is one page of activities, newest start first.
type ActivityPage struct {
	Items      []ActivityItem `json:"items"`
	NextCursor string         `json:"next_cursor,omitempty"`
}
