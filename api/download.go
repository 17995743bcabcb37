package api

import (
	"bytes"
	"io"
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"
)

// fileFormat reads ?format= of a file download: csv (the default) or xlsx.
func fileFormat(c echo.Context) (string, error) {
	switch f := strings.ToLower(c.QueryParam("format")); f {
	case "":
		return "csv", nil
	case "csv", "xlsx":
		return f, nil
	default:
		return "", invalidField("format", "must be csv or xlsx")
	}
}

// sendFile answers with the file that writeCSV or writeXLSX (by format)
// writes, as an attachment named base.format (base is ASCII).
func sendFile(c echo.Context, format, base string, writeCSV, writeXLSX func(io.Writer) error) error {
	var buf bytes.Buffer
	media, write := MediaCSV+"; charset=utf-8", writeCSV
	if format == "xlsx" {
		media, write = MediaXLSX, writeXLSX
	}
	if err := write(&buf); err != nil {
		return err
	}
	c.Response().Header().Set(echo.HeaderContentDisposition, `attachment; filename="`+base+`.`+format+`"`)
	return c.Blob(http.StatusOK, media, buf.Bytes())
}
