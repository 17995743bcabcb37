package wire

import (
	"encoding/json"
	"time"
)

// The event feed and webhook bodies (issue #17, docs/platform-interface.md).

// EventSubject names the object an event is about.
type EventSubject struct {
	Type string `json:"type"`
	ID   int64  `json:"id"`
}

// Event is one change in the feed; a webhook delivery's body is the same
// object.
type Event struct {
	ID        int64           `json:"id"`
	Type      string          `json:"type"`
	Subject   EventSubject    `json:"subject"`
	CreatedAt time.Time       `json:"created_at"`
	Data      json.RawMessage `json:"data"`
}

// EventPage is one read of GET /v1/events. Next is the cursor to pass as
// after= in the next read (the same cursor again when no event was new).
type EventPage struct {
	Items []Event `json:"items"`
	Next  string  `json:"next"`
}

// NewWebhookEndpoint is the body of POST /v1/webhooks. Types empty means
// every event type.
type NewWebhookEndpoint struct {
	URL         string   `json:"url"`
	Description string   `json:"description,omitempty"`
	Types       []string `json:"types,omitempty"`
}

// WebhookEndpointChange is the body of PATCH /v1/webhooks/{id}; absent
// fields are kept.
type WebhookEndpointChange struct {
	URL         *string   `json:"url,omitempty"`
	Description *string   `json:"description,omitempty"`
	Types       *[]string `json:"types,omitempty"`
}

// WebhookEndpoint is an endpoint as shown (never with its secret, except
// Secret in the answer to its creation).
type WebhookEndpoint struct {
	ID             int64      `json:"id"`
	URL            string     `json:"url"`
	Description    string     `json:"description"`
	Types          []string   `json:"types"`
	ScopePath      string     `json:"scope_path"`
	Bank           string     `json:"bank,omitempty"`
	Enabled        bool       `json:"enabled"`
	DisabledReason string     `json:"disabled_reason,omitempty"`
	Failures       int        `json:"failures"`
	FailingSince   *time.Time `json:"failing_since,omitempty"`
	CreatedAt      time.Time  `json:"created_at"`
	UpdatedAt      time.Time  `json:"updated_at"`
	// Secret is set only in the answer to POST /v1/webhooks.
	Secret string `json:"secret,omitempty"`
}

// WebhookEndpointList lists endpoints.
type WebhookEndpointList struct {
	Items []WebhookEndpoint `json:"items"`
}

// WebhookDelivery is one event queued for one endpoint, with its attempts.
type WebhookDelivery struct {
	ID           int64      `json:"id"`
	EndpointID   int64      `json:"endpoint_id"`
	EventID      int64      `json:"event_id"`
	EventType    string     `json:"event_type"`
	State        string     `json:"state"`
	Attempts     int        `json:"attempts"`
	NextAt       *time.Time `json:"next_attempt_at,omitempty"`
	LastStatus   int        `json:"last_status,omitempty"`
	LastError    string     `json:"last_error,omitempty"`
	CreatedAt    time.Time  `json:"created_at"`
	DeliveredAt  *time.Time `json:"delivered_at,omitempty"`
	RedeliveryOf int64      `json:"redelivery_of,omitempty"`
}

// WebhookDeliveryPage is one page of an endpoint's delivery log, newest
// first; NextBefore is the before= of the next page (0: none).
type WebhookDeliveryPage struct {
	Items      []WebhookDelivery `json:"items"`
	NextBefore int64             `json:"next_before,omitempty"`
}
