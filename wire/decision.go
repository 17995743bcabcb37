package wire

// Decision is a body that carries only a free-text reason: approving,
// rejecting or cancelling an application, a step of an on-site session,
// blocking, unblocking or replacing a card, retrying or cancelling a bank
// outbox row. Each route says whether the reason is required and how long
// it may be; an empty body is the same as no reason.
type Decision struct {
	Reason string `json:"reason,omitempty"`
}
