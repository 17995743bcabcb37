package main

// The test helpers' bank (issue 18): issuance.TestBank over serve's
// embedded bank simulators. A bank with a real link (VOLCARD_BANKS_FILE or
// VOLCARD_BANK_ADDR) has no simulator here, so its cards are refused with
// issuance.ErrNoTestBank and nothing is sent.

import (
	"context"
	"fmt"
	"sync"

	"github.com/volcard/volcard/bankgw"
	"github.com/volcard/volcard/bankgw/banksim"
	"github.com/volcard/volcard/issuance"
)

// simTestBank implements issuance.TestBank; serve sets its simulators once
// the bank side has started.
type simTestBank struct {
	mu   sync.RWMutex
	sims map[string]*banksim.Sim
}

var _ issuance.TestBank = (*simTestBank)(nil)

func (t *simTestBank) set(sims map[string]*banksim.Sim) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.sims = sims
}

// spendingKinds maps the API's spending kinds to field 48 SK.
var spendingKinds = map[issuance.SpendingKind]bankgw.SpendingKind{
	issuance.SpendingPurchase: bankgw.SpendingPurchase,
	issuance.SpendingRefund:   bankgw.SpendingRefund,
	issuance.SpendingReversal: bankgw.SpendingReversal,
}

// SendAdvice implements issuance.TestBank: the simulator of bankCode pushes
// the 0220 over its link and returns our 0230's response code.
func (t *simTestBank) SendAdvice(ctx context.Context, bankCode string, a issuance.TestAdvice) (issuance.TestAdviceResult, error) {
	t.mu.RLock()
	sim := t.sims[bankCode]
	t.mu.RUnlock()
	if sim == nil {
		return issuance.TestAdviceResult{}, fmt.Errorf("bank %s: %w", bankCode, issuance.ErrNoTestBank)
	}
	r := banksim.AdviceRequest{Kind: bankgw.AdviceActivation, PAN: a.PAN.Reveal()}
	if !a.Activation {
		r.Kind, r.Amount, r.MerchantName, r.Spending = bankgw.AdviceSpending, a.Amount, a.Merchant, spendingKinds[a.Kind]
	}
	rc, tr, err := sim.PushAdvice(ctx, r)
	if err != nil {
		return issuance.TestAdviceResult{}, fmt.Errorf("bank %s simulator: %w", bankCode, err)
	}
	return issuance.TestAdviceResult{RRN: tr.RRN, ResponseCode: rc}, nil
}
