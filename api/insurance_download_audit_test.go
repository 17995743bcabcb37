package api

import (
	"context"
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/volcard/volcard/issuance"
	"github.com/volcard/volcard/issuance/store"
	"github.com/volcard/volcard/issuance/store/storetest"
)

// TestInsuranceFileDownloadAudited: each download of the insurer's daily
// file (names and ID numbers) is audited: who, which day, how many
// records; a refused one is not a download.
func TestInsuranceFileDownloadAudited(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		h := newHarness(t, st, nil)
		ctx, sys := context.Background(), issuance.SystemActor()
		q := issuance.AuditQuery{Kind: issuance.AuditInsuranceFileDownloaded}
		r := h.do(http.MethodGet, "/v1/admin/insurance/files/2026-11-23", "gz", nil)
		require.Equal(t, http.StatusForbidden, r.status)
		for range 2 {
			r = h.do(http.MethodGet, "/v1/admin/insurance/files/2026-11-23", "admin", nil)
			require.Equal(t, http.StatusOK, r.status, "body: %s", r.body)
		}
		evs, err := h.svc.ListAudit(ctx, sys, q)
		require.NoError(t, err)
		require.Len(t, evs, 2, "each download")
		admin, err := h.svc.Authenticate(ctx, h.tokens["admin"])
		require.NoError(t, err)
		for _, e := range evs {
			require.Equal(t, "insurance_file", e.Subject)
			require.Equal(t, "2026-11-23", e.SubjectID)
			require.Equal(t, admin.TokenID, e.ActorTokenID)
			require.Equal(t, issuance.RoleProvinceAdmin, e.ActorRole)
			require.Contains(t, e.Detail, "records: 0")
		}
	})
}
