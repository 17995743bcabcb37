package api

// Donation rebates (issue 18, docs/insurance-and-rebates.md): the rates
// per bank and product (province admin sets; bank staff read their
// bank's), the monthly statements per city and university (generated once
// by the province admin or serve's job; read by the province admin, and by
// an org admin for the cities and universities in their subtree) and their
// CSV/XLSX export. Money is integer fen.

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/volcard/volcard/issuance"
	"github.com/volcard/volcard/issuance/rebates"
)

// EnableRebates registers the rebate routes, served by reb, and adds them
// to the OpenAPI document. Call it once, before serving.
func (s *Server) EnableRebates(reb *rebates.Service) error {
	if reb == nil {
		return errors.New("api: nil rebates service")
	}
	auth, idem := s.authenticate(), s.idempotency()
	pa, oa, bs := issuance.RoleProvinceAdmin, issuance.RoleOrgAdmin, issuance.RoleBankStaff
	s.e.GET("/v1/admin/rebates/rates", func(c echo.Context) error { return listRates(c, reb) }, auth, allow(pa, bs))
	s.e.POST("/v1/admin/rebates/rates", func(c echo.Context) error { return s.setRate(c, reb) }, auth, allow(pa), idem)
	s.e.POST("/v1/admin/rebates/statements", func(c echo.Context) error { return s.generateStatements(c, reb) },
		auth, allow(pa), idem)
	s.e.GET("/v1/rebates/statements", func(c echo.Context) error { return listStatements(c, reb) }, auth, allow(pa, oa))
	s.e.GET("/v1/rebates/statements/export", func(c echo.Context) error { return exportStatements(c, reb) }, auth, allow(pa, oa))
	s.e.GET("/v1/rebates/statements/:id", func(c echo.Context) error { return getStatement(c, reb) }, auth, allow(pa, oa))
	return s.extendOpenAPI(rebatesOpenAPI)
}

// RebateRate is a rate of a bank and product.
type RebateRate struct {
	ID            int64     `json:"id"`
	BankCode      string    `json:"bank_code"`
	ProductCode   string    `json:"product_code"`
	RateBP        int       `json:"rate_bp"`
	FoundationBP  int       `json:"foundation_bp"`
	EffectiveFrom string    `json:"effective_from"`
	EffectiveTo   string    `json:"effective_to,omitempty"`
	CreatedAt     time.Time `json:"created_at"`
}

// RebateRateList is a list of rates.
type RebateRateList struct {
	Items []RebateRate `json:"items"`
}

// NewRebateRate is the body of POST /v1/admin/rebates/rates.
type NewRebateRate struct {
	BankCode      string `json:"bank_code"`
	ProductCode   string `json:"product_code"`
	RateBP        int    `json:"rate_bp"`
	FoundationBP  int    `json:"foundation_bp"`
	EffectiveFrom string `json:"effective_from"`
	EffectiveTo   string `json:"effective_to,omitempty"`
}

// GenerateStatements is the body of POST /v1/admin/rebates/statements.
type GenerateStatements struct {
	Month string `json:"month"`
}

// RebateAmounts are a line's or a statement's money, in fen.
type RebateAmounts struct {
	Advices       int64 `json:"advices"`
	SpendingFen   int64 `json:"spending_fen"`
	RefundFen     int64 `json:"refund_fen"`
	ReversalFen   int64 `json:"reversal_fen"`
	NetFen        int64 `json:"net_fen"`
	DonationFen   int64 `json:"donation_fen"`
	FoundationFen int64 `json:"foundation_fen"`
	ReturnedFen   int64 `json:"returned_fen"`
}

// RebateLine is a statement line.
type RebateLine struct {
	BankCode     string `json:"bank_code"`
	ProductCode  string `json:"product_code"`
	RateID       int64  `json:"rate_id"`
	RateBP       int    `json:"rate_bp"`
	FoundationBP int    `json:"foundation_bp"`
	RebateAmounts
}

// RebateStatement is a city's or university's statement of a month.
type RebateStatement struct {
	ID          int64         `json:"id"`
	Month       string        `json:"month"`
	OrgID       int64         `json:"org_id"`
	OrgName     string        `json:"org_name"`
	OrgKind     string        `json:"org_kind"`
	GeneratedAt time.Time     `json:"generated_at"`
	Totals      RebateAmounts `json:"totals"`
	Lines       []RebateLine  `json:"lines"`
}

// RebateMonth is a generated month with the statements the caller reads.
type RebateMonth struct {
	Month        string            `json:"month"`
	Advices      int64             `json:"advices"`
	NetFen       int64             `json:"net_fen"`
	Statements   int               `json:"statements"`
	Unattributed int64             `json:"unattributed"`
	GeneratedAt  time.Time         `json:"generated_at"`
	Generated    bool              `json:"generated"`
	Items        []RebateStatement `json:"items"`
}

func amounts(l rebates.Line) RebateAmounts {
	return RebateAmounts{Advices: l.Advices, SpendingFen: l.SpendingFen, RefundFen: l.RefundFen, ReversalFen: l.ReversalFen,
		NetFen: l.NetFen, DonationFen: l.DonationFen, FoundationFen: l.FoundationFen, ReturnedFen: l.ReturnedFen}
}

func toRate(r rebates.Rate) RebateRate {
	return RebateRate{ID: r.ID, BankCode: r.BankCode, ProductCode: r.ProductCode, RateBP: r.RateBP,
		FoundationBP: r.FoundationBP, EffectiveFrom: r.EffectiveFrom, EffectiveTo: r.EffectiveTo, CreatedAt: r.CreatedAt}
}

func toStatement(st rebates.Statement) RebateStatement {
	out := RebateStatement{ID: st.ID, Month: st.Month, OrgID: st.OrgID, OrgName: st.OrgName, OrgKind: string(st.OrgKind),
		GeneratedAt: st.GeneratedAt, Totals: amounts(st.Totals), Lines: make([]RebateLine, 0, len(st.Lines))}
	for _, l := range st.Lines {
		out.Lines = append(out.Lines, RebateLine{BankCode: l.BankCode, ProductCode: l.ProductCode, RateID: l.RateID,
			RateBP: l.RateBP, FoundationBP: l.FoundationBP, RebateAmounts: amounts(l)})
	}
	return out
}

func toMonth(m rebates.Month, sts []rebates.Statement, generated bool) RebateMonth {
	out := RebateMonth{Month: m.Month, Advices: m.Advices, NetFen: m.NetFen, Statements: m.Statements,
		Unattributed: m.Unattributed, GeneratedAt: m.GeneratedAt, Generated: generated,
		Items: make([]RebateStatement, 0, len(sts))}
	for _, st := range sts {
		out.Items = append(out.Items, toStatement(st))
	}
	return out
}

// rebateError turns a missing rate into a conflict naming what to set.
func rebateError(err error) error {
	var mr *rebates.MissingRateError
	if errors.As(err, &mr) {
		return &Error{Kind: KindConflict, Detail: fmt.Sprintf("no rebate rate for bank %s product %s on %s: set one "+
			"(POST /v1/admin/rebates/rates), then generate again", mr.BankCode, mr.ProductCode, mr.Day), Internal: err}
	}
	return err
}

func listRates(c echo.Context, reb *rebates.Service) error {
	bank, product := strings.ToUpper(c.QueryParam("bank")), c.QueryParam("product")
	if len(bank) > 16 {
		return invalidField("bank", "a bank code")
	}
	if len(product) > 40 {
		return invalidField("product", "a product code")
	}
	actor, _ := actorFrom(c)
	rs, err := reb.Rates(c.Request().Context(), actor, bank, product)
	if err != nil {
		return err
	}
	out := RebateRateList{Items: make([]RebateRate, 0, len(rs))}
	for _, r := range rs {
		out.Items = append(out.Items, toRate(r))
	}
	return c.JSON(http.StatusOK, out)
}

func (s *Server) setRate(c echo.Context, reb *rebates.Service) error {
	var req NewRebateRate
	if err := s.decodeJSON(c, &req); err != nil {
		return err
	}
	actor, _ := actorFrom(c)
	r, err := reb.SetRate(c.Request().Context(), actor, rebates.NewRate{BankCode: strings.ToUpper(req.BankCode),
		ProductCode: req.ProductCode, RateBP: req.RateBP, FoundationBP: req.FoundationBP,
		EffectiveFrom: strings.TrimSpace(req.EffectiveFrom), EffectiveTo: strings.TrimSpace(req.EffectiveTo)})
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, toRate(r))
}

func (s *Server) generateStatements(c echo.Context, reb *rebates.Service) error {
	var req GenerateStatements
	if err := s.decodeJSON(c, &req); err != nil {
		return err
	}
	actor, _ := actorFrom(c)
	ctx := c.Request().Context()
	m, generated, err := reb.Generate(ctx, actor, req.Month)
	if err != nil {
		return rebateError(err)
	}
	_, sts, err := reb.Statements(ctx, actor, req.Month)
	if err != nil {
		return err
	}
	status := http.StatusOK
	if generated {
		status = http.StatusCreated
	}
	return c.JSON(status, toMonth(m, sts, generated))
}

func monthParam(c echo.Context) (string, error) {
	month := c.QueryParam("month")
	if _, _, _, err := rebates.MonthRange(month); err != nil {
		return "", invalidField("month", "must be YYYY-MM")
	}
	return month, nil
}

func listStatements(c echo.Context, reb *rebates.Service) error {
	month, err := monthParam(c)
	if err != nil {
		return err
	}
	actor, _ := actorFrom(c)
	m, sts, err := reb.Statements(c.Request().Context(), actor, month)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, toMonth(m, sts, false))
}

func getStatement(c echo.Context, reb *rebates.Service) error {
	id, err := pathID(c)
	if err != nil {
		return err
	}
	actor, _ := actorFrom(c)
	st, err := reb.Statement(c.Request().Context(), actor, id)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, toStatement(st))
}

func exportStatements(c echo.Context, reb *rebates.Service) error {
	format, err := fileFormat(c)
	if err != nil {
		return err
	}
	month, err := monthParam(c)
	if err != nil {
		return err
	}
	actor, _ := actorFrom(c)
	_, sts, err := reb.Statements(c.Request().Context(), actor, month)
	if err != nil {
		return err
	}
	return sendFile(c, format, "rebates-"+month,
		func(w io.Writer) error { return rebates.WriteCSV(w, sts) },
		func(w io.Writer) error { return rebates.WriteXLSX(w, sts) })
}
