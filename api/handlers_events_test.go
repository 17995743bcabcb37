package api

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/volcard/volcard/issuance"
	"github.com/volcard/volcard/issuance/store"
	"github.com/volcard/volcard/issuance/store/storetest"
	"github.com/volcard/volcard/wire"
)

// TestEventFeedAPI: the feed pages by opaque cursor in order, each token
// sees its scope only, bad input is a clear 400; an endpoint's secret is
// shown once, and a bad URL writes nothing.
func TestEventFeedAPI(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		h := newHarness(t, st, nil)
		ctx, sys := context.Background(), issuance.SystemActor()
		apply := func(org issuance.Org, n int) issuance.Application {
			v, err := h.svc.RegisterVolunteer(ctx, sys, issuance.NewVolunteer{OrgID: org.ID, Name: "李四",
				IDNumber: residentID(org.RegionCode, "19900101", n), Phone: "13800138000"})
			require.NoError(t, err)
			a, err := h.svc.Apply(ctx, sys, v.ID, "GD-RV-BOC", issuance.ChannelOnline)
			require.NoError(t, err)
			return a
		}
		gz := apply(h.guangzhou, 11)
		mz := apply(h.meizhou, 12)
		_, err := h.svc.Approve(ctx, sys, gz.ID)
		require.NoError(t, err)

		read := func(token, query string) []wire.Event {
			// Another test's transaction in the same PostgreSQL cluster
			// holds the feed back while it runs.
			require.Eventually(t, func() bool {
				ok, err := st.FeedSettled(ctx)
				require.NoError(t, err)
				return ok
			}, 60*time.Second, 5*time.Millisecond)
			var all []wire.Event
			after := ""
			for range 20 {
				res := h.do(http.MethodGet, "/v1/events?limit=2&after="+after+query, token, nil)
				require.Equal(t, http.StatusOK, res.status, "%s", res.body)
				var p wire.EventPage
				res.json(t, &p)
				if len(p.Items) == 0 {
					require.Equal(t, after, p.Next, "an empty page hands the same cursor back")
					return all
				}
				all = append(all, p.Items...)
				after = p.Next
			}
			t.Fatal("feed did not end")
			return nil
		}
		names := func(es []wire.Event) string {
			var b []string
			for _, e := range es {
				b = append(b, e.Type)
			}
			return strings.Join(b, " ")
		}
		admin := read("admin", "")
		require.Equal(t, "volunteer.created application.submitted volunteer.created application.submitted application.approved", names(admin))
		for i := 1; i < len(admin); i++ {
			require.Greater(t, admin[i].ID, admin[i-1].ID)
		}
		require.Equal(t, "volunteer.created application.submitted application.approved", names(read("gz", "")))
		require.Equal(t, "volunteer.created application.submitted", names(read("mz", "")))
		require.Equal(t, "application.submitted application.submitted application.approved", names(read("boc", "")))
		only := read("platform", "&types=application.approved")
		require.Len(t, only, 1)
		require.Equal(t, wire.EventSubject{Type: "application", ID: gz.ID}, only[0].Subject)
		require.Contains(t, string(only[0].Data), `"number"`)
		require.NotContains(t, string(admin[0].Data), "李四")
		_ = mz

		for _, q := range []string{"?after=garbage", "?types=nope", "?limit=0", "?limit=5000"} {
			res := h.do(http.MethodGet, "/v1/events"+q, "admin", nil)
			require.Equal(t, http.StatusBadRequest, res.status, "%s: %s", q, res.body)
		}
		require.Equal(t, http.StatusForbidden, h.do(http.MethodGet, "/v1/events", "terminal", nil).status)

		// Endpoints.
		before := rowCounts(t, st)
		for _, bad := range []string{"ftp://x.example/", "https://user:pw@x.example/", "not a url", "https:///nohost", "https://x.example/#f"} {
			res := h.do(http.MethodPost, "/v1/webhooks", "gz", map[string]any{"url": bad})
			require.Equal(t, http.StatusBadRequest, res.status, "%s: %s", bad, res.body)
			require.NotContains(t, string(res.body), "pw@", "the URL is not echoed")
		}
		res := h.do(http.MethodPost, "/v1/webhooks", "gz", map[string]any{"url": "https://x.example/h", "types": []string{"bogus"}})
		require.Equal(t, http.StatusBadRequest, res.status)
		require.Equal(t, before, rowCounts(t, st), "refused creations wrote nothing")
		res = h.do(http.MethodPost, "/v1/webhooks", "gz", map[string]any{"url": "https://x.example/h", "types": []string{"application.approved"}})
		require.Equal(t, http.StatusCreated, res.status, "%s", res.body)
		var ep wire.WebhookEndpoint
		res.json(t, &ep)
		require.True(t, strings.HasPrefix(ep.Secret, "whsec_"))
		require.Equal(t, h.guangzhou.Path, ep.ScopePath)
		res = h.do(http.MethodGet, "/v1/webhooks/"+id(ep.ID), "gz", nil)
		require.Equal(t, http.StatusOK, res.status)
		require.NotContains(t, string(res.body), ep.Secret)
		require.NotContains(t, string(res.body), "secret")
		require.Equal(t, http.StatusNotFound, h.do(http.MethodGet, "/v1/webhooks/"+id(ep.ID), "mz", nil).status)
		var row struct{ SecretEnc []byte }
		require.NoError(t, st.DB(ctx).Raw("SELECT secret_enc FROM webhook_endpoints WHERE id = ?", ep.ID).Scan(&row).Error)
		require.NotEmpty(t, row.SecretEnc)
		require.NotContains(t, string(row.SecretEnc), ep.Secret, "stored sealed")
		// Only changes after its creation, of its type and scope, are queued.
		_, err = h.svc.Approve(ctx, sys, mz.ID)
		require.NoError(t, err)
		_, err = h.svc.Cancel(ctx, sys, gz.ID, "撤回")
		require.NoError(t, err)
		gz2 := apply(h.guangzhou, 13)
		_, err = h.svc.Approve(ctx, sys, gz2.ID)
		require.NoError(t, err)
		res = h.do(http.MethodGet, "/v1/webhooks/"+id(ep.ID)+"/deliveries", "gz", nil)
		require.Equal(t, http.StatusOK, res.status, "%s", res.body)
		var page wire.WebhookDeliveryPage
		res.json(t, &page)
		require.Len(t, page.Items, 1)
		require.Equal(t, "application.approved", page.Items[0].EventType)
		require.Equal(t, "pending", page.Items[0].State)
		res = h.do(http.MethodPatch, "/v1/webhooks/"+id(ep.ID), "gz", map[string]any{"types": []string{}})
		require.Equal(t, http.StatusOK, res.status, "%s", res.body)
		res.json(t, &ep)
		require.Empty(t, ep.Types)
		require.Equal(t, http.StatusNoContent, h.do(http.MethodDelete, "/v1/webhooks/"+id(ep.ID), "gz", nil).status)
		require.Equal(t, http.StatusNotFound, h.do(http.MethodGet, "/v1/webhooks/"+id(ep.ID), "gz", nil).status)
	})
}
