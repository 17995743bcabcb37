package api

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/volcard/volcard/client"
	"github.com/volcard/volcard/issuance/store"
	"github.com/volcard/volcard/issuance/store/storetest"
	"github.com/volcard/volcard/wire"
)

// TestActivityListAPI checks GET /v1/activities through HTTP on both
// databases: scoping per role (denials included), the window filter,
// validation, cursor pages, the items' organisation names and check-in
// figures, and the client method.
func TestActivityListAPI(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		h := newCheckinHarness(t, st)
		now := time.Now().Truncate(time.Second)
		create := func(token string, org int64, title string, from, to time.Time) wire.Activity {
			t.Helper()
			r := h.do(http.MethodPost, "/v1/activities", token, wire.NewActivity{OrgID: org, Title: title, Site: "现场",
				StartsAt: from, EndsAt: to})
			require.Equal(t, http.StatusCreated, r.status, "%s", r.body)
			var a wire.Activity
			r.json(t, &a)
			return a
		}
		mz := h.act // Meizhou, now-1h … now+5h
		gz := create("gz", h.guangzhou.ID, "广州塔志愿服务", now.Add(-2*time.Hour), now.Add(time.Hour))
		future := create("mz", h.meizhou.ID, "梅州读书月", now.Add(48*time.Hour), now.Add(50*time.Hour))

		list := func(token, query string) (wire.ActivityPage, response) {
			t.Helper()
			r := h.do(http.MethodGet, "/v1/activities"+query, token, nil)
			var p wire.ActivityPage
			if r.status == http.StatusOK {
				r.json(t, &p)
			}
			return p, r
		}
		ids := func(p wire.ActivityPage) []int64 {
			out := []int64{}
			for _, it := range p.Items {
				out = append(out, it.ID)
			}
			return out
		}
		at := func(t time.Time) string {
			return url.QueryEscape(t.In(time.FixedZone("CST", 8*3600)).Format(time.RFC3339))
		}

		tests := []struct {
			name   string
			token  string
			query  string
			status int
			want   []int64
		}{
			{name: "province admin: all, newest start first", token: "admin", status: 200, want: []int64{future.ID, mz.ID, gz.ID}},
			{name: "platform: all", token: "platform", status: 200, want: []int64{future.ID, mz.ID, gz.ID}},
			{name: "city admin: its subtree", token: "mz", status: 200, want: []int64{future.ID, mz.ID}},
			{name: "other city admin: its own", token: "gz", status: 200, want: []int64{gz.ID}},
			{name: "terminal: its org", token: "terminal", status: 200, want: []int64{future.ID, mz.ID}},
			{name: "org filter", token: "admin", query: fmt.Sprintf("?org=%d", h.guangzhou.ID), status: 200, want: []int64{gz.ID}},
			{name: "running or ahead", token: "admin", query: "?from=" + at(now.Add(90*time.Minute)), status: 200, want: []int64{future.ID, mz.ID}},
			{name: "window", token: "mz", query: "?from=" + at(now.Add(-time.Hour)) + "&to=" + at(now.Add(24*time.Hour)), status: 200, want: []int64{mz.ID}},
			{name: "denied: org filter outside the scope", token: "gz", query: fmt.Sprintf("?org=%d", h.meizhou.ID), status: 404},
			{name: "denied: terminal filtering another city", token: "terminal", query: fmt.Sprintf("?org=%d", h.guangzhou.ID), status: 404},
			{name: "denied: org filter above the scope", token: "mz", query: fmt.Sprintf("?org=%d", h.province.ID), status: 404},
			{name: "no token", token: "", status: 401},
			{name: "bad from", token: "admin", query: "?from=yesterday", status: 400},
			{name: "to before from", token: "admin", query: "?from=" + at(now) + "&to=" + at(now.Add(-time.Hour)), status: 400},
			{name: "bad limit", token: "admin", query: "?limit=0", status: 400},
			{name: "limit too large", token: "admin", query: "?limit=201", status: 400},
			{name: "bad cursor", token: "admin", query: "?cursor=xyz", status: 400},
			{name: "bad org", token: "admin", query: "?org=-1", status: 400},
		}
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				p, r := list(tc.token, tc.query)
				require.Equal(t, tc.status, r.status, "%s", r.body)
				if tc.status != http.StatusOK {
					r.problem(t)
					return
				}
				require.Equal(t, tc.want, ids(p))
				require.Empty(t, p.NextCursor)
			})
		}

		t.Run("pages", func(t *testing.T) {
			p, r := list("admin", "?limit=2")
			require.Equal(t, http.StatusOK, r.status)
			require.Equal(t, []int64{future.ID, mz.ID}, ids(p))
			require.NotEmpty(t, p.NextCursor)
			p2, r := list("admin", "?limit=2&cursor="+url.QueryEscape(p.NextCursor))
			require.Equal(t, http.StatusOK, r.status, "%s", r.body)
			require.Equal(t, []int64{gz.ID}, ids(p2))
			require.Empty(t, p2.NextCursor)
		})

		t.Run("items with check-in figures", func(t *testing.T) {
			ch := h.challenge(t, "terminal")
			r := h.do(http.MethodPost, h.tapPath(), "terminal", wire.TapRequest{Seq: 1, ChallengeID: ch.ID,
				Card: cardEvidence(t, "default.json", ch.UN)})
			require.Equal(t, http.StatusCreated, r.status, "%s", r.body)
			p, _ := list("terminal", "")
			require.Len(t, p.Items, 2)
			it := p.Items[1]
			require.Equal(t, mz.ID, it.ID)
			require.Equal(t, "梅州马拉松志愿服务", it.Title)
			require.Equal(t, "梅州市", it.OrgName)
			require.Equal(t, int64(1), it.CheckIns)
			require.Equal(t, int64(1), it.OnSite)
			require.True(t, it.StartsAt.Equal(mz.StartsAt))
			require.Equal(t, int64(0), p.Items[0].CheckIns)
		})

		t.Run("client", func(t *testing.T) {
			c, err := client.New(h.ts.URL, h.tokens["mz"])
			require.NoError(t, err)
			ctx := context.Background()
			p, err := c.ListActivities(ctx, client.ActivityFilter{From: now.Add(24 * time.Hour), Limit: 10})
			require.NoError(t, err)
			require.Equal(t, []int64{future.ID}, ids(p))
			_, err = c.ListActivities(ctx, client.ActivityFilter{OrgID: h.guangzhou.ID})
			var pe *client.ProblemError
			require.ErrorAs(t, err, &pe)
			require.Equal(t, http.StatusNotFound, pe.Status)
			require.Equal(t, "not-found", pe.Type)
		})
	})
}
