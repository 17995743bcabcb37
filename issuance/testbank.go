package issuance

// Test helpers on the embedded bank (issue 18), as Stripe's test mode has:
// staff make the embedded bank simulator of a card's bank send the real
// 0220 advice over its link — an activation, or spending (a purchase, a
// refund or a reversal) — so that the normal advice path records it. They
// are refused, with nothing changed, when the card's bank is a real bank
// (serve configured with a bank link to it): the TestBank port answers
// ErrNoTestBank for that bank.

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/volcard/volcard/pii"
)

// ErrNoTestBank means the card's bank is a real bank, not the embedded
// simulator: the test helpers are refused.
var ErrNoTestBank = errors.New("the card's bank is a real bank: test helpers only work on the embedded bank simulator")

// SpendingKind is the kind of a spending advice (field 48 SK,
// docs/bank-interface.md section 7.2).
type SpendingKind string

// Spending kinds.
const (
	SpendingPurchase SpendingKind = "purchase"
	SpendingRefund   SpendingKind = "refund"
	SpendingReversal SpendingKind = "reversal"
)

// Valid reports whether k is a known spending kind.
func (k SpendingKind) Valid() bool {
	return k == SpendingPurchase || k == SpendingRefund || k == SpendingReversal
}

// TestAdvice is an advice the embedded bank is asked to send.
type TestAdvice struct {
	// Activation: an activation advice; else spending.
	Activation bool
	PAN        pii.Secret
	Kind       SpendingKind
	// Amount in fen (spending).
	Amount   int64
	Merchant string
}

// TestAdviceResult is what became of a test advice: the RRN it went out
// with and the response code we answered it with (0230, field 39).
type TestAdviceResult struct {
	RRN          string
	ResponseCode string
}

// TestBank sends advices from a bank's embedded simulator over its link.
// cmd/volcard implements it over serve's embedded simulators; a bank with
// a real link answers ErrNoTestBank.
type TestBank interface {
	// SendAdvice makes the simulator of bankCode send a as a 0220 and
	// returns when our 0230 is back.
	SendAdvice(ctx context.Context, bankCode string, a TestAdvice) (TestAdviceResult, error)
}

// WithTestBank enables the test helpers (TestActivateCard, TestSpendCard).
func WithTestBank(tb TestBank) Option {
	return func(s *Service) error {
		s.testBank = tb
		return nil
	}
}

// testBankRoles may use the test helpers: province admins, the staff of
// the card's bank, and the system.
var testBankRoles = []Role{RoleProvinceAdmin, RoleBankStaff, RoleSystem}

// maxTestSpending is the largest amount of one test advice (1,000,000 CNY).
const maxTestSpending = 100_000_000

// TestActivateCard makes the embedded simulator of the card's bank send
// the card's activation advice. Roles: province_admin, bank_staff (their
// bank's cards), system. ErrNoTestBank when the bank is real.
func (s *Service) TestActivateCard(ctx context.Context, a Actor, cardID int64) (TestAdviceResult, error) {
	return s.testAdvice(ctx, a, cardID, TestAdvice{Activation: true})
}

// TestSpendCard makes the embedded simulator of the card's bank send a
// spending advice: kind purchase, refund or reversal, amount in fen (1 to
// 100,000,000), merchant name (≤ 40 characters, default the simulator's).
// Roles and refusal as TestActivateCard.
func (s *Service) TestSpendCard(ctx context.Context, a Actor, cardID int64, kind SpendingKind, amount int64, merchant string) (TestAdviceResult, error) {
	merchant = strings.TrimSpace(merchant)
	switch {
	case !kind.Valid():
		return TestAdviceResult{}, Invalid("kind", "must be purchase, refund or reversal")
	case amount < 1 || amount > maxTestSpending:
		return TestAdviceResult{}, Invalid("amount", "must be 1 to 100000000 fen")
	case !utf8.ValidString(merchant) || utf8.RuneCountInString(merchant) > 40 || strings.ContainsAny(merchant, "\x00\r\n"):
		return TestAdviceResult{}, Invalid("merchant", "at most 40 characters on one line")
	}
	return s.testAdvice(ctx, a, cardID, TestAdvice{Kind: kind, Amount: amount, Merchant: merchant})
}

func (s *Service) testAdvice(ctx context.Context, a Actor, cardID int64, adv TestAdvice) (TestAdviceResult, error) {
	if err := RequireRole(a, testBankRoles...); err != nil {
		return TestAdviceResult{}, err
	}
	c, app, err := s.cardInScope(ctx, a, cardID)
	if err != nil {
		return TestAdviceResult{}, err
	}
	if s.testBank == nil {
		return TestAdviceResult{}, fmt.Errorf("card %d: %w", cardID, ErrNoTestBank)
	}
	if adv.PAN, err = s.OpenPAN(c); err != nil {
		return TestAdviceResult{}, err
	}
	res, err := s.testBank.SendAdvice(ctx, app.BankCode, adv)
	if err != nil {
		return TestAdviceResult{}, fmt.Errorf("test advice for card %d: %w", cardID, err)
	}
	return res, nil
}
