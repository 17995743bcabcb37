package banksim

import (
	"fmt"
	"github.com/volcard/volcard/pii"
	"maps"
	"slices"
	"time"

	"github.com/volcard/volcard/bankgw"
)

// Application is what the bank recorded for one application number.
type Application struct {
	Number string
	// Code is the result of the first add: 00, or the decline code.
	Code string
	// PAN is the application's current card ("" when declined).
	PAN string
	// Adds counts the add requests received (originals, repeats, resends).
	Adds       int
	ReceivedAt time.Time
	Branch     string
	Product    string
}

// CardRecord is one card issued by the bank.
type CardRecord struct {
	PAN               string
	Expiry            string
	PSN               string
	Reference         string
	State             bankgw.CardState
	ApplicationNumber string
	// ReplaceSeq is the RS that issued this card (0 for the first card).
	ReplaceSeq int
	// Changes counts the status changes the bank made to this card
	// (activate, block, unblock, replace); repeats of a request and
	// requests for the state the card is already in do not count.
	Changes int
	// ActivatedAt is when the card was activated (zero: never).
	ActivatedAt time.Time
	// before is the state before a block, restored by unblock.
	before bankgw.CardState
}

// String implements fmt.Stringer with the PAN masked.
func (c CardRecord) String() string {
	return fmt.Sprintf("%s %s app %s", pii.MaskPAN(c.PAN), c.State, c.ApplicationNumber)
}

// Ledger is a snapshot of the bank's records.
type Ledger struct {
	Applications map[string]Application
	// Cards are by PAN.
	Cards map[string]CardRecord
	// Reversals are the field 90 values of reversals that undid something.
	Reversals []string
}

// CardsFor returns the cards issued for an application number, oldest
// first.
func (l Ledger) CardsFor(applicationNumber string) []CardRecord {
	var out []CardRecord
	for _, pan := range slices.Sorted(maps.Keys(l.Cards)) {
		if c := l.Cards[pan]; c.ApplicationNumber == applicationNumber {
			out = append(out, c)
		}
	}
	slices.SortFunc(out, func(a, b CardRecord) int { return a.ReplaceSeq - b.ReplaceSeq })
	return out
}

// Ledger returns a snapshot of the ledger.
func (s *Sim) Ledger() Ledger {
	s.mu.Lock()
	defer s.mu.Unlock()
	l := Ledger{Applications: maps.Clone(s.apps), Cards: make(map[string]CardRecord, len(s.cards)),
		Reversals: slices.Clone(s.reversals)}
	for k, v := range s.cards {
		l.Cards[k] = *v
	}
	return l
}

// CardsIssued returns how many cards the bank has issued in all (including
// replacements).
func (s *Sim) CardsIssued() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.cards)
}

// luhnDigit returns the Luhn check digit for the digits of s.
func luhnDigit(s string) byte {
	sum := 0
	double := true
	for i := len(s) - 1; i >= 0; i-- {
		d := int(s[i] - '0')
		if double {
			d *= 2
			if d > 9 {
				d -= 9
			}
		}
		sum += d
		double = !double
	}
	return byte('0' + (10-sum%10)%10)
}

// LuhnValid reports whether pan passes the Luhn check.
func LuhnValid(pan string) bool {
	if len(pan) < 2 {
		return false
	}
	for i := 0; i < len(pan); i++ {
		if pan[i] < '0' || pan[i] > '9' {
			return false
		}
	}
	return luhnDigit(pan[:len(pan)-1]) == pan[len(pan)-1]
}

// SetCardState sets the state of an application's current card, as an
// operator at the bank would (for tests of refusals). An unknown
// application, or one without a card, is ErrUnknownApplication.
func (s *Sim) SetCardState(applicationNumber string, st bankgw.CardState) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	app, ok := s.apps[applicationNumber]
	if !ok || app.PAN == "" {
		return fmt.Errorf("banksim: application %q: %w", applicationNumber, ErrUnknownApplication)
	}
	s.cards[app.PAN].State = st
	return nil
}
