package wire

// ProblemContentType is the media type of every error answer (RFC 9457).
const ProblemContentType = "application/problem+json"

// ProblemBase is the prefix of every problem type URI.
const ProblemBase = "https://volcard.example/problems/"

// Problem is an RFC 9457 problem document: the body of every error answer.
// Type is ProblemBase followed by one of the Problem* names below.
type Problem struct {
	Type      string       `json:"type"`
	Title     string       `json:"title"`
	Status    int          `json:"status"`
	Detail    string       `json:"detail,omitempty"`
	Instance  string       `json:"instance,omitempty"`
	RequestID string       `json:"request_id,omitempty"`
	Errors    []FieldError `json:"errors,omitempty"`
}

// FieldError names one invalid input field. Message never contains the
// submitted value.
type FieldError struct {
	Field   string `json:"field"`
	Message string `json:"message"`
}

// Problem type names (the last segment of the problem type URI) that any
// route may return.
const (
	ProblemValidation          = "validation"
	ProblemMalformedJSON       = "malformed-json"
	ProblemPayloadTooLarge     = "payload-too-large"
	ProblemUnsupportedMedia    = "unsupported-media-type"
	ProblemUnauthorized        = "unauthorized"
	ProblemForbidden           = "forbidden"
	ProblemNotFound            = "not-found"
	ProblemMethodNotAllowed    = "method-not-allowed"
	ProblemConflict            = "conflict"
	ProblemIllegalTransition   = "illegal-transition"
	ProblemIdempotencyMismatch = "idempotency-mismatch"
	ProblemIdempotencyInFlight = "idempotency-in-flight"
	ProblemRateLimited         = "rate-limited"
	ProblemUnavailable         = "unavailable"
	ProblemInternal            = "internal"
)

// Problem type names that the check-in routes return besides the generic
// ones.
const (
	ProblemChallengeReplayed = "challenge-replayed"
	ProblemChallengeInvalid  = "challenge-invalid"
	ProblemCardNotGenuine    = "card-not-genuine"
	ProblemCardUnknown       = "card-unknown"
	ProblemCardBlocked       = "card-blocked"
	ProblemCardExpired       = "card-expired"
	ProblemCardClosed        = "card-closed"
	ProblemEvidenceReplayed  = "evidence-replayed"
	ProblemSequenceReused    = "sequence-reused"
	// ProblemBenefitCheckExpired: a redemption quotes a benefit check older
	// than 10 minutes; tap the card again.
	ProblemBenefitCheckExpired = "benefit-check-expired"
	// ProblemOfferNotOffered: the offer redeemed is not offered to the
	// card's holder at this terminal now.
	ProblemOfferNotOffered = "offer-not-offered"
	// ProblemPINRequired: the offer requires the offline PIN and the
	// redemption reports none.
	ProblemPINRequired = "pin-required"
)

// Problem type names of the personalization routes.
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

// ProblemTestBankUnavailable: a test helper (/v1/test/...) was asked for a
// card whose bank is a real bank, not the embedded simulator; nothing was
// sent or changed.
const ProblemTestBankUnavailable = "test-bank-unavailable"
