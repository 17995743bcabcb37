package api

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/volcard/volcard/issuance"
	"github.com/volcard/volcard/issuance/checkin"
	"github.com/volcard/volcard/issuance/store/storetest"
	"github.com/volcard/volcard/wire"
)

// FuzzOtherBodies posts arbitrary JSON bodies to every JSON route that the
// per-route fuzz targets (FuzzCreate*Body, FuzzTapPayload) do not cover:
// on-site sessions and queue marks, activities, offers, card blocks,
// benefit checks, service hours and corrections, insurance policies,
// rebate rates and statement generation. Each answer must be a
// 2xx or a 4xx problem document, never a 5xx or a panic; a refusal never
// echoes an ID number or PAN from the body. The route is chosen by the
// first fuzz argument.
func FuzzOtherBodies(f *testing.F) {
	h := newCheckinHarness(f, storetest.SQLite(f))
	now := time.Now().UTC()
	// An offer to change: PATCH bodies reach the domain's checks.
	offer, err := h.ck.CreateOffer(context.Background(), issuance.SystemActor(), checkin.NewOffer{OrgID: h.meizhou.ID,
		Tier: checkin.TierCardHolder, Title: "免费体检"})
	if err != nil {
		f.Fatal(err)
	}
	offerPath := "/v1/offers/" + strconv.FormatInt(offer.ID, 10)
	type route struct{ path, token, seed string } // path "PATCH /..." for a PATCH
	routes := []route{
		{"/v1/onsite-sessions", "admin", fmt.Sprintf(`{"org_id":%d,"site":"嘉应学院","date":"2026-12-01","expected_count":40,"product":"GD-RV-BOC"}`, h.meizhou.ID)},
		{"/v1/onsite-sessions/1/queue/1", "admin", `{"state":"skipped","note":"no card"}`},
		{"/v1/activities", "mz", fmt.Sprintf(`{"org_id":%d,"title":"植树","site":"梅江","starts_at":%q,"ends_at":%q}`,
			h.meizhou.ID, now.Format(time.RFC3339), now.Add(time.Hour).Format(time.RFC3339))},
		{"/v1/offers", "admin", fmt.Sprintf(`{"org_id":%d,"tier":"card_holder","title":"免费体检","description":"每年一次"}`, h.meizhou.ID)},
		{"/v1/cards/block", "admin", `{"pan":"6216610000000000018","reason":"lost"}`},
		{"/v1/benefits/check", "admin", `{"challenge_id":"x","card":{"pan":"6216610000000000018"}}`},
		{fmt.Sprintf("/v1/volunteers/%d/service-hours", h.holder.ID), "mz", `{"hours":3,"reason":"补录","year":2026}`},
		{"/v1/attendances/1/correction", "mz", fmt.Sprintf(`{"in_at":%q,"out_at":%q,"reason":"忘记签退"}`,
			now.Add(-2*time.Hour).Format(time.RFC3339), now.Format(time.RFC3339))},
		{"/v1/terminals/challenge", "terminal", `{}`},
		{"PATCH " + offerPath, "mz", `{"title":"免费体检","requires_pin":true,"valid_from":null,"valid_until":"2027-01-01T00:00:00+08:00"}`},
		{offerPath + "/withdraw", "gz", `{"reason":"合作结束"}`},
		{"/v1/benefits/redemptions", "terminal", `{"check_id":"bc_00112233445566778899aabbccddeeff","offer_id":1,"cvm":"offline_pin"}`},
		{"/v1/admin/insurance/policies", "admin", `{"insurer":"中国平安财产保险","policy_number":"PA-2027-01","cover_fen":10000000,"effective_from":"2099-01-01"}`},
		{"/v1/admin/rebates/rates", "admin", `{"bank_code":"BOC","product_code":"GD-RV-BOC","rate_bp":50,"foundation_bp":2000,"effective_from":"2026-01-01"}`},
		{"/v1/admin/rebates/statements", "admin", `{"month":"2026-10"}`},
	}
	for i, r := range routes {
		f.Add(uint8(i), []byte(r.seed))
		for _, s := range []string{``, `{}`, `null`, `[]`, `{"a":1}{}`, `{"pan":"6216610000000000018x"}`,
			`{"id_number":"44140219950615123X"}`, strings.Repeat("[", 3000),
			`{"expected_count":2147483648,"year":2147483648,"hours":1e308,"org_id":-1}`} {
			f.Add(uint8(i), []byte(s))
		}
	}
	f.Fuzz(func(t *testing.T, which uint8, body []byte) {
		r := routes[int(which)%len(routes)]
		method, path := http.MethodPost, r.path
		if p, ok := strings.CutPrefix(path, "PATCH "); ok {
			method, path = http.MethodPatch, p
		}
		req := httptest.NewRequest(method, path, bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer "+h.tokens[r.token])
		rec := httptest.NewRecorder()
		h.srv.ServeHTTP(rec, req)
		if rec.Code >= 500 || rec.Code < 200 {
			t.Fatalf("%s: status %d: %s", r.path, rec.Code, rec.Body)
		}
		if rec.Code >= 400 {
			if rec.Header().Get("Content-Type") != wire.ProblemContentType {
				t.Fatalf("%s: status %d without problem+json", r.path, rec.Code)
			}
			for _, secret := range []string{"6216610000000000018", "44140219950615123X"} {
				if bytes.Contains(body, []byte(secret)) && strings.Contains(rec.Body.String(), secret) {
					t.Fatalf("%s: the problem repeats %s: %s", r.path, secret, rec.Body)
				}
			}
		}
	})
}
