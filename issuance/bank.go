package issuance

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/volcard/volcard/internal/clip"
	"github.com/volcard/volcard/pii"
)

// purposePAN seals the PAN (pii); its token is PANToken.
const purposePAN = "card.pan"

// BankRequestKind is what the domain asks of the partner bank.
type BankRequestKind string

// Bank request kinds the domain writes. Everything else about a request —
// its state, lease, trace, repeats and reversal — is the bank gateway's
// business (bankgw/outbox).
const (
	BankApply        BankRequestKind = "apply"
	BankStatusChange BankRequestKind = "status_change"
	// BankHolderUpdate sends the holder's changed data (name, emboss name,
	// phone) to the bank that issued an application's card: a 0300 change
	// without ST. Its payload is a HolderUpdate; the gateway loads the
	// current data when it sends (BankApplicant).
	BankHolderUpdate BankRequestKind = "holder_update"
)

// HolderUpdate is the payload of a holder_update request: which of the
// holder's fields changed. It holds no personal data.
type HolderUpdate struct {
	VolunteerID int64    `json:"volunteer_id"`
	Fields      []string `json:"fields"` // "name", "phone"
}

// NewBankRequest is a request to the partner bank as the domain asks for
// it. It holds no personal data: the gateway loads and decrypts the
// applicant when it sends (Service.BankApplicant).
type NewBankRequest struct {
	ApplicationID     int64
	ApplicationNumber string
	Kind              BankRequestKind
	// Payload is kind-specific JSON without personal data (for a status
	// change a CardStatusChange); empty means {}.
	Payload []byte
	// At is when it was asked for; the request is due at once.
	At time.Time
}

// BankOutbox queues requests to the partner bank in the caller's
// transaction, so that a request is written if and only if the change that
// asks for it is. issuance/store implements it; bankgw/outbox sends the
// requests and reports the bank's answers back through the Service
// (RecordBankApproval, RecordBankDecline, RecordCardStatusChange ...).
type BankOutbox interface {
	// EnqueueBankRequest writes r, due at r.At. A second apply for one
	// application, or a second open status change, is a *ConflictError
	// ("bank_request").
	EnqueueBankRequest(ctx context.Context, r NewBankRequest) error
	// LockApprovedApplications returns up to limit ids of approved
	// applications, locked for the caller's transaction (others skip them).
	LockApprovedApplications(ctx context.Context, limit int) ([]int64, error)
}

// BankCardState is the state of a bank-issued card on our side.
type BankCardState string

// Bank card states.
const (
	BankCardIssued  BankCardState = "issued" // issued by the bank, not yet activated
	BankCardActive  BankCardState = "active"
	BankCardBlocked BankCardState = "blocked"
	// BankCardClosed is a card closed at the bank (the holder left, died,
	// or the card was given up for another): it can never be used again.
	// It replaces the "cancelled" state nothing ever set (migration 00230
	// renames any such row).
	BankCardClosed BankCardState = "closed"
	// BankCardReplaced is a card the bank replaced by a newer one (a
	// replacement after loss): it can never be used again.
	BankCardReplaced BankCardState = "replaced"
)

// Card is a card the bank issued for an application. The clear PAN is
// never stored: PANToken is Service.PANToken(PAN), an HMAC-SHA256 blind
// index — the same PAN always gives the same token, so advices carrying the
// PAN and check-in taps find the card —
// and PANSealed is the AES-GCM sealed PAN for personalization, opened only
// in memory.
type Card struct {
	ID            int64
	ApplicationID int64
	PANToken      []byte `json:"-"`
	PANSealed     []byte `json:"-"`
	LastFour      string
	Expiry        string // YYMM
	PSN           string
	BankReference string
	State         BankCardState
	// ReplaceSeq is the bank's replacement sequence (RS) that issued the
	// card: 0 for the application's first card, 1–99 for replacements.
	ReplaceSeq int
	// PendingChange is the status change sent to the bank and not yet
	// confirmed ("" when none); State changes only when the bank confirms.
	PendingChange CardChange
	// BlockReason is the reason given for the last block or replacement.
	BlockReason string
	// ReplacedBy is the card that replaced this one (0 when none).
	ReplacedBy  int64
	CreatedAt   time.Time
	ActivatedAt time.Time
	UpdatedAt   time.Time
}

// Kinds of money advices in card_spending. A refund or a reversal carries
// a positive amount that the donation-rebate statements subtract
// (issuance/rebates).
const (
	SpendingKindSpending = "spending"
	SpendingKindRefund   = "refund"
	SpendingKindReversal = "reversal"
)

// Spending is a card spending advice (or a refund or reversal of one), kept
// for the donation-rebate statements.
type Spending struct {
	ID            int64
	RRN           string
	Kind          string // SpendingKindSpending, SpendingKindRefund or SpendingKindReversal
	CardID        int64  // 0 when the card is not ours
	ApplicationID int64
	OrgPath       string // the application's organisation, for reports
	Amount        int64  // fen
	Currency      string
	MCC           string
	MerchantName  string
	LocalDate     string // MMDD Beijing
	LocalTime     string // hhmmss Beijing
	ReceivedAt    time.Time
	// ChinaDate is ReceivedAt's civil date in China (YYYY-MM-DD): the day,
	// and so the month, whose statement counts the advice.
	ChinaDate string
}

// IssuedCardRepo stores bank-issued cards and their spending. It is part
// of the Store; issuance/store implements it.
type IssuedCardRepo interface {
	// CreateCard inserts c and sets c.ID; a second current (not replaced)
	// card for an application is a *ConflictError ("card").
	CreateCard(ctx context.Context, c *Card) error
	// GetCardByApplication returns the application's current card (the one
	// not replaced) or ErrNotFound.
	GetCardByApplication(ctx context.Context, applicationID int64) (Card, error)
	// GetCardByToken returns the card with this PAN token or ErrNotFound.
	GetCardByToken(ctx context.Context, token []byte) (Card, error)
	// ActivateCard sets an issued card active (idempotent; a blocked,
	// replaced or cancelled card is left as it is).
	ActivateCard(ctx context.Context, id int64, at time.Time) error
	// RecordSpending inserts sp unless one with its RRN and kind exists;
	// it reports whether it inserted.
	RecordSpending(ctx context.Context, sp *Spending) (bool, error)
}

// WithBankOutbox connects the Service to the partner bank through a
// durable outbox: every transition into bank_pending writes an apply
// request to o in the same transaction, and an application that becomes
// issued while its card is already active (the activation advice came
// early) moves on to activated. SubmitApprovedToBank makes the approved →
// bank_pending step.
func WithBankOutbox(o BankOutbox) Option {
	return func(s *Service) error {
		if o == nil {
			return errors.New("issuance: nil bank outbox")
		}
		s.outbox = o
		s.hooks = append(s.hooks, TransitionHookFunc(s.bankHook))
		return nil
	}
}

func (s *Service) bankHook(ctx context.Context, a Application, e Event) error {
	switch e.To {
	case StatusBankPending:
		r := NewBankRequest{ApplicationID: a.ID, ApplicationNumber: a.Number, Kind: BankApply,
			Payload: []byte("{}"), At: s.clock.Now()}
		if err := s.outbox.EnqueueBankRequest(ctx, r); err != nil {
			return fmt.Errorf("enqueue bank request: %w", err)
		}
	case StatusIssued:
		c, err := s.store.GetCardByApplication(ctx, a.ID)
		if err != nil || c.State != BankCardActive {
			return nil // no active card yet
		}
		_, err = s.Transition(ctx, SystemActor(), a.ID, StatusActivated, "card activated before issue")
		return err
	}
	return nil
}

// SubmitApprovedToBank moves up to limit approved applications to
// bank_pending, each with its outbox request, in one transaction, and
// returns how many it moved. Applications locked by another process are
// skipped. It needs WithBankOutbox.
func (s *Service) SubmitApprovedToBank(ctx context.Context, limit int) (int, error) {
	if s.outbox == nil {
		return 0, errors.New("issuance: no bank outbox configured")
	}
	if limit <= 0 {
		limit = 50
	}
	n := 0
	err := s.store.InTx(ctx, func(ctx context.Context) error {
		n = 0
		ids, err := s.outbox.LockApprovedApplications(ctx, limit)
		if err != nil {
			return err
		}
		for _, id := range ids {
			if _, err := s.Transition(ctx, SystemActor(), id, StatusBankPending, ""); err != nil {
				return err
			}
			n++
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("submit approved applications to the bank: %w", err)
	}
	return n, nil
}

// BankApplicant is an applicant's data as the bank needs it, decrypted for
// sending. It is built at send time and never stored.
type BankApplicant struct {
	ApplicationNumber string
	Name              pii.Secret
	EmbossName        string
	IDType            IDType
	IDNumber          pii.Secret
	BirthDate         time.Time
	Phone             pii.Secret
	// BankProduct is the product code agreed with the bank (letters and
	// digits of our product code, at most 8).
	BankProduct  string
	BranchCode   string
	ClothingSize ClothingSize
}

// BankApplicant loads an application's volunteer, decrypts what the bank
// needs and picks the branch: the application's bank's branch in the
// nearest organisation of the volunteer's path (city first), else the bank's
// head office code "<BANK>0000".
func (s *Service) BankApplicant(ctx context.Context, applicationID int64) (BankApplicant, error) {
	app, err := s.store.GetApplication(ctx, applicationID, Scope{})
	if err != nil {
		return BankApplicant{}, fmt.Errorf("bank applicant %d: %w", applicationID, err)
	}
	v, err := s.store.GetVolunteer(ctx, app.VolunteerID, Scope{})
	if err != nil {
		return BankApplicant{}, fmt.Errorf("bank applicant %d: %w", applicationID, err)
	}
	if err := s.openVolunteer(&v); err != nil {
		return BankApplicant{}, err
	}
	b := BankApplicant{
		ApplicationNumber: app.Number, Name: pii.Name(v.Name), EmbossName: v.EmbossName, IDType: v.IDType,
		IDNumber: v.IDNumber, BirthDate: v.BirthDate, Phone: v.Phone, ClothingSize: v.ClothingSize,
		BankProduct: bankProductCode(app.ProductCode), BranchCode: app.BankCode + "0000",
	}
	ids := strings.Split(strings.Trim(app.OrgPath, "/"), "/")
	for i := len(ids) - 1; i >= 0; i-- {
		org, err := strconv.ParseInt(ids[i], 10, 64)
		if err != nil {
			continue
		}
		brs, err := s.store.ListBranches(ctx, app.BankCode, org)
		if err != nil {
			return BankApplicant{}, fmt.Errorf("bank applicant %d: branches: %w", applicationID, err)
		}
		if len(brs) > 0 {
			b.BranchCode = fmt.Sprintf("%s%04d", app.BankCode, brs[0].ID)
			break
		}
	}
	return b, nil
}

func bankProductCode(code string) string {
	var b strings.Builder
	for _, c := range strings.ToUpper(code) {
		if (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') {
			b.WriteRune(c)
		}
	}
	s := b.String()
	if len(s) > 8 {
		s = s[:8]
	}
	return s
}

// IssuedCard is the bank's approval: the card it issued. PAN is the clear
// PAN, held in memory only.
type IssuedCard struct {
	PAN       pii.Secret
	Expiry    string
	PSN       string
	Reference string
}

// RecordBankApproval stores the card the bank issued (PAN token, sealed PAN,
// last four, expiry, PSN, reference) and moves the application from
// bank_pending to bank_approved, in one transaction (joining the caller's).
// Applying the same card again is a no-op; a different card for an
// application that already has one is ErrConflict. Activation advices
// parked for the card (RecordActivationAdvice) are applied in the same
// transaction.
func (s *Service) RecordBankApproval(ctx context.Context, applicationID int64, c IssuedCard) (Application, error) {
	pan := c.PAN.Reveal()
	if len(pan) < 12 || strings.Trim(pan, "0123456789") != "" {
		return Application{}, Invalid("pan", "must be 12–19 digits")
	}
	token := s.PANToken(pan)
	var app Application
	err := s.store.InTx(ctx, func(ctx context.Context) error {
		var err error
		if app, err = s.store.GetApplication(ctx, applicationID, Scope{}); err != nil {
			return err
		}
		if app.Status != StatusBankPending {
			old, err := s.store.GetCardByApplication(ctx, applicationID)
			if err == nil && string(old.PANToken) == string(token) {
				return nil // already applied
			}
			return &TransitionError{From: app.Status, To: StatusBankApproved}
		}
		p, err := s.Product(ctx, app.ProductCode)
		if err != nil {
			return err
		}
		if !strings.HasPrefix(pan, p.BIN) || len(pan) < 16 || len(pan) > 19 {
			// The card would be personalized under the product's BIN and
			// keys and fail there: refuse it now, naming only the last four.
			return fmt.Errorf("%w: the PAN ending %s is not a %d–%d digit PAN under product %s's BIN %s",
				ErrBankCardRefused, pan[len(pan)-4:], 16, 19, p.Code, p.BIN)
		}
		sealed, err := s.keys.Seal(purposePAN, pan)
		if err != nil {
			return fmt.Errorf("seal PAN: %w", err)
		}
		card := Card{ApplicationID: applicationID, PANToken: token, PANSealed: sealed, LastFour: pan[len(pan)-4:],
			Expiry: c.Expiry, PSN: c.PSN, BankReference: c.Reference, State: BankCardIssued, CreatedAt: s.clock.Now()}
		if err := s.store.CreateCard(ctx, &card); err != nil {
			return err
		}
		if app, err = s.Transition(ctx, SystemActor(), applicationID, StatusBankApproved, "card ending "+card.LastFour); err != nil {
			return err
		}
		// An activation advice that came before the card is applied now.
		return s.applyParkedAdvices(ctx, card, app.Number)
	})
	if err != nil {
		return Application{}, fmt.Errorf("record bank approval of application %d: %w", applicationID, err)
	}
	return app, nil
}

// RecordBankDecline moves the application from bank_pending to
// bank_declined with the bank's code and reason. Declining an already
// declined application is a no-op.
func (s *Service) RecordBankDecline(ctx context.Context, applicationID int64, code, reason string) (Application, error) {
	var app Application
	err := s.store.InTx(ctx, func(ctx context.Context) error {
		var err error
		if app, err = s.store.GetApplication(ctx, applicationID, Scope{}); err != nil {
			return err
		}
		if app.Status == StatusBankDeclined {
			return nil
		}
		app, err = s.Transition(ctx, SystemActor(), applicationID, StatusBankDeclined,
			clip.Runes(fmt.Sprintf("bank declined %s: %s", code, reason), 500))
		return err
	})
	if err != nil {
		return Application{}, fmt.Errorf("record bank decline of application %d: %w", applicationID, err)
	}
	return app, nil
}

// CardRef identifies a card in an advice: by PAN (through its token), else
// by our application number.
type CardRef struct {
	PAN               pii.Secret
	ApplicationNumber string
}

func (s *Service) findCard(ctx context.Context, ref CardRef) (Card, error) {
	if pan := ref.PAN.Reveal(); pan != "" {
		c, err := s.store.GetCardByToken(ctx, s.PANToken(pan))
		if err == nil || !isNotFound(err) {
			return c, err
		}
	}
	if ref.ApplicationNumber != "" {
		app, err := s.store.GetApplicationByNumber(ctx, ref.ApplicationNumber)
		if err != nil {
			return Card{}, err
		}
		return s.store.GetCardByApplication(ctx, app.ID)
	}
	return Card{}, ErrNotFound
}

// RecordCardSpending stores a spending advice (or a refund or reversal)
// once per RRN and kind and reports whether it was new. The card's
// application's organisation at this moment is stored with it: the
// statement credits the city or university the holder belonged to when
// the money moved. A card that is not ours is stored without a
// card, so that the advice is still acknowledged once.
func (s *Service) RecordCardSpending(ctx context.Context, ref CardRef, sp Spending) (bool, error) {
	if sp.RRN == "" || sp.Amount < 0 {
		return false, Invalid("rrn", "required, with a non-negative amount")
	}
	switch sp.Kind {
	case "":
		sp.Kind = SpendingKindSpending
	case SpendingKindSpending, SpendingKindRefund, SpendingKindReversal:
	default:
		return false, Invalid("kind", "must be spending, refund or reversal")
	}
	var inserted bool
	err := s.store.InTx(ctx, func(ctx context.Context) error {
		c, err := s.findCard(ctx, ref)
		switch {
		case err == nil:
			sp.CardID, sp.ApplicationID = c.ID, c.ApplicationID
			app, err := s.store.GetApplication(ctx, c.ApplicationID, Scope{})
			if err != nil {
				return err
			}
			sp.OrgPath = app.OrgPath
		case !isNotFound(err):
			return err
		}
		sp.ReceivedAt = s.clock.Now()
		sp.ChinaDate = sp.ReceivedAt.In(ChinaTime).Format(time.DateOnly)
		inserted, err = s.store.RecordSpending(ctx, &sp)
		return err
	})
	if err != nil {
		return false, fmt.Errorf("record card spending: %w", err)
	}
	return inserted, nil
}

// CardOf returns the card of an application, or ErrNotFound.
func (s *Service) CardOf(ctx context.Context, applicationID int64) (Card, error) {
	c, err := s.store.GetCardByApplication(ctx, applicationID)
	if err != nil {
		return Card{}, fmt.Errorf("card of application %d: %w", applicationID, err)
	}
	return c, nil
}

// OpenPAN decrypts a card's PAN for personalization. The result must stay
// in memory.
func (s *Service) OpenPAN(c Card) (pii.Secret, error) {
	pan, err := s.keys.Open(purposePAN, c.PANSealed)
	if err != nil {
		return pii.Secret{}, fmt.Errorf("card %d: %w", c.ID, err)
	}
	return pii.NewSecret(pii.KindOther, pan), nil
}

// RecordBankRequestFailed appends an event to the application saying that
// its request to the bank was given up for an operator (the outbox row is
// failed): the status stays as it is (From = To), Reason says why. Call it
// in the transaction that fails the row.
func (s *Service) RecordBankRequestFailed(ctx context.Context, applicationID int64, reason string) error {
	app, err := s.store.GetApplication(ctx, applicationID, Scope{})
	if err != nil {
		return fmt.Errorf("record failed bank request of application %d: %w", applicationID, err)
	}
	e := Event{ApplicationID: app.ID, From: app.Status, To: app.Status, ActorRole: RoleSystem,
		Channel: RoleSystem.Channel(), Reason: clip.Runes("bank request failed, needs an operator: "+reason, 500),
		At: s.clock.Now()}
	if err := s.store.AppendEvent(ctx, &e); err != nil {
		return fmt.Errorf("record failed bank request of application %d: %w", applicationID, err)
	}
	return nil
}
