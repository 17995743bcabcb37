package feed

import "time"

// The rows of the webhook delivery worker (api/webhook declares the port,
// issuance/store implements it).

// Claim asks for up to Limit due deliveries, leased to Owner until
// Now+Lease. Only the first pending delivery of each (endpoint, order key)
// is due, so that one subject's events go out in order while others make
// progress; deliveries of disabled endpoints wait.
type Claim struct {
	Owner string
	Now   time.Time
	Lease time.Duration
	Limit int
}

// Job is a claimed delivery with what sending it needs.
type Job struct {
	DeliveryID   int64
	EndpointID   int64
	URL          string
	SecretSealed []byte
	Event        Event
	// Attempts counts this one.
	Attempts  int
	CreatedAt time.Time
}

// Outcome is the result of one attempt.
type Outcome struct {
	DeliveryID int64
	EndpointID int64
	OK         bool
	Status     int    // the HTTP status, 0 when none came
	Error      string // why it failed, no secret or body in it
	NextAt     time.Time
	GiveUp     bool // failed for good: the delivery ends failed
}

// DisablePolicy says when an endpoint is disabled: after Failures failed
// attempts in a row that span at least After.
type DisablePolicy struct {
	Failures int
	After    time.Duration
}
