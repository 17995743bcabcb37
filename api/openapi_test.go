package api

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

var echoParam = regexp.MustCompile(`:([A-Za-z_]+)`)

func TestOpenAPICoversRoutes(t *testing.T) {
	s := newStubServer(t)
	var doc struct {
		OpenAPI string                                `json:"openapi"`
		Paths   map[string]map[string]json.RawMessage `json:"paths"`
	}
	require.NoError(t, json.Unmarshal(s.OpenAPI(), &doc))
	require.Equal(t, "3.1.0", doc.OpenAPI)

	routes := s.Routes()
	require.NotEmpty(t, routes)
	registered := map[string]bool{}
	for _, r := range routes {
		if r.Method == "echo_route_not_found" {
			continue
		}
		path := echoParam.ReplaceAllString(r.Path, "{$1}")
		method := strings.ToLower(r.Method)
		registered[method+" "+path] = true
		t.Run(r.Method+" "+r.Path, func(t *testing.T) {
			ops, ok := doc.Paths[path]
			require.True(t, ok, "route %s %s missing from the OpenAPI document", r.Method, path)
			_, ok = ops[method]
			require.True(t, ok, "operation %s %s missing from the OpenAPI document", r.Method, path)
		})
	}
	// And the other way: nothing documented that is not served.
	for path, ops := range doc.Paths {
		for method := range ops {
			require.True(t, registered[method+" "+path], "documented %s %s is not a route", method, path)
		}
	}
}

func TestOpenAPIServed(t *testing.T) {
	s := newStubServer(t)
	rec := httptest.NewRecorder()
	s.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/v1/openapi.json", nil))
	require.Equal(t, http.StatusOK, rec.Code)
	require.Equal(t, "application/json", rec.Header().Get("Content-Type"))
	require.JSONEq(t, string(s.OpenAPI()), rec.Body.String())
}
