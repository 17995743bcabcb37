package api

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/volcard/volcard/issuance/roster"
)

// rosterTemplate is the roster template (issue 19): the header row the
// roster parser maps, in Chinese, the optional column marked; no data
// rows, so that an untouched template uploads as an empty roster. The
// columns are documented in docs/staff-api.md.
func rosterTemplate() table {
	cols := make([]string, 0, len(roster.Fields))
	for _, f := range roster.Fields {
		label := f.Chinese()
		if f == roster.FieldEmbossName {
			label += "（选填）"
		}
		cols = append(cols, label)
	}
	return table{Name: "roster", Columns: cols}
}

func (s *Server) rosterTemplateCSV(c echo.Context) error {
	b, err := tableCSV(rosterTemplate())
	if err != nil {
		return err
	}
	c.Response().Header().Set(echo.HeaderContentDisposition, `attachment; filename="roster-template.csv"`)
	return c.Blob(http.StatusOK, MediaCSV+"; charset=utf-8", b)
}

func (s *Server) rosterTemplateXLSX(c echo.Context) error {
	b, err := tableXLSX(rosterTemplate())
	if err != nil {
		return err
	}
	c.Response().Header().Set(echo.HeaderContentDisposition, `attachment; filename="roster-template.xlsx"`)
	return c.Blob(http.StatusOK, MediaXLSX, b)
}
