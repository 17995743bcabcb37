package api

import (
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/stretchr/testify/require"

	"github.com/volcard/volcard/issuance/store/storetest"
)

// TestEndToEndPostgres runs the card-application flow through real HTTP on
// PostgreSQL.
func TestEndToEndPostgres(t *testing.T) {
	h := newHarness(t, storetest.Postgres(t), nil)
	runFlow(t, h)
}

// TestEndToEndSQLite runs the same flow on the embedded database, so the
// default configuration is covered where PostgreSQL is not available.
func TestEndToEndSQLite(t *testing.T) {
	h := newHarness(t, storetest.SQLite(t), nil)
	runFlow(t, h)
}

// flowSecrets are the personal data and credentials the flow used; the log
// test asserts none of them is ever logged.
type flowSecrets []string

// runFlow is the end-to-end scenario shared by the flow and log tests.
func runFlow(t *testing.T, h *harness) flowSecrets {
	idNumber := residentID("441402", "19950615", 123) // Meizhou, Meijiang district
	phone := "13812345678"
	secrets := flowSecrets{idNumber, phone, strings.ToLower(idNumber)}
	for _, tok := range h.tokens {
		secrets = append(secrets, tok)
	}

	// Each step depends on the previous ones: stop at the first failure.
	step := func(name string, f func(t *testing.T)) {
		t.Helper()
		if !t.Run(name, f) {
			t.FailNow()
		}
	}

	var vol volunteerResponse
	step("register a volunteer", func(t *testing.T) {
		r := h.do("POST", "/v1/volunteers", "platform", map[string]any{
			"name": "李小梅", "id_number": idNumber, "phone": phone, "org_id": h.meizhou.ID,
			"league_member": true, "party_member": false, "clothing_size": "M",
		})
		require.Equal(t, http.StatusCreated, r.status, "body: %s", r.body)
		r.json(t, &vol)
		require.Equal(t, "LI XIAOMEI", vol.EmbossName)
		require.Equal(t, idNumber, vol.IDNumber, "platform sees what it registered")
		require.Equal(t, "/v1/volunteers/"+strconv.FormatInt(vol.ID, 10), r.header.Get("Location"))
	})

	step("responses mask personal data by role", func(t *testing.T) {
		var got volunteerResponse
		r := h.do("GET", "/v1/volunteers/"+strconv.FormatInt(vol.ID, 10), "mz", nil)
		require.Equal(t, http.StatusOK, r.status)
		r.json(t, &got)
		require.Equal(t, idNumber[:4]+"**********"+idNumber[14:], got.IDNumber)
		require.Equal(t, "138****5678", got.Phone)
		require.True(t, got.Masked)
		require.Empty(t, got.BirthDate)
		require.NotContains(t, string(r.body), idNumber)
		require.NotContains(t, string(r.body), phone)

		// Bank staff reach the person by the full ID number (to apply at the
		// branch), but see ID number and phone in full only once the person
		// holds an application at their bank (below).
		r = h.do("GET", "/v1/volunteers?id_number="+idNumber, "boc", nil)
		require.Equal(t, http.StatusOK, r.status, "body: %s", r.body)
		r.json(t, &got)
		require.Equal(t, vol.ID, got.ID)
		require.True(t, got.Masked, "not yet a BOC applicant")
		require.NotContains(t, string(r.body), phone)
		r = h.do("GET", "/v1/volunteers/"+strconv.FormatInt(vol.ID, 10), "boc", nil)
		require.Equal(t, http.StatusNotFound, r.status, "by id: not a BOC holder")
	})

	step("duplicate registration is a conflict", func(t *testing.T) {
		r := h.do("POST", "/v1/volunteers", "admin", map[string]any{
			"name": "李小梅", "id_number": idNumber, "phone": phone, "org_id": h.meizhou.ID, "clothing_size": "M",
		})
		require.Equal(t, http.StatusConflict, r.status)
		p := r.problem(t)
		require.Equal(t, KindConflict.TypeURI(), p.Type)
		require.NotContains(t, string(r.body), idNumber)
	})

	var app applicationResponse
	body := map[string]any{"volunteer_id": vol.ID, "product": "GD-RV-BOC", "channel": "platform"}
	step("apply", func(t *testing.T) {
		r := h.do("POST", "/v1/applications", "platform", body, "Idempotency-Key", "apply-1")
		require.Equal(t, http.StatusCreated, r.status, "body: %s", r.body)
		require.Empty(t, r.header.Get(headerReplayed))
		r.json(t, &app)
		require.Equal(t, "submitted", app.Status)
		require.Equal(t, "BOC", app.Bank)
		require.NotEmpty(t, app.Number)

		var got volunteerResponse
		r = h.do("GET", "/v1/volunteers/"+strconv.FormatInt(vol.ID, 10), "boc", nil)
		require.Equal(t, http.StatusOK, r.status, "body: %s", r.body)
		r.json(t, &got)
		require.Equal(t, idNumber, got.IDNumber, "bank staff need the full number of their applicants (KYC)")
		require.Equal(t, phone, got.Phone)
	})

	step("retry with the same Idempotency-Key returns the same application", func(t *testing.T) {
		r := h.do("POST", "/v1/applications", "platform", body, "Idempotency-Key", "apply-1")
		require.Equal(t, http.StatusCreated, r.status)
		require.Equal(t, "true", r.header.Get(headerReplayed))
		var again applicationResponse
		r.json(t, &again)
		require.Empty(t, cmp.Diff(app, again))
	})

	step("same Idempotency-Key with another body is 422", func(t *testing.T) {
		other := map[string]any{"volunteer_id": vol.ID, "product": "GD-RV-BOC", "channel": "online"}
		r := h.do("POST", "/v1/applications", "platform", other, "Idempotency-Key", "apply-1")
		require.Equal(t, http.StatusUnprocessableEntity, r.status)
		require.Equal(t, KindIdempotencyMismatch.TypeURI(), r.problem(t).Type)
	})

	step("the same key from another token is another key", func(t *testing.T) {
		r := h.do("POST", "/v1/applications", "admin", body, "Idempotency-Key", "apply-1")
		require.Equal(t, http.StatusConflict, r.status, "a second live application, not a replay")
		require.Equal(t, KindConflict.TypeURI(), r.problem(t).Type)
		require.Empty(t, r.header.Get(headerReplayed))
	})

	appPath := "/v1/applications/" + strconv.FormatInt(app.ID, 10)
	step("approve", func(t *testing.T) {
		r := h.do("POST", appPath+"/approve", "mz", nil)
		require.Equal(t, http.StatusOK, r.status, "body: %s", r.body)
		var got applicationResponse
		r.json(t, &got)
		require.Equal(t, "approved", got.Status)
		require.Equal(t, app.Version+1, got.Version)
	})

	step("illegal transition is refused with problem+json", func(t *testing.T) {
		r := h.do("POST", appPath+"/reject", "mz", map[string]string{"reason": "incomplete"})
		require.Equal(t, http.StatusConflict, r.status)
		p := r.problem(t)
		require.Equal(t, KindIllegalTransition.TypeURI(), p.Type)
		require.Contains(t, p.Detail, "approved")
		require.Contains(t, p.Detail, "rejected")
	})

	step("role without review rights is 403", func(t *testing.T) {
		r := h.do("POST", appPath+"/approve", "platform", nil)
		require.Equal(t, http.StatusForbidden, r.status)
		require.Equal(t, KindForbidden.TypeURI(), r.problem(t).Type)
	})

	step("progress lookup", func(t *testing.T) {
		r := h.do("GET", "/v1/progress?application_number="+app.Number+"&id_number="+idNumber, "", nil)
		require.Equal(t, http.StatusOK, r.status, "body: %s", r.body)
		var p progressResponse
		r.json(t, &p)
		require.Equal(t, "李*梅", p.Name)
		require.Equal(t, "approved", p.Status)
		require.Equal(t, "bank_pending", p.Next)
		require.GreaterOrEqual(t, len(p.Steps), 3)
		require.Equal(t, []bool{true, true, false}, []bool{p.Steps[0].Done, p.Steps[1].Done, p.Steps[2].Done})
		require.NotContains(t, string(r.body), idNumber)
		require.NotContains(t, string(r.body), "李小梅")

		r = h.do("GET", "/v1/progress?application_number="+app.Number+"&id_number="+residentID("441402", "19950615", 124), "", nil)
		require.Equal(t, http.StatusNotFound, r.status, "wrong ID number")
		require.Equal(t, KindNotFound.TypeURI(), r.problem(t).Type)
	})

	step("scoping across cities is 404", func(t *testing.T) {
		for _, tc := range []struct{ name, method, path string }{
			{"volunteer", "GET", "/v1/volunteers/" + strconv.FormatInt(vol.ID, 10)},
			{"lookup", "GET", "/v1/volunteers?id_number=" + idNumber},
			{"application", "GET", appPath},
			{"events", "GET", appPath + "/events"},
			{"cancel", "POST", appPath + "/cancel"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				r := h.do(tc.method, tc.path, "gz", nil)
				require.Equal(t, http.StatusNotFound, r.status, "body: %s", r.body)
				require.Equal(t, KindNotFound.TypeURI(), r.problem(t).Type)
			})
		}
		r := h.do("GET", "/v1/applications", "gz", nil)
		require.Equal(t, http.StatusOK, r.status)
		var page listResponse[applicationResponse]
		r.json(t, &page)
		require.Empty(t, page.Items, "Guangzhou sees no Meizhou applications")
	})

	step("events in order", func(t *testing.T) {
		r := h.do("GET", appPath+"/events", "mz", nil)
		require.Equal(t, http.StatusOK, r.status)
		var evs listResponse[eventResponse]
		r.json(t, &evs)
		type step struct{ From, To, Role string }
		var got []step
		for _, e := range evs.Items {
			got = append(got, step{e.From, e.To, e.ActorRole})
		}
		want := []step{{"", "submitted", "platform"}, {"submitted", "approved", "org_admin"}}
		require.Empty(t, cmp.Diff(want, got))
		require.True(t, !evs.Items[1].At.Before(evs.Items[0].At))
	})

	step("list with filters and cursor pagination", func(t *testing.T) {
		var ids []int64
		for i := range 3 {
			id := residentID("441402", "19960101", 200+i)
			secrets = append(secrets, id)
			var v volunteerResponse
			r := h.do("POST", "/v1/volunteers", "mz", map[string]any{"name": "张三丰", "id_number": id,
				"phone": "1390000000" + strconv.Itoa(i), "org_id": h.meizhou.ID, "clothing_size": "L"})
			require.Equal(t, http.StatusCreated, r.status, "body: %s", r.body)
			r.json(t, &v)
			var a applicationResponse
			r = h.do("POST", "/v1/applications", "mz", map[string]any{"volunteer_id": v.ID, "product": "GD-RV-BOC", "channel": "online"})
			require.Equal(t, http.StatusCreated, r.status, "body: %s", r.body)
			r.json(t, &a)
			ids = append(ids, a.ID)
		}
		secrets = append(secrets, "13900000000", "13900000001", "13900000002")

		var seen []int64
		cursor := ""
		for range 5 {
			q := "/v1/applications?status=submitted&channel=online&product=GD-RV-BOC&org=" + strconv.FormatInt(h.meizhou.ID, 10) + "&limit=2"
			if cursor != "" {
				q += "&cursor=" + cursor
			}
			r := h.do("GET", q, "mz", nil)
			require.Equal(t, http.StatusOK, r.status, "body: %s", r.body)
			var page listResponse[applicationResponse]
			r.json(t, &page)
			for _, a := range page.Items {
				seen = append(seen, a.ID)
			}
			if cursor = page.NextCursor; cursor == "" {
				break
			}
		}
		require.Equal(t, []int64{ids[2], ids[1], ids[0]}, seen, "newest first, every page once")

		r := h.do("GET", "/v1/applications?cursor=garbage", "mz", nil)
		require.Equal(t, http.StatusBadRequest, r.status)
		require.Equal(t, KindValidation.TypeURI(), r.problem(t).Type)
	})

	step("cancel", func(t *testing.T) {
		r := h.do("POST", appPath+"/cancel", "platform", map[string]string{"reason": "applicant withdrew"})
		require.Equal(t, http.StatusOK, r.status, "body: %s", r.body)
		var got applicationResponse
		r.json(t, &got)
		require.Equal(t, "cancelled", got.Status)
		require.Equal(t, "applicant withdrew", got.Reason)
	})

	step("products and orgs", func(t *testing.T) {
		r := h.do("GET", "/v1/products", "terminal", nil)
		require.Equal(t, http.StatusOK, r.status)
		require.Contains(t, string(r.body), "GD-RV-BOC")
		r = h.do("GET", "/v1/orgs/"+strconv.FormatInt(h.meizhou.ID, 10), "gz", nil)
		require.Equal(t, http.StatusNotFound, r.status)
		r = h.do("POST", "/v1/orgs", "mz", map[string]any{"parent_id": h.meizhou.ID, "kind": "county", "name": "梅江区", "region_code": "441402",
			"liaison": map[string]string{"name": "王五", "phone": "13700001111"}})
		require.Equal(t, http.StatusCreated, r.status, "body: %s", r.body)
		secrets = append(secrets, "13700001111")
		var o orgResponse
		r.json(t, &o)
		require.Equal(t, "137****1111", o.Liaison.Phone)
	})

	step("readiness and metrics", func(t *testing.T) {
		require.Equal(t, http.StatusOK, h.do("GET", "/readyz", "", nil).status)
		r := h.do("GET", "/metrics", "", nil)
		require.Contains(t, string(r.body), `volcard_http_requests_total{method="POST",route="/v1/applications",status="201"}`)
	})
	return secrets
}

// TestFlowLogsHideSecrets captures every log line of the end-to-end flow at
// debug level and checks that no ID number, phone number or token is in it.
func TestFlowLogsHideSecrets(t *testing.T) {
	var buf syncBuffer
	log := slog.New(slog.NewJSONHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))
	prev := slog.Default()
	slog.SetDefault(log)
	t.Cleanup(func() { slog.SetDefault(prev) })

	h := newHarness(t, storetest.Postgres(t), log)
	secrets := runFlow(t, h)

	out := buf.String()
	require.Contains(t, out, `"msg":"http request"`, "the flow was logged")
	require.Contains(t, out, `"route":"/v1/progress"`)
	for _, s := range secrets {
		require.NotContains(t, out, s, "a secret leaked into the log")
	}
	require.NotContains(t, out, "id_number=", "no query strings")
	require.NotContains(t, out, "Bearer")
}
