package wire

// Problem type names (the last segment of the problem type URI) that the
// check-in routes return besides the generic ones.
const (
	ProblemChallengeReplayed = "challenge-replayed"
	ProblemChallengeInvalid  = "challenge-invalid"
	ProblemCardNotGenuine    = "card-not-genuine"
	ProblemCardUnknown       = "card-unknown"
	ProblemCardBlocked       = "card-blocked"
	ProblemEvidenceReplayed  = "evidence-replayed"
	ProblemSequenceReused    = "sequence-reused"
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
