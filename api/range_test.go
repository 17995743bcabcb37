package api

import (
	"fmt"
	"net/http"
	"strconv"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/volcard/volcard/issuance/store"
	"github.com/volcard/volcard/issuance/store/storetest"
)

// TestOutOfRangeNumbers sends numbers outside every sensible range to the
// routes that take numbers, on PostgreSQL (whose INTEGER columns overflowed
// into 500s) and SQLite: each is 400 naming the field, never 500, and
// nothing is written (issue 14, finding 4).
func TestOutOfRangeNumbers(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		h := newCheckinHarness(t, st)
		mz, vol := h.meizhou.ID, h.holder.ID
		org := func(field, v string) string {
			return fmt.Sprintf(`{"parent_id":%d,"kind":"county","name":"区%s","%s":%s}`, mz, field+v, field, v)
		}
		for _, tc := range []struct {
			name, method, path, body, field string
		}{
			{"population year over int32", "POST", "/v1/orgs", org("population_year", "2147483648"), "population_year"},
			{"population year negative", "POST", "/v1/orgs", org("population_year", "-1"), "population_year"},
			{"population year far future", "POST", "/v1/orgs", org("population_year", "99999"), "population_year"},
			{"population over int64", "POST", "/v1/orgs", org("resident_population", "9223372036854775808"), "resident_population"},
			{"population huge", "POST", "/v1/orgs", org("resident_population", "9000000000000000000"), "resident_population"},
			{"league members negative", "POST", "/v1/orgs", org("league_members", "-5"), "league_members"},
			{"parent id over int64", "POST", "/v1/orgs", `{"parent_id":1e30,"kind":"county","name":"x"}`, "parent_id"},
			{"volunteer org over int64", "POST", "/v1/volunteers", `{"org_id":9223372036854775808,"name":"x","id_number":"x","phone":"x"}`, "org_id"},
			{"application volunteer fractional", "POST", "/v1/applications", `{"volunteer_id":1.5,"product":"GD-RV-BOC"}`, "volunteer_id"},
			{"on-site head count over int32", "POST", "/v1/onsite-sessions",
				fmt.Sprintf(`{"org_id":%d,"site":"礼堂","date":"2027-01-10","expected_count":2147483648,"product":"GD-RV-BOC"}`, mz), "expected_count"},
			{"on-site head count negative", "POST", "/v1/onsite-sessions",
				fmt.Sprintf(`{"org_id":%d,"site":"礼堂","date":"2027-01-10","expected_count":-40,"product":"GD-RV-BOC"}`, mz), "expected_count"},
			{"service hours year over int32", "POST", "/v1/volunteers/" + strconv.FormatInt(vol, 10) + "/service-hours",
				`{"hours":2,"year":2147483648,"reason":"补录"}`, "year"},
			{"service hours huge", "POST", "/v1/volunteers/" + strconv.FormatInt(vol, 10) + "/service-hours",
				`{"hours":1e308,"year":2026,"reason":"补录"}`, "hours"},
			{"tap seq over int64", "POST", "/v1/activities/" + strconv.FormatInt(h.act.ID, 10) + "/taps",
				`{"seq":99999999999999999999,"challenge_id":"x","card":{}}`, "seq"},
			{"list limit huge", "GET", "/v1/applications?limit=99999999999999999999", "", "limit"},
			{"report year over int32", "GET", "/v1/reports/targets?year=2147483648", "", "year"},
			{"outbox limit huge", "GET", "/v1/admin/bank-requests?limit=2147483648", "", "limit"},
			{"path id over int64", "GET", "/v1/volunteers/9223372036854775808", "", "id"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				token := "admin"
				if tc.field == "seq" {
					token = "terminal"
				}
				var body any
				if tc.body != "" {
					body = tc.body
				}
				res := h.do(tc.method, tc.path, token, body)
				require.Equal(t, http.StatusBadRequest, res.status, "%s", res.body)
				p := res.problem(t)
				require.Contains(t, p.Detail+string(res.body), tc.field, "the problem names the field")
			})
		}
	})
}
