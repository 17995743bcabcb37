package api

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/volcard/volcard/issuance/store/storetest"
)

// TestMe checks GET /v1/me: each token learns its role and what bounds it,
// and no token learns nothing but a 401.
func TestMe(t *testing.T) {
	h := newHarness(t, storetest.SQLite(t), nil)
	tests := []struct {
		token string
		want  Me
	}{
		{token: "admin", want: Me{Role: "province_admin"}},
		{token: "mz", want: Me{Role: "org_admin", OrgID: h.meizhou.ID, OrgName: "梅州市"}},
		{token: "gz", want: Me{Role: "org_admin", OrgID: h.guangzhou.ID, OrgName: "广州市"}},
		{token: "boc", want: Me{Role: "bank_staff", Bank: "BOC"}},
		{token: "terminal", want: Me{Role: "terminal", OrgID: h.meizhou.ID, OrgName: "梅州市"}},
		{token: "platform", want: Me{Role: "platform"}},
	}
	for _, tc := range tests {
		t.Run(tc.token, func(t *testing.T) {
			r := h.do(http.MethodGet, "/v1/me", tc.token, nil)
			require.Equal(t, http.StatusOK, r.status, "%s", r.body)
			var got Me
			r.json(t, &got)
			require.Positive(t, got.TokenID)
			got.TokenID = 0
			require.Equal(t, tc.want, got)
		})
	}
	t.Run("no token", func(t *testing.T) {
		require.Equal(t, http.StatusUnauthorized, h.do(http.MethodGet, "/v1/me", "", nil).status)
	})
}
