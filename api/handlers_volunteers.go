package api

import (
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"

	"github.com/volcard/volcard/issuance"
)

func (s *Server) createVolunteer(c echo.Context) error {
	var req newVolunteerRequest
	if err := s.decodeJSON(c, &req); err != nil {
		return err
	}
	for _, f := range []struct {
		name, v string
		max     int
	}{
		{"name", req.Name, 50}, {"id_type", req.IDType, 20}, {"id_number", req.IDNumber, 32}, {"birth_date", req.BirthDate, 10},
		{"phone", req.Phone, 20}, {"clothing_size", req.ClothingSize, 8}, {"emboss_name", req.EmbossName, 26},
		{"source", req.Source, 20}, {"volunteer_number", req.VolunteerNumber, 40},
	} {
		if err := checkText(f.name, f.v, f.max, false); err != nil {
			return err
		}
	}
	actor, _ := actorFrom(c)
	source := issuance.Channel(req.Source)
	v, err := s.svc.RegisterVolunteer(c.Request().Context(), actor, issuance.NewVolunteer{
		OrgID: req.OrgID, Name: req.Name, EmbossName: req.EmbossName, IDType: issuance.IDType(req.IDType),
		IDNumber: req.IDNumber, BirthDate: req.BirthDate, Phone: req.Phone, LeagueMember: req.LeagueMember, PartyMember: req.PartyMember,
		ClothingSize: issuance.ClothingSize(req.ClothingSize), Source: source, VolunteerNumber: req.VolunteerNumber,
	})
	if err != nil {
		return err
	}
	c.Response().Header().Set(echo.HeaderLocation, "/v1/volunteers/"+strconv.FormatInt(v.ID, 10))
	return s.volunteerJSON(c, http.StatusCreated, actor, v)
}

func (s *Server) getVolunteer(c echo.Context) error {
	id, err := pathID(c)
	if err != nil {
		return err
	}
	actor, _ := actorFrom(c)
	v, err := s.svc.GetVolunteer(c.Request().Context(), actor, id)
	if err != nil {
		return err
	}
	return s.volunteerJSON(c, http.StatusOK, actor, v)
}

// findVolunteer looks a volunteer up by ID number. The number travels in the
// query string, which the access log never records.
func (s *Server) findVolunteer(c echo.Context) error {
	num := c.QueryParam("id_number")
	if num == "" {
		return invalidField("id_number", "is required")
	}
	if err := checkText("id_number", num, 32, true); err != nil {
		return err
	}
	actor, _ := actorFrom(c)
	v, err := s.svc.FindVolunteerByIDNumber(c.Request().Context(), actor, num)
	if err != nil {
		return err
	}
	return s.volunteerJSON(c, http.StatusOK, actor, v)
}

// volunteerJSON answers with v as actor may see it (issuance.Rules).
func (s *Server) volunteerJSON(c echo.Context, status int, actor issuance.Actor, v issuance.Volunteer) error {
	reveal, err := s.svc.RevealsPII(c.Request().Context(), actor, v)
	if err != nil {
		return err
	}
	return c.JSON(status, toVolunteer(v, reveal))
}

// volunteerPatchRequest is the body of PATCH /v1/volunteers/{id}: absent
// fields are kept.
type volunteerPatchRequest struct {
	Phone      *string `json:"phone"`
	OrgID      *int64  `json:"org_id"`
	Name       *string `json:"name"`
	NameReason string  `json:"name_reason"`
	EmbossName *string `json:"emboss_name"`
}

// updateVolunteer edits a volunteer (issue 19): phone, organisation, a name
// correction with its reason; the bank holding a card gets the change.
func (s *Server) updateVolunteer(c echo.Context) error {
	id, err := pathID(c)
	if err != nil {
		return err
	}
	var req volunteerPatchRequest
	if err := s.decodeJSON(c, &req); err != nil {
		return err
	}
	for _, f := range []struct {
		name string
		v    *string
		max  int
	}{{"phone", req.Phone, 20}, {"name", req.Name, 50}, {"name_reason", &req.NameReason, 200}, {"emboss_name", req.EmbossName, 26}} {
		if f.v != nil {
			if err := checkText(f.name, *f.v, f.max, false); err != nil {
				return err
			}
		}
	}
	actor, _ := actorFrom(c)
	v, err := s.svc.UpdateVolunteer(c.Request().Context(), actor, id, issuance.VolunteerPatch{
		Phone: req.Phone, OrgID: req.OrgID, Name: req.Name, NameReason: req.NameReason, EmbossName: req.EmbossName})
	if err != nil {
		return err
	}
	return s.volunteerJSON(c, http.StatusOK, actor, v)
}
