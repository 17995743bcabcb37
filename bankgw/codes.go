package bankgw

// Response codes (field 39), docs/bank-interface.md section 8.
const (
	CodeApproved          = "00"
	CodeDoNotHonour       = "05"
	CodeInvalidTxn        = "12"
	CodeInvalidCard       = "14"
	CodeRecordNotFound    = "25"
	CodeFormatError       = "30"
	CodeInsufficientFunds = "51"
	CodeNotPermitted      = "57"
	CodeRestricted        = "62"
	CodeIssuerUnavailable = "91"
	CodeSystemMalfunction = "96"
	CodeUnderAge          = "V1"
)

// Reversal reasons (field 39 of a 0420).
const (
	ReasonTimeout   = "68"
	ReasonCancelled = "17"
)

var codeReasons = map[string]string{
	CodeApproved:          "approved",
	CodeDoNotHonour:       "do not honour",
	CodeInvalidTxn:        "invalid transaction",
	CodeInvalidCard:       "invalid card number",
	CodeInsufficientFunds: "insufficient funds",
	CodeRecordNotFound:    "unable to locate record",
	CodeFormatError:       "format error",
	CodeNotPermitted:      "status change not permitted",
	CodeRestricted:        "restricted applicant",
	CodeIssuerUnavailable: "issuer unavailable or not signed on",
	CodeSystemMalfunction: "system malfunction",
	CodeUnderAge:          "applicant under 16",
}

// CodeReason returns the meaning of a response code, or "unknown code".
func CodeReason(code string) string {
	if r, ok := codeReasons[code]; ok {
		return r
	}
	return "unknown code"
}

// FileUpdateCode is field 91 of a file update.
type FileUpdateCode string

// File update codes.
const (
	FileAdd     FileUpdateCode = "1"
	FileChange  FileUpdateCode = "2"
	FileInquiry FileUpdateCode = "5"
)

// StatusChange is the ST subfield of a status change request.
type StatusChange string

// Status changes.
const (
	StatusActivate StatusChange = "A"
	StatusBlock    StatusChange = "B"
	StatusUnblock  StatusChange = "U"
	StatusReplace  StatusChange = "R"
	// StatusRenew asks for the renewed card (the bank's renewal rule: the
	// same PAN with a new expiry and PSN, or a new PAN); RS is mandatory.
	StatusRenew StatusChange = "N"
	// StatusClose closes the card for good.
	StatusClose StatusChange = "C"
)

// IssuesCard reports whether the bank answers s with a card it issues
// (2/14/23/CR): a replacement or a renewal, both with an RS.
func (s StatusChange) IssuesCard() bool { return s == StatusReplace || s == StatusRenew }

// Valid reports whether s is one of the status changes.
func (s StatusChange) Valid() bool {
	switch s {
	case StatusActivate, StatusBlock, StatusUnblock, StatusReplace, StatusRenew, StatusClose:
		return true
	}
	return false
}

// CardState is a card's state at the bank (ST in a 0310).
type CardState string

// Card states.
const (
	CardIssued    CardState = "I"
	CardActive    CardState = "A"
	CardBlocked   CardState = "B"
	CardReplaced  CardState = "R"
	CardCancelled CardState = "C"
)
