package api

import (
	"regexp"

	"github.com/volcard/volcard/issuance/pii"
)

// Runs of characters that look like a resident ID number (17 digits and a
// digit or X) or a mainland mobile number (11 digits starting with 1), and
// long digit runs in general (card numbers).
var (
	reIDNumber = regexp.MustCompile(`\d{17}[\dXx]`)
	reLongNum  = regexp.MustCompile(`\d{11,}`)
)

// scrub masks anything in s that looks like an ID number, phone or card
// number. It runs on internal error text before it is logged, as a second
// line of defence: domain errors are written not to contain personal data.
func scrub(s string) string {
	s = reIDNumber.ReplaceAllStringFunc(s, pii.MaskIDNumber)
	return reLongNum.ReplaceAllStringFunc(s, pii.MaskPhone)
}
