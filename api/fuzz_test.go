package api

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/volcard/volcard/issuance"
	"github.com/volcard/volcard/issuance/store/storetest"
	"github.com/volcard/volcard/wire"
)

// fuzzBody posts arbitrary bytes as the JSON body of path, as the province
// admin, on a SQLite-backed server, and fails on any 5xx or panic.
func fuzzBody(f *testing.F, path, seedPrefix string, extra func(h *harness) []string) {
	h := newHarness(f, storetest.SQLite(f), nil)
	for _, s := range extra(h) {
		f.Add([]byte(s))
	}
	seeds, err := filepath.Glob(filepath.Join("testdata", "bodies", seedPrefix+"*.json"))
	if err != nil || len(seeds) == 0 {
		f.Fatalf("no seeds testdata/bodies/%s*.json: %v", seedPrefix, err)
	}
	for _, p := range seeds {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	for _, s := range []string{``, `{}`, `null`, `[]`, `"x"`, `{"a":1}{}`, `{"name":"\u0000"}`, strings.Repeat("[", 10000),
		// out-of-range numbers (issue 14): 400, never 500
		`{"parent_id":1,"kind":"county","name":"x","population_year":2147483648}`, `{"org_id":9223372036854775808}`,
		`{"volunteer_id":-1,"product":"GD-RV-BOC"}`, `{"resident_population":1e300,"league_members":-1}`} {
		f.Add([]byte(s))
	}
	token := "Bearer " + h.tokens["admin"]
	f.Fuzz(func(t *testing.T, body []byte) {
		req := httptest.NewRequest(http.MethodPost, path, bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", token)
		rec := httptest.NewRecorder()
		h.srv.ServeHTTP(rec, req)
		if rec.Code >= 500 || rec.Code < 200 {
			t.Fatalf("status %d for body %q: %s", rec.Code, body, rec.Body)
		}
		if rec.Code >= 400 && rec.Header().Get("Content-Type") != wire.ProblemContentType {
			t.Fatalf("status %d without problem+json", rec.Code)
		}
	})
}

func FuzzCreateVolunteerBody(f *testing.F) {
	fuzzBody(f, "/v1/volunteers", "volunteer_", func(h *harness) []string {
		return []string{fmt.Sprintf(`{"name":"李小梅","id_number":%q,"phone":"13812345678","org_id":%d,"clothing_size":"M"}`,
			residentID("441402", "19950615", 123), h.meizhou.ID)}
	})
}

func FuzzCreateApplicationBody(f *testing.F) {
	fuzzBody(f, "/v1/applications", "application_", func(h *harness) []string {
		v, err := h.svc.RegisterVolunteer(context.Background(), issuance.SystemActor(), issuance.NewVolunteer{
			OrgID: h.meizhou.ID, Name: "张三丰", IDNumber: residentID("441402", "19900101", 7), Phone: "13900001111"})
		if err != nil {
			f.Fatal(err)
		}
		return []string{fmt.Sprintf(`{"volunteer_id":%d,"product":"GD-RV-BOC","channel":"online"}`, v.ID)}
	})
}

func FuzzCreateOrgBody(f *testing.F) {
	fuzzBody(f, "/v1/orgs", "org_", func(h *harness) []string {
		return []string{fmt.Sprintf(`{"parent_id":%d,"kind":"county","name":"梅县区","region_code":"441403"}`, h.meizhou.ID)}
	})
}
