package reconcile

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"iter"
	"slices"
	"time"

	"github.com/volcard/volcard/issuance"
)

// Kind is the kind of a difference.
type Kind string

// Kinds of difference.
const (
	// KindStateDiffers: both sides know the card, in different states.
	KindStateDiffers Kind = "state_differs"
	// KindPANDiffers: the bank's card of that application and replacement
	// sequence has another PAN (last four or PAN MAC) than volcard's.
	KindPANDiffers Kind = "pan_differs"
	// KindProductDiffers: the bank files the card under another product.
	KindProductDiffers Kind = "product_differs"
	// KindUnknownToVolcard: the bank holds a card for one of volcard's
	// applications of that bank that volcard has no record of.
	KindUnknownToVolcard Kind = "card_unknown_to_volcard"
	// KindUnknownToBank: volcard holds a card the bank's file does not list.
	KindUnknownToBank Kind = "card_unknown_to_bank"
	// KindApplicationUnknown: the bank lists a card for an application
	// number volcard does not have for that bank.
	KindApplicationUnknown Kind = "application_unknown"
	// KindDuplicateRow: the bank lists one card twice.
	KindDuplicateRow Kind = "duplicate_row"
)

// Kinds lists every kind, in report order.
var Kinds = []Kind{KindStateDiffers, KindPANDiffers, KindProductDiffers, KindUnknownToVolcard,
	KindUnknownToBank, KindApplicationUnknown, KindDuplicateRow}

// BankCard is one card as the bank reports it.
type BankCard struct {
	// Line is where the bank reported it (its line in the file), for the
	// report.
	Line              int
	ApplicationNumber string
	ReplaceSeq        int
	// ProductCode is the bank product code (issuance.BankProductCode).
	ProductCode string
	LastFour    string
	// PANMAC is the bank's keyed digest of the PAN; Input.PANMAC computes
	// the same of volcard's PAN.
	PANMAC    string
	State     issuance.BankCardState
	Activated time.Time // civil date; zero when never activated
}

// OurCard is one of volcard's cards.
type OurCard struct {
	ID         int64
	ReplaceSeq int
	LastFour   string
	PANSealed  []byte
	State      issuance.BankCardState
}

// OurApplication is one of volcard's applications of a bank, with its
// cards (none before the bank approves).
type OurApplication struct {
	Number      string
	Status      issuance.Status
	ProductCode string
	Cards       []OurCard
}

// Report is one reconciliation of a bank's business date.
type Report struct {
	ID       int64
	BankCode string
	// BusinessDate is the civil date reconciled (midnight UTC).
	BusinessDate time.Time
	// Source names where the bank's side came from (a file name).
	Source     string
	StartedAt  time.Time
	FinishedAt time.Time
	// BankCards is the number of cards the bank listed, OurCards those of
	// volcard's cards that existed by the end of the business date.
	BankCards int
	OurCards  int
	// Matched counts cards that agree on every point.
	Matched     int
	Differences int
	ByKind      map[Kind]int
}

// Difference is one difference found.
type Difference struct {
	ID                int64
	ReportID          int64
	Kind              Kind
	ApplicationNumber string
	ReplaceSeq        int
	// LastFour is volcard's last four when volcard knows the card, else
	// the bank's.
	LastFour          string
	OurState          issuance.BankCardState
	BankState         issuance.BankCardState
	ApplicationStatus issuance.Status
	// BankActivated is the bank's activation date (zero: none).
	BankActivated time.Time
	// Line is the bank's line (0 when the bank does not list the card).
	Line int
	// Detail is a sentence for the reader; no personal data.
	Detail string
}

// Reads are the reads of volcard's side.
type Reads interface {
	// EachBankApplication calls fn for every application of bankCode
	// created before `before`, with its cards created before then, until
	// fn returns an error (which it returns).
	EachBankApplication(ctx context.Context, bankCode string, before time.Time, fn func(OurApplication) error) error
	// ApplicationBank returns the bank of an application number; found is
	// false when volcard has no such application.
	ApplicationBank(ctx context.Context, number string) (bank string, found bool, err error)
}

// Reports stores and reads reports.
type Reports interface {
	// SaveReconciliation inserts r (setting r.ID) and its differences in
	// one transaction.
	SaveReconciliation(ctx context.Context, r *Report, diffs []Difference) error
	// ListReconciliations returns the reports of bankCode (all banks when
	// empty), newest business date first, at most limit.
	ListReconciliations(ctx context.Context, bankCode string, limit int) ([]Report, error)
	// GetReconciliation returns a report, ErrNotFound when absent.
	GetReconciliation(ctx context.Context, id int64) (Report, error)
	// ReconciliationDifferences returns a report's differences in report
	// order.
	ReconciliationDifferences(ctx context.Context, id int64) ([]Difference, error)
}

// Store is the storage reconciliation needs; issuance/store implements it.
type Store interface {
	Reads
	Reports
}

// Service runs and reads reconciliations. Build it with New.
type Service struct {
	svc *issuance.Service
	st  Store
	now func() time.Time
}

// New returns the service over svc (actors, the PAN vault) and st.
func New(svc *issuance.Service, st Store) (*Service, error) {
	if svc == nil || st == nil {
		return nil, errors.New("reconcile: nil service or store")
	}
	return &Service{svc: svc, st: st, now: time.Now}, nil
}

// Input is one reconciliation to run.
type Input struct {
	BankCode string
	// Date is the business date (any time on the civil date; UTC).
	Date   time.Time
	Source string
	// PANMAC computes the bank's PAN digest of one of volcard's PANs.
	PANMAC func(pan string) string
	// Rows yields the bank's cards; an error ends the run without a
	// report (a file that fails its check is not reconciled).
	Rows iter.Seq2[BankCard, error]
}

// Reconcile compares the bank's cards with volcard's of that bank that
// existed by the end of the business date (midnight UTC+8) and stores the
// report. Only province_admin and system actors may run it.
func (s *Service) Reconcile(ctx context.Context, a issuance.Actor, in Input) (Report, error) {
	if err := issuance.RequireRole(a, issuance.RoleProvinceAdmin, issuance.RoleSystem); err != nil {
		return Report{}, err
	}
	if in.BankCode == "" || in.PANMAC == nil || in.Rows == nil {
		return Report{}, errors.New("reconcile: bank code, PAN MAC and rows are required")
	}
	y, m, d := in.Date.Date()
	date := time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
	before := time.Date(y, m, d+1, 0, 0, 0, 0, issuance.ChinaTime)
	rep := Report{BankCode: in.BankCode, BusinessDate: date, Source: in.Source, StartedAt: s.now(),
		ByKind: map[Kind]int{}}

	type ourCard struct {
		OurCard
		matched bool
	}
	type ourApp struct {
		OurApplication
		cards []ourCard
	}
	ours := map[string]*ourApp{}
	err := s.st.EachBankApplication(ctx, in.BankCode, before, func(oa OurApplication) error {
		app := &ourApp{OurApplication: oa, cards: make([]ourCard, len(oa.Cards))}
		for i, c := range oa.Cards {
			app.cards[i] = ourCard{OurCard: c}
		}
		app.OurApplication.Cards = nil
		ours[oa.Number] = app
		rep.OurCards += len(oa.Cards)
		return nil
	})
	if err != nil {
		return Report{}, fmt.Errorf("reconcile %s: volcard's cards: %w", in.BankCode, err)
	}

	var diffs []Difference
	add := func(d Difference) {
		rep.ByKind[d.Kind]++
		diffs = append(diffs, d)
	}
	for bc, err := range in.Rows {
		if err != nil {
			return Report{}, fmt.Errorf("reconcile %s %s: bank's file: %w", in.BankCode, date.Format(time.DateOnly), err)
		}
		rep.BankCards++
		d := Difference{ApplicationNumber: bc.ApplicationNumber, ReplaceSeq: bc.ReplaceSeq, LastFour: bc.LastFour,
			BankState: bc.State, BankActivated: bc.Activated, Line: bc.Line}
		app, ok := ours[bc.ApplicationNumber]
		if !ok {
			d.Kind = KindApplicationUnknown
			bank, found, err := s.st.ApplicationBank(ctx, bc.ApplicationNumber)
			switch {
			case err != nil:
				return Report{}, fmt.Errorf("reconcile %s: application of line %d: %w", in.BankCode, bc.Line, err)
			case !found:
				d.Detail = "volcard has no application with this number"
			case bank != in.BankCode:
				d.Detail = "the application is another bank's" // not which: the report may be read by this bank's staff
			default:
				d.Detail = "the application was made after the business date"
			}
			add(d)
			continue
		}
		d.ApplicationStatus = app.Status
		i := slices.IndexFunc(app.cards, func(c ourCard) bool { return c.ReplaceSeq == bc.ReplaceSeq })
		if i < 0 {
			d.Kind = KindUnknownToVolcard
			d.Detail = fmt.Sprintf("the bank holds card %d of this application; volcard has no record of it", bc.ReplaceSeq)
			add(d)
			continue
		}
		c := &app.cards[i]
		d.LastFour, d.OurState = c.LastFour, c.State
		if c.matched {
			d.Kind = KindDuplicateRow
			d.Detail = "the bank lists this card more than once"
			add(d)
			continue
		}
		c.matched = true
		pan, err := s.svc.OpenPAN(issuance.Card{ID: c.ID, PANSealed: c.PANSealed})
		if err != nil {
			return Report{}, fmt.Errorf("reconcile %s: %w", in.BankCode, err)
		}
		if c.LastFour != bc.LastFour || in.PANMAC(pan.Reveal()) != bc.PANMAC {
			d.Kind = KindPANDiffers
			d.Detail = "the bank's card has another PAN (bank's last four " + bc.LastFour + ")"
			add(d)
			continue
		}
		same := true
		if want := issuance.BankProductCode(app.ProductCode); want != bc.ProductCode {
			d.Kind = KindProductDiffers
			d.Detail = "the bank files the card under product " + bc.ProductCode + ", volcard under " + want
			add(d)
			same = false
		}
		if c.State != bc.State {
			d.Kind = KindStateDiffers
			d.Detail = fmt.Sprintf("volcard: %s, bank: %s", c.State, bc.State)
			add(d)
			same = false
		}
		if same {
			rep.Matched++
		}
	}
	for _, app := range ours {
		for _, c := range app.cards {
			if !c.matched {
				add(Difference{Kind: KindUnknownToBank, ApplicationNumber: app.Number, ReplaceSeq: c.ReplaceSeq,
					LastFour: c.LastFour, OurState: c.State, ApplicationStatus: app.Status,
					Detail: "volcard holds this card; the bank's file does not list it"})
			}
		}
	}
	slices.SortFunc(diffs, func(a, b Difference) int {
		return cmp.Or(cmp.Compare(slices.Index(Kinds, a.Kind), slices.Index(Kinds, b.Kind)),
			cmp.Compare(a.ApplicationNumber, b.ApplicationNumber), cmp.Compare(a.ReplaceSeq, b.ReplaceSeq),
			cmp.Compare(a.Line, b.Line))
	})
	rep.Differences = len(diffs)
	rep.FinishedAt = s.now()
	if err := s.st.SaveReconciliation(ctx, &rep, diffs); err != nil {
		return Report{}, fmt.Errorf("reconcile %s: save report: %w", in.BankCode, err)
	}
	return rep, nil
}

// readable checks that a may read reports of bankCode: province_admin and
// system any, bank_staff their bank's.
func readable(a issuance.Actor, bankCode string) error {
	switch a.Role {
	case issuance.RoleProvinceAdmin, issuance.RoleSystem:
		return nil
	case issuance.RoleBankStaff:
		if a.BankCode != "" && (bankCode == "" || bankCode == a.BankCode) {
			return nil
		}
		return fmt.Errorf("%w: another bank's reconciliation", issuance.ErrForbidden)
	}
	return fmt.Errorf("%w: role %q", issuance.ErrForbidden, a.Role)
}

// List returns the reports of bankCode (all the actor may read when
// empty), newest first, at most limit (1–500).
func (s *Service) List(ctx context.Context, a issuance.Actor, bankCode string, limit int) ([]Report, error) {
	if err := readable(a, bankCode); err != nil {
		return nil, err
	}
	if a.Role == issuance.RoleBankStaff {
		bankCode = a.BankCode
	}
	limit = min(max(limit, 1), 500)
	return s.st.ListReconciliations(ctx, bankCode, limit)
}

// Get returns a report with its differences; another bank's report is
// ErrNotFound to bank staff.
func (s *Service) Get(ctx context.Context, a issuance.Actor, id int64) (Report, []Difference, error) {
	if err := readable(a, ""); err != nil {
		return Report{}, nil, err
	}
	r, err := s.st.GetReconciliation(ctx, id)
	if err != nil {
		return Report{}, nil, err
	}
	if a.Role == issuance.RoleBankStaff && r.BankCode != a.BankCode {
		return Report{}, nil, fmt.Errorf("reconciliation %d: %w", id, issuance.ErrNotFound)
	}
	diffs, err := s.st.ReconciliationDifferences(ctx, id)
	if err != nil {
		return Report{}, nil, err
	}
	return r, diffs, nil
}
