package api

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"github.com/xuri/excelize/v2"

	"github.com/volcard/volcard/issuance"
	"github.com/volcard/volcard/issuance/reconcile"
	"github.com/volcard/volcard/issuance/store/storetest"
)

// TestReconciliationRoutes reads a stored report (a bank card volcard does
// not know, and one of an application volcard has not got) as JSON, CSV
// and XLSX; bank staff of BOC see it, a bad query is 400.
func TestReconciliationRoutes(t *testing.T) {
	h := newHarness(t, storetest.Postgres(t), nil)
	ctx := context.Background()
	rec, err := reconcile.New(h.svc, h.st)
	require.NoError(t, err)
	rows := []reconcile.BankCard{
		{Line: 2, ApplicationNumber: "VC2026120600000001", ProductCode: "GDRVBOC", LastFour: "0013", PANMAC: "x",
			State: issuance.BankCardBlocked, Activated: time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)},
		{Line: 3, ApplicationNumber: "=cmd|calc", ProductCode: "GDRVBOC", LastFour: "0021", PANMAC: "y",
			State: issuance.BankCardActive},
	}
	rep, err := rec.Reconcile(ctx, issuance.SystemActor(), reconcile.Input{BankCode: "BOC",
		Date: time.Date(2026, 12, 6, 0, 0, 0, 0, time.UTC), Source: "BOC/2026-12-06.csv",
		PANMAC: func(string) string { return "" },
		Rows: func(yield func(reconcile.BankCard, error) bool) {
			for _, r := range rows {
				if !yield(r, nil) {
					return
				}
			}
		}})
	require.NoError(t, err)

	for _, tok := range []string{"admin", "boc"} {
		res := h.do(http.MethodGet, "/v1/admin/reconciliations?bank=boc", tok, nil)
		require.Equal(t, http.StatusOK, res.status, "%s: %s", tok, res.body)
		var list ReconciliationList
		res.json(t, &list)
		require.Len(t, list.Items, 1)
		require.Equal(t, "2026-12-06", list.Items[0].BusinessDate)
		require.Equal(t, map[string]int{"application_unknown": 2}, list.Items[0].ByKind)
	}
	res := h.do(http.MethodGet, fmt.Sprintf("/v1/admin/reconciliations/%d", rep.ID), "boc", nil)
	require.Equal(t, http.StatusOK, res.status, "%s", res.body)
	var detail ReconciliationDetail
	res.json(t, &detail)
	require.Equal(t, 2, detail.Differences)
	require.False(t, detail.Truncated)
	require.Len(t, detail.Items, 2)
	require.Equal(t, ReconciliationDifference{Kind: "application_unknown", ApplicationNumber: "VC2026120600000001",
		LastFour: "0013", BankState: "blocked", BankActivated: "2026-12-01", BankLine: 2,
		Detail: "volcard has no application with this number"}, detail.Items[1])

	res = h.do(http.MethodGet, fmt.Sprintf("/v1/admin/reconciliations/%d/differences", rep.ID), "admin", nil)
	require.Equal(t, http.StatusOK, res.status)
	require.Equal(t, "text/csv; charset=utf-8", res.header.Get("Content-Type"))
	require.Contains(t, res.header.Get("Content-Disposition"), "reconciliation-BOC-2026-12-06-")
	lines := strings.Split(strings.TrimSpace(string(res.body)), "\n")
	require.Len(t, lines, 3)
	require.Equal(t, "\uFEFFkind,application_number,replace_seq,last_four,volcard_state,bank_state,application_status,bank_activated,bank_line,detail", lines[0])
	require.True(t, strings.HasPrefix(lines[1], "application_unknown,'=cmd|calc,0,0021,"), "a formula is defused: %s", lines[1])

	res = h.do(http.MethodGet, fmt.Sprintf("/v1/admin/reconciliations/%d/differences?format=xlsx", rep.ID), "boc", nil)
	require.Equal(t, http.StatusOK, res.status)
	require.Equal(t, MediaXLSX, res.header.Get("Content-Type"))
	wb, err := excelize.OpenReader(bytes.NewReader(res.body))
	require.NoError(t, err)
	got, err := wb.GetRows("differences")
	require.NoError(t, err)
	require.Len(t, got, 3)
	sum, err := wb.GetRows("summary")
	require.NoError(t, err)
	require.Contains(t, sum, []string{"application_unknown", "2"})
	require.NoError(t, wb.Close())

	for _, bad := range []string{"/v1/admin/reconciliations?limit=0", "/v1/admin/reconciliations/x",
		fmt.Sprintf("/v1/admin/reconciliations/%d/differences?format=pdf", rep.ID)} {
		require.Equal(t, http.StatusBadRequest, h.do(http.MethodGet, bad, "admin", nil).status, bad)
	}
	require.Equal(t, http.StatusNotFound, h.do(http.MethodGet, "/v1/admin/reconciliations/999999", "admin", nil).status)
	require.Equal(t, http.StatusForbidden, h.do(http.MethodGet, "/v1/admin/reconciliations?bank=CCB", "boc", nil).status)
}
