package settlement

import (
	"errors"
	"io"
	"iter"

	"github.com/volcard/volcard/issuance"
	"github.com/volcard/volcard/issuance/reconcile"
)

// states maps the file's card states to volcard's.
var states = map[State]issuance.BankCardState{
	StateIssued: issuance.BankCardIssued, StateActive: issuance.BankCardActive, StateBlocked: issuance.BankCardBlocked,
	StateReplaced: issuance.BankCardReplaced, StateCancelled: issuance.BankCardClosed,
}

// Cards yields r's rows as reconcile.BankCard, one at a time; the last
// yield is an error when the file is bad (its trailer, MAC or a row), and
// nothing more after it.
func (r *Reader) Cards() iter.Seq2[reconcile.BankCard, error] {
	return func(yield func(reconcile.BankCard, error) bool) {
		for {
			row, err := r.Next()
			if errors.Is(err, io.EOF) {
				return
			}
			if err != nil {
				yield(reconcile.BankCard{}, err)
				return
			}
			if !yield(reconcile.BankCard{Line: row.Line, ApplicationNumber: row.ApplicationNumber,
				ReplaceSeq: row.ReplaceSeq, ProductCode: row.ProductCode, LastFour: row.LastFour, PANMAC: row.PANMAC,
				State: states[row.State], Activated: row.Activated}, nil) {
				return
			}
		}
	}
}
