package api

import (
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"

	"github.com/volcard/volcard/issuance"
)

func (s *Server) createOrg(c echo.Context) error {
	var req newOrgRequest
	if err := s.decodeJSON(c, &req); err != nil {
		return err
	}
	for _, f := range []struct {
		name, v string
		max     int
	}{
		{"name", req.Name, 100}, {"kind", req.Kind, 20}, {"region_code", req.RegionCode, 6},
	} {
		if err := checkText(f.name, f.v, f.max, false); err != nil {
			return err
		}
	}
	responsible, err := req.Responsible.contact("responsible")
	if err != nil {
		return err
	}
	liaison, err := req.Liaison.contact("liaison")
	if err != nil {
		return err
	}
	actor, _ := actorFrom(c)
	o, err := s.svc.CreateOrg(c.Request().Context(), actor, issuance.NewOrg{
		ParentID: req.ParentID, Kind: issuance.OrgKind(req.Kind), Name: req.Name, RegionCode: req.RegionCode,
		ResidentPopulation: req.ResidentPopulation, PopulationYear: req.PopulationYear, LeagueMembers: req.LeagueMembers,
		Responsible: responsible, Liaison: liaison,
	})
	if err != nil {
		return err
	}
	c.Response().Header().Set(echo.HeaderLocation, "/v1/orgs/"+strconv.FormatInt(o.ID, 10))
	return c.JSON(http.StatusCreated, toOrg(o))
}

func (s *Server) getOrg(c echo.Context) error {
	id, err := pathID(c)
	if err != nil {
		return err
	}
	actor, _ := actorFrom(c)
	o, err := s.svc.GetOrg(c.Request().Context(), actor, id)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, toOrg(o))
}

func (s *Server) listOrgs(c echo.Context) error {
	parent, err := queryID(c, "parent")
	if err != nil {
		return err
	}
	actor, _ := actorFrom(c)
	orgs, err := s.svc.ListOrgs(c.Request().Context(), actor, parent)
	if err != nil {
		return err
	}
	items := make([]orgResponse, len(orgs))
	for i, o := range orgs {
		items[i] = toOrg(o)
	}
	return c.JSON(http.StatusOK, map[string]any{"items": items})
}

func (s *Server) listProducts(c echo.Context) error {
	ps, err := s.svc.ListProducts(c.Request().Context())
	if err != nil {
		return err
	}
	out := listResponse[productResponse]{Items: make([]productResponse, 0, len(ps))}
	for _, p := range ps {
		out.Items = append(out.Items, toProduct(p))
	}
	return c.JSON(http.StatusOK, out)
}
