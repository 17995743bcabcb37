package issuance

// Status is the state of a card application.
type Status string

// Application statuses, in workflow order.
const (
	StatusSubmitted    Status = "submitted"
	StatusApproved     Status = "approved"
	StatusRejected     Status = "rejected"
	StatusBankPending  Status = "bank_pending"
	StatusBankApproved Status = "bank_approved"
	StatusBankDeclined Status = "bank_declined"
	StatusPersonalized Status = "personalized"
	StatusIssued       Status = "issued"
	StatusActivated    Status = "activated"
	StatusCancelled    Status = "cancelled"
)

// Statuses lists every status in workflow order.
var Statuses = []Status{
	StatusSubmitted, StatusApproved, StatusRejected, StatusBankPending, StatusBankApproved,
	StatusBankDeclined, StatusPersonalized, StatusIssued, StatusActivated, StatusCancelled,
}

// ProgressSteps is the happy path an applicant sees in a progress lookup.
var ProgressSteps = []Status{
	StatusSubmitted, StatusApproved, StatusBankPending, StatusBankApproved,
	StatusPersonalized, StatusIssued, StatusActivated,
}

var transitions = map[Status][]Status{
	StatusSubmitted:   {StatusApproved, StatusRejected, StatusCancelled},
	StatusApproved:    {StatusBankPending, StatusCancelled},
	StatusBankPending: {StatusBankApproved, StatusBankDeclined},
	// issued/activated → bank_approved: the bank replaced the card (lost,
	// stolen, damaged); the replacement is personalized and handed over
	// like the first card (see Service.RecordCardStatusChange).
	StatusIssued:    {StatusActivated, StatusBankApproved, StatusCancelled},
	StatusActivated: {StatusBankApproved, StatusCancelled},
	// bank_approved, personalized → cancelled, and issued, activated →
	// cancelled: the card was closed at the bank (Service.CloseCard); only
	// the system actor, recording the bank's confirmation, makes these
	// (see systemOnly).
	StatusBankApproved: {StatusPersonalized, StatusCancelled},
	StatusPersonalized: {StatusIssued, StatusCancelled},
}

// systemOnly reports whether only the system actor may move an application
// from → to: cancelling an application whose card the bank issued happens
// when the bank confirms a closing, never by staff alone.
func systemOnly(from, to Status) bool {
	if to != StatusCancelled {
		return false
	}
	switch from {
	case StatusBankApproved, StatusPersonalized, StatusIssued, StatusActivated:
		return true
	}
	return false
}

// Valid reports whether s is a known status.
func (s Status) Valid() bool {
	for _, x := range Statuses {
		if x == s {
			return true
		}
	}
	return false
}

// Live reports whether an application in status s still counts as the
// volunteer's application for its product (everything except rejected,
// bank_declined and cancelled). At most one live application per volunteer
// and product exists.
func (s Status) Live() bool {
	return s != StatusRejected && s != StatusBankDeclined && s != StatusCancelled
}

// Final reports whether no transition leaves s.
func (s Status) Final() bool { return len(transitions[s]) == 0 }

// Next returns the statuses reachable from s in one step.
func (s Status) Next() []Status { return append([]Status(nil), transitions[s]...) }

// CanTransition reports whether the state machine allows from → to.
func CanTransition(from, to Status) bool {
	for _, x := range transitions[from] {
		if x == to {
			return true
		}
	}
	return false
}

// CheckTransition returns a *TransitionError unless from → to is allowed.
func CheckTransition(from, to Status) error {
	if !CanTransition(from, to) {
		return &TransitionError{From: from, To: to}
	}
	return nil
}
