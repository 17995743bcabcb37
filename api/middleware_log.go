package api

import (
	"log/slog"
	"time"

	"github.com/labstack/echo/v4"
)

// accessLog logs one line per request at info level (5xx at error): method,
// route pattern, path without the query string, status, size, duration,
// request id, client IP and the actor's role and token id. It never logs
// query strings (the progress lookup carries an ID number there), bodies or
// headers such as Authorization.
func (s *Server) accessLog() echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			start := time.Now()
			err := next(c)
			if err != nil {
				c.Error(err) // render now so the status is known
			}
			res := c.Response()
			level := slog.LevelInfo
			if res.Status >= 500 {
				level = slog.LevelError
			}
			ctx := c.Request().Context()
			if !s.log.Enabled(ctx, level) {
				return nil
			}
			attrs := make([]slog.Attr, 0, 11)
			attrs = append(attrs,
				slog.String("method", c.Request().Method),
				slog.String("route", c.Path()),
				slog.String("path", c.Request().URL.Path),
				slog.Int("status", res.Status),
				slog.Int64("bytes", res.Size),
				slog.Duration("duration", time.Since(start)),
				slog.String("request_id", res.Header().Get(echo.HeaderXRequestID)),
				slog.String("ip", c.RealIP()),
			)
			if a, ok := actorFrom(c); ok {
				attrs = append(attrs, slog.String("role", string(a.Role)), slog.Int64("token_id", a.TokenID))
			}
			if res.Header().Get(headerReplayed) != "" {
				attrs = append(attrs, slog.Bool("idempotent_replay", true))
			}
			s.log.LogAttrs(ctx, level, "http request", attrs...)
			return nil
		}
	}
}
