package store

// Donation rebates (issue 18, migration 00221): the rates, the month's
// advices summed in SQL, and the stored statements. The rate, the
// beneficiary and the rounding rule are applied in Go (issuance/rebates).

import (
	"context"
	"fmt"
	"time"

	"github.com/volcard/volcard/issuance"
	"github.com/volcard/volcard/issuance/rebates"
)

var _ rebates.Store = (*Store)(nil)

type rateRow struct {
	ID            int64 `gorm:"primaryKey"`
	BankCode      string
	ProductCode   string
	RateBP        int `gorm:"column:rate_bp"`
	FoundationBP  int `gorm:"column:foundation_bp"`
	EffectiveFrom string
	EffectiveTo   string
	ActorRole     string
	TokenID       int64
	CreatedAt     time.Time
}

func (rateRow) TableName() string { return "rebate_rates" }

type rebateMonthRow struct {
	Month        string `gorm:"primaryKey"`
	Advices      int64
	NetFen       int64
	Statements   int
	Unattributed int64
	GeneratedAt  time.Time
}

func (rebateMonthRow) TableName() string { return "rebate_months" }

// RebateAmounts are the money columns of rebate statements and their lines
// (exported so that GORM embeds them).
type RebateAmounts struct {
	Advices       int64
	SpendingFen   int64
	RefundFen     int64
	ReversalFen   int64
	NetFen        int64
	DonationFen   int64
	FoundationFen int64
	ReturnedFen   int64
}

func moneyOf(l rebates.Line) RebateAmounts {
	return RebateAmounts{l.Advices, l.SpendingFen, l.RefundFen, l.ReversalFen, l.NetFen, l.DonationFen, l.FoundationFen, l.ReturnedFen}
}

func (m RebateAmounts) line() rebates.Line {
	return rebates.Line{Advices: m.Advices, SpendingFen: m.SpendingFen, RefundFen: m.RefundFen, ReversalFen: m.ReversalFen,
		NetFen: m.NetFen, DonationFen: m.DonationFen, FoundationFen: m.FoundationFen, ReturnedFen: m.ReturnedFen}
}

type statementRow struct {
	ID            int64 `gorm:"primaryKey"`
	Month         string
	OrgID         int64
	OrgPath       string
	OrgKind       string
	OrgName       string
	RebateAmounts `gorm:"embedded"`
	GeneratedAt   time.Time
}

func (statementRow) TableName() string { return "rebate_statements" }

type statementLineRow struct {
	ID            int64 `gorm:"primaryKey"`
	StatementID   int64
	BankCode      string
	ProductCode   string
	RateID        int64
	RateBP        int `gorm:"column:rate_bp"`
	FoundationBP  int `gorm:"column:foundation_bp"`
	RebateAmounts `gorm:"embedded"`
}

func (statementLineRow) TableName() string { return "rebate_statement_lines" }

func (r rateRow) domain() rebates.Rate {
	return rebates.Rate{ID: r.ID, BankCode: r.BankCode, ProductCode: r.ProductCode, RateBP: r.RateBP,
		FoundationBP: r.FoundationBP, EffectiveFrom: r.EffectiveFrom, EffectiveTo: r.EffectiveTo,
		ActorRole: issuance.Role(r.ActorRole), TokenID: r.TokenID, CreatedAt: r.CreatedAt.UTC()}
}

// ListRates implements rebates.Rates.
func (s *Store) ListRates(ctx context.Context, bankCode, productCode string) ([]rebates.Rate, error) {
	q := s.DB(ctx).Order("bank_code, product_code, effective_from")
	if bankCode != "" {
		q = q.Where("bank_code = ?", bankCode)
	}
	if productCode != "" {
		q = q.Where("product_code = ?", productCode)
	}
	var rows []rateRow
	if err := q.Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("list rebate rates: %w", mapErr(err))
	}
	out := make([]rebates.Rate, len(rows))
	for i, r := range rows {
		out[i] = r.domain()
	}
	return out, nil
}

// AddRate implements rebates.Rates.
func (s *Store) AddRate(ctx context.Context, r *rebates.Rate) error {
	return s.InTx(ctx, func(ctx context.Context) error {
		err := s.DB(ctx).Model(&rateRow{}).Where("bank_code = ? AND product_code = ? AND effective_to = '' AND effective_from < ?",
			r.BankCode, r.ProductCode, r.EffectiveFrom).Update("effective_to", r.EffectiveFrom).Error
		if err != nil {
			return fmt.Errorf("end rebate rate: %w", mapErr(err))
		}
		row := rateRow{BankCode: r.BankCode, ProductCode: r.ProductCode, RateBP: r.RateBP, FoundationBP: r.FoundationBP,
			EffectiveFrom: r.EffectiveFrom, EffectiveTo: r.EffectiveTo, ActorRole: string(r.ActorRole), TokenID: r.TokenID,
			CreatedAt: r.CreatedAt.UTC()}
		if err := s.DB(ctx).Create(&row).Error; err != nil {
			return fmt.Errorf("add rebate rate: %w", mapErr(err))
		}
		r.ID = row.ID
		return nil
	})
}

// LockRebates implements rebates.Rates: on PostgreSQL transaction-scoped
// advisory locks, the key "rebates" shared (exclusive when bankCode and
// productCode are both "") and the key of the bank and product
// exclusive; on SQLite a no-op, its write transactions (BEGIN IMMEDIATE)
// already exclude each other.
func (s *Store) LockRebates(ctx context.Context, bankCode, productCode string) error {
	if s.dialect != Postgres {
		return nil
	}
	db := s.DB(ctx)
	if bankCode == "" && productCode == "" {
		if err := db.Exec("SELECT pg_advisory_xact_lock(hashtext('volcard.rebates'))").Error; err != nil {
			return fmt.Errorf("lock rebates: %w", mapErr(err))
		}
		return nil
	}
	if err := db.Exec("SELECT pg_advisory_xact_lock_shared(hashtext('volcard.rebates'))").Error; err != nil {
		return fmt.Errorf("lock rebates: %w", mapErr(err))
	}
	if err := db.Exec("SELECT pg_advisory_xact_lock(hashtext('volcard.rebates'), hashtext(?))",
		bankCode+"/"+productCode).Error; err != nil {
		return fmt.Errorf("lock rebate rates %s/%s: %w", bankCode, productCode, mapErr(err))
	}
	return nil
}

// ProductBank implements rebates.Rates.
func (s *Store) ProductBank(ctx context.Context, productCode string) (string, error) {
	var p struct{ BankCode string }
	if err := s.DB(ctx).Table("products").Select("bank_code").Where("code = ?", productCode).Take(&p).Error; err != nil {
		return "", mapErr(err)
	}
	return p.BankCode, nil
}

// AggregateAdvices implements rebates.Advices: one GROUP BY over the
// month's range of the china_date index.
func (s *Store) AggregateAdvices(ctx context.Context, from, to string) ([]rebates.Aggregate, error) {
	var rows []rebates.Aggregate
	err := s.DB(ctx).Raw(`SELECT s.china_date AS day, s.org_path, COALESCE(a.bank_code, '') AS bank_code,
			COALESCE(a.product_code, '') AS product_code, s.kind, COUNT(*) AS count, SUM(s.amount) AS amount
		FROM card_spending s LEFT JOIN applications a ON a.id = s.application_id
		WHERE s.china_date >= ? AND s.china_date < ?
		GROUP BY s.china_date, s.org_path, a.bank_code, a.product_code, s.kind`, from, to).Scan(&rows).Error
	if err != nil {
		return nil, fmt.Errorf("aggregate advices %s–%s: %w", from, to, mapErr(err))
	}
	return rows, nil
}

// EachAdvice implements rebates.Advices, streamed.
func (s *Store) EachAdvice(ctx context.Context, from, to string, fn func(rebates.Advice) error) error {
	rows, err := s.DB(ctx).Raw(`SELECT s.id, s.china_date, s.org_path, COALESCE(a.bank_code, ''), COALESCE(a.product_code, ''),
			s.kind, s.amount
		FROM card_spending s LEFT JOIN applications a ON a.id = s.application_id
		WHERE s.china_date >= ? AND s.china_date < ? ORDER BY s.id`, from, to).Rows()
	if err != nil {
		return mapErr(err)
	}
	defer rows.Close()
	for rows.Next() {
		var a rebates.Advice
		if err := rows.Scan(&a.ID, &a.Day, &a.OrgPath, &a.BankCode, &a.ProductCode, &a.Kind, &a.Amount); err != nil {
			return fmt.Errorf("scan advice: %w", err)
		}
		if err := fn(a); err != nil {
			return err
		}
	}
	return mapErr(rows.Err())
}

// Beneficiaries implements rebates.Advices.
func (s *Store) Beneficiaries(ctx context.Context) ([]rebates.Beneficiary, error) {
	var rows []struct {
		ID   int64
		Path string
		Name string
		Kind string
	}
	if err := s.DB(ctx).Table("orgs").Select("id, path, name, kind").
		Where("kind IN ?", []string{string(issuance.OrgCity), string(issuance.OrgUniversity)}).Scan(&rows).Error; err != nil {
		return nil, mapErr(err)
	}
	out := make([]rebates.Beneficiary, len(rows))
	for i, r := range rows {
		out[i] = rebates.Beneficiary{OrgID: r.ID, Path: r.Path, Name: r.Name, Kind: issuance.OrgKind(r.Kind)}
	}
	return out, nil
}

// SaveMonth implements rebates.Statements. Each statement writes
// rebate_statement.generated to the feed, in the same transaction.
func (s *Store) SaveMonth(ctx context.Context, m *rebates.Month, sts []rebates.Statement) error {
	return s.InTx(ctx, func(ctx context.Context) error {
		var n int64
		if err := s.DB(ctx).Model(&rebateMonthRow{}).Where("month = ?", m.Month).Count(&n).Error; err != nil {
			return mapErr(err)
		}
		if n > 0 {
			return &issuance.ConflictError{What: "rebate_month"}
		}
		mr := rebateMonthRow{Month: m.Month, Advices: m.Advices, NetFen: m.NetFen, Statements: m.Statements,
			Unattributed: m.Unattributed, GeneratedAt: m.GeneratedAt.UTC()}
		if err := s.DB(ctx).Create(&mr).Error; err != nil {
			if err := mapErr(err); err != nil {
				return fmt.Errorf("save rebate month: %w", err)
			}
		}
		for i := range sts {
			st := &sts[i]
			r := statementRow{Month: m.Month, OrgID: st.OrgID, OrgPath: st.OrgPath, OrgKind: string(st.OrgKind),
				OrgName: st.OrgName, RebateAmounts: moneyOf(st.Totals), GeneratedAt: m.GeneratedAt.UTC()}
			if err := s.DB(ctx).Create(&r).Error; err != nil {
				return fmt.Errorf("save rebate statement: %w", mapErr(err))
			}
			st.ID = r.ID
			if err := s.recordStatement(ctx, m, st); err != nil {
				return err
			}
			if len(st.Lines) == 0 {
				continue
			}
			lines := make([]statementLineRow, len(st.Lines))
			for j, l := range st.Lines {
				lines[j] = statementLineRow{StatementID: r.ID, BankCode: l.BankCode, ProductCode: l.ProductCode,
					RateID: l.RateID, RateBP: l.RateBP, FoundationBP: l.FoundationBP, RebateAmounts: moneyOf(l)}
			}
			if err := s.DB(ctx).CreateInBatches(lines, 500).Error; err != nil {
				return fmt.Errorf("save rebate statement lines: %w", mapErr(err))
			}
		}
		return nil
	})
}

// GetMonth implements rebates.Statements.
func (s *Store) GetMonth(ctx context.Context, month string) (rebates.Month, error) {
	var r rebateMonthRow
	if err := s.DB(ctx).Where("month = ?", month).Take(&r).Error; err != nil {
		return rebates.Month{}, mapErr(err)
	}
	return rebates.Month{Month: r.Month, Advices: r.Advices, NetFen: r.NetFen, Statements: r.Statements,
		Unattributed: r.Unattributed, GeneratedAt: r.GeneratedAt.UTC()}, nil
}

// LastMonth implements rebates.Statements.
func (s *Store) LastMonth(ctx context.Context) (string, error) {
	var r struct{ Month *string }
	if err := s.DB(ctx).Raw("SELECT MAX(month) AS month FROM rebate_months").Scan(&r).Error; err != nil {
		return "", mapErr(err)
	}
	return deref(r.Month), nil
}

func (s *Store) statements(ctx context.Context, rows []statementRow) ([]rebates.Statement, error) {
	out := make([]rebates.Statement, len(rows))
	ids := make([]int64, len(rows))
	at := make(map[int64]int, len(rows))
	for i, r := range rows {
		out[i] = rebates.Statement{ID: r.ID, Month: r.Month, OrgID: r.OrgID, OrgPath: r.OrgPath,
			OrgKind: issuance.OrgKind(r.OrgKind), OrgName: r.OrgName, GeneratedAt: r.GeneratedAt.UTC(), Totals: r.RebateAmounts.line()}
		ids[i], at[r.ID] = r.ID, i
	}
	if len(ids) == 0 {
		return out, nil
	}
	var lines []statementLineRow
	if err := s.DB(ctx).Where("statement_id IN ?", ids).Order("statement_id, id").Find(&lines).Error; err != nil {
		return nil, mapErr(err)
	}
	for _, l := range lines {
		x := l.RebateAmounts.line()
		x.BankCode, x.ProductCode, x.RateID, x.RateBP, x.FoundationBP = l.BankCode, l.ProductCode, l.RateID, l.RateBP, l.FoundationBP
		st := &out[at[l.StatementID]]
		st.Lines = append(st.Lines, x)
	}
	return out, nil
}

// ListStatements implements rebates.Statements.
func (s *Store) ListStatements(ctx context.Context, month, pathPrefix string) ([]rebates.Statement, error) {
	q := s.DB(ctx).Where("month = ?", month).Order("org_path")
	if pathPrefix != "" {
		q = q.Where(`org_path LIKE ? ESCAPE '\'`, likePrefix(pathPrefix))
	}
	var rows []statementRow
	if err := q.Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("list rebate statements: %w", mapErr(err))
	}
	return s.statements(ctx, rows)
}

// GetStatement implements rebates.Statements.
func (s *Store) GetStatement(ctx context.Context, id int64) (rebates.Statement, error) {
	var r statementRow
	if err := s.DB(ctx).Where("id = ?", id).Take(&r).Error; err != nil {
		return rebates.Statement{}, mapErr(err)
	}
	sts, err := s.statements(ctx, []statementRow{r})
	if err != nil {
		return rebates.Statement{}, err
	}
	return sts[0], nil
}
