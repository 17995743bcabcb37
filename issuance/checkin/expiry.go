package checkin

// Expired cards (issue 18). A bank-issued card is good through the last
// day of its expiry month, China time (issuance.ExpiryEnd). Check-in and
// the benefit check refuse a card past it with ErrCardExpired, whether or
// not the daily expire-cards job has marked it yet. The card's ICC
// certificate lapses at the end of the same month (UTC), after which the
// Verifier refuses the card as not genuine; verifyCard tells that case
// apart: a card that verifies as at the last second of its validity is a
// genuine card that expired, not a forgery.

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/volcard/volcard/evidence"
	"github.com/volcard/volcard/issuance"
)

// cardExpired reports whether the deciding binding b refuses the card as
// expired at t (the tap's time): by its expiry month when the directory
// knows it, else by its status.
func cardExpired(b CardBinding, found bool, t time.Time) bool {
	if !found {
		return false
	}
	if b.Expiry != "" {
		return issuance.CardExpiredAt(b.Expiry, t)
	}
	return b.Status == CardExpired
}

// verifyCard is verify, except that a card refused as not genuine whose
// directory entry says it expired before now is verified again as at the
// last second of its validity: when that passes, the card is genuine and
// expired, and the answer is ErrCardExpired when at (the tap's time) is
// past its validity, or the card's identity when at is not (an offline tap
// made before the card expired).
func (c *Service) verifyCard(ctx context.Context, card evidence.Card, un []byte, now, at time.Time) (evidence.Identity, error) {
	id, err := c.verify(card, un, now)
	var ng *NotGenuineError
	if err == nil || !errors.As(err, &ng) || id.PAN == "" {
		return id, err
	}
	b, lerr := c.cfg.Cards.CardByPANToken(ctx, c.svc.PANToken(id.PAN))
	if lerr != nil || b.Expiry == "" || !issuance.CardExpiredAt(b.Expiry, now) {
		return id, err
	}
	end, eerr := issuance.ExpiryEnd(b.Expiry)
	if eerr != nil {
		return id, err
	}
	was, verr := c.verify(card, un, end.Add(-time.Second))
	if verr != nil {
		return id, err // not genuine even while the card was valid
	}
	if !at.Before(end) {
		return was, fmt.Errorf("%w (valid through %s)", ErrCardExpired, end.Add(-time.Second).In(c.cfg.Location).Format("2006-01"))
	}
	return was, nil
}
