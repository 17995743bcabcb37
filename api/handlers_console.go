package api

import (
	"io/fs"
	"mime"
	"net/http"
	"path"

	"github.com/labstack/echo/v4"

	"github.com/volcard/volcard/api/console"
	"github.com/volcard/volcard/issuance"
)

// consoleRoutes serves the staff web console: the page at "/" and its
// assets at /console/{file}, from files embedded in the binary. The page
// itself holds no data; it calls the JSON API with the user's token.
func (s *Server) consoleRoutes() {
	files := console.Assets()
	serve := func(c echo.Context, name string) error {
		b, err := fs.ReadFile(files, name)
		if err != nil {
			return newError(KindNotFound, "no such console file")
		}
		ct := mime.TypeByExtension(path.Ext(name))
		if ct == "" {
			ct = "application/octet-stream"
		}
		h := c.Response().Header()
		h.Set("Cache-Control", "no-cache")
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Content-Security-Policy", "default-src 'self'; img-src 'self' data: blob:; style-src 'self'; "+
			"script-src 'self'; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'")
		h.Set("Referrer-Policy", "no-referrer")
		return c.Blob(http.StatusOK, ct, b)
	}
	s.e.GET("/", func(c echo.Context) error { return serve(c, "index.html") })
	s.e.GET("/console/:file", func(c echo.Context) error {
		name := c.Param("file")
		if name == "" || name != path.Base(name) || name == "index.html" {
			return newError(KindNotFound, "no such console file")
		}
		return serve(c, name)
	})
	// The hotline signs in to the console too (its one page, the look-up).
	all := []issuance.Role{issuance.RoleProvinceAdmin, issuance.RoleOrgAdmin, issuance.RoleBankStaff,
		issuance.RoleTerminal, issuance.RolePlatform, issuance.RoleHotline}
	s.e.GET("/v1/me", s.getMe, s.authenticate(), allow(all...))
}

// Me is the caller as its token says: its role and what bounds it (an
// organisation, a bank and branch). The console picks the pages to show
// from it; nothing in it is secret to its holder.
type Me struct {
	TokenID  int64  `json:"token_id"`
	Role     string `json:"role"`
	OrgID    int64  `json:"org_id,omitempty"`
	OrgName  string `json:"org_name,omitempty"`
	Bank     string `json:"bank,omitempty"`
	BranchID int64  `json:"branch_id,omitempty"`
}

// getMe answers GET /v1/me.
func (s *Server) getMe(c echo.Context) error {
	actor, _ := actorFrom(c)
	me := Me{TokenID: actor.TokenID, Role: string(actor.Role), OrgID: actor.OrgID, Bank: actor.BankCode, BranchID: actor.BranchID}
	if actor.OrgID > 0 {
		o, err := s.svc.GetOrg(c.Request().Context(), actor, actor.OrgID)
		if err != nil {
			return err
		}
		me.OrgName = o.Name
	}
	return c.JSON(http.StatusOK, me)
}
