package rebates

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/volcard/volcard/issuance"
)

// Rates stores the rates.
type Rates interface {
	// ListRates returns the rates of bank and product ("" for all), by
	// bank, product and start.
	ListRates(ctx context.Context, bankCode, productCode string) ([]Rate, error)
	// AddRate ends the open-ended rate of r's bank and product that starts
	// before r at r.EffectiveFrom and inserts r (setting r.ID).
	AddRate(ctx context.Context, r *Rate) error
	// ProductBank returns a product's bank, or ErrNotFound.
	ProductBank(ctx context.Context, productCode string) (string, error)
	// LockRebates locks, until the transaction ends, the rates of
	// bankCode and productCode (held exclusively; other products' rates
	// stay free) and the rebates as a whole in shared mode; with both ""
	// it locks the rebates as a whole exclusively (Generate), which
	// waits for every rate being set and blocks new ones.
	LockRebates(ctx context.Context, bankCode, productCode string) error
}

// Advices reads the spending advices of a range of China dates [from, to).
type Advices interface {
	// AggregateAdvices sums the advices by day, org path, bank, product
	// and kind, in SQL.
	AggregateAdvices(ctx context.Context, from, to string) ([]Aggregate, error)
	// EachAdvice calls fn with every advice (Check).
	EachAdvice(ctx context.Context, from, to string, fn func(Advice) error) error
	// Beneficiaries returns every city and university.
	Beneficiaries(ctx context.Context) ([]Beneficiary, error)
}

// Statements stores the generated months.
type Statements interface {
	// SaveMonth inserts m and its statements in one transaction; a month
	// stored before is a *issuance.ConflictError ("rebate_month").
	SaveMonth(ctx context.Context, m *Month, sts []Statement) error
	// GetMonth returns a generated month, or ErrNotFound.
	GetMonth(ctx context.Context, month string) (Month, error)
	// LastMonth returns the latest generated month ("" when none).
	LastMonth(ctx context.Context) (string, error)
}

// StatementReads reads stored statements.
type StatementReads interface {
	// ListStatements returns month's statements of organisations under
	// pathPrefix, in org path order, with their lines.
	ListStatements(ctx context.Context, month, pathPrefix string) ([]Statement, error)
	// GetStatement returns a statement with its lines, or ErrNotFound.
	GetStatement(ctx context.Context, id int64) (Statement, error)
}

// Store is the storage rebates need; issuance/store implements it.
type Store interface {
	Rates
	Advices
	Statements
	StatementReads
	InTx(ctx context.Context, fn func(ctx context.Context) error) error
}

// Service sets rates and generates and reads statements. Build it with
// New.
type Service struct {
	svc *issuance.Service
	st  Store
	now func() time.Time
}

// New returns the service over svc (actors and scope) and st.
func New(svc *issuance.Service, st Store) (*Service, error) {
	if svc == nil || st == nil {
		return nil, errors.New("rebates: nil service or store")
	}
	return &Service{svc: svc, st: st, now: time.Now}, nil
}

// WithNow sets the clock (tests).
func (s *Service) WithNow(now func() time.Time) *Service { s.now = now; return s }

// Rates returns the rates of bankCode and productCode ("" for all).
// Roles: province_admin, system; bank_staff their bank's.
func (s *Service) Rates(ctx context.Context, a issuance.Actor, bankCode, productCode string) ([]Rate, error) {
	switch a.Role {
	case issuance.RoleProvinceAdmin, issuance.RoleSystem:
	case issuance.RoleBankStaff:
		if bankCode != "" && bankCode != a.BankCode {
			return nil, fmt.Errorf("%w: another bank's rates", issuance.ErrForbidden)
		}
		bankCode = a.BankCode
	default:
		return nil, fmt.Errorf("%w: role %q", issuance.ErrForbidden, a.Role)
	}
	return s.st.ListRates(ctx, bankCode, productCode)
}

// NewRate is a rate to set.
type NewRate struct {
	BankCode      string
	ProductCode   string
	RateBP        int
	FoundationBP  int
	EffectiveFrom string // YYYY-MM-DD
	EffectiveTo   string // YYYY-MM-DD or "" (open-ended)
}

// SetRate adds a rate. The open-ended rate of the same bank and product
// that starts before it ends where it starts; any other overlap with a
// rate of that bank and product is a *issuance.ConflictError
// ("rebate_rate_overlap"), and so is a start inside a month whose
// statements are generated ("rebate_month_closed"): a closed month never
// changes. Roles: province_admin, system.
func (s *Service) SetRate(ctx context.Context, a issuance.Actor, in NewRate) (Rate, error) {
	if err := issuance.RequireRole(a, issuance.RoleProvinceAdmin, issuance.RoleSystem); err != nil {
		return Rate{}, err
	}
	in.BankCode, in.ProductCode = strings.TrimSpace(in.BankCode), strings.TrimSpace(in.ProductCode)
	if in.RateBP < 0 || in.RateBP > 10000 {
		return Rate{}, issuance.Invalid("rate_bp", "basis points 0–10000")
	}
	if in.FoundationBP < 0 || in.FoundationBP > 10000 {
		return Rate{}, issuance.Invalid("foundation_bp", "basis points 0–10000")
	}
	if _, err := time.Parse(time.DateOnly, in.EffectiveFrom); err != nil {
		return Rate{}, issuance.Invalid("effective_from", "must be a date YYYY-MM-DD")
	}
	if in.EffectiveTo != "" {
		if _, err := time.Parse(time.DateOnly, in.EffectiveTo); err != nil || in.EffectiveTo <= in.EffectiveFrom {
			return Rate{}, issuance.Invalid("effective_to", "must be a date YYYY-MM-DD after effective_from")
		}
	}
	r := Rate{BankCode: in.BankCode, ProductCode: in.ProductCode, RateBP: in.RateBP, FoundationBP: in.FoundationBP,
		EffectiveFrom: in.EffectiveFrom, EffectiveTo: in.EffectiveTo, ActorRole: a.Role, TokenID: a.TokenID,
		CreatedAt: s.now()}
	err := s.st.InTx(ctx, func(ctx context.Context) error {
		// The overlap check and the insert under the product's lock, and
		// never while a month is being generated.
		if err := s.st.LockRebates(ctx, in.BankCode, in.ProductCode); err != nil {
			return err
		}
		bank, err := s.st.ProductBank(ctx, in.ProductCode)
		if errors.Is(err, issuance.ErrNotFound) || (err == nil && bank != in.BankCode) {
			return issuance.Invalid("product_code", "not a product of this bank")
		}
		if err != nil {
			return err
		}
		last, err := s.st.LastMonth(ctx)
		if err != nil {
			return err
		}
		if last != "" {
			if _, to, _, err := MonthRange(last); err == nil && in.EffectiveFrom < to {
				return &issuance.ConflictError{What: "rebate_month_closed"}
			}
		}
		existing, err := s.st.ListRates(ctx, in.BankCode, in.ProductCode)
		if err != nil {
			return err
		}
		for _, x := range existing {
			if x.EffectiveTo == "" && x.EffectiveFrom < r.EffectiveFrom {
				continue // superseded from r.EffectiveFrom by AddRate
			}
			xTo, rTo := x.EffectiveTo, r.EffectiveTo
			if (rTo == "" || x.EffectiveFrom < rTo) && (xTo == "" || r.EffectiveFrom < xTo) {
				return &issuance.ConflictError{What: "rebate_rate_overlap"}
			}
		}
		return s.st.AddRate(ctx, &r)
	})
	if err != nil {
		return Rate{}, fmt.Errorf("set rebate rate: %w", err)
	}
	return r, nil
}

// Grace is how long after a month's end (China time) its statements may
// be generated: an advice committed at 23:59:59 (or delayed in the bank
// link) is stored by then.
const Grace = 15 * time.Minute

// Generate makes and stores the statements of month (YYYY-MM), which must
// have ended (China time) at least Grace ago. A month generated before is
// returned as stored (generated false): statements never change once
// made. The advices and rates are read and the statements saved in one
// transaction holding the rebates lock, so no rate is set meanwhile.
// Advices that need a rate not set fail the whole month with a
// *MissingRateError. Roles: province_admin, system.
func (s *Service) Generate(ctx context.Context, a issuance.Actor, month string) (m Month, generated bool, err error) {
	if err := issuance.RequireRole(a, issuance.RoleProvinceAdmin, issuance.RoleSystem); err != nil {
		return Month{}, false, err
	}
	from, to, end, err := MonthRange(month)
	if err != nil {
		return Month{}, false, err
	}
	if s.now().Before(end.Add(Grace)) {
		return Month{}, false, issuance.Invalid("month", "has not ended yet, or ended less than 15 minutes ago (China time)")
	}
	err = s.st.InTx(ctx, func(ctx context.Context) error {
		if err := s.st.LockRebates(ctx, "", ""); err != nil {
			return err
		}
		stored, err := s.st.GetMonth(ctx, month)
		if err == nil {
			m = stored
			return nil
		} else if !errors.Is(err, issuance.ErrNotFound) {
			return err
		}
		aggs, err := s.st.AggregateAdvices(ctx, from, to)
		if err != nil {
			return err
		}
		rates, err := s.st.ListRates(ctx, "", "")
		if err != nil {
			return err
		}
		bens, err := s.st.Beneficiaries(ctx)
		if err != nil {
			return err
		}
		var sts []Statement
		m, sts, err = Compute(month, aggs, rates, bens)
		if err != nil {
			return err
		}
		m.GeneratedAt = s.now()
		for i := range sts {
			sts[i].GeneratedAt = m.GeneratedAt
		}
		if err := s.st.SaveMonth(ctx, &m, sts); err != nil {
			return err
		}
		generated = true
		return nil
	})
	if err != nil {
		return Month{}, false, fmt.Errorf("rebate statements %s: %w", month, err)
	}
	// SaveMonth wrote rebate_statement.generated, one per statement.
	return m, generated, nil
}

// readScope returns the org path prefix a may read statements under:
// province_admin and system all, org_admin their subtree.
func (s *Service) readScope(ctx context.Context, a issuance.Actor) (string, error) {
	switch a.Role {
	case issuance.RoleProvinceAdmin, issuance.RoleSystem:
		return "", nil
	case issuance.RoleOrgAdmin:
		sc, err := s.svc.Scope(ctx, a)
		if err != nil {
			return "", err
		}
		if sc.PathPrefix == "" {
			return "", fmt.Errorf("%w: org admin without scope", issuance.ErrForbidden)
		}
		return sc.PathPrefix, nil
	}
	return "", fmt.Errorf("%w: role %q", issuance.ErrForbidden, a.Role)
}

// Statements returns month's statements the actor may read (province
// admin: all; org admin: the cities and universities in their subtree,
// with the month's figures summed over those only).
// A month not generated is ErrNotFound. Roles: province_admin, org_admin,
// system.
func (s *Service) Statements(ctx context.Context, a issuance.Actor, month string) (Month, []Statement, error) {
	prefix, err := s.readScope(ctx, a)
	if err != nil {
		return Month{}, nil, err
	}
	if _, _, _, err := MonthRange(month); err != nil {
		return Month{}, nil, err
	}
	m, err := s.st.GetMonth(ctx, month)
	if err != nil {
		return Month{}, nil, fmt.Errorf("rebate month %s: %w", month, err)
	}
	sts, err := s.st.ListStatements(ctx, month, prefix)
	if err != nil {
		return Month{}, nil, err
	}
	if prefix != "" {
		// An org admin sees the month as the sum of their statements, not
		// the province's figures.
		m.Advices, m.NetFen, m.Statements, m.Unattributed = 0, 0, len(sts), 0
		for _, st := range sts {
			m.Advices += st.Totals.Advices
			m.NetFen += st.Totals.NetFen
		}
	}
	return m, sts, nil
}

// Statement returns one statement; out of the actor's scope it is
// ErrNotFound.
func (s *Service) Statement(ctx context.Context, a issuance.Actor, id int64) (Statement, error) {
	prefix, err := s.readScope(ctx, a)
	if err != nil {
		return Statement{}, err
	}
	st, err := s.st.GetStatement(ctx, id)
	if err != nil {
		return Statement{}, fmt.Errorf("rebate statement %d: %w", id, err)
	}
	if !strings.HasPrefix(st.OrgPath, prefix) {
		return Statement{}, fmt.Errorf("rebate statement %d: %w", id, issuance.ErrNotFound)
	}
	return st, nil
}

// CheckMonth recomputes a generated month advice by advice (Check) and
// returns the differences with its stored statements: none when every
// line and total reconciles exactly. Roles: province_admin, system.
func (s *Service) CheckMonth(ctx context.Context, a issuance.Actor, month string) ([]Mismatch, error) {
	if err := issuance.RequireRole(a, issuance.RoleProvinceAdmin, issuance.RoleSystem); err != nil {
		return nil, err
	}
	from, to, _, err := MonthRange(month)
	if err != nil {
		return nil, err
	}
	var advices []Advice
	if err := s.st.EachAdvice(ctx, from, to, func(ad Advice) error { advices = append(advices, ad); return nil }); err != nil {
		return nil, err
	}
	rates, err := s.st.ListRates(ctx, "", "")
	if err != nil {
		return nil, err
	}
	bens, err := s.st.Beneficiaries(ctx)
	if err != nil {
		return nil, err
	}
	stored, err := s.st.ListStatements(ctx, month, "")
	if err != nil {
		return nil, err
	}
	return Check(month, advices, rates, bens, stored)
}
