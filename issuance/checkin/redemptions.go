package checkin

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"slices"
	"time"

	"github.com/volcard/volcard/issuance"
)

// Redemptions: an offer a merchant's terminal granted after a benefit
// check, recorded with the cardholder verification the terminal reports.
//
// Trust model: the terminal is an authenticated device of the merchant's
// organisation (its token). The server verified the card itself at the
// check (DDA over its challenge); the offline PIN is verified by the card
// and only the terminal sees the answer, so the server records the CVM the
// terminal reports and checks that it fits the offer (an offer that
// requires the PIN cannot be redeemed with none). A forged CVM needs a
// stolen terminal token: revoke it (volcard token revoke).

// CVM is the cardholder verification behind a redemption.
type CVM string

// Cardholder verification methods.
const (
	// CVMOfflinePIN: the card verified the holder's plaintext offline PIN
	// (VERIFY answered 9000) at this check.
	CVMOfflinePIN CVM = "offline_pin"
	// CVMNone: no cardholder verification.
	CVMNone CVM = "none"
)

// Valid reports whether m is a known CVM.
func (m CVM) Valid() bool { return m == CVMOfflinePIN || m == CVMNone }

// RedeemWindow is how long after a benefit check its offers can be
// redeemed.
const RedeemWindow = 10 * time.Minute

// Redemption errors.
var (
	// ErrCheckExpired means the benefit check is older than RedeemWindow:
	// tap the card again.
	ErrCheckExpired = errors.New("benefit check expired")
	// ErrOfferNotOffered means the offer is not offered to this card's
	// holder at this terminal now (another tier, organisation, withdrawn or
	// outside its validity).
	ErrOfferNotOffered = errors.New("offer not offered to this holder here")
	// ErrPINRequired means the offer requires the offline PIN and the
	// terminal reports none.
	ErrPINRequired = errors.New("offer requires the offline PIN")
)

// BenefitCheck is the record of one benefit check: Ref is the opaque
// reference the terminal quotes to redeem.
type BenefitCheck struct {
	ID           int64
	Ref          string
	ActorTokenID int64
	VolunteerID  int64
	Tier         BenefitTier
	At           time.Time
}

// Redemption is an offer redeemed after a benefit check.
type Redemption struct {
	ID           int64
	CheckID      int64
	OfferID      int64
	OrgPath      string // the offer's organisation
	VolunteerID  int64
	ActorTokenID int64
	CVM          CVM
	At           time.Time
}

// RedemptionRepo stores benefit checks and redemptions.
type RedemptionRepo interface {
	CreateBenefitCheck(ctx context.Context, c *BenefitCheck) error
	// GetBenefitCheck returns the check with ref, or ErrNotFound.
	GetBenefitCheck(ctx context.Context, ref string) (BenefitCheck, error)
	// CreateRedemption inserts r; a redemption of the same check and
	// offer is a *issuance.ConflictError ("redemption").
	CreateRedemption(ctx context.Context, r *Redemption) error
	// FindRedemption returns the redemption of a check and offer, or
	// ErrNotFound.
	FindRedemption(ctx context.Context, checkID, offerID int64) (Redemption, error)
	// ListRedemptions returns the redemptions of an offer, oldest first.
	ListRedemptions(ctx context.Context, offerID int64) ([]Redemption, error)
}

// newCheckRef returns a fresh opaque check reference (128 random bits).
func newCheckRef(r io.Reader) (string, error) {
	b := make([]byte, 16)
	if _, err := io.ReadFull(r, b); err != nil {
		return "", err
	}
	return "bc_" + hex.EncodeToString(b), nil
}

// recordCheck records a benefit check of a volunteer by the actor and
// returns its reference.
func (c *Service) recordCheck(ctx context.Context, a issuance.Actor, volunteerID int64, tier BenefitTier, at time.Time) (string, error) {
	ref, err := newCheckRef(c.cfg.Rand)
	if err != nil {
		return "", err
	}
	bc := BenefitCheck{Ref: ref, ActorTokenID: a.TokenID, VolunteerID: volunteerID, Tier: tier, At: at}
	if err := c.st.CreateBenefitCheck(ctx, &bc); err != nil {
		return "", err
	}
	return ref, nil
}

// RedeemInput is a terminal's redemption of an offer it granted.
type RedeemInput struct {
	CheckRef string
	OfferID  int64
	CVM      CVM
}

// Redeem records that the terminal granted an offer after a benefit check
// it made (CheckRef, at most RedeemWindow ago): the offer must still be
// offered to that holder at this terminal, and an offer that requires the
// PIN needs CVMOfflinePIN. A second redemption of the same check and offer
// returns the first with replayed true, whatever changed since. Errors:
// ErrNotFound (no such check by this terminal), ErrCheckExpired,
// ErrOfferNotOffered, ErrPINRequired, *issuance.ValidationError. Roles:
// terminal.
func (c *Service) Redeem(ctx context.Context, a issuance.Actor, in RedeemInput) (Redemption, bool, error) {
	if err := issuance.RequireRole(a, issuance.RoleTerminal); err != nil {
		return Redemption{}, false, err
	}
	if !in.CVM.Valid() {
		return Redemption{}, false, issuance.Invalid("cvm", "must be offline_pin or none")
	}
	if in.CheckRef == "" || len(in.CheckRef) > 64 {
		return Redemption{}, false, issuance.Invalid("check_id", "required, at most 64 characters")
	}
	if in.OfferID <= 0 {
		return Redemption{}, false, issuance.Invalid("offer_id", "must be a positive integer")
	}
	now := c.svc.Now().UTC()
	bc, err := c.st.GetBenefitCheck(ctx, in.CheckRef)
	switch {
	case isNotFound(err) || (err == nil && bc.ActorTokenID != a.TokenID):
		return Redemption{}, false, fmt.Errorf("redeem: benefit check of this terminal: %w", issuance.ErrNotFound)
	case err != nil:
		return Redemption{}, false, fmt.Errorf("redeem: %w", err)
	}
	if r, err := c.st.FindRedemption(ctx, bc.ID, in.OfferID); err == nil {
		return r, true, nil
	} else if !isNotFound(err) {
		return Redemption{}, false, fmt.Errorf("redeem: %w", err)
	}
	if now.Sub(bc.At) > RedeemWindow {
		return Redemption{}, false, ErrCheckExpired
	}
	v, err := c.st.GetVolunteer(ctx, bc.VolunteerID, issuance.Scope{})
	if err != nil {
		return Redemption{}, false, fmt.Errorf("redeem: %w", err)
	}
	sc, err := c.svc.Scope(ctx, a)
	if err != nil {
		return Redemption{}, false, err
	}
	offers, err := c.st.ListOffers(ctx, commonPaths(ancestorPaths(v.OrgPath), ancestorPaths(sc.PathPrefix)),
		Tiers[:bc.Tier.rank()+1])
	if err != nil {
		return Redemption{}, false, fmt.Errorf("redeem: %w", err)
	}
	idx := slices.IndexFunc(offers, func(o Offer) bool { return o.ID == in.OfferID && o.OfferedAt(now) })
	if idx < 0 {
		return Redemption{}, false, ErrOfferNotOffered
	}
	offer := offers[idx]
	if offer.RequiresPIN && in.CVM != CVMOfflinePIN {
		return Redemption{}, false, ErrPINRequired
	}
	r := Redemption{CheckID: bc.ID, OfferID: offer.ID, OrgPath: offer.OrgPath, VolunteerID: bc.VolunteerID,
		ActorTokenID: a.TokenID, CVM: in.CVM, At: now}
	err = c.st.CreateRedemption(ctx, &r)
	if errors.Is(err, issuance.ErrConflict) {
		// The same redemption sent twice at once: the first one stands.
		if first, ferr := c.st.FindRedemption(ctx, bc.ID, in.OfferID); ferr == nil {
			return first, true, nil
		}
	}
	if err != nil {
		return Redemption{}, false, fmt.Errorf("redeem: %w", err)
	}
	return r, false, nil
}

// Redemptions returns the redemptions of an offer in the actor's scope
// (else ErrNotFound), oldest first. Roles: province_admin, org_admin,
// system.
func (c *Service) Redemptions(ctx context.Context, a issuance.Actor, offerID int64) ([]Redemption, error) {
	if _, err := c.GetOffer(ctx, a, offerID); err != nil {
		return nil, err
	}
	return c.st.ListRedemptions(ctx, offerID)
}
