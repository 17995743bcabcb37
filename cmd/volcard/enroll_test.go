package main

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestEnrollList runs `volcard enroll list` against a stub server: the
// flags become the query, the page is printed, bad flags exit 2 and a
// refusal exits 1.
func TestEnrollList(t *testing.T) {
	var got url.Values
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/v1/onsite-sessions" || r.Header.Get("Authorization") != "Bearer vc_test" {
			w.Header().Set("Content-Type", "application/problem+json")
			w.WriteHeader(http.StatusForbidden)
			_, _ = w.Write([]byte(`{"type":"https://volcard.example/problems/forbidden","title":"Forbidden","status":403}`))
			return
		}
		got = r.URL.Query()
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"items":[{"id":8,"org_id":3,"org_name":"嘉应学院","site":"体育馆","date":"2026-05-01",` +
			`"expected_count":45,"status":"scheduled","product":"GD-RV-BOC","accepted":40,"rejected":5,"branch":{}}]}`))
	}))
	t.Cleanup(srv.Close)
	tests := []struct {
		name  string
		args  []string
		code  int // 0: success
		query url.Values
		want  []string
	}{
		{name: "filters", args: []string{"--token", "vc_test", "--state", "scheduled", "--org", "3", "--limit", "10"},
			query: url.Values{"state": {"scheduled"}, "org": {"3"}, "limit": {"10"}},
			want:  []string{"ACCEPTED", "scheduled", "嘉应学院", "体育馆", "40"}},
		{name: "no filters", args: []string{"--token", "vc_test"}, query: url.Values{}, want: []string{"GD-RV-BOC"}},
		{name: "json", args: []string{"--token", "vc_test", "--json"}, query: url.Values{}, want: []string{`"org_name": "嘉应学院"`}},
		{name: "limit too large", args: []string{"--token", "vc_test", "--limit", "500"}, code: exitUsage},
		{name: "negative org", args: []string{"--token", "vc_test", "--org", "-2"}, code: exitUsage},
		{name: "refused", args: []string{"--token", "vc_other"}, code: exitFailure},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got = nil
			cmd := newEnrollCmd()
			var out bytes.Buffer
			cmd.SetArgs(append([]string{"list", "--server", srv.URL}, tc.args...))
			cmd.SetOut(&out)
			cmd.SetErr(&bytes.Buffer{})
			cmd.SilenceUsage, cmd.SilenceErrors = true, true
			err := cmd.Execute()
			if tc.code != 0 {
				var ee *exitError
				require.ErrorAs(t, err, &ee)
				require.Equal(t, tc.code, ee.code)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tc.query, got)
			for _, w := range tc.want {
				require.Contains(t, out.String(), w)
			}
		})
	}
}
