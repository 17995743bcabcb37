package api

import (
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"

	"github.com/volcard/volcard/issuance"
	"github.com/volcard/volcard/wire"
)

func (s *Server) createApplication(c echo.Context) error {
	var req newApplicationRequest
	if err := s.decodeJSON(c, &req); err != nil {
		return err
	}
	if err := checkText("product", req.Product, 40, true); err != nil {
		return err
	}
	if err := checkText("channel", req.Channel, 20, false); err != nil {
		return err
	}
	if req.VolunteerID <= 0 {
		return invalidField("volunteer_id", "is required and must be a positive integer")
	}
	actor, _ := actorFrom(c)
	// Without a channel the domain takes the caller's (Role.ApplicationChannel).
	app, err := s.svc.Apply(c.Request().Context(), actor, req.VolunteerID, req.Product, issuance.Channel(req.Channel))
	if err != nil {
		return err
	}
	c.Response().Header().Set(echo.HeaderLocation, "/v1/applications/"+strconv.FormatInt(app.ID, 10))
	return c.JSON(http.StatusCreated, toApplication(app))
}

func (s *Server) getApplication(c echo.Context) error {
	id, err := pathID(c)
	if err != nil {
		return err
	}
	actor, _ := actorFrom(c)
	app, err := s.svc.GetApplication(c.Request().Context(), actor, id)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, toApplication(app))
}

func (s *Server) listApplications(c echo.Context) error {
	f := issuance.ApplicationFilter{
		Status:      issuance.Status(c.QueryParam("status")),
		ProductCode: c.QueryParam("product"),
		Channel:     issuance.Channel(c.QueryParam("channel")),
		Cursor:      c.QueryParam("cursor"),
	}
	var err error
	if f.OrgID, err = queryID(c, "org"); err != nil {
		return err
	}
	if v := c.QueryParam("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > issuance.MaxPageSize {
			return invalidField("limit", "must be an integer from 1 to "+strconv.Itoa(issuance.MaxPageSize))
		}
		f.Limit = n
	}
	for _, p := range []struct{ name, v string }{{"status", string(f.Status)}, {"product", f.ProductCode}, {"channel", string(f.Channel)}, {"cursor", f.Cursor}} {
		if err := checkText(p.name, p.v, 64, false); err != nil {
			return err
		}
	}
	actor, _ := actorFrom(c)
	page, err := s.svc.ListApplications(c.Request().Context(), actor, f)
	if err != nil {
		return err
	}
	out := listResponse[applicationResponse]{Items: make([]applicationResponse, 0, len(page.Items)), NextCursor: page.NextCursor}
	for _, a := range page.Items {
		out.Items = append(out.Items, toApplication(a))
	}
	return c.JSON(http.StatusOK, out)
}

// decision reads the optional {"reason": "..."} body of approve, reject and
// cancel; an empty body is allowed.
func (s *Server) decision(c echo.Context) (string, error) {
	b, err := readBody(c, s.opts.BodyLimit)
	if err != nil {
		return "", err
	}
	if len(b) == 0 {
		return "", nil
	}
	var req wire.Decision
	if err := decodeStrict(b, &req); err != nil {
		return "", err
	}
	if err := checkText("reason", req.Reason, 500, false); err != nil {
		return "", err
	}
	return req.Reason, nil
}

func (s *Server) approveApplication(c echo.Context) error {
	return s.transition(c, func(actor issuance.Actor, id int64, reason string) (issuance.Application, error) {
		if reason != "" {
			// The state machine records reasons only for rejections,
			// declines and cancellations.
			return issuance.Application{}, invalidField("reason", "approval takes no reason")
		}
		return s.svc.Approve(c.Request().Context(), actor, id)
	})
}

// approveInstant is the counter's approval of a walk-in (instant
// issuance): bank staff of the branch that made it, where the
// organisation's policy allows (issuance.Service.ApproveInstant).
func (s *Server) approveInstant(c echo.Context) error {
	return s.transition(c, func(actor issuance.Actor, id int64, reason string) (issuance.Application, error) {
		if reason != "" {
			return issuance.Application{}, invalidField("reason", "approval takes no reason")
		}
		return s.svc.ApproveInstant(c.Request().Context(), actor, id)
	})
}

func (s *Server) rejectApplication(c echo.Context) error {
	return s.transition(c, func(actor issuance.Actor, id int64, reason string) (issuance.Application, error) {
		if reason == "" {
			return issuance.Application{}, invalidField("reason", "is required")
		}
		return s.svc.Reject(c.Request().Context(), actor, id, reason)
	})
}

func (s *Server) cancelApplication(c echo.Context) error {
	return s.transition(c, func(actor issuance.Actor, id int64, reason string) (issuance.Application, error) {
		return s.svc.Cancel(c.Request().Context(), actor, id, reason)
	})
}

func (s *Server) transition(c echo.Context, do func(issuance.Actor, int64, string) (issuance.Application, error)) error {
	id, err := pathID(c)
	if err != nil {
		return err
	}
	reason, err := s.decision(c)
	if err != nil {
		return err
	}
	actor, _ := actorFrom(c)
	app, err := do(actor, id, reason)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, toApplication(app))
}

func (s *Server) listEvents(c echo.Context) error {
	id, err := pathID(c)
	if err != nil {
		return err
	}
	actor, _ := actorFrom(c)
	evs, err := s.svc.Events(c.Request().Context(), actor, id)
	if err != nil {
		return err
	}
	out := listResponse[eventResponse]{Items: make([]eventResponse, 0, len(evs))}
	for _, e := range evs {
		out.Items = append(out.Items, toEvent(e))
	}
	return c.JSON(http.StatusOK, out)
}

// getProgress is the public progress lookup. Its query string holds an ID
// number: the access log records only the path.
func (s *Server) getProgress(c echo.Context) error {
	number, idNumber := c.QueryParam("application_number"), c.QueryParam("id_number")
	if number == "" {
		return invalidField("application_number", "is required")
	}
	if idNumber == "" {
		return invalidField("id_number", "is required")
	}
	p, err := s.svc.Progress(c.Request().Context(), number, idNumber)
	if err != nil {
		return err
	}
	c.Response().Header().Set(echo.HeaderCacheControl, "no-store")
	return c.JSON(http.StatusOK, toProgress(p))
}
