package platformlink

import (
	"errors"
	"fmt"

	"github.com/volcard/volcard/issuance"
)

// ErrNotFailed means an operator's retry found the request not failed.
var ErrNotFailed = errors.New("platform request is not failed")

// RefusedError is the platform's final refusal of a registration: the
// request ends failed until an operator retries it. Code is the platform's
// problem type (for example "name_mismatch"); Reason is safe to show and
// log (the platform's wire contract forbids personal data in it).
type RefusedError struct {
	Status int
	Code   string
	Reason string
}

// Error implements error.
func (e *RefusedError) Error() string {
	return fmt.Sprintf("platform refused (%d %s): %s", e.Status, e.Code, e.Reason)
}

func isNotFound(err error) bool { return errors.Is(err, issuance.ErrNotFound) }

func asValidation(err error, ve **issuance.ValidationError) bool { return errors.As(err, ve) }
