package api

import (
	"context"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"
)

// The server's own routes: liveness (/healthz), readiness (/readyz) and
// this API's OpenAPI document (/v1/openapi.json). /metrics is promhttp's
// handler, registered in routes().

func (s *Server) healthz(c echo.Context) error {
	return c.JSON(http.StatusOK, map[string]string{"status": "ok"})
}

func (s *Server) readyz(c echo.Context) error {
	if s.opts.Ready != nil {
		ctx, cancel := context.WithTimeout(c.Request().Context(), 2*time.Second)
		defer cancel()
		if err := s.opts.Ready(ctx); err != nil {
			return &Error{Kind: KindUnavailable, Detail: "the database is not reachable", Internal: err}
		}
	}
	return c.JSON(http.StatusOK, map[string]string{"status": "ready"})
}

func (s *Server) getOpenAPI(c echo.Context) error {
	return c.Blob(http.StatusOK, "application/json", s.openapi)
}
