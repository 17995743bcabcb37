package api

import (
	"encoding/json"
	"net/http"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/volcard/volcard/issuance"
)

// Tokens and terminals through the API (issue 19): a terminal is a token of
// role terminal. Province admins only.

type tokenJSON struct {
	ID        int64      `json:"id"`
	Name      string     `json:"name"`
	Role      string     `json:"role"`
	OrgID     int64      `json:"org_id,omitempty"`
	Bank      string     `json:"bank,omitempty"`
	BranchID  int64      `json:"branch_id,omitempty"`
	Hint      string     `json:"hint"`
	CreatedAt time.Time  `json:"created_at"`
	ExpiresAt *time.Time `json:"expires_at,omitempty"`
	RevokedAt *time.Time `json:"revoked_at,omitempty"`
	// State is active, expired or revoked.
	State string `json:"state"`
}

func toToken(t issuance.Token, now time.Time) tokenJSON {
	out := tokenJSON{ID: t.ID, Name: t.Name, Role: string(t.Role), OrgID: t.OrgID, Bank: t.BankCode, BranchID: t.BranchID,
		Hint: t.Hint, CreatedAt: t.CreatedAt, State: "active"}
	if !t.ExpiresAt.IsZero() {
		e := t.ExpiresAt
		out.ExpiresAt = &e
		if !now.Before(e) {
			out.State = "expired"
		}
	}
	if !t.RevokedAt.IsZero() {
		r := t.RevokedAt
		out.RevokedAt, out.State = &r, "revoked"
	}
	return out
}

type newTokenRequest struct {
	Name      string     `json:"name"`
	Role      string     `json:"role"`
	OrgID     int64      `json:"org_id"`
	Bank      string     `json:"bank"`
	BranchID  int64      `json:"branch_id"`
	ExpiresAt *time.Time `json:"expires_at"`
}

// newTokenResponse is the created token with its secret, shown this once.
type newTokenResponse struct {
	Token string `json:"token"`
	tokenJSON
}

type tokenPatchRequest struct {
	Name *string `json:"name"`
	// ExpiresAt is an RFC 3339 time, or null to remove the expiry.
	ExpiresAt json.RawMessage `json:"expires_at"`
}

func (s *Server) tokenRoutes(v1 *echo.Group, auth, idem echo.MiddlewareFunc) {
	pa := issuance.RoleProvinceAdmin
	v1.GET("/admin/tokens", s.listTokens, auth, allow(pa))
	// No Idempotency-Key: a replay would hand the secret out a second time.
	v1.POST("/admin/tokens", s.createToken, auth, allow(pa))
	v1.PATCH("/admin/tokens/:id", s.updateToken, auth, allow(pa), idem)
	v1.POST("/admin/tokens/:id/revoke", s.revokeToken, auth, allow(pa), idem)
}

func (s *Server) listTokens(c echo.Context) error {
	q := issuance.TokenQuery{Role: issuance.Role(c.QueryParam("role"))}
	if err := checkText("role", string(q.Role), 20, false); err != nil {
		return err
	}
	switch c.QueryParam("inactive") {
	case "", "false":
	case "true":
		q.Inactive = true
	default:
		return invalidField("inactive", "must be true or false")
	}
	actor, _ := actorFrom(c)
	ts, err := s.svc.ListTokens(c.Request().Context(), actor, q)
	if err != nil {
		return err
	}
	now := s.opts.Now()
	out := listResponse[tokenJSON]{Items: make([]tokenJSON, 0, len(ts))}
	for _, t := range ts {
		out.Items = append(out.Items, toToken(t, now))
	}
	return c.JSON(http.StatusOK, out)
}

func (s *Server) createToken(c echo.Context) error {
	var req newTokenRequest
	if err := s.decodeJSON(c, &req); err != nil {
		return err
	}
	for _, f := range []struct {
		name, v string
		max     int
		req     bool
	}{{"name", req.Name, 100, false}, {"role", req.Role, 20, true}, {"bank", req.Bank, 16, false}} {
		if err := checkText(f.name, f.v, f.max, f.req); err != nil {
			return err
		}
	}
	in := issuance.NewToken{Name: req.Name, Role: issuance.Role(req.Role), OrgID: req.OrgID, BankCode: req.Bank, BranchID: req.BranchID}
	if req.ExpiresAt != nil {
		in.ExpiresAt = *req.ExpiresAt
	}
	actor, _ := actorFrom(c)
	plain, t, err := s.svc.CreateToken(c.Request().Context(), actor, in)
	if err != nil {
		return err
	}
	c.Response().Header().Set(echo.HeaderCacheControl, "no-store")
	c.Response().Header().Set(echo.HeaderLocation, "/v1/admin/tokens/"+strconv.FormatInt(t.ID, 10))
	return c.JSON(http.StatusCreated, newTokenResponse{Token: plain, tokenJSON: toToken(t, s.opts.Now())})
}

func (s *Server) updateToken(c echo.Context) error {
	id, err := pathID(c)
	if err != nil {
		return err
	}
	var req tokenPatchRequest
	if err := s.decodeJSON(c, &req); err != nil {
		return err
	}
	p := issuance.TokenPatch{Name: req.Name}
	if req.Name != nil {
		if err := checkText("name", *req.Name, 100, false); err != nil {
			return err
		}
	}
	if len(req.ExpiresAt) > 0 {
		var exp time.Time
		if string(req.ExpiresAt) != "null" {
			if err := json.Unmarshal(req.ExpiresAt, &exp); err != nil {
				return invalidField("expires_at", "must be an RFC 3339 time or null")
			}
		}
		p.ExpiresAt = &exp
	}
	actor, _ := actorFrom(c)
	t, err := s.svc.UpdateToken(c.Request().Context(), actor, id, p)
	if err != nil {
		return err
	}
	s.auth.forget(t.ID)
	return c.JSON(http.StatusOK, toToken(t, s.opts.Now()))
}

func (s *Server) revokeToken(c echo.Context) error {
	id, err := pathID(c)
	if err != nil {
		return err
	}
	if _, err := s.decodeReason(c, false); err != nil {
		return err
	}
	actor, _ := actorFrom(c)
	ctx := c.Request().Context()
	if err := s.svc.RevokeToken(ctx, actor, id); err != nil {
		return err
	}
	s.auth.forget(id)
	ts, err := s.svc.ListTokens(ctx, actor, issuance.TokenQuery{Inactive: true})
	if err != nil {
		return err
	}
	for _, t := range ts {
		if t.ID == id {
			return c.JSON(http.StatusOK, toToken(t, s.opts.Now()))
		}
	}
	return newError(KindNotFound, "token %d not found", id)
}
