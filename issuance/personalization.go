package issuance

// Personalization sessions (issue 5): the domain side of branch issuance.
// personalization drives the card conversation (APDU batches,
// dataprep); this file holds what the domain owns: who may personalize
// which application, the session rows and their sealed server-side state,
// the PAN vault access (the bank's sealed PAN, see RecordBankApproval), and
// the final bank_approved → personalized → issued step with the card
// record, in one transaction.

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/volcard/volcard/internal/clip"
	"github.com/volcard/volcard/pii"
)

// PersoState is where a personalization session stands.
type PersoState string

// Personalization session states.
//
//	open       batch 1 (SELECT, GET CPLC, INITIALIZE UPDATE) handed out
//	script     batch 2 (EXTERNAL AUTHENTICATE … read-back) handed out
//	read_back  a read-back-only batch handed out: the card was already
//	           personalized by an earlier session of the same application
//	done       the card checked out; the application is issued
//	failed     the card answered an error or failed the read-back
//	superseded a newer session for the same application replaced it
const (
	PersoOpen       PersoState = "open"
	PersoScript     PersoState = "script"
	PersoReadBack   PersoState = "read_back"
	PersoDone       PersoState = "done"
	PersoFailed     PersoState = "failed"
	PersoSuperseded PersoState = "superseded"
)

// Live reports whether a session in state s can still take responses.
func (s PersoState) Live() bool { return s == PersoOpen || s == PersoScript || s == PersoReadBack }

// Personalization errors.
var (
	// ErrPersoExpired means the personalization session timed out.
	ErrPersoExpired = errors.New("personalization session expired")
	// ErrPersoClosed means the session is finished, failed or superseded
	// by a newer session for the same application.
	ErrPersoClosed = errors.New("personalization session closed")
)

// PersoSession is one personalization attempt of an application. Secret
// is the server-side state between requests (host challenge, prepared
// card data, the batch handed out), sealed with the PII keys under a
// purpose bound to the session ID: storage never sees it in clear.
type PersoSession struct {
	ID            string
	ApplicationID int64
	ActorTokenID  int64
	BankCode      string
	Reader        string
	Branch        string
	State         PersoState
	// Step counts the batches handed out (1 after opening).
	Step       int
	Secret     []byte `json:"-"`
	ChipSerial string
	// Failure is a short masked reason (status words, check names).
	Failure   string
	ExpiresAt time.Time
	CreatedAt time.Time
	UpdatedAt time.Time
}

// PersoRecord is a personalized card: which bank card (PAN token and last
// four, PSN, expiry) went onto which chip, by whom, on which reader, at
// which branch.
type PersoRecord struct {
	ID             int64
	ApplicationID  int64
	CardID         int64
	SessionID      string
	ChipSerial     string
	PANToken       []byte `json:"-"`
	LastFour       string
	PSN            string
	Expiry         string // YYMM
	ActorTokenID   int64
	Reader         string
	Branch         string
	PersonalizedAt time.Time
}

// PersoRepo stores personalization sessions and records. issuance/store
// implements it; the Service finds it on its Store by type assertion.
type PersoRepo interface {
	// CreatePersoSession inserts s and marks every live session of the
	// same application superseded.
	CreatePersoSession(ctx context.Context, s *PersoSession) error
	// GetPersoSession returns a session or ErrNotFound.
	GetPersoSession(ctx context.Context, id string) (PersoSession, error)
	// ListPersoSessions returns an application's sessions, newest first.
	ListPersoSessions(ctx context.Context, applicationID int64) ([]PersoSession, error)
	// UpdatePersoSession writes the mutable fields of s if the stored row
	// is still in state from at step fromStep, else ErrConflict.
	UpdatePersoSession(ctx context.Context, s *PersoSession, from PersoState, fromStep int) error
	// CreatePersoRecord inserts r; a second record for a card and expiry
	// or for a chip is a *ConflictError ("personalized_card"). A renewed
	// or replaced card adds a record to its application.
	CreatePersoRecord(ctx context.Context, r *PersoRecord) error
	// GetPersoRecord returns an application's latest record or ErrNotFound.
	GetPersoRecord(ctx context.Context, applicationID int64) (PersoRecord, error)
}

// PersoSubject is what personalizing an application needs, decrypted in
// memory only: the volunteer (name, emboss name, ID), the product (bank,
// BIN, AID) and the bank's card with its clear PAN.
type PersoSubject struct {
	Application Application
	Product     Product
	Volunteer   Volunteer
	Card        Card
	// PAN is the clear PAN opened from the vault (cards.pan_enc).
	PAN pii.Secret
}

// BankProductCode returns the product code the bank sees in field 48 for
// one of our product codes (letters and digits, at most 8): the key of the
// bank simulator's per-product BINs.
func BankProductCode(productCode string) string { return bankProductCode(productCode) }

// PersonalizationSubject loads an application for personalization by a
// bank_staff actor of its bank (scope enforced): it must be bank_approved
// (else a *TransitionError to personalized), with its bank card; the PAN is
// opened from the vault.
func (s *Service) PersonalizationSubject(ctx context.Context, a Actor, applicationID int64) (PersoSubject, error) {
	if err := RequireRole(a, RoleBankStaff, RoleSystem); err != nil {
		return PersoSubject{}, err
	}
	sc, err := s.Scope(ctx, a)
	if err != nil {
		return PersoSubject{}, err
	}
	app, err := s.store.GetApplication(ctx, applicationID, sc)
	if err != nil {
		return PersoSubject{}, fmt.Errorf("personalize application %d: %w", applicationID, err)
	}
	if app.Status != StatusBankApproved {
		return PersoSubject{}, fmt.Errorf("personalize application %d: %w", applicationID, &TransitionError{From: app.Status, To: StatusPersonalized})
	}
	card, err := s.store.GetCardByApplication(ctx, applicationID)
	if err != nil {
		return PersoSubject{}, fmt.Errorf("personalize application %d: bank card: %w", applicationID, err)
	}
	pan, err := s.keys.Open(purposePAN, card.PANSealed)
	if err != nil || pan == "" {
		return PersoSubject{}, fmt.Errorf("personalize application %d: open PAN: %w", applicationID, errors.Join(err, errors.New("empty PAN")))
	}
	v, err := s.store.GetVolunteer(ctx, app.VolunteerID, Scope{})
	if err != nil {
		return PersoSubject{}, fmt.Errorf("personalize application %d: volunteer: %w", applicationID, err)
	}
	if err := s.openVolunteer(&v); err != nil {
		return PersoSubject{}, err
	}
	p, err := s.Product(ctx, app.ProductCode)
	if err != nil {
		return PersoSubject{}, fmt.Errorf("personalize application %d: product: %w", applicationID, err)
	}
	return PersoSubject{Application: app, Product: p, Volunteer: v, Card: card, PAN: pii.NewSecret(pii.KindOther, pan)}, nil
}

func persoPurpose(sessionID string) string { return "personalization.session/" + sessionID }

// SealPerso encrypts a session's server-side state (AES-GCM under a key
// derived from the data key, bound to the session ID).
func (s *Service) SealPerso(sessionID string, state []byte) ([]byte, error) {
	return s.keys.Seal(persoPurpose(sessionID), string(state))
}

// OpenPerso decrypts what SealPerso sealed for the same session.
func (s *Service) OpenPerso(sessionID string, sealed []byte) ([]byte, error) {
	pt, err := s.keys.Open(persoPurpose(sessionID), sealed)
	if err != nil {
		return nil, fmt.Errorf("personalization session state: %w", err)
	}
	return []byte(pt), nil
}

// StartPersonalization stores a new session for an application that is
// still bank_approved in the actor's scope, superseding its live sessions.
func (s *Service) StartPersonalization(ctx context.Context, a Actor, ps *PersoSession) error {
	repo := s.store
	sc, err := s.Scope(ctx, a)
	if err != nil {
		return err
	}
	return s.store.InTx(ctx, func(ctx context.Context) error {
		app, err := s.store.GetApplication(ctx, ps.ApplicationID, sc)
		if err != nil {
			return err
		}
		if app.Status != StatusBankApproved {
			return &TransitionError{From: app.Status, To: StatusPersonalized}
		}
		now := s.clock.Now()
		ps.ActorTokenID, ps.BankCode, ps.CreatedAt, ps.UpdatedAt = a.TokenID, app.BankCode, now, now
		return repo.CreatePersoSession(ctx, ps)
	})
}

// PersoSessionFor returns a live session the actor may continue: one the
// same token opened (else ErrNotFound), not expired (ErrPersoExpired), not
// closed (ErrPersoClosed).
func (s *Service) PersoSessionFor(ctx context.Context, a Actor, id string) (PersoSession, error) {
	if err := RequireRole(a, RoleBankStaff, RoleSystem); err != nil {
		return PersoSession{}, err
	}
	repo := s.store
	ps, err := repo.GetPersoSession(ctx, id)
	if err != nil {
		return PersoSession{}, fmt.Errorf("personalization session: %w", err)
	}
	// A session belongs to the token that opened it (checked in scope
	// then): anyone else sees no such session.
	if a.Role != RoleSystem && (ps.ActorTokenID != a.TokenID || ps.BankCode != a.BankCode) {
		return PersoSession{}, fmt.Errorf("personalization session: %w", ErrNotFound)
	}
	switch {
	case !ps.State.Live():
		return ps, fmt.Errorf("personalization session (%s): %w", ps.State, ErrPersoClosed)
	case !s.clock.Now().Before(ps.ExpiresAt):
		return ps, fmt.Errorf("personalization session: %w", ErrPersoExpired)
	}
	return ps, nil
}

// PersoSessions returns an application's sessions, newest first (for
// recovering a card that an earlier session already wrote).
func (s *Service) PersoSessions(ctx context.Context, applicationID int64) ([]PersoSession, error) {
	repo := s.store
	return repo.ListPersoSessions(ctx, applicationID)
}

// SavePersoSession writes a session's new state if nobody moved it since
// (from, fromStep); else ErrConflict.
func (s *Service) SavePersoSession(ctx context.Context, ps *PersoSession, from PersoState, fromStep int) error {
	repo := s.store
	ps.UpdatedAt = s.clock.Now()
	if err := repo.UpdatePersoSession(ctx, ps, from, fromStep); err != nil {
		return fmt.Errorf("save personalization session: %w", err)
	}
	return nil
}

// CompletePersonalization records the personalized card and moves the
// application bank_approved → personalized → issued (two events), closing
// the session, all in one transaction. rec names the chip, reader and
// branch; the PAN token, last four, PSN and expiry come from the bank card.
func (s *Service) CompletePersonalization(ctx context.Context, a Actor, ps *PersoSession, from PersoState, fromStep int, rec PersoRecord) (Application, PersoRecord, error) {
	repo := s.store
	var app Application
	err := s.store.InTx(ctx, func(ctx context.Context) error {
		card, err := s.store.GetCardByApplication(ctx, ps.ApplicationID)
		if err != nil {
			return fmt.Errorf("bank card: %w", err)
		}
		now := s.clock.Now()
		rec.ApplicationID, rec.CardID, rec.SessionID = ps.ApplicationID, card.ID, ps.ID
		rec.PANToken, rec.LastFour, rec.PSN, rec.Expiry = card.PANToken, card.LastFour, card.PSN, card.Expiry
		rec.ActorTokenID, rec.Reader, rec.Branch, rec.PersonalizedAt = a.TokenID, ps.Reader, ps.Branch, now
		ps.State, ps.ChipSerial, ps.Secret, ps.UpdatedAt = PersoDone, rec.ChipSerial, nil, now
		if err := repo.UpdatePersoSession(ctx, ps, from, fromStep); err != nil {
			return err
		}
		if err := repo.CreatePersoRecord(ctx, &rec); err != nil {
			return err
		}
		where := "chip " + rec.ChipSerial + ", reader " + clipped(rec.Reader, 80)
		if rec.Branch != "" {
			where += ", branch " + clipped(rec.Branch, 80)
		}
		if _, err := s.Transition(ctx, a, ps.ApplicationID, StatusPersonalized, where); err != nil {
			return err
		}
		app, err = s.Transition(ctx, a, ps.ApplicationID, StatusIssued, "card ending "+card.LastFour+" handed over")
		return err
	})
	if err != nil {
		return Application{}, PersoRecord{}, fmt.Errorf("complete personalization of application %d: %w", ps.ApplicationID, err)
	}
	return app, rec, nil
}

// PersonalizedCard returns an application's personalization record.
func (s *Service) PersonalizedCard(ctx context.Context, applicationID int64) (PersoRecord, error) {
	repo := s.store
	return repo.GetPersoRecord(ctx, applicationID)
}

// clipped trims s and cuts it to n runes.
func clipped(s string, n int) string { return clip.Runes(strings.TrimSpace(s), n) }
