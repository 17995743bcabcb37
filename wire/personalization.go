package wire

import (
	"fmt"
	"time"
)

// Bodies of the personalization routes.

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
