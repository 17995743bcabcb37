package reconcile

import (
	"encoding/csv"
	"fmt"
	"io"
	"strconv"
	"time"

	"github.com/xuri/excelize/v2"

	"github.com/volcard/volcard/issuance/roster"
)

// Columns are the columns of a report's differences in CSV and XLSX.
var Columns = []string{"kind", "application_number", "replace_seq", "last_four", "volcard_state", "bank_state",
	"application_status", "bank_activated", "bank_line", "detail"}

// Cells returns d as the row under Columns.
func (d Difference) Cells() []string {
	act := ""
	if !d.BankActivated.IsZero() {
		act = d.BankActivated.Format(time.DateOnly)
	}
	line := ""
	if d.Line > 0 {
		line = strconv.Itoa(d.Line)
	}
	return []string{string(d.Kind), d.ApplicationNumber, strconv.Itoa(d.ReplaceSeq), d.LastFour, string(d.OurState),
		string(d.BankState), string(d.ApplicationStatus), act, line, d.Detail}
}

// WriteCSV writes the differences as CSV (UTF-8 with a BOM, for Excel),
// the header row first; cells that a spreadsheet would read as a formula
// are quoted (roster.SafeCell).
func WriteCSV(w io.Writer, diffs []Difference) error {
	if _, err := io.WriteString(w, "\uFEFF"); err != nil {
		return err
	}
	cw := csv.NewWriter(w)
	if err := cw.Write(Columns); err != nil {
		return err
	}
	for _, d := range diffs {
		cells := d.Cells()
		for i := range cells {
			cells[i] = roster.SafeCell(cells[i])
		}
		if err := cw.Write(cells); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

// WriteXLSX writes the differences as a one-sheet workbook named
// "differences", with a second sheet "summary" of the report.
func WriteXLSX(w io.Writer, r Report, diffs []Difference) error {
	f := excelize.NewFile()
	defer f.Close()
	const sheet = "differences"
	if err := f.SetSheetName("Sheet1", sheet); err != nil {
		return fmt.Errorf("xlsx: %w", err)
	}
	sw, err := f.NewStreamWriter(sheet)
	if err != nil {
		return fmt.Errorf("xlsx: %w", err)
	}
	row := func(i int, cells []string) error {
		cell, err := excelize.CoordinatesToCellName(1, i)
		if err != nil {
			return err
		}
		vals := make([]any, len(cells))
		for j, c := range cells {
			vals[j] = roster.SafeCell(c)
		}
		return sw.SetRow(cell, vals)
	}
	if err := row(1, Columns); err != nil {
		return fmt.Errorf("xlsx: %w", err)
	}
	for i, d := range diffs {
		if err := row(i+2, d.Cells()); err != nil {
			return fmt.Errorf("xlsx: %w", err)
		}
	}
	if err := sw.Flush(); err != nil {
		return fmt.Errorf("xlsx: %w", err)
	}
	if _, err := f.NewSheet("summary"); err != nil {
		return fmt.Errorf("xlsx: %w", err)
	}
	summary := [][]any{{"bank", r.BankCode}, {"business_date", r.BusinessDate.Format(time.DateOnly)},
		{"source", r.Source}, {"bank_cards", r.BankCards}, {"volcard_cards", r.OurCards}, {"matched", r.Matched},
		{"differences", r.Differences}}
	for _, k := range Kinds {
		summary = append(summary, []any{string(k), r.ByKind[k]})
	}
	for i, s := range summary {
		if err := f.SetSheetRow("summary", fmt.Sprintf("A%d", i+1), &s); err != nil {
			return fmt.Errorf("xlsx: %w", err)
		}
	}
	if _, err := f.WriteTo(w); err != nil {
		return fmt.Errorf("xlsx: %w", err)
	}
	return nil
}
