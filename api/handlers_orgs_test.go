package api

import (
	"net/http"
	"strconv"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/volcard/volcard/issuance/store"
	"github.com/volcard/volcard/issuance/store/storetest"
)

// TestListOrgs lists children of an organisation on both databases: the
// province admin sees every city in region-code order, a city's admin sees
// only its own city, and a bad parent is a validation problem.
func TestListOrgs(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		h := newHarness(t, st, nil)
		names := func(token string, parent int64) []string {
			t.Helper()
			r := h.do("GET", "/v1/orgs?parent="+strconv.FormatInt(parent, 10), token, nil)
			require.Equal(t, http.StatusOK, r.status, "body: %s", r.body)
			var page struct {
				Items []orgResponse `json:"items"`
			}
			r.json(t, &page)
			out := make([]string, len(page.Items))
			for i, o := range page.Items {
				require.Equal(t, h.province.ID, o.ParentID)
				out[i] = o.Name
			}
			return out
		}
		require.Equal(t, []string{"广州市", "梅州市"}, names("admin", h.province.ID))
		require.Equal(t, []string{"梅州市"}, names("mz", h.province.ID), "an org admin sees only its subtree")
		require.Empty(t, names("gz", h.meizhou.ID), "another city's children are out of scope")

		r := h.do("GET", "/v1/orgs", "admin", nil)
		require.Equal(t, http.StatusOK, r.status)
		require.Contains(t, string(r.body), "广东省", "no parent lists the roots")

		r = h.do("GET", "/v1/orgs?parent=abc", "admin", nil)
		require.Equal(t, http.StatusBadRequest, r.status)
		require.Equal(t, "application/problem+json", r.header.Get("Content-Type"))
	})
}
