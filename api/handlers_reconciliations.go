package api

// Reconciliation reports (issue 16): the daily comparison of a partner
// bank's cards with volcard's (volcard reconcile and serve's
// reconcile-banks job write them). Province admins read all; bank staff
// read their bank's. Reports hold application numbers and last four digits,
// never a PAN or personal data. Read-only: differences are resolved by
// people, not by this API.

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/volcard/volcard/issuance"
	"github.com/volcard/volcard/issuance/reconcile"
)

// Reconciliations reads reconciliation reports for an actor (checking its
// right): a *reconcile.Service.
type Reconciliations interface {
	List(ctx context.Context, a issuance.Actor, bankCode string, limit int) ([]reconcile.Report, error)
	Get(ctx context.Context, a issuance.Actor, id int64) (reconcile.Report, []reconcile.Difference, error)
}

var _ Reconciliations = (*reconcile.Service)(nil)

// maxDifferencesJSON is how many differences the JSON report carries; the
// download carries all.
const maxDifferencesJSON = 1000

// EnableReconciliations registers the reconciliation routes, served by r,
// and adds them to the OpenAPI document. Call it once, before serving.
func (s *Server) EnableReconciliations(r Reconciliations) error {
	if r == nil {
		return errors.New("api: nil reconciliations")
	}
	auth := s.authenticate()
	pa, bs := issuance.RoleProvinceAdmin, issuance.RoleBankStaff
	s.e.GET("/v1/admin/reconciliations", func(c echo.Context) error { return listReconciliations(c, r) }, auth, allow(pa, bs))
	s.e.GET("/v1/admin/reconciliations/:id", func(c echo.Context) error { return getReconciliation(c, r) }, auth, allow(pa, bs))
	s.e.GET("/v1/admin/reconciliations/:id/differences", func(c echo.Context) error { return downloadReconciliation(c, r) },
		auth, allow(pa, bs))
	return s.extendOpenAPI(reconciliationsOpenAPI)
}

// Reconciliation is a reconciliation report.
type Reconciliation struct {
	ID           int64          `json:"id"`
	BankCode     string         `json:"bank_code"`
	BusinessDate string         `json:"business_date"`
	Source       string         `json:"source"`
	BankCards    int            `json:"bank_cards"`
	VolcardCards int            `json:"volcard_cards"`
	Matched      int            `json:"matched"`
	Differences  int            `json:"differences"`
	ByKind       map[string]int `json:"by_kind"`
	StartedAt    time.Time      `json:"started_at"`
	FinishedAt   time.Time      `json:"finished_at"`
}

// ReconciliationDifference is one difference of a report.
type ReconciliationDifference struct {
	Kind              string `json:"kind"`
	ApplicationNumber string `json:"application_number"`
	ReplaceSeq        int    `json:"replace_seq"`
	LastFour          string `json:"last_four,omitempty"`
	VolcardState      string `json:"volcard_state,omitempty"`
	BankState         string `json:"bank_state,omitempty"`
	ApplicationStatus string `json:"application_status,omitempty"`
	BankActivated     string `json:"bank_activated,omitempty"`
	BankLine          int    `json:"bank_line,omitempty"`
	Detail            string `json:"detail"`
}

// ReconciliationList is a list of reports, newest business date first.
type ReconciliationList struct {
	Items []Reconciliation `json:"items"`
}

// ReconciliationDetail is a report with its differences (the first 1,000;
// the download has all).
type ReconciliationDetail struct {
	Reconciliation
	Items     []ReconciliationDifference `json:"items"`
	Truncated bool                       `json:"truncated"`
}

func toReconciliation(r reconcile.Report) Reconciliation {
	out := Reconciliation{ID: r.ID, BankCode: r.BankCode, BusinessDate: r.BusinessDate.Format(time.DateOnly),
		Source: r.Source, BankCards: r.BankCards, VolcardCards: r.OurCards, Matched: r.Matched,
		Differences: r.Differences, ByKind: map[string]int{}, StartedAt: r.StartedAt, FinishedAt: r.FinishedAt}
	for k, n := range r.ByKind {
		out.ByKind[string(k)] = n
	}
	return out
}

func listReconciliations(c echo.Context, r Reconciliations) error {
	bank := strings.ToUpper(c.QueryParam("bank"))
	if len(bank) > 16 {
		return invalidField("bank", "a bank code")
	}
	limit := 50
	if v := c.QueryParam("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 500 {
			return invalidField("limit", "want an integer 1–500")
		}
		limit = n
	}
	actor, _ := actorFrom(c)
	reps, err := r.List(c.Request().Context(), actor, bank, limit)
	if err != nil {
		return err
	}
	out := ReconciliationList{Items: make([]Reconciliation, 0, len(reps))}
	for _, rep := range reps {
		out.Items = append(out.Items, toReconciliation(rep))
	}
	return c.JSON(http.StatusOK, out)
}

func getReconciliation(c echo.Context, r Reconciliations) error {
	id, err := pathID(c)
	if err != nil {
		return err
	}
	actor, _ := actorFrom(c)
	rep, diffs, err := r.Get(c.Request().Context(), actor, id)
	if err != nil {
		return err
	}
	out := ReconciliationDetail{Reconciliation: toReconciliation(rep), Items: []ReconciliationDifference{}}
	for i, d := range diffs {
		if i == maxDifferencesJSON {
			out.Truncated = true
			break
		}
		cells := d.Cells()
		out.Items = append(out.Items, ReconciliationDifference{Kind: cells[0], ApplicationNumber: cells[1],
			ReplaceSeq: d.ReplaceSeq, LastFour: cells[3], VolcardState: cells[4], BankState: cells[5],
			ApplicationStatus: cells[6], BankActivated: cells[7], BankLine: d.Line, Detail: d.Detail})
	}
	return c.JSON(http.StatusOK, out)
}

func downloadReconciliation(c echo.Context, r Reconciliations) error {
	format, err := fileFormat(c)
	if err != nil {
		return err
	}
	id, err := pathID(c)
	if err != nil {
		return err
	}
	actor, _ := actorFrom(c)
	rep, diffs, err := r.Get(c.Request().Context(), actor, id)
	if err != nil {
		return err
	}
	return sendFile(c, format, fmt.Sprintf("reconciliation-%s-%s-%d", rep.BankCode, rep.BusinessDate.Format(time.DateOnly), rep.ID),
		func(w io.Writer) error { return reconcile.WriteCSV(w, diffs) },
		func(w io.Writer) error { return reconcile.WriteXLSX(w, rep, diffs) })
}
