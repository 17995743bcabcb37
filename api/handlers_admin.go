package api

import (
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/volcard/volcard/issuance"
	"github.com/volcard/volcard/issuance/reports"
)

// The staff console's edits (issue 19): an organisation's contacts and
// figures, targets, branches and their contacts, products, and the audit
// log every edit writes to. Routes are registered by adminRoutes (New) and
// targetRoutes (EnableReports).

// orgPatchRequest is the body of PATCH /v1/orgs/{id}: absent fields are left
// as they are.
type orgPatchRequest struct {
	Responsible        *contactJSON `json:"responsible"`
	Liaison            *contactJSON `json:"liaison"`
	ResidentPopulation *int64       `json:"resident_population"`
	PopulationYear     *int         `json:"population_year"`
	LeagueMembers      *int64       `json:"league_members"`
	InstantIssuance    *bool        `json:"instant_issuance"`
}

type branchRequest struct {
	Bank    string      `json:"bank"`
	OrgID   int64       `json:"org_id"`
	Name    string      `json:"name"`
	Contact contactJSON `json:"contact"`
}

type branchPatchRequest struct {
	Contact contactJSON `json:"contact"`
}

type branchResponse struct {
	ID      int64       `json:"id"`
	Bank    string      `json:"bank"`
	OrgID   int64       `json:"org_id"`
	Name    string      `json:"name"`
	Contact contactJSON `json:"contact"`
}

func toBranch(b issuance.Branch) branchResponse {
	return branchResponse{ID: b.ID, Bank: b.BankCode, OrgID: b.OrgID, Name: b.Name, Contact: toContact(b.Contact)}
}

type productRequest struct {
	Name  string `json:"name"`
	Bank  string `json:"bank"`
	BIN   string `json:"bin"`
	AID   string `json:"aid"`
	Kind  string `json:"kind"`
	OrgID int64  `json:"org_id"`
}

type targetJSON struct {
	ID         int64  `json:"id,omitempty"`
	Year       int    `json:"year"`
	ScopeOrgID int64  `json:"scope_org_id"`
	OrgKind    string `json:"org_kind,omitempty"`
	Indicator  string `json:"indicator"`
	TargetBP   int64  `json:"target_bp"`
	Note       string `json:"note,omitempty"`
}

func toTarget(t reports.Target) targetJSON {
	return targetJSON{ID: t.ID, Year: t.Year, ScopeOrgID: t.ScopeOrgID, OrgKind: string(t.OrgKind),
		Indicator: string(t.Indicator), TargetBP: t.BasisPoints, Note: t.Note}
}

type auditJSON struct {
	ID           int64     `json:"id"`
	Kind         string    `json:"kind"`
	Subject      string    `json:"subject"`
	SubjectID    string    `json:"subject_id"`
	ActorTokenID int64     `json:"actor_token_id"`
	ActorRole    string    `json:"actor_role"`
	Detail       string    `json:"detail"`
	At           time.Time `json:"at"`
}

// auditCursorPrefix marks the audit list's cursors.
const auditCursorPrefix = "au"

func (s *Server) adminRoutes(v1 *echo.Group, auth, idem echo.MiddlewareFunc) {
	const (
		pa = issuance.RoleProvinceAdmin
		oa = issuance.RoleOrgAdmin
		bs = issuance.RoleBankStaff
	)
	v1.PATCH("/orgs/:id", s.updateOrg, auth, allow(pa, oa), idem)
	v1.GET("/branches", s.listBranches, auth, allow(pa, bs))
	v1.POST("/branches", s.createBranch, auth, allow(pa), idem)
	v1.PATCH("/branches/:id", s.updateBranch, auth, allow(pa), idem)
	v1.PUT("/products/:code", s.putProduct, auth, allow(pa), idem)
	v1.GET("/admin/audit", s.listAudit, auth, allow(pa))
}

func (s *Server) updateOrg(c echo.Context) error {
	id, err := pathID(c)
	if err != nil {
		return err
	}
	var req orgPatchRequest
	if err := s.decodeJSON(c, &req); err != nil {
		return err
	}
	p := issuance.OrgPatch{ResidentPopulation: req.ResidentPopulation, PopulationYear: req.PopulationYear,
		LeagueMembers: req.LeagueMembers, InstantIssuance: req.InstantIssuance}
	if req.Responsible != nil {
		ct, err := req.Responsible.contact("responsible")
		if err != nil {
			return err
		}
		p.Responsible = &ct
	}
	if req.Liaison != nil {
		ct, err := req.Liaison.contact("liaison")
		if err != nil {
			return err
		}
		p.Liaison = &ct
	}
	actor, _ := actorFrom(c)
	o, err := s.svc.UpdateOrg(c.Request().Context(), actor, id, p)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, toOrg(o))
}

func (s *Server) listBranches(c echo.Context) error {
	org, err := queryID(c, "org")
	if err != nil {
		return err
	}
	bank := c.QueryParam("bank")
	if err := checkText("bank", bank, 16, false); err != nil {
		return err
	}
	actor, _ := actorFrom(c)
	if actor.Role == issuance.RoleBankStaff {
		if bank != "" && bank != actor.BankCode {
			return c.JSON(http.StatusOK, listResponse[branchResponse]{Items: []branchResponse{}})
		}
		bank = actor.BankCode
	}
	bs, err := s.svc.ListBranches(c.Request().Context(), bank, org)
	if err != nil {
		return err
	}
	out := listResponse[branchResponse]{Items: make([]branchResponse, 0, len(bs))}
	for _, b := range bs {
		out.Items = append(out.Items, toBranch(b))
	}
	return c.JSON(http.StatusOK, out)
}

func (s *Server) createBranch(c echo.Context) error {
	var req branchRequest
	if err := s.decodeJSON(c, &req); err != nil {
		return err
	}
	if err := checkText("bank", req.Bank, 16, true); err != nil {
		return err
	}
	if err := checkText("name", req.Name, 100, true); err != nil {
		return err
	}
	ct, err := req.Contact.contact("contact")
	if err != nil {
		return err
	}
	if req.OrgID <= 0 {
		return invalidField("org_id", "must be a positive integer")
	}
	ctx := c.Request().Context()
	if _, err := s.svc.GetOrg(ctx, issuance.SystemActor(), req.OrgID); err != nil {
		return invalidField("org_id", "no such organisation")
	}
	existing, err := s.svc.ListBranches(ctx, req.Bank, req.OrgID)
	if err != nil {
		return err
	}
	for _, b := range existing {
		if b.Name == strings.TrimSpace(req.Name) {
			return newError(KindConflict, "this bank already has a branch of that name in the organisation (branch %d): PATCH /v1/branches/%d to change its contact", b.ID, b.ID)
		}
	}
	actor, _ := actorFrom(c)
	br := issuance.Branch{BankCode: req.Bank, OrgID: req.OrgID, Name: strings.TrimSpace(req.Name), Contact: ct}
	if err := s.svc.PutBranch(ctx, actor, &br); err != nil {
		return err
	}
	out, err := s.svc.Branch(ctx, br.ID)
	if err != nil {
		return err
	}
	c.Response().Header().Set(echo.HeaderLocation, "/v1/branches/"+strconv.FormatInt(br.ID, 10))
	return c.JSON(http.StatusCreated, toBranch(out))
}

func (s *Server) updateBranch(c echo.Context) error {
	id, err := pathID(c)
	if err != nil {
		return err
	}
	var req branchPatchRequest
	if err := s.decodeJSON(c, &req); err != nil {
		return err
	}
	ct, err := req.Contact.contact("contact")
	if err != nil {
		return err
	}
	actor, _ := actorFrom(c)
	br, err := s.svc.UpdateBranchContact(c.Request().Context(), actor, id, ct)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, toBranch(br))
}

func (s *Server) putProduct(c echo.Context) error {
	code := c.Param("code")
	if err := checkText("code", code, 32, true); err != nil {
		return err
	}
	var req productRequest
	if err := s.decodeJSON(c, &req); err != nil {
		return err
	}
	for _, f := range []struct {
		name, v string
		max     int
	}{{"name", req.Name, 100}, {"bank", req.Bank, 16}, {"bin", req.BIN, 8}, {"aid", req.AID, 32}, {"kind", req.Kind, 10}} {
		if err := checkText(f.name, f.v, f.max, true); err != nil {
			return err
		}
	}
	for _, r := range req.BIN {
		if r < '0' || r > '9' {
			return invalidField("bin", "digits only")
		}
	}
	ctx := c.Request().Context()
	if _, err := s.svc.GetOrg(ctx, issuance.SystemActor(), req.OrgID); err != nil {
		return invalidField("org_id", "no such organisation")
	}
	actor, _ := actorFrom(c)
	p := issuance.Product{Code: code, Name: req.Name, BankCode: req.Bank, BIN: req.BIN, AID: req.AID,
		Kind: issuance.CardKind(req.Kind), OrgID: req.OrgID}
	if err := s.svc.PutProduct(ctx, actor, p); err != nil {
		if errors.Is(err, issuance.ErrNotFound) {
			return invalidField("bank", "no such bank")
		}
		return err
	}
	got, err := s.svc.GetProduct(ctx, code)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, toProduct(got))
}

func (s *Server) listAudit(c echo.Context) error {
	q := issuance.AuditQuery{Subject: c.QueryParam("subject"), SubjectID: c.QueryParam("subject_id"),
		Kind: issuance.AuditKind(c.QueryParam("kind"))}
	for _, f := range []struct{ name, v string }{{"subject", q.Subject}, {"subject_id", q.SubjectID}, {"kind", string(q.Kind)}} {
		if err := checkText(f.name, f.v, 40, false); err != nil {
			return err
		}
	}
	if v := c.QueryParam("cursor"); v != "" {
		id, err := issuance.DecodeIDCursor(auditCursorPrefix, v)
		if err != nil {
			return err
		}
		q.BeforeID = id
	}
	q.Limit = issuance.DefaultPageSize
	actor, _ := actorFrom(c)
	evs, err := s.svc.ListAudit(c.Request().Context(), actor, q)
	if err != nil {
		return err
	}
	out := listResponse[auditJSON]{Items: make([]auditJSON, 0, len(evs))}
	for _, e := range evs {
		out.Items = append(out.Items, auditJSON{ID: e.ID, Kind: string(e.Kind), Subject: e.Subject, SubjectID: e.SubjectID,
			ActorTokenID: e.ActorTokenID, ActorRole: string(e.ActorRole), Detail: e.Detail, At: e.At})
	}
	if len(evs) == q.Limit {
		out.NextCursor = issuance.EncodeIDCursor(auditCursorPrefix, evs[len(evs)-1].ID)
	}
	return c.JSON(http.StatusOK, out)
}

// targetRoutes registers the target routes; EnableReports calls it.
func (s *Server) targetRoutes(v1 *echo.Group, auth, idem echo.MiddlewareFunc) {
	v1.GET("/targets", s.listTargets, auth, allow(issuance.RoleProvinceAdmin, issuance.RoleOrgAdmin))
	v1.PUT("/targets", s.putTarget, auth, allow(issuance.RoleProvinceAdmin), idem)
}

func (s *Server) listTargets(c echo.Context) error {
	year := 0
	if v := c.QueryParam("year"); v != "" {
		y, err := strconv.Atoi(v)
		if err != nil || y < issuance.MinYear || y > issuance.MaxYear {
			return invalidField("year", "must be a year 1949–2200")
		}
		year = y
	}
	actor, _ := actorFrom(c)
	ts, err := s.reports.Targets(c.Request().Context(), actor, year)
	if err != nil {
		return err
	}
	out := listResponse[targetJSON]{Items: make([]targetJSON, 0, len(ts))}
	for _, t := range ts {
		out.Items = append(out.Items, toTarget(t))
	}
	return c.JSON(http.StatusOK, out)
}

func (s *Server) putTarget(c echo.Context) error {
	var req targetJSON
	if err := s.decodeJSON(c, &req); err != nil {
		return err
	}
	if req.ID != 0 {
		return invalidField("id", "is set by the server")
	}
	if err := checkText("note", req.Note, 200, false); err != nil {
		return err
	}
	for _, f := range []struct{ name, v string }{{"indicator", req.Indicator}, {"org_kind", req.OrgKind}} {
		if err := checkText(f.name, f.v, 40, false); err != nil {
			return err
		}
	}
	actor, _ := actorFrom(c)
	t, err := s.reports.PutTarget(c.Request().Context(), actor, reports.Target{Year: req.Year, ScopeOrgID: req.ScopeOrgID,
		OrgKind: issuance.OrgKind(req.OrgKind), Indicator: reports.Indicator(req.Indicator), BasisPoints: req.TargetBP, Note: req.Note})
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, toTarget(t))
}
