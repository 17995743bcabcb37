package api

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/stretchr/testify/require"
	"golang.org/x/time/rate"

	"github.com/volcard/volcard/issuance"
	"github.com/volcard/volcard/pii"
	"github.com/volcard/volcard/wire"
)

// fakeAuth resolves a fixed set of tokens and counts lookups.
type fakeAuth struct {
	mu     sync.Mutex
	actors map[string]issuance.Actor
	calls  int
}

func (f *fakeAuth) Authenticate(_ context.Context, token string) (issuance.Actor, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls++
	a, ok := f.actors[token]
	if !ok {
		return issuance.Actor{}, issuance.ErrUnauthenticated
	}
	return a, nil
}

func newFakeAuth() *fakeAuth {
	return &fakeAuth{actors: map[string]issuance.Actor{
		"admin":    {TokenID: 1, Role: issuance.RoleProvinceAdmin},
		"terminal": {TokenID: 2, Role: issuance.RoleTerminal, OrgID: 3},
	}}
}

func decodeProblem(t *testing.T, rec *httptest.ResponseRecorder) wire.Problem {
	t.Helper()
	require.Equal(t, wire.ProblemContentType, rec.Header().Get("Content-Type"), "body: %s", rec.Body)
	var p wire.Problem
	require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &p))
	require.Equal(t, rec.Code, p.Status)
	return p
}

func TestProblemResponses(t *testing.T) {
	s := newStubServer(t, func(o *Options) { o.Authenticator = newFakeAuth(); o.BodyLimit = 1024 })
	tests := []struct {
		name, method, path, token, ctype, body string
		wantStatus                             int
		wantKind                               Kind
		wantFields                             []wire.FieldError
	}{
		{name: "no token", method: "GET", path: "/v1/volunteers/1", wantStatus: 401, wantKind: KindUnauthorized},
		{name: "unknown token", method: "GET", path: "/v1/volunteers/1", token: "nope", wantStatus: 401, wantKind: KindUnauthorized},
		{name: "role not allowed", method: "POST", path: "/v1/volunteers", token: "terminal", body: `{}`, wantStatus: 403, wantKind: KindForbidden},
		{name: "unknown route", method: "GET", path: "/v1/nothing", wantStatus: 404, wantKind: KindNotFound},
		{name: "method not allowed", method: "DELETE", path: "/v1/applications", token: "admin", wantStatus: 405, wantKind: KindMethodNotAllowed},
		{name: "malformed json", method: "POST", path: "/v1/volunteers", token: "admin", body: `{"name": `, wantStatus: 400, wantKind: KindMalformedJSON},
		{name: "syntax error", method: "POST", path: "/v1/volunteers", token: "admin", body: `{"name" "x"}`, wantStatus: 400, wantKind: KindMalformedJSON},
		{name: "empty body", method: "POST", path: "/v1/applications", token: "admin", body: ``, wantStatus: 400, wantKind: KindMalformedJSON},
		{name: "trailing data", method: "POST", path: "/v1/applications", token: "admin", body: `{"volunteer_id":1} {}`, wantStatus: 400, wantKind: KindMalformedJSON},
		{name: "not an object", method: "POST", path: "/v1/applications", token: "admin", body: `[1,2]`, wantStatus: 400, wantKind: KindValidation},
		{name: "unknown field", method: "POST", path: "/v1/volunteers", token: "admin", body: `{"name":"x","shoe_size":42}`, wantStatus: 400, wantKind: KindValidation,
			wantFields: []wire.FieldError{{Field: "shoe_size", Message: "unknown field"}}},
		{name: "wrong type", method: "POST", path: "/v1/volunteers", token: "admin", body: `{"org_id":"seven"}`, wantStatus: 400, wantKind: KindValidation,
			wantFields: []wire.FieldError{{Field: "org_id", Message: "must be an integer in range"}}},
		{name: "control character", method: "POST", path: "/v1/volunteers", token: "admin", body: `{"name":"a\u0000b"}`, wantStatus: 400, wantKind: KindValidation,
			wantFields: []wire.FieldError{{Field: "name", Message: "contains control or invalid characters"}}},
		{name: "missing product", method: "POST", path: "/v1/applications", token: "admin", body: `{"volunteer_id":1}`, wantStatus: 400, wantKind: KindValidation,
			wantFields: []wire.FieldError{{Field: "product", Message: "is required"}}},
		{name: "too large", method: "POST", path: "/v1/volunteers", token: "admin", body: `{"name":"` + strings.Repeat("x", 2000) + `"}`, wantStatus: 413, wantKind: KindPayloadTooLarge},
		{name: "wrong media type", method: "POST", path: "/v1/volunteers", token: "admin", ctype: "text/plain", body: `{}`, wantStatus: 415, wantKind: KindUnsupportedMedia},
		{name: "bad path id", method: "GET", path: "/v1/applications/abc", token: "admin", wantStatus: 400, wantKind: KindValidation,
			wantFields: []wire.FieldError{{Field: "id", Message: "must be a positive integer"}}},
		{name: "reject without reason", method: "POST", path: "/v1/applications/7/reject", token: "admin", wantStatus: 400, wantKind: KindValidation,
			wantFields: []wire.FieldError{{Field: "reason", Message: "is required"}}},
		{name: "bad idempotency key", method: "POST", path: "/v1/applications", token: "admin", body: `{}`, wantStatus: 400, wantKind: KindValidation},
		{name: "lookup without id number", method: "GET", path: "/v1/volunteers", token: "admin", wantStatus: 400, wantKind: KindValidation},
		{name: "bad limit", method: "GET", path: "/v1/applications?limit=0", token: "admin", wantStatus: 400, wantKind: KindValidation},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			req := httptest.NewRequest(tc.method, tc.path, strings.NewReader(tc.body))
			if tc.body != "" || tc.method == "POST" {
				ct := tc.ctype
				if ct == "" {
					ct = "application/json"
				}
				req.Header.Set("Content-Type", ct)
			}
			if tc.token != "" {
				req.Header.Set("Authorization", "Bearer "+tc.token)
			}
			if tc.name == "bad idempotency key" {
				req.Header.Set(headerIdempotencyKey, "has space")
			}
			rec := httptest.NewRecorder()
			s.ServeHTTP(rec, req)
			require.Equal(t, tc.wantStatus, rec.Code, "body: %s", rec.Body)
			p := decodeProblem(t, rec)
			require.Equal(t, tc.wantKind.TypeURI(), p.Type)
			require.Equal(t, tc.wantKind.Title(), p.Title)
			require.NotEmpty(t, p.Detail)
			require.NotEmpty(t, p.RequestID)
			if tc.wantFields != nil {
				require.Empty(t, cmp.Diff(tc.wantFields, p.Errors))
			}
			if tc.wantStatus == 401 {
				require.Contains(t, rec.Header().Get("WWW-Authenticate"), "Bearer")
			}
		})
	}
}

func TestProgressRateLimit(t *testing.T) {
	now := time.Unix(1_700_000_000, 0)
	var mu sync.Mutex
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	s := newStubServer(t, func(o *Options) {
		o.ProgressRate, o.ProgressBurst, o.Now = rate.Every(10*time.Second), 2, clock
	})
	get := func(ip string) *httptest.ResponseRecorder {
		req := httptest.NewRequest("GET", "/v1/progress", nil) // missing parameters: 400 when allowed
		req.RemoteAddr = ip + ":1234"
		rec := httptest.NewRecorder()
		s.ServeHTTP(rec, req)
		return rec
	}
	require.Equal(t, 400, get("192.0.2.1").Code)
	require.Equal(t, 400, get("192.0.2.1").Code)
	rec := get("192.0.2.1")
	require.Equal(t, 429, rec.Code)
	require.Equal(t, KindRateLimited.TypeURI(), decodeProblem(t, rec).Type)
	require.Equal(t, "10", rec.Header().Get("Retry-After"))
	require.Equal(t, 400, get("192.0.2.2").Code, "another client has its own bucket")

	mu.Lock()
	now = now.Add(10 * time.Second)
	mu.Unlock()
	require.Equal(t, 400, get("192.0.2.1").Code, "a token came back")
}

// brokenLimiter is a shared limiter whose database is down.
type brokenLimiter struct{ keys []string }

func (b *brokenLimiter) Allow(_ context.Context, key string) (bool, time.Duration, error) {
	b.keys = append(b.keys, key)
	return false, 0, errors.New("connection refused")
}

// TestProgressLimiterDown: a limiter that cannot decide refuses (503 with
// Retry-After): the limit guards a lookup by ID number, so it fails closed.
func TestProgressLimiterDown(t *testing.T) {
	l := &brokenLimiter{}
	s := newStubServer(t, func(o *Options) { o.ProgressLimiter = l })
	req := httptest.NewRequest("GET", "/v1/progress", nil)
	req.RemoteAddr = "192.0.2.5:1234"
	rec := httptest.NewRecorder()
	s.ServeHTTP(rec, req)
	require.Equal(t, 503, rec.Code)
	require.Equal(t, "60", rec.Header().Get("Retry-After"))
	require.NotContains(t, rec.Body.String(), "connection refused", "the cause stays in the log")
	require.Equal(t, []string{"progress:192.0.2.5"}, l.keys, "keyed by route and client address")
}

func TestRateLimitIgnoresForwardedForFromUntrustedPeer(t *testing.T) {
	s := newStubServer(t, func(o *Options) { o.ProgressRate, o.ProgressBurst = rate.Every(time.Hour), 1 })
	for i, want := range []int{400, 429} {
		req := httptest.NewRequest("GET", "/v1/progress", nil)
		req.RemoteAddr = "192.0.2.9:1234"
		req.Header.Set("X-Forwarded-For", "203.0.113."+string(rune('1'+i)))
		rec := httptest.NewRecorder()
		s.ServeHTTP(rec, req)
		require.Equal(t, want, rec.Code)
	}
}

func TestRequestID(t *testing.T) {
	s := newStubServer(t)
	tests := []struct {
		name, in string
		keep     bool
	}{
		{"absent", "", false},
		{"valid kept", "abc-123_x.y", true},
		{"unsafe replaced", "a b\nc", false},
		{"too long replaced", strings.Repeat("a", 65), false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			req := httptest.NewRequest("GET", "/healthz", nil)
			if tc.in != "" {
				req.Header.Set("X-Request-ID", tc.in)
			}
			rec := httptest.NewRecorder()
			s.ServeHTTP(rec, req)
			got := rec.Header().Get("X-Request-ID")
			require.NotEmpty(t, got)
			if tc.keep {
				require.Equal(t, tc.in, got)
			} else {
				require.NotEqual(t, tc.in, got)
				require.Len(t, got, 24)
			}
		})
	}
}

func TestAuthCache(t *testing.T) {
	now := time.Unix(1_700_000_000, 0)
	var mu sync.Mutex
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	auth := newFakeAuth()
	s := newStubServer(t, func(o *Options) { o.Authenticator, o.Now, o.AuthCacheTTL = auth, clock, 5*time.Second })
	call := func() int {
		req := httptest.NewRequest("GET", "/v1/applications/abc", nil) // 400 after auth, no storage
		req.Header.Set("Authorization", "Bearer admin")
		rec := httptest.NewRecorder()
		s.ServeHTTP(rec, req)
		require.Equal(t, 400, rec.Code)
		auth.mu.Lock()
		defer auth.mu.Unlock()
		return auth.calls
	}
	require.Equal(t, 1, call())
	require.Equal(t, 1, call(), "second request served from the cache")
	mu.Lock()
	now = now.Add(5 * time.Second)
	mu.Unlock()
	require.Equal(t, 2, call(), "expired entry verified again (revocation applies)")
}

func TestHealthAndReady(t *testing.T) {
	var ready error
	s := newStubServer(t, func(o *Options) { o.Ready = func(context.Context) error { return ready } })
	get := func(path string) *httptest.ResponseRecorder {
		rec := httptest.NewRecorder()
		s.ServeHTTP(rec, httptest.NewRequest("GET", path, nil))
		return rec
	}
	require.Equal(t, 200, get("/healthz").Code)
	require.Equal(t, 200, get("/readyz").Code)
	ready = context.DeadlineExceeded
	rec := get("/readyz")
	require.Equal(t, 503, rec.Code)
	require.Equal(t, KindUnavailable.TypeURI(), decodeProblem(t, rec).Type)
	require.Equal(t, 200, get("/healthz").Code)

	m := get("/metrics")
	require.Equal(t, 200, m.Code)
	require.Contains(t, m.Body.String(), `volcard_http_requests_total{method="GET",route="/readyz",status="503"} 1`)
}

func TestScrub(t *testing.T) {
	// pii.Scrub is the one scrubber for internal error text (api logs, the bank outbox).

	tests := []struct{ name, in, want string }{
		{"id number", "dup 11010119900307002X here", "dup 1101**********002X here"},
		{"phone", "call 13812345678", "call 138****5678"},
		{"short numbers kept", "application 42 version 7", "application 42 version 7"},
		{"PIN block or key", "verify 241234FFFFFFFFFF failed", "verify **************** failed"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { require.Equal(t, tc.want, pii.Scrub(tc.in)) })
	}
}

func TestBearerToken(t *testing.T) {
	tests := []struct {
		name, header, want string
		ok                 bool
	}{
		{"bearer", "Bearer abc", "abc", true},
		{"case-insensitive scheme", "bearer abc", "abc", true},
		{"basic", "Basic abc", "", false},
		{"empty", "", "", false},
		{"no token", "Bearer ", "", false},
		{"too long", "Bearer " + strings.Repeat("a", maxTokenLen+1), "", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, ok := bearerToken(tc.header)
			require.Equal(t, tc.ok, ok)
			require.Equal(t, tc.want, got)
		})
	}
}

func TestUnmatchedRouteMetricLabel(t *testing.T) {
	s := newStubServer(t)
	for _, p := range []string{"/a", "/b/c", "/v1/zzz"} {
		s.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodGet, p, nil))
	}
	rec := httptest.NewRecorder()
	s.ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	require.NotContains(t, rec.Body.String(), `route="/b/c"`)
}

// TestMetricLabelsBounded sends 10,000 requests with random method names
// (some of 60 KB) to random paths, with and without a token, over a real
// connection: /metrics stays under 1 MB, and every label value is a known
// method, a registered route pattern or "unmatched".
func TestMetricLabelsBounded(t *testing.T) {
	s := newStubServer(t, func(o *Options) { o.Authenticator = &fakeAuth{} })
	ts := httptest.NewServer(s)
	t.Cleanup(ts.Close)
	rng := rand.New(rand.NewPCG(14, 21))
	word := func(n int) string {
		b := make([]byte, n)
		for i := range b {
			b[i] = byte('A' + rng.IntN(26))
		}
		return string(b)
	}
	paths := []string{"/v1/orgs", "/v1/volunteers/1", "/v1/cards/block", "/healthz", "/v1/nowhere/", "/x/"}
	for i := range 10_000 {
		method := word(1 + rng.IntN(12))
		if i%500 == 0 {
			method = word(60 << 10)
		}
		path := paths[rng.IntN(len(paths))]
		if rng.IntN(3) == 0 {
			path += word(8)
		}
		req, err := http.NewRequest(method, ts.URL+path, nil)
		require.NoError(t, err)
		if i%2 == 0 {
			req.Header.Set("Authorization", "Bearer "+word(20))
		}
		res, err := ts.Client().Do(req)
		require.NoError(t, err)
		_, _ = io.Copy(io.Discard, res.Body)
		res.Body.Close()
		require.NotEqual(t, http.StatusInternalServerError, res.StatusCode)
	}
	res, err := ts.Client().Get(ts.URL + "/metrics")
	require.NoError(t, err)
	body, err := io.ReadAll(res.Body)
	res.Body.Close()
	require.NoError(t, err)
	require.Less(t, len(body), 1<<20, "/metrics grew to %d bytes", len(body))

	routes := map[string]bool{"unmatched": true}
	for _, r := range s.Routes() {
		routes[r.Path] = true
	}
	label := regexp.MustCompile(`volcard_http_requests_total\{method="([^"]*)",route="([^"]*)",status="\d{3}"\}`)
	seen := 0
	for _, m := range label.FindAllStringSubmatch(string(body), -1) {
		seen++
		require.Contains(t, []string{"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "CONNECT", "TRACE", "other"}, m[1])
		require.True(t, routes[m[2]], "route label %q is not a route pattern", m[2])
	}
	require.NotZero(t, seen)
	require.Contains(t, string(body), `method="other",route="unmatched"`)
}
