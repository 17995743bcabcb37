package api

// The event feed and webhook endpoints (issue #17): GET /v1/events, and
// /v1/webhooks for endpoints, their delivery log and redelivery. Scope is
// the token's (feed.Service); terminals have none.

import (
	"errors"
	"net/http"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/volcard/volcard/issuance"
	"github.com/volcard/volcard/issuance/feed"
	"github.com/volcard/volcard/wire"
)

// EnableEvents registers the feed and webhook routes, served by f, and adds
// them to the OpenAPI document. Call it once, before serving.
func (s *Server) EnableEvents(f *feed.Service) error {
	if f == nil {
		return errors.New("api: nil feed service")
	}
	auth, idem := s.authenticate(), s.idempotency()
	v1 := s.e.Group("/v1")
	roles := allow(issuance.RoleProvinceAdmin, issuance.RoleOrgAdmin, issuance.RoleBankStaff, issuance.RolePlatform)
	h := eventHandlers{f: f, s: s}
	v1.GET("/events", h.list, auth, roles)
	// No Idempotency-Key: a replay would hand the secret out a second time.
	v1.POST("/webhooks", h.create, auth, roles)
	v1.GET("/webhooks", h.endpoints, auth, roles)
	v1.GET("/webhooks/:id", h.endpoint, auth, roles)
	v1.PATCH("/webhooks/:id", h.update, auth, roles, idem)
	v1.DELETE("/webhooks/:id", h.delete, auth, roles)
	v1.POST("/webhooks/:id/enable", h.enable, auth, roles, idem)
	v1.GET("/webhooks/:id/deliveries", h.deliveries, auth, roles)
	v1.POST("/webhook-deliveries/:id/redeliver", h.redeliver, auth, roles, idem)
	return s.extendOpenAPI(eventsOpenAPI)
}

type eventHandlers struct {
	f *feed.Service
	s *Server
}

func toWireEvent(e feed.Event) wire.Event {
	return wire.Event{ID: e.ID, Type: e.Type, Subject: wire.EventSubject{Type: e.Subject.Type, ID: e.Subject.ID},
		CreatedAt: e.At, Data: e.Data}
}

func (h eventHandlers) list(c echo.Context) error {
	actor, _ := actorFrom(c)
	var types []string
	if t := c.QueryParam("types"); t != "" {
		types = strings.Split(t, ",")
	}
	limit := 0
	if l := c.QueryParam("limit"); l != "" {
		n, err := strconv.Atoi(l)
		if err != nil || n <= 0 {
			return invalidField("limit", "must be a positive integer")
		}
		limit = n
	}
	p, err := h.f.List(c.Request().Context(), actor, c.QueryParam("after"), types, limit)
	if err != nil {
		return err
	}
	out := wire.EventPage{Items: make([]wire.Event, len(p.Events)), Next: p.Next.String()}
	for i, e := range p.Events {
		out.Items[i] = toWireEvent(e)
	}
	return c.JSON(http.StatusOK, out)
}

func toWireEndpoint(e feed.Endpoint) wire.WebhookEndpoint {
	out := wire.WebhookEndpoint{ID: e.ID, URL: e.URL, Description: e.Description, Types: e.Types, ScopePath: e.ScopePath,
		Bank: e.BankCode, Enabled: e.Enabled, DisabledReason: e.DisabledReason, Failures: e.Failures,
		FailingSince: optTime(e.FailingSince), CreatedAt: e.CreatedAt, UpdatedAt: e.UpdatedAt}
	if out.Types == nil {
		out.Types = []string{}
	}
	return out
}

func (h eventHandlers) create(c echo.Context) error {
	var req wire.NewWebhookEndpoint
	if err := h.s.decodeJSON(c, &req); err != nil {
		return err
	}
	actor, _ := actorFrom(c)
	e, secret, err := h.f.CreateEndpoint(c.Request().Context(), actor, feed.NewEndpoint{URL: req.URL,
		Description: req.Description, Types: req.Types})
	if err != nil {
		return err
	}
	out := toWireEndpoint(e)
	out.Secret = secret
	return c.JSON(http.StatusCreated, out)
}

func (h eventHandlers) endpoints(c echo.Context) error {
	actor, _ := actorFrom(c)
	es, err := h.f.Endpoints(c.Request().Context(), actor)
	if err != nil {
		return err
	}
	out := wire.WebhookEndpointList{Items: make([]wire.WebhookEndpoint, len(es))}
	for i, e := range es {
		out.Items[i] = toWireEndpoint(e)
	}
	return c.JSON(http.StatusOK, out)
}

func (h eventHandlers) endpoint(c echo.Context) error {
	id, err := pathID(c)
	if err != nil {
		return err
	}
	actor, _ := actorFrom(c)
	e, err := h.f.Endpoint(c.Request().Context(), actor, id)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, toWireEndpoint(e))
}

func (h eventHandlers) update(c echo.Context) error {
	id, err := pathID(c)
	if err != nil {
		return err
	}
	var req wire.WebhookEndpointChange
	if err := h.s.decodeJSON(c, &req); err != nil {
		return err
	}
	actor, _ := actorFrom(c)
	e, err := h.f.UpdateEndpoint(c.Request().Context(), actor, id, feed.EndpointChange{URL: req.URL,
		Description: req.Description, Types: req.Types})
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, toWireEndpoint(e))
}

func (h eventHandlers) delete(c echo.Context) error {
	id, err := pathID(c)
	if err != nil {
		return err
	}
	actor, _ := actorFrom(c)
	if err := h.f.DeleteEndpoint(c.Request().Context(), actor, id); err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}

func (h eventHandlers) enable(c echo.Context) error {
	id, err := pathID(c)
	if err != nil {
		return err
	}
	actor, _ := actorFrom(c)
	e, err := h.f.Enable(c.Request().Context(), actor, id)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, toWireEndpoint(e))
}

func toWireDelivery(d feed.Delivery) wire.WebhookDelivery {
	return wire.WebhookDelivery{ID: d.ID, EndpointID: d.EndpointID, EventID: d.EventID, EventType: d.EventType,
		State: d.State, Attempts: d.Attempts, NextAt: optTime(d.NextAt), LastStatus: d.LastStatus, LastError: d.LastError,
		CreatedAt: d.CreatedAt, DeliveredAt: optTime(d.DeliveredAt), RedeliveryOf: d.RedeliveryOf}
}

func (h eventHandlers) deliveries(c echo.Context) error {
	id, err := pathID(c)
	if err != nil {
		return err
	}
	before, err := queryID(c, "before")
	if err != nil {
		return err
	}
	limit := 0
	if l := c.QueryParam("limit"); l != "" {
		n, err := strconv.Atoi(l)
		if err != nil || n <= 0 {
			return invalidField("limit", "must be a positive integer")
		}
		limit = n
	}
	actor, _ := actorFrom(c)
	ds, err := h.f.Deliveries(c.Request().Context(), actor, feed.DeliveryQuery{EndpointID: id,
		State: c.QueryParam("state"), BeforeID: before, Limit: limit})
	if err != nil {
		return err
	}
	out := wire.WebhookDeliveryPage{Items: make([]wire.WebhookDelivery, len(ds))}
	for i, d := range ds {
		out.Items[i] = toWireDelivery(d)
	}
	if n := len(ds); n > 0 && (limit == 0 && n == issuance.DefaultPageSize || n == limit) {
		out.NextBefore = ds[n-1].ID
	}
	return c.JSON(http.StatusOK, out)
}

func (h eventHandlers) redeliver(c echo.Context) error {
	id, err := pathID(c)
	if err != nil {
		return err
	}
	actor, _ := actorFrom(c)
	d, err := h.f.Redeliver(c.Request().Context(), actor, id)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusAccepted, toWireDelivery(d))
}
