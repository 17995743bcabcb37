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
	"github.com/volcard/volcard/issuance/insurance"
	"github.com/volcard/volcard/issuance/store"
	"github.com/volcard/volcard/issuance/store/storetest"
	"github.com/volcard/volcard/pii"
)

// TestRebateRoutes: rates are set once per period (overlap 409, bad values
// 400 naming the field), bank staff read their bank's; October's statement
// is generated once (201, then 200), read by the province admin and by the
// org admin of its city only, and exported as CSV and XLSX with the same
// TOTAL row; bad months and formats are 400, a month not generated 404.
func TestRebateRoutes(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx, sys := context.Background(), issuance.SystemActor()
		h := newHarness(t, st, nil)
		v, err := h.svc.RegisterVolunteer(ctx, sys, issuance.NewVolunteer{OrgID: h.guangzhou.ID, Name: "陈小明",
			IDNumber: residentID("440100", "19900307", 17), Phone: "13800138000"})
		require.NoError(t, err)
		app, err := h.svc.Apply(ctx, sys, v.ID, "GD-RV-BOC", issuance.ChannelOnline)
		require.NoError(t, err)
		_, err = h.svc.Approve(ctx, sys, app.ID)
		require.NoError(t, err)
		_, err = h.svc.Transition(ctx, sys, app.ID, issuance.StatusBankPending, "")
		require.NoError(t, err)
		const pan = "6216610000000000018"
		_, err = h.svc.RecordBankApproval(ctx, app.ID, issuance.IssuedCard{PAN: pii.NewSecret(pii.KindOther, pan),
			Expiry: "3112", PSN: "01", Reference: "R1"})
		require.NoError(t, err)
		for i, a := range []struct {
			kind   string
			amount int64
		}{{"spending", 30000}, {"spending", 1234}, {"refund", 1000}} {
			_, err := h.svc.RecordCardSpending(ctx, issuance.CardRef{PAN: pii.NewSecret(pii.KindOther, pan)},
				issuance.Spending{RRN: fmt.Sprintf("RRN%09d", i), Kind: a.kind, Amount: a.amount, Currency: "156"})
			require.NoError(t, err)
		}
		require.NoError(t, st.DB(ctx).Exec("UPDATE card_spending SET china_date = '2026-10-15'").Error)

		rate := map[string]any{"bank_code": "BOC", "product_code": "GD-RV-BOC", "rate_bp": 50, "foundation_bp": 2000,
			"effective_from": "2026-01-01"}
		require.Equal(t, http.StatusForbidden, h.do("POST", "/v1/admin/rebates/rates", "gz", rate).status)
		require.Equal(t, http.StatusCreated, h.do("POST", "/v1/admin/rebates/rates", "admin", rate).status)
		rate["effective_to"] = "2026-06-01"
		res := h.do("POST", "/v1/admin/rebates/rates", "admin", rate)
		require.Equal(t, http.StatusConflict, res.status, "%s", res.body)
		require.Contains(t, string(res.body), "rebate_rate_overlap")
		res = h.do("POST", "/v1/admin/rebates/rates", "admin", map[string]any{"bank_code": "BOC", "product_code": "GD-RV-BOC",
			"rate_bp": 20000, "foundation_bp": 0, "effective_from": "2027-01-01"})
		require.Equal(t, http.StatusBadRequest, res.status)
		require.Contains(t, string(res.body), `"field":"rate_bp"`)
		var rates RebateRateList
		res = h.do("GET", "/v1/admin/rebates/rates", "boc", nil)
		require.Equal(t, http.StatusOK, res.status)
		res.json(t, &rates)
		require.Len(t, rates.Items, 1)
		require.Equal(t, http.StatusForbidden, h.do("GET", "/v1/admin/rebates/rates?bank=CCB", "boc", nil).status)

		require.Equal(t, http.StatusNotFound, h.do("GET", "/v1/rebates/statements?month=2026-10", "admin", nil).status)
		require.Equal(t, http.StatusBadRequest, h.do("POST", "/v1/admin/rebates/statements", "admin",
			map[string]any{"month": time.Now().Format("2006-01")}).status, "this month has not ended")
		var m RebateMonth
		res = h.do("POST", "/v1/admin/rebates/statements", "admin", map[string]any{"month": "2026-10"})
		require.Equal(t, http.StatusCreated, res.status, "%s", res.body)
		res.json(t, &m)
		require.True(t, m.Generated)
		require.Len(t, m.Items, 1)
		want := RebateAmounts{Advices: 3, SpendingFen: 31234, RefundFen: 1000, NetFen: 30234, DonationFen: 151,
			FoundationFen: 30, ReturnedFen: 121}
		require.Equal(t, want, m.Items[0].Totals)
		res = h.do("POST", "/v1/admin/rebates/statements", "admin", map[string]any{"month": "2026-10"})
		require.Equal(t, http.StatusOK, res.status)
		res.json(t, &m)
		require.False(t, m.Generated)

		for _, bad := range []string{"2026-10-01", "2026-1", "26-10", "2026-00", ""} {
			require.Equal(t, http.StatusBadRequest, h.do("GET", "/v1/rebates/statements?month="+bad, "admin", nil).status, bad)
		}
		res = h.do("GET", "/v1/rebates/statements?month=2026-10", "gz", nil)
		require.Equal(t, http.StatusOK, res.status)
		res.json(t, &m)
		require.Len(t, m.Items, 1)
		id := m.Items[0].ID
		res = h.do("GET", "/v1/rebates/statements?month=2026-10", "mz", nil)
		res.json(t, &m)
		require.Empty(t, m.Items, "Meizhou reads no Guangzhou statement")
		require.Equal(t, http.StatusNotFound, h.do("GET", fmt.Sprintf("/v1/rebates/statements/%d", id), "mz", nil).status)
		var one RebateStatement
		res = h.do("GET", fmt.Sprintf("/v1/rebates/statements/%d", id), "gz", nil)
		require.Equal(t, http.StatusOK, res.status)
		res.json(t, &one)
		require.Equal(t, want, one.Totals)
		require.Len(t, one.Lines, 1)

		res = h.do("GET", "/v1/rebates/statements/export?month=2026-10&format=csv", "gz", nil)
		require.Equal(t, http.StatusOK, res.status)
		total := fmt.Sprintf("2026-10,%d,广州市,city,TOTAL,,,,3,31234,1000,0,30234,151,30,121", h.guangzhou.ID)
		require.Contains(t, string(res.body), total+"\n")
		res = h.do("GET", "/v1/rebates/statements/export?month=2026-10&format=xlsx", "admin", nil)
		require.Equal(t, http.StatusOK, res.status)
		x, err := excelize.OpenReader(bytes.NewReader(res.body))
		require.NoError(t, err)
		rows, err := x.GetRows("statements")
		require.NoError(t, err)
		require.Equal(t, total, strings.Join(rows[len(rows)-1], ","))
		require.Equal(t, http.StatusBadRequest, h.do("GET", "/v1/rebates/statements/export?month=2026-10&format=pdf", "admin", nil).status)
	})
}

// TestInsuranceRoutes: the seeded policy is listed; a policy from the past
// is refused, one from tomorrow set; the day's file is served uncached and
// parses; a bad date is 400; another city's report is 404.
func TestInsuranceRoutes(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		h := newHarness(t, st, nil)
		var ps InsurancePolicyList
		res := h.do("GET", "/v1/admin/insurance/policies", "admin", nil)
		require.Equal(t, http.StatusOK, res.status)
		res.json(t, &ps)
		require.Len(t, ps.Items, 1)
		require.Equal(t, int64(10_000_000), ps.Items[0].CoverFen)
		today := insurance.Day(time.Now())
		body := map[string]any{"insurer": "中国人寿财产保险", "policy_number": "CL-GD-2027", "cover_fen": 10_000_000,
			"effective_from": insurance.Day(time.Now().AddDate(0, 0, -2))}
		res = h.do("POST", "/v1/admin/insurance/policies", "admin", body)
		require.Equal(t, http.StatusBadRequest, res.status)
		require.Contains(t, string(res.body), `"field":"effective_from"`)
		body["effective_from"] = insurance.Day(time.Now().AddDate(0, 0, 1))
		require.Equal(t, http.StatusCreated, h.do("POST", "/v1/admin/insurance/policies", "admin", body).status)
		res = h.do("GET", "/v1/admin/insurance/policies", "admin", nil)
		res.json(t, &ps)
		require.Len(t, ps.Items, 2)
		require.Equal(t, ps.Items[1].EffectiveFrom, ps.Items[0].EffectiveTo)

		res = h.do("GET", "/v1/admin/insurance/files/"+today, "admin", nil)
		require.Equal(t, http.StatusOK, res.status)
		require.Equal(t, "no-store", res.header.Get("Cache-Control"))
		_, err := insurance.ParseFile(bytes.NewReader(res.body))
		require.NoError(t, err)
		require.Equal(t, http.StatusBadRequest, h.do("GET", "/v1/admin/insurance/files/2026-13-01", "admin", nil).status)
		require.Equal(t, http.StatusForbidden, h.do("GET", "/v1/admin/insurance/files/"+today, "gz", nil).status)

		var rep InsuranceReport
		res = h.do("GET", fmt.Sprintf("/v1/orgs/%d/insurance", h.guangzhou.ID), "gz", nil)
		require.Equal(t, http.StatusOK, res.status)
		res.json(t, &rep)
		require.Equal(t, h.guangzhou.ID, rep.OrgID)
		require.Equal(t, http.StatusNotFound, h.do("GET", fmt.Sprintf("/v1/orgs/%d/insurance", h.meizhou.ID), "gz", nil).status)
	})
}
