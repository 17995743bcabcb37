package wire

// Wire types of the card lifecycle routes that the CLI shares with the
// server: closing, renewal batches and the embedded bank's test helpers.

// CloseCard is the body of POST /v1/cards/{id}/close.
type CloseCard struct {
	// Reason is holder_left, deceased, replaced or holder_request.
	Reason string `json:"reason"`
	// Note is optional, at most 200 characters, no card data.
	Note string `json:"note,omitempty"`
}

// RenewalRequest is the body of POST /v1/orgs/{id}/cards/renewals: exactly
// one of ExpiringBefore (YYYY-MM-DD: the cards whose validity ends before
// that day, China time, expired cards included) and Expired (only the
// cards marked expired).
type RenewalRequest struct {
	ExpiringBefore string `json:"expiring_before,omitempty"`
	Expired        bool   `json:"expired,omitempty"`
	Note           string `json:"note,omitempty"`
}

// RenewalItem is one card of a renewal batch and its result.
type RenewalItem struct {
	CardID     int64  `json:"card_id"`
	LastFour   string `json:"last_four"`
	Expiry     string `json:"expiry"`
	State      string `json:"state"`
	ResultCode string `json:"result_code,omitempty"`
	Reason     string `json:"reason,omitempty"`
	NewCardID  int64  `json:"new_card_id,omitempty"`
}

// RenewalBatch is a renewal batch with its progress and per-card results.
type RenewalBatch struct {
	ID          int64          `json:"id"`
	OrgID       int64          `json:"org_id"`
	Through     string         `json:"through"`
	ExpiredOnly bool           `json:"expired_only"`
	CreatedAt   string         `json:"created_at"`
	Progress    map[string]int `json:"progress"`
	Items       []RenewalItem  `json:"items"`
}

// TestSpending is the body of POST /v1/test/cards/{id}/spending.
type TestSpending struct {
	// AmountFen is the amount in fen (1 to 100000000).
	AmountFen int64 `json:"amount_fen"`
	// Kind is purchase (default), refund or reversal.
	Kind     string `json:"kind,omitempty"`
	Merchant string `json:"merchant,omitempty"`
}

// TestAdviceResult is the answer of a test helper: the advice the embedded
// bank sent and the response code volcard answered it with.
type TestAdviceResult struct {
	CardID       int64  `json:"card_id"`
	Advice       string `json:"advice"`
	RRN          string `json:"rrn"`
	ResponseCode string `json:"response_code"`
}
