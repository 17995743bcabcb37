package platform

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"
)

// RegistrationPath is the path of the registration call under the
// platform's base URL.
const RegistrationPath = "/v1/registrations"

// Registration is the body of POST /v1/registrations.
type Registration struct {
	// RequestID is volcard's registration request id; the Idempotency-Key
	// header is "volcard-reg-" followed by it.
	RequestID int64  `json:"request_id"`
	Name      string `json:"name"`
	IDType    string `json:"id_type"` // resident_id, passport, hk_macau_permit, taiwan_permit
	IDNumber  string `json:"id_number"`
	Gender    string `json:"gender,omitempty"`     // M, F or empty
	BirthDate string `json:"birth_date,omitempty"` // YYYY-MM-DD
	Phone     string `json:"phone"`
	Source    string `json:"source"` // branch or on_site
	OrgName   string `json:"org_name,omitempty"`
}

// Registered is the platform's answer: 201 for a new registration, 200 for
// a person already registered (matched by ID type and number).
type Registered struct {
	VolunteerNumber string `json:"volunteer_number"`
	Matched         bool   `json:"matched"`
}

// Problem is an error answer (application/problem+json). Type is one of
// the ProblemX values; Detail never holds personal data.
type Problem struct {
	Type   string `json:"type"`
	Title  string `json:"title,omitempty"`
	Status int    `json:"status,omitempty"`
	Detail string `json:"detail,omitempty"`
}

// Problem types of the registration call.
const (
	ProblemInvalid             = "invalid"              // 400/422: a field is missing or malformed
	ProblemUnauthorized        = "unauthorized"         // 401: no or wrong token
	ProblemNameMismatch        = "name_mismatch"        // 409: the ID number is registered under another name
	ProblemIdempotencyMismatch = "idempotency_mismatch" // 422: the key was used with another body
	ProblemUnavailable         = "unavailable"          // 503: try later
)

// IdempotencyKey is the Idempotency-Key of a registration request.
func IdempotencyKey(requestID int64) string { return fmt.Sprintf("volcard-reg-%d", requestID) }

// Answer is a decoded registration answer: Registered on 200/201, Problem
// otherwise.
type Answer struct {
	Status     int
	Registered Registered
	Problem    Problem
}

// maxAnswer bounds the answer body read.
const maxAnswer = 64 << 10

// ErrBadAnswer means the platform's answer could not be read.
var ErrBadAnswer = errors.New("platform: bad answer")

// DecodeAnswer reads an answer body of the given HTTP status. A 200/201
// needs a volunteer number; other statuses take a problem body when there
// is one (a non-JSON body is an ErrBadAnswer for 2xx, and an empty
// problem of type "http_<status>" otherwise). Texts are cut to 200
// characters and must be UTF-8.
func DecodeAnswer(status int, body []byte) (Answer, error) {
	a := Answer{Status: status}
	if len(body) > maxAnswer {
		return a, fmt.Errorf("%w: body over %d bytes", ErrBadAnswer, maxAnswer)
	}
	if status == 200 || status == 201 {
		if err := json.Unmarshal(body, &a.Registered); err != nil {
			return a, fmt.Errorf("%w: %d body is not a registration answer", ErrBadAnswer, status)
		}
		a.Registered.VolunteerNumber = strings.TrimSpace(a.Registered.VolunteerNumber)
		if a.Registered.VolunteerNumber == "" {
			return a, fmt.Errorf("%w: no volunteer_number", ErrBadAnswer)
		}
		if !utf8.ValidString(a.Registered.VolunteerNumber) || len(a.Registered.VolunteerNumber) > 64 {
			return a, fmt.Errorf("%w: malformed volunteer_number", ErrBadAnswer)
		}
		return a, nil
	}
	if err := json.Unmarshal(body, &a.Problem); err != nil || a.Problem.Type == "" {
		a.Problem = Problem{Type: fmt.Sprintf("http_%d", status)}
	}
	a.Problem.Type = clean(a.Problem.Type, 64)
	a.Problem.Title = clean(a.Problem.Title, 200)
	a.Problem.Detail = clean(a.Problem.Detail, 200)
	return a, nil
}

// clean keeps valid UTF-8 printable text, at most n runes.
func clean(s string, n int) string {
	var b strings.Builder
	for i, r := range strings.ToValidUTF8(s, "") {
		_ = i
		if n == 0 {
			break
		}
		if r < 0x20 || r == 0x7f {
			r = ' '
		}
		b.WriteRune(r)
		n--
	}
	return b.String()
}
