package client

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"time"
)

// Problem types of the personalization routes.
const (
	// ProblemCardRefused: the card answered a personalization command with
	// an error status (wrong card keys, bad order...). The session is closed.
	ProblemCardRefused = "card-refused"
	// ProblemCardCheckFailed: the personalized card's read-back or DDA does
	// not match. The session is closed.
	ProblemCardCheckFailed = "card-check-failed"
	// ProblemCardNotBlank: the card is already personalized (not by this
	// application): use a blank card.
	ProblemCardNotBlank = "card-not-blank"
	// ProblemSessionExpired: the session timed out; open a new one.
	ProblemSessionExpired = "session-expired"
	// ProblemSessionClosed: the session is finished, failed or superseded.
	ProblemSessionClosed = "session-closed"
	// ProblemResponsesMismatch: the posted responses do not fit the batch.
	ProblemResponsesMismatch = "responses-mismatch"
)

// OpenPersonalization is the body of POST
// /v1/applications/{id}/personalizations. Exactly one of PIN (4-12 digits)
// and PINBlock (ISO 9564 format 2 plaintext block, 16 hex digits) is set.
// It travels over TLS, is never logged and never stored in clear.
type OpenPersonalization struct {
	Reader   string `json:"reader"`
	Branch   string `json:"branch,omitempty"`
	PIN      string `json:"pin,omitempty"`
	PINBlock string `json:"pin_block,omitempty"`
}

// String never shows the PIN.
func (o OpenPersonalization) String() string {
	return fmt.Sprintf("OpenPersonalization(reader %q, branch %q, PIN ******)", o.Reader, o.Branch)
}

// PersonalizationResult is a personalized card.
type PersonalizationResult struct {
	ApplicationID     int64     `json:"application_id"`
	ApplicationNumber string    `json:"application_number"`
	Status            string    `json:"status"`
	MaskedPAN         string    `json:"masked_pan"`
	Name              string    `json:"name"`
	EmbossName        string    `json:"emboss_name,omitempty"`
	ChipSerial        string    `json:"chip_serial"`
	PSN               string    `json:"psn"`
	Expiry            string    `json:"expiry"` // YYMM
	Reader            string    `json:"reader"`
	Branch            string    `json:"branch,omitempty"`
	Recovered         bool      `json:"recovered,omitempty"`
	PersonalizedAt    time.Time `json:"personalized_at"`
}

// PersonalizationStep is the server's answer: the next batch of command
// APDUs (hex) to relay in order, stopping at the first status other than
// 9000, or the result (phase "done").
type PersonalizationStep struct {
	SessionID     string                 `json:"session_id"`
	ApplicationID int64                  `json:"application_id"`
	Phase         string                 `json:"phase"` // select, script, read_back, done
	Commands      []string               `json:"commands"`
	ExpiresAt     time.Time              `json:"expires_at"`
	Result        *PersonalizationResult `json:"result,omitempty"`
}

// PersonalizationResponses is the body of POST
// /v1/personalizations/{sid}/responses: the card's response APDUs (data
// and status word, hex) to the batch, in order.
type PersonalizationResponses struct {
	Responses []string `json:"responses"`
}

// OpenPersonalization opens a personalization session for a bank_approved
// application and returns batch 1.
func (c *Client) OpenPersonalization(ctx context.Context, applicationID int64, in OpenPersonalization) (PersonalizationStep, error) {
	var out PersonalizationStep
	err := c.do(ctx, http.MethodPost, fmt.Sprintf("/v1/applications/%d/personalizations", applicationID), in, &out)
	return out, err
}

// PostPersonalizationResponses sends the card's responses to the last batch
// and returns the next step.
func (c *Client) PostPersonalizationResponses(ctx context.Context, sessionID string, in PersonalizationResponses) (PersonalizationStep, error) {
	var out PersonalizationStep
	err := c.do(ctx, http.MethodPost, "/v1/personalizations/"+url.PathEscape(sessionID)+"/responses", in, &out)
	return out, err
}
