package api

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/volcard/volcard/client"
	"github.com/volcard/volcard/client/enroll"
	"github.com/volcard/volcard/issuance/onsite"
	"github.com/volcard/volcard/wire"
)

// TestOnsiteOpenAPICoversRoutes checks that every on-site route is in the
// OpenAPI document and every documented on-site path is served.
func TestOnsiteOpenAPICoversRoutes(t *testing.T) {
	s := newStubServer(t)
	on, err := onsite.New(s.svc, stubOnsiteStore{})
	require.NoError(t, err)
	require.NoError(t, s.EnableOnsite(on))
	doc := openAPIDocument()
	paths := doc["paths"].(obj)
	if _, ok := paths["/v1/onsite-sessions"]; !ok {
		onsiteOpenAPI(paths, doc["components"].(obj)["schemas"].(obj))
	}
	served := map[string]bool{}
	for _, r := range s.Routes() {
		if !strings.HasPrefix(r.Path, "/v1/onsite-sessions") {
			continue
		}
		p := echoParam.ReplaceAllString(r.Path, "{$1}")
		m := strings.ToLower(r.Method)
		served[m+" "+p] = true
		ops, ok := paths[p].(obj)
		require.True(t, ok, "route %s %s missing from the OpenAPI document", r.Method, p)
		_, ok = ops[m]
		require.True(t, ok, "operation %s %s missing from the OpenAPI document", r.Method, p)
	}
	require.Len(t, served, 15)
	for p, ops := range paths {
		if !strings.HasPrefix(p, "/v1/onsite-sessions") {
			continue
		}
		for m := range ops.(obj) {
			require.True(t, served[m+" "+p], "documented %s %s is not served", m, p)
		}
	}
	_, err = json.Marshal(doc)
	require.NoError(t, err)
}

// TestOnsiteEnrollCLI drives the enroll command's logic (client/enroll over
// package client) against the real server: request, upload with the progress
// bar, report as JSON.
func TestOnsiteEnrollCLI(t *testing.T) {
	e := newOnsiteEnv(t)
	ctx := context.Background()
	uni, err := client.New(e.ts.URL, e.tokens["uni"])
	require.NoError(t, err)
	staff, err := client.New(e.ts.URL, e.tokens["bocmz"])
	require.NoError(t, err)
	var out, errw bytes.Buffer
	r := &enroll.Runner{API: uni, Out: &out, Err: &errw, JSON: true}
	require.NoError(t, r.Request(ctx, wire.NewOnsiteSession{OrgID: e.university.ID, Site: "礼堂",
		Date: time.Now().AddDate(0, 0, 5).Format(time.DateOnly), ExpectedCount: 45, Product: "GD-RV-BOC"}))
	var sess wire.OnsiteSession
	require.NoError(t, json.Unmarshal(out.Bytes(), &sess))

	err = r.Request(ctx, wire.NewOnsiteSession{OrgID: e.university.ID, Site: "礼堂",
		Date: time.Now().AddDate(0, 0, 5).Format(time.DateOnly), ExpectedCount: 29, Product: "GD-RV-BOC"})
	require.Contains(t, enroll.Explain(err), "bank branch or online")

	out.Reset()
	rs := &enroll.Runner{API: staff, Out: &out, Err: &errw, Progress: true}
	rejected := filepath.Join(t.TempDir(), "rejected.csv")
	require.NoError(t, rs.Upload(ctx, sess.ID, filepath.Join("..", "testdata", "rosters", "onsite-45-gb18030.csv"), rejected, "gb18030"))
	require.Contains(t, out.String(), "accepted: 40")
	require.Contains(t, out.String(), "rejected: 5")
	require.Contains(t, errw.String(), "uploading onsite-45-gb18030.csv")

	out.Reset()
	require.NoError(t, r.List(ctx, client.OnsiteSessionFilter{}, true))
	var list wire.OnsiteSessionPage
	require.NoError(t, json.Unmarshal(out.Bytes(), &list))
	require.Len(t, list.Items, 1)
	require.Equal(t, sess.ID, list.Items[0].ID)
	require.Equal(t, 40, list.Items[0].Accepted)
	require.Equal(t, 5, list.Items[0].Rejected)
	require.Equal(t, "嘉应学院", list.Items[0].OrgName)

	out.Reset()
	require.NoError(t, r.Approve(ctx, sess.ID))
	out.Reset()
	require.NoError(t, r.Report(ctx, sess.ID))
	var rep wire.OnsiteReport
	require.NoError(t, json.NewDecoder(io.Reader(&out)).Decode(&rep))
	require.Equal(t, 45, rep.Requested)
	require.Equal(t, 40, rep.Accepted)
	require.Equal(t, 5, rep.Rejected)
}
