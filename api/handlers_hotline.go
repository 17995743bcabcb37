package api

import (
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"
	"golang.org/x/time/rate"

	"github.com/volcard/volcard/issuance"
)

// The hotline's look-up (issue 19): the 12355 youth line and the card's
// service line forward callers; an agent with a hotline token looks up the
// caller's application and card by application number and ID number.

// Default limits of the hotline's look-ups, per token.
const (
	DefaultHotlineRate  = rate.Limit(60.0 / 60) // one a second on average
	DefaultHotlineBurst = 20
)

type hotlineCardJSON struct {
	LastFour      string `json:"last_four"`
	Expiry        string `json:"expiry"`
	State         string `json:"state"`
	PendingChange string `json:"pending_change,omitempty"`
	ReplaceSeq    int    `json:"replace_seq,omitempty"`
}

type hotlineResponse struct {
	progressResponse
	Bank    string            `json:"bank"`
	Channel string            `json:"channel"`
	Cards   []hotlineCardJSON `json:"cards"`
}

func (s *Server) hotlineRoutes(v1 *echo.Group, auth echo.MiddlewareFunc) {
	l := s.opts.HotlineLimiter
	if l == nil {
		l = newIPLimiter(s.opts.HotlineRate, s.opts.HotlineBurst, s.opts.Now)
	}
	v1.GET("/hotline/lookup", s.hotlineLookup, auth, allow(issuance.RoleHotline), rateLimitToken(l, "hotline", s.log))
}

// hotlineLookup answers the look-up. The ID number travels in the query
// string, which the access log never records, as for /v1/progress.
func (s *Server) hotlineLookup(c echo.Context) error {
	number, idNumber := c.QueryParam("application_number"), c.QueryParam("id_number")
	if err := checkText("application_number", number, 40, true); err != nil {
		return err
	}
	if err := checkText("id_number", idNumber, 32, true); err != nil {
		return err
	}
	actor, _ := actorFrom(c)
	ans, err := s.svc.HotlineLookup(c.Request().Context(), actor, number, idNumber)
	if err != nil {
		return err
	}
	out := hotlineResponse{progressResponse: toProgress(ans.Progress), Bank: ans.BankCode, Channel: string(ans.Channel),
		Cards: make([]hotlineCardJSON, 0, len(ans.Cards))}
	for _, cd := range ans.Cards {
		out.Cards = append(out.Cards, hotlineCardJSON{LastFour: cd.LastFour, Expiry: cd.Expiry, State: string(cd.State),
			PendingChange: string(cd.PendingChange), ReplaceSeq: cd.ReplaceSeq})
	}
	c.Response().Header().Set(echo.HeaderCacheControl, "no-store")
	return c.JSON(http.StatusOK, out)
}

// rateLimitToken is rateLimit keyed by the caller's token rather than its
// address; it runs after authentication.
func rateLimitToken(l RateLimiter, route string, log *slog.Logger) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			a, _ := actorFrom(c)
			ok, wait, err := l.Allow(c.Request().Context(), route+":token:"+strconv.FormatInt(a.TokenID, 10))
			if err != nil {
				log.Warn("rate limit unavailable", slog.String("route", route), slog.String("error", err.Error()))
				return &Error{Kind: KindUnavailable, Detail: "the lookup limit cannot be checked right now; retry in a minute", RetryAfter: time.Minute}
			}
			if !ok {
				return &Error{Kind: KindRateLimited, Detail: "too many look-ups with this token; retry after the time in Retry-After", RetryAfter: wait}
			}
			return next(c)
		}
	}
}
