package api

import (
	"bytes"
	"context"
	"fmt"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/volcard/volcard/issuance"
	"github.com/volcard/volcard/issuance/store/storetest"
	"github.com/volcard/volcard/wire"
)

// FuzzStaffBodies sends arbitrary JSON bodies to the staff console's edit
// routes (issue 19): organisation, volunteer, target, branch, product and
// token edits. Each answer must be a 2xx or a 4xx problem document, never a
// 5xx or a panic, and a refusal never repeats a phone or ID number from the
// body. The route is chosen by the first fuzz argument.
func FuzzStaffBodies(f *testing.F) {
	h := newOutboxHarness(f, storetest.SQLite(f))
	ctx, sys := context.Background(), issuance.SystemActor()
	v, _ := issuedHolder(f, h, h.meizhou, 3)
	br := &issuance.Branch{BankCode: "BOC", OrgID: h.meizhou.ID, Name: "中国银行梅州分行"}
	if err := h.svc.PutBranch(ctx, sys, br); err != nil {
		f.Fatal(err)
	}
	_, tok, err := h.svc.CreateToken(ctx, sys, issuance.NewToken{Role: issuance.RoleTerminal, OrgID: h.meizhou.ID})
	if err != nil {
		f.Fatal(err)
	}
	type route struct{ method, path, token, seed string }
	routes := []route{
		{"PATCH", fmt.Sprintf("/v1/orgs/%d", h.meizhou.ID), "admin",
			`{"responsible":{"name":"李明","position":"副书记","phone":"13912345678"},"resident_population":100,"population_year":2025,"instant_issuance":true}`},
		{"PATCH", fmt.Sprintf("/v1/volunteers/%d", v.ID), "mz", `{"phone":"13911112222","name":"李晓红","name_reason":"笔误"}`},
		{"PUT", "/v1/targets", "admin", fmt.Sprintf(`{"year":2027,"scope_org_id":%d,"indicator":"card_rate","target_bp":3000}`, h.meizhou.ID)},
		{"POST", "/v1/branches", "admin", fmt.Sprintf(`{"bank":"BOC","org_id":%d,"name":"支行","contact":{"name":"张强","phone":"13600000000"}}`, h.meizhou.ID)},
		{"PATCH", fmt.Sprintf("/v1/branches/%d", br.ID), "admin", `{"contact":{"name":"赵敏","position":"经理","phone":"13700000000"}}`},
		{"PUT", "/v1/products/NEW-1", "admin", fmt.Sprintf(`{"name":"新卡","bank":"BOC","bin":"621661","aid":"A000000333010101","kind":"debit","org_id":%d}`, h.province.ID)},
		{"POST", "/v1/admin/tokens", "admin", fmt.Sprintf(`{"role":"terminal","org_id":%d,"expires_at":"2099-01-01T00:00:00Z"}`, h.meizhou.ID)},
		{"PATCH", fmt.Sprintf("/v1/admin/tokens/%d", tok.ID), "admin", `{"name":"x","expires_at":null}`},
	}
	for i, r := range routes {
		f.Add(uint8(i), []byte(r.seed))
		for _, s := range []string{``, `{}`, `null`, `[]`, `{"a":1}{}`, `{"phone":"13912345678x"}`,
			`{"responsible":{"phone":"44140219950615123X"}}`, strings.Repeat("{", 3000),
			`{"resident_population":1e30,"population_year":-1,"target_bp":9223372036854775807,"org_id":-1}`,
			`{"expires_at":"tomorrow","name":"` + strings.Repeat("名", 200) + `"}`} {
			f.Add(uint8(i), []byte(s))
		}
	}
	f.Fuzz(func(t *testing.T, which uint8, body []byte) {
		r := routes[int(which)%len(routes)]
		req := httptest.NewRequest(r.method, r.path, bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer "+h.tokens[r.token])
		rec := httptest.NewRecorder()
		h.srv.ServeHTTP(rec, req)
		if rec.Code >= 500 || rec.Code < 200 {
			t.Fatalf("%s %s: status %d: %s", r.method, r.path, rec.Code, rec.Body)
		}
		if rec.Code >= 400 {
			if rec.Header().Get("Content-Type") != wire.ProblemContentType {
				t.Fatalf("%s: status %d without problem+json", r.path, rec.Code)
			}
			for _, secret := range []string{"13912345678", "44140219950615123X"} {
				if bytes.Contains(body, []byte(secret)) && strings.Contains(rec.Body.String(), secret) {
					t.Fatalf("%s: the problem repeats %s: %s", r.path, secret, rec.Body)
				}
			}
		}
	})
}
