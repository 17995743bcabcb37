package rebates

import (
	"encoding/csv"
	"fmt"
	"io"
	"strconv"

	"github.com/xuri/excelize/v2"

	"github.com/volcard/volcard/issuance/roster"
)

// Columns are the columns of the statements' export, CSV and XLSX alike.
// Each statement gives one row per line, then its total row, whose
// bank_code is TotalRow and product and rates empty. Money is integer fen.
var Columns = []string{"month", "org_id", "org_name", "org_kind", "bank_code", "product_code", "rate_bp", "foundation_bp",
	"advices", "spending_fen", "refund_fen", "reversal_fen", "net_fen", "donation_fen", "foundation_fen", "returned_fen"}

// TotalRow marks a statement's total row in the export.
const TotalRow = "TOTAL"

// rows returns the export rows of sts; numbers stay numbers (for XLSX).
func rows(sts []Statement) [][]any {
	var out [][]any
	money := func(l Line) []any {
		return []any{l.Advices, l.SpendingFen, l.RefundFen, l.ReversalFen, l.NetFen, l.DonationFen, l.FoundationFen, l.ReturnedFen}
	}
	for _, s := range sts {
		head := []any{s.Month, s.OrgID, s.OrgName, string(s.OrgKind)}
		for _, l := range s.Lines {
			r := append(append([]any{}, head...), l.BankCode, l.ProductCode, l.RateBP, l.FoundationBP)
			out = append(out, append(r, money(l)...))
		}
		r := append(append([]any{}, head...), TotalRow, "", "", "")
		out = append(out, append(r, money(s.Totals)...))
	}
	return out
}

func text(v any) string {
	switch x := v.(type) {
	case string:
		return roster.SafeCell(x)
	case int:
		return strconv.Itoa(x)
	case int64:
		return strconv.FormatInt(x, 10)
	}
	return fmt.Sprint(v)
}

// WriteCSV writes the statements as CSV (UTF-8 with a BOM, for Excel), the
// header row first; text a spreadsheet would read as a formula is quoted
// (roster.SafeCell).
func WriteCSV(w io.Writer, sts []Statement) error {
	if _, err := io.WriteString(w, "\uFEFF"); err != nil {
		return err
	}
	cw := csv.NewWriter(w)
	if err := cw.Write(Columns); err != nil {
		return err
	}
	for _, r := range rows(sts) {
		cells := make([]string, len(r))
		for i, v := range r {
			cells[i] = text(v)
		}
		if err := cw.Write(cells); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

// WriteXLSX writes the statements as a workbook with one sheet
// "statements" under Columns (amounts as integer numbers).
func WriteXLSX(w io.Writer, sts []Statement) error {
	f := excelize.NewFile()
	defer f.Close()
	const sheet = "statements"
	if err := f.SetSheetName("Sheet1", sheet); err != nil {
		return fmt.Errorf("xlsx: %w", err)
	}
	sw, err := f.NewStreamWriter(sheet)
	if err != nil {
		return fmt.Errorf("xlsx: %w", err)
	}
	set := func(i int, vals []any) error {
		cell, err := excelize.CoordinatesToCellName(1, i)
		if err != nil {
			return err
		}
		for j, v := range vals {
			if s, ok := v.(string); ok {
				vals[j] = roster.SafeCell(s)
			}
		}
		return sw.SetRow(cell, vals)
	}
	head := make([]any, len(Columns))
	for i, c := range Columns {
		head[i] = c
	}
	if err := set(1, head); err != nil {
		return fmt.Errorf("xlsx: %w", err)
	}
	for i, r := range rows(sts) {
		if err := set(i+2, r); err != nil {
			return fmt.Errorf("xlsx: %w", err)
		}
	}
	if err := sw.Flush(); err != nil {
		return fmt.Errorf("xlsx: %w", err)
	}
	if _, err := f.WriteTo(w); err != nil {
		return fmt.Errorf("xlsx: %w", err)
	}
	return nil
}
