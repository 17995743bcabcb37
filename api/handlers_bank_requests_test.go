package api

import (
	"context"
	"fmt"
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/volcard/volcard/bankgw/outbox"
	"github.com/volcard/volcard/issuance"
	"github.com/volcard/volcard/issuance/store/storetest"
)

func TestAdminBankRequests(t *testing.T) {
	ctx := context.Background()
	st := storetest.Postgres(t)
	h := newOutboxHarness(t, st)
	svc := h.svc
	sys := issuance.SystemActor()
	v, err := svc.RegisterVolunteer(ctx, sys, issuance.NewVolunteer{OrgID: h.meizhou.ID, Name: "张三",
		IDNumber: residentID("441402", "19900307", 1), Phone: "13812345678"})
	require.NoError(t, err)
	app, err := svc.Apply(ctx, sys, v.ID, "GD-RV-BOC", issuance.ChannelOnline)
	require.NoError(t, err)
	_, err = svc.Approve(ctx, sys, app.ID)
	require.NoError(t, err)
	_, err = svc.SubmitApprovedToBank(ctx, 10)
	require.NoError(t, err)
	rows, err := st.BankRequests(ctx, app.ID)
	require.NoError(t, err)
	require.Len(t, rows, 1)
	r := rows[0]
	r.State, r.ResultCode, r.LastError = outbox.StateFailed, "30", "bank declined 30: format error"
	require.NoError(t, st.SaveBankRequest(ctx, &r, ""))
	retry := fmt.Sprintf("/v1/admin/bank-requests/%d/retry", r.ID)
	cancel := fmt.Sprintf("/v1/admin/bank-requests/%d/cancel", r.ID)

	for _, tc := range []struct {
		name, method, path, token string
		body                      any
		want                      int
	}{
		{"org admin may not list", http.MethodGet, "/v1/admin/bank-requests", "gz", nil, http.StatusForbidden},
		{"bank staff may not retry", http.MethodPost, retry, "boc", nil, http.StatusForbidden},
		{"unknown state", http.MethodGet, "/v1/admin/bank-requests?state=faild", "admin", nil, http.StatusBadRequest},
		{"bad limit", http.MethodGet, "/v1/admin/bank-requests?limit=0", "admin", nil, http.StatusBadRequest},
		{"garbage cursor", http.MethodGet, "/v1/admin/bank-requests?cursor=garbage", "admin", nil, http.StatusBadRequest},
		{"another list's cursor", http.MethodGet, "/v1/admin/bank-requests?cursor=YTE6NQ", "admin", nil, http.StatusBadRequest},
		{"cancel needs a reason", http.MethodPost, cancel, "admin", map[string]any{}, http.StatusBadRequest},
		{"unknown row", http.MethodPost, "/v1/admin/bank-requests/99999/retry", "admin", nil, http.StatusNotFound},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res := h.do(tc.method, tc.path, tc.token, tc.body)
			require.Equal(t, tc.want, res.status, "%s", res.body)
		})
	}

	res := h.do(http.MethodGet, "/v1/admin/bank-requests?state=failed", "admin", nil)
	require.Equal(t, http.StatusOK, res.status, "%s", res.body)
	var list BankRequestList
	res.json(t, &list)
	require.Len(t, list.Items, 1)
	require.Equal(t, r.ID, list.Items[0].ID)
	require.Equal(t, app.Number, list.Items[0].ApplicationNumber)
	require.Equal(t, "failed", list.Items[0].State)
	require.Equal(t, "30", list.Items[0].ResultCode)
	require.NotContains(t, string(res.body), "13812345678")

	// Paging: a page of one names the next page's cursor, and the page after
	// the only row is empty.
	res = h.do(http.MethodGet, "/v1/admin/bank-requests?limit=1", "admin", nil)
	require.Equal(t, http.StatusOK, res.status, "%s", res.body)
	var page BankRequestList
	res.json(t, &page)
	require.Len(t, page.Items, 1)
	require.NotEmpty(t, page.NextCursor)
	res = h.do(http.MethodGet, "/v1/admin/bank-requests?limit=1&cursor="+page.NextCursor, "admin", nil)
	require.Equal(t, http.StatusOK, res.status, "%s", res.body)
	page = BankRequestList{}
	res.json(t, &page)
	require.Empty(t, page.Items)

	res = h.do(http.MethodPost, retry, "admin", map[string]any{"reason": "emboss name fixed"})
	require.Equal(t, http.StatusOK, res.status, "%s", res.body)
	var got BankRequest
	res.json(t, &got)
	require.Equal(t, "pending", got.State)
	require.Contains(t, got.LastError, "retried by an operator")
	require.Contains(t, got.LastError, "emboss name fixed")

	res = h.do(http.MethodPost, retry, "admin", nil)
	require.Equal(t, http.StatusConflict, res.status, "only failed rows: %s", res.body)
}
