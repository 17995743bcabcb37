package api

import (
	"io/fs"
	"mime"
	"net/http"
	"path"

	"github.com/labstack/echo/v4"

	"github.com/volcard/volcard/api/console"
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
}
