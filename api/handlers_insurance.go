package api

// Basic volunteer insurance (issue 18, docs/insurance-and-rebates.md): the
// policies (read and set by the province admin, audited), the insurer's
// daily file (province admin only: it holds names and ID numbers, sent
// uncached and never logged) and the report per organisation.

import (
	"bytes"
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/volcard/volcard/issuance"
	"github.com/volcard/volcard/issuance/insurance"
)

// EnableInsurance registers the insurance routes, served by ins, and adds
// them to the OpenAPI document. Call it once, before serving.
func (s *Server) EnableInsurance(ins *insurance.Service) error {
	if ins == nil {
		return errors.New("api: nil insurance service")
	}
	auth, idem := s.authenticate(), s.idempotency()
	pa, oa := issuance.RoleProvinceAdmin, issuance.RoleOrgAdmin
	s.e.GET("/v1/admin/insurance/policies", func(c echo.Context) error { return listPolicies(c, ins) }, auth, allow(pa))
	s.e.POST("/v1/admin/insurance/policies", func(c echo.Context) error { return s.setPolicy(c, ins) }, auth, allow(pa), idem)
	s.e.GET("/v1/admin/insurance/files/:date", func(c echo.Context) error { return insuranceFile(c, ins) }, auth, allow(pa))
	s.e.GET("/v1/orgs/:id/insurance", func(c echo.Context) error { return insuranceReport(c, ins) }, auth, allow(pa, oa))
	return s.extendOpenAPI(insuranceOpenAPI)
}

// InsurancePolicy is a group policy.
type InsurancePolicy struct {
	ID            int64     `json:"id"`
	Insurer       string    `json:"insurer"`
	PolicyNumber  string    `json:"policy_number"`
	CoverFen      int64     `json:"cover_fen"`
	EffectiveFrom string    `json:"effective_from"`
	EffectiveTo   string    `json:"effective_to,omitempty"`
	CreatedAt     time.Time `json:"created_at"`
}

// InsurancePolicyList is every policy, oldest first.
type InsurancePolicyList struct {
	Items []InsurancePolicy `json:"items"`
}

// NewInsurancePolicy is the body of POST /v1/admin/insurance/policies.
type NewInsurancePolicy struct {
	Insurer       string `json:"insurer"`
	PolicyNumber  string `json:"policy_number"`
	CoverFen      int64  `json:"cover_fen"`
	EffectiveFrom string `json:"effective_from"`
}

// InsuranceOrgCount is one organisation's line of the insurance report.
type InsuranceOrgCount struct {
	OrgID    int64  `json:"org_id"`
	OrgName  string `json:"org_name"`
	OrgKind  string `json:"org_kind"`
	Insured  int64  `json:"insured"`
	Ended    int64  `json:"ended"`
	CoverFen int64  `json:"cover_fen"`
}

// InsuranceReport is the insurance report of an organisation's subtree.
type InsuranceReport struct {
	OrgID   int64               `json:"org_id"`
	OrgName string              `json:"org_name"`
	Insured int64               `json:"insured"`
	Ended   int64               `json:"ended"`
	Items   []InsuranceOrgCount `json:"items"`
}

func toPolicy(p insurance.Policy) InsurancePolicy {
	return InsurancePolicy{ID: p.ID, Insurer: p.Insurer, PolicyNumber: p.PolicyNumber, CoverFen: p.CoverFen,
		EffectiveFrom: p.EffectiveFrom, EffectiveTo: p.EffectiveTo, CreatedAt: p.CreatedAt}
}

func listPolicies(c echo.Context, ins *insurance.Service) error {
	actor, _ := actorFrom(c)
	ps, err := ins.Policies(c.Request().Context(), actor)
	if err != nil {
		return err
	}
	out := InsurancePolicyList{Items: make([]InsurancePolicy, 0, len(ps))}
	for _, p := range ps {
		out.Items = append(out.Items, toPolicy(p))
	}
	return c.JSON(http.StatusOK, out)
}

func (s *Server) setPolicy(c echo.Context, ins *insurance.Service) error {
	var req NewInsurancePolicy
	if err := s.decodeJSON(c, &req); err != nil {
		return err
	}
	actor, _ := actorFrom(c)
	p, err := ins.SetPolicy(c.Request().Context(), actor, insurance.NewPolicy{Insurer: req.Insurer,
		PolicyNumber: req.PolicyNumber, CoverFen: req.CoverFen, EffectiveFrom: strings.TrimSpace(req.EffectiveFrom)})
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, toPolicy(p))
}

func insuranceFile(c echo.Context, ins *insurance.Service) error {
	day := c.Param("date")
	if _, err := time.Parse(time.DateOnly, day); err != nil {
		return invalidField("date", "must be a date YYYY-MM-DD")
	}
	actor, _ := actorFrom(c)
	var buf bytes.Buffer
	if _, _, err := ins.Download(c.Request().Context(), actor, day, &buf); err != nil { // audited
		return err
	}
	h := c.Response().Header()
	h.Set(echo.HeaderContentDisposition, `attachment; filename="VOLCARD-INS-`+strings.ReplaceAll(day, "-", "")+`.txt"`)
	h.Set("Cache-Control", "no-store")
	return c.Blob(http.StatusOK, "text/plain; charset=utf-8", buf.Bytes())
}

func insuranceReport(c echo.Context, ins *insurance.Service) error {
	id, err := pathID(c)
	if err != nil {
		return err
	}
	actor, _ := actorFrom(c)
	o, rows, err := ins.Report(c.Request().Context(), actor, id)
	if err != nil {
		return err
	}
	out := InsuranceReport{OrgID: o.ID, OrgName: o.Name, Items: make([]InsuranceOrgCount, 0, len(rows))}
	for _, r := range rows {
		out.Insured += r.Insured
		out.Ended += r.Ended
		out.Items = append(out.Items, InsuranceOrgCount{OrgID: r.OrgID, OrgName: r.OrgName, OrgKind: string(r.OrgKind),
			Insured: r.Insured, Ended: r.Ended, CoverFen: r.CoverFen})
	}
	return c.JSON(http.StatusOK, out)
}
