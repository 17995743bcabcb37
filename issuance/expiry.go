package issuance

// Card expiry (issue 18): a card is good through the last day of its expiry
// month (the YYMM the bank issued it with, 5F24 on the chip), China time;
// from the first instant of the next month it is expired. The daily job
// expire-cards (ExpireCards) marks such cards expired, one card event each;
// check-in refuses them with the expiry reason whether or not the job has
// run yet (ExpiryEnd decides). An expiring-soon list per organisation
// (ExpiringCards) shows the cards due for renewal; renewal.go renews them
// through the bank and closing.go closes cards.

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/volcard/volcard/pii"
)

// BankCardExpired is a card past its expiry month (see ExpiryEnd). It can
// no longer be used; it can only be renewed (RequestRenewals, a renewed
// card to personalize) or closed at the bank.
const BankCardExpired BankCardState = "expired"

// CardEventExpired is the event of a card marked expired by ExpireCards.
const CardEventExpired CardEventKind = "expired"

// ExpiryEnd returns the instant a card with expiry YYMM stops being valid:
// the first instant of the month after, China Standard Time. A malformed
// expiry is an error.
func ExpiryEnd(yymm string) (time.Time, error) {
	if len(yymm) != 4 {
		return time.Time{}, Invalid("expiry", "must be YYMM")
	}
	for i := range 4 {
		if yymm[i] < '0' || yymm[i] > '9' {
			return time.Time{}, Invalid("expiry", "must be YYMM")
		}
	}
	yy := int(yymm[0]-'0')*10 + int(yymm[1]-'0')
	mm := int(yymm[2]-'0')*10 + int(yymm[3]-'0')
	if mm < 1 || mm > 12 {
		return time.Time{}, Invalid("expiry", "month must be 01–12")
	}
	return time.Date(2000+yy, time.Month(mm)+1, 1, 0, 0, 0, 0, ChinaTime), nil
}

// CardExpiredAt reports whether a card with expiry YYMM is expired at t; a
// malformed expiry is not (the check refuses nothing it cannot read).
func CardExpiredAt(yymm string, t time.Time) bool {
	end, err := ExpiryEnd(yymm)
	return err == nil && !t.Before(end)
}

// lastEndedMonth returns the YYMM of the last month whose cards are expired
// at t: the month before t's month, China time. A card is expired at t iff
// its expiry (YYMM, fixed width, so it compares as a string) is at most
// this.
func lastEndedMonth(t time.Time) string {
	c := t.In(ChinaTime)
	m := time.Date(c.Year(), c.Month(), 1, 0, 0, 0, 0, ChinaTime).AddDate(0, -1, 0)
	return fmt.Sprintf("%02d%02d", m.Year()%100, int(m.Month()))
}

// CardExpiryRepo finds cards by expiry. It is part of the Store;
// issuance/store implements it. through is a YYMM: cards whose expiry is
// at most through.
type CardExpiryRepo interface {
	// LockCardsToExpire returns up to limit current cards (issued, active
	// or blocked, no change pending at the bank) with expiry at most
	// through, locked for the caller's transaction (others skip them).
	LockCardsToExpire(ctx context.Context, through string, limit int) ([]Card, error)
	// ExpiringCards returns the current cards (issued, active or blocked)
	// with expiry at most through whose application lies in sc, soonest
	// expiry first, at most limit.
	ExpiringCards(ctx context.Context, sc Scope, through string, limit int) ([]CardDetails, error)
}

// expireBatch is how many cards ExpireCards marks per transaction.
const expireBatch = 200

// ExpireCards marks every current card past its expiry month at the
// Service clock's now expired, with a card event each (kind expired, actor
// system), in transactions of up to 200 cards, and returns how many it
// marked. It is idempotent: an expired card is not marked again, and two
// processes running it at once mark disjoint cards. A card with a change on
// its way to the bank is left for the next run (check-in already refuses it
// by its date). Roles: system.
func (s *Service) ExpireCards(ctx context.Context, a Actor) (int, error) {
	if err := RequireRole(a, RoleSystem); err != nil {
		return 0, err
	}
	through := lastEndedMonth(s.clock.Now())
	total := 0
	for {
		n := 0
		err := s.store.InTx(ctx, func(ctx context.Context) error {
			n = 0
			cards, err := s.store.LockCardsToExpire(ctx, through, expireBatch)
			if err != nil {
				return err
			}
			now := s.clock.Now()
			for _, c := range cards {
				c.State, c.UpdatedAt = BankCardExpired, now
				if err := s.store.UpdateCard(ctx, &c); err != nil {
					return err
				}
				e := CardEvent{CardID: c.ID, Kind: CardEventExpired, ActorRole: RoleSystem,
					Channel: RoleSystem.Channel(), Reason: "expiry month " + c.Expiry + " ended", At: now}
				if err := s.store.AppendCardEvent(ctx, &e); err != nil {
					return err
				}
				if err := s.RunCardHooks(ctx, c, e); err != nil {
					return err
				}
				n++
			}
			return nil
		})
		if err != nil {
			return total, fmt.Errorf("expire cards: %w", err)
		}
		total += n
		if n < expireBatch {
			return total, nil
		}
	}
}

// DefaultExpiringWithin is the look-ahead of the expiring list when none is
// given.
const DefaultExpiringWithin = "90d"

// ParseWithin reads a look-ahead of the expiring list in whole days,
// written "90d" (1d to 732d); "" is DefaultExpiringWithin.
func ParseWithin(v string) (time.Duration, error) {
	if v == "" {
		v = DefaultExpiringWithin
	}
	days, ok := strings.CutSuffix(v, "d")
	if !ok || days == "" || len(days) > 3 || strings.Trim(days, "0123456789") != "" {
		return 0, Invalid("within", "must be a number of days from 1d to 732d, e.g. 90d")
	}
	n, err := strconv.Atoi(days)
	if err != nil || n < 1 || n > 732 {
		return 0, Invalid("within", "must be a number of days from 1d to 732d, e.g. 90d")
	}
	return time.Duration(n) * 24 * time.Hour, nil
}

// MaxExpiringWithin is the longest look-ahead of ExpiringCards.
const MaxExpiringWithin = 2 * 366 * 24 * time.Hour

// maxExpiringCards caps one ExpiringCards answer.
const maxExpiringCards = 5000

// ExpiringCards returns the current cards of organisation orgID and its
// subtree whose validity ends within the next within (0 < within ≤ two
// years): every issued, active or blocked card whose ExpiryEnd is at most
// now + within, soonest first, including cards already past their expiry
// that the daily job has not marked yet. At most 5,000 cards. An
// organisation outside the actor's scope is ErrNotFound. Roles:
// province_admin, org_admin (their subtree), system.
func (s *Service) ExpiringCards(ctx context.Context, a Actor, orgID int64, within time.Duration) ([]CardDetails, error) {
	if err := RequireRole(a, RoleProvinceAdmin, RoleOrgAdmin, RoleSystem); err != nil {
		return nil, err
	}
	if within <= 0 || within > MaxExpiringWithin {
		return nil, Invalid("within", "must be positive and at most 732 days (e.g. 90d)")
	}
	o, err := s.GetOrg(ctx, a, orgID)
	if err != nil {
		return nil, err
	}
	sc, err := s.Scope(ctx, a)
	if err != nil {
		return nil, err
	}
	sc.PathPrefix = o.Path
	through := lastEndedMonth(s.clock.Now().Add(within))
	cards, err := s.store.ExpiringCards(ctx, sc, through, maxExpiringCards)
	if err != nil {
		return nil, fmt.Errorf("expiring cards of org %d: %w", orgID, err)
	}
	for i := range cards {
		d := &cards[i]
		d.MaskedPAN = strings.Repeat("*", 12) + d.LastFour
		if pan, err := s.OpenPAN(d.Card); err == nil {
			d.MaskedPAN = pii.MaskPAN(pan.Reveal())
		}
	}
	return cards, nil
}

// RunCardHooks runs the card hooks (WithCardHooks) for event e of card c in
// the caller's transaction. ExpireCards calls it for each card it marks,
// recordClosing for the card it closes.
func (s *Service) RunCardHooks(ctx context.Context, c Card, e CardEvent) error {
	for _, h := range s.cardHooks {
		if err := h.OnCardEvent(ctx, c, e); err != nil {
			return fmt.Errorf("card hook on %s of card %d: %w", e.Kind, c.ID, err)
		}
	}
	return nil
}
