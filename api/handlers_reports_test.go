package api

import (
	"bytes"
	"context"
	"encoding/csv"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/volcard/volcard/issuance/reports"

	"github.com/google/go-cmp/cmp"
	"github.com/stretchr/testify/require"
	"github.com/xuri/excelize/v2"

	"github.com/volcard/volcard/issuance"
	"github.com/volcard/volcard/issuance/store"
	"github.com/volcard/volcard/issuance/store/storetest"
	"github.com/volcard/volcard/pii"
)

// reportFixture registers volunteers in Guangzhou (3, one league member,
// one card issued, size XL) and Meizhou (1) this year and sets figures and
// a target.
func reportFixture(t *testing.T, h *harness) int {
	t.Helper()
	ctx, sys := context.Background(), issuance.SystemActor()
	year := time.Now().In(time.FixedZone("CST", 8*3600)).Year()
	require.NoError(t, h.rs.SetOrgFigures(ctx, sys, h.guangzhou.ID, 100, 2016, 10))
	require.NoError(t, h.rs.SetOrgFigures(ctx, sys, h.meizhou.ID, 50, 2016, 5))
	_, err := h.rs.PutTarget(ctx, sys, reports.Target{Year: year, ScopeOrgID: h.province.ID,
		Indicator: reports.IndicatorCardRate, BasisPoints: 3000})
	require.NoError(t, err)
	_, err = h.svc.CreateOrg(ctx, sys, issuance.NewOrg{ParentID: h.guangzhou.ID, Kind: issuance.OrgUniversity, Name: "=中山大学",
		Responsible: issuance.Contact{Name: "王书记", Phone: pii.Phone("13912345678")},
		Liaison:     issuance.Contact{Name: "李老师", Phone: pii.Phone("020-84112233")}})
	require.NoError(t, err)
	var ids []int64
	for i, org := range []issuance.Org{h.guangzhou, h.guangzhou, h.guangzhou, h.meizhou} {
		v, err := h.svc.RegisterVolunteer(ctx, sys, issuance.NewVolunteer{OrgID: org.ID, Name: "志愿者", Phone: "13800138000",
			IDNumber: residentID(org.RegionCode, "19950101", 500+i), LeagueMember: i == 0, ClothingSize: issuance.SizeXL})
		require.NoError(t, err)
		ids = append(ids, v.ID)
	}
	app, err := h.svc.Apply(ctx, sys, ids[0], "GD-RV-BOC", issuance.ChannelOnline)
	require.NoError(t, err)
	for _, st := range []issuance.Status{issuance.StatusApproved, issuance.StatusBankPending, issuance.StatusBankApproved,
		issuance.StatusPersonalized, issuance.StatusIssued} {
		_, err := h.svc.Transition(ctx, sys, app.ID, st, "")
		require.NoError(t, err)
	}
	_, err = h.svc.Apply(ctx, sys, ids[1], "GD-RV-BOC", issuance.ChannelBranch)
	require.NoError(t, err)
	return year
}

func TestReportsAPI(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		h := newHarness(t, st, nil)
		year := reportFixture(t, h)
		q := fmt.Sprintf("/v1/reports/targets?year=%d", year)

		var rep targetsReportResponse
		t.Run("targets json", func(t *testing.T) {
			r := h.do(http.MethodGet, q, "admin", nil)
			require.Equal(t, http.StatusOK, r.status, string(r.body))
			r.json(t, &rep)
			require.Equal(t, "广东省", rep.Rows[0].Name)
			require.EqualValues(t, 4, rep.Rows[0].Registered)
			require.EqualValues(t, 1, rep.Rows[0].Holders)
			gz := rep.Rows[1]
			require.Equal(t, "广州市", gz.Name)
			require.EqualValues(t, 3, gz.Registered)
			card := gz.Indicators[2]
			require.Equal(t, "card_rate", card.Indicator)
			require.InDelta(t, 1.0/3, *card.Value, 1e-9)
			require.InDelta(t, 0.3, *card.Target, 1e-9)
			require.Equal(t, "green", card.Rating)
		})

		t.Run("targets csv and xlsx round trip", func(t *testing.T) {
			r := h.do(http.MethodGet, q+"&format=csv", "admin", nil)
			require.Equal(t, http.StatusOK, r.status, string(r.body))
			require.Equal(t, "text/csv; charset=utf-8", r.header.Get("Content-Type"))
			require.True(t, bytes.HasPrefix(r.body, []byte("\xEF\xBB\xBF")), "CSV starts with a UTF-8 BOM")
			recs, err := csv.NewReader(bytes.NewReader(r.body[3:])).ReadAll()
			require.NoError(t, err)
			require.Len(t, recs, len(rep.Rows)+1)
			require.Equal(t, "org_id", recs[0][0])
			for i, row := range rep.Rows {
				require.Equal(t, strconv.FormatInt(row.OrgID, 10), recs[i+1][0])
				require.Equal(t, row.Name, strings.TrimPrefix(recs[i+1][1], "'"))
				require.Equal(t, strconv.FormatInt(row.Registered, 10), recs[i+1][6])
			}
			require.Contains(t, string(r.body), "'=中山大学", "formula-looking text is defused")

			x := h.do(http.MethodGet, q, "admin", nil, "Accept", MediaXLSX)
			require.Equal(t, http.StatusOK, x.status, string(x.body))
			require.Equal(t, MediaXLSX, x.header.Get("Content-Type"))
			f, err := excelize.OpenReader(bytes.NewReader(x.body))
			require.NoError(t, err)
			defer f.Close()
			rows, err := f.GetRows(f.GetSheetName(0))
			require.NoError(t, err)
			require.Len(t, rows, len(recs))
			for i := range recs {
				// Integer and text cells read back exactly as in the CSV.
				for _, col := range []int{0, 1, 2, 4, 5, 6, 7, 8} {
					require.Equal(t, recs[i][col], rows[i][col], "row %d col %d", i, col)
				}
			}
		})

		t.Run("org admin scoped", func(t *testing.T) {
			var got targetsReportResponse
			r := h.do(http.MethodGet, q, "gz", nil)
			require.Equal(t, http.StatusOK, r.status, string(r.body))
			r.json(t, &got)
			require.Equal(t, "广州市", got.Rows[0].Name)
			for _, row := range got.Rows {
				require.NotEqual(t, "梅州市", row.Name)
			}
			r = h.do(http.MethodGet, fmt.Sprintf("%s&org=%d", q, h.meizhou.ID), "gz", nil)
			require.Equal(t, http.StatusNotFound, r.status)
			require.Equal(t, http.StatusForbidden, h.do(http.MethodGet, q, "boc", nil).status)
		})

		t.Run("applications funnel", func(t *testing.T) {
			var f funnelResponse
			r := h.do(http.MethodGet, "/v1/reports/applications", "admin", nil)
			require.Equal(t, http.StatusOK, r.status, string(r.body))
			r.json(t, &f)
			require.EqualValues(t, 1, f.ByStatus["issued"])
			require.EqualValues(t, 1, f.ByStatus["submitted"])
			var b funnelResponse
			r = h.do(http.MethodGet, "/v1/reports/applications", "boc", nil)
			require.Equal(t, http.StatusOK, r.status, string(r.body))
			r.json(t, &b)
			for _, row := range b.Rows {
				require.Equal(t, "BOC", row.BankCode, "bank staff see their bank only")
			}
			r = h.do(http.MethodGet, "/v1/reports/applications?format=csv", "mz", nil)
			require.Equal(t, http.StatusOK, r.status)
			require.Equal(t, "\uFEFFstatus,channel,bank_code,count\n", string(r.body), "Meizhou has no applications")
		})

		t.Run("clothing", func(t *testing.T) {
			var c struct{ Rows []clothingRowResponse }
			r := h.do(http.MethodGet, "/v1/reports/clothing", "admin", nil)
			require.Equal(t, http.StatusOK, r.status, string(r.body))
			r.json(t, &c)
			require.Len(t, c.Rows, 1)
			require.Equal(t, "广州市", c.Rows[0].Name)
			require.EqualValues(t, 1, c.Rows[0].Sizes["XL"])
		})

		t.Run("contact phones shown to coordinating staff", func(t *testing.T) {
			// One policy (api/mask.go): the staff who coordinate the
			// programme (bank staff, province and org admins) see contact
			// phones in full; other roles may not read the report at all.
			require.Equal(t, http.StatusForbidden, h.do(http.MethodGet, "/v1/reports/contacts", "platform", nil).status)
			for _, tc := range []struct {
				token, responsible, liaison string
				phonesMasked                bool
			}{
				{"boc", "13912345678", "020-84112233", false},
				{"admin", "13912345678", "020-84112233", false},
				{"gz", "13912345678", "020-84112233", false},
			} {
				t.Run(tc.token, func(t *testing.T) {
					var c struct {
						PhonesMasked bool `json:"phones_masked"`
						Rows         []contactRowResponse
					}
					r := h.do(http.MethodGet, "/v1/reports/contacts", tc.token, nil)
					require.Equal(t, http.StatusOK, r.status, string(r.body))
					r.json(t, &c)
					require.Equal(t, tc.phonesMasked, c.PhonesMasked)
					csv := h.do(http.MethodGet, "/v1/reports/contacts?format=csv", tc.token, nil)
					require.Equal(t, http.StatusOK, csv.status, string(csv.body))
					require.Equal(t, tc.phonesMasked, !strings.Contains(string(csv.body), "13912345678"),
						"the CSV follows the same rule")
					var uni *contactRowResponse
					for i := range c.Rows {
						if c.Rows[i].Kind == "university" {
							uni = &c.Rows[i]
						}
					}
					require.NotNil(t, uni)
					if d := cmp.Diff([]string{tc.responsible, tc.liaison}, []string{uni.ResponsiblePhone, uni.LiaisonPhone}); d != "" {
						t.Fatal(d)
					}
				})
			}
		})

		t.Run("service hours and check-ins", func(t *testing.T) {
			// Check-in rows written directly (the check-in service needs
			// cards and terminals): one closed and one open attendance.
			ctx := context.Background()
			db := st.DB(ctx)
			now := time.Now().UTC()
			var vid int64
			require.NoError(t, db.Raw("SELECT MIN(id) FROM volunteers WHERE org_id = ?", h.guangzhou.ID).Scan(&vid).Error)
			require.NoError(t, db.Exec(`INSERT INTO activities (org_id, org_path, title, site, starts_at, ends_at, created_at)
				VALUES (?, ?, '清洁珠江', '海心沙', ?, ?, ?)`, h.guangzhou.ID, h.guangzhou.Path, now, now.Add(4*time.Hour), now).Error)
			var aid int64
			require.NoError(t, db.Raw("SELECT MAX(id) FROM activities").Scan(&aid).Error)
			require.NoError(t, db.Exec(`INSERT INTO attendances (activity_id, volunteer_id, org_path, in_at, out_at, minutes, year)
				VALUES (?, ?, ?, ?, ?, 90, ?), (?, ?, ?, ?, NULL, 0, ?)`,
				aid, vid, h.guangzhou.Path, now.Add(-2*time.Hour), now.Add(-30*time.Minute), year,
				aid, vid, h.guangzhou.Path, now, year).Error)

			var hours struct{ Rows []hoursRowResponse }
			r := h.do(http.MethodGet, fmt.Sprintf("/v1/reports/service-hours?year=%d", year), "admin", nil)
			require.Equal(t, http.StatusOK, r.status, string(r.body))
			r.json(t, &hours)
			require.Equal(t, "广东省", hours.Rows[0].Name)
			require.EqualValues(t, 90, hours.Rows[0].Minutes)
			require.InDelta(t, 1.5, hours.Rows[0].Hours, 1e-9)
			r = h.do(http.MethodGet, fmt.Sprintf("/v1/reports/service-hours?year=%d&format=xlsx", year), "admin", nil)
			require.Equal(t, http.StatusOK, r.status, string(r.body))

			var live activityCheckinsResponse
			r = h.do(http.MethodGet, fmt.Sprintf("/v1/reports/activity-checkins?activity=%d", aid), "gz", nil)
			require.Equal(t, http.StatusOK, r.status, string(r.body))
			r.json(t, &live)
			require.Equal(t, "清洁珠江", live.Title)
			require.EqualValues(t, 2, live.Attendances)
			require.EqualValues(t, 1, live.Open)
			require.EqualValues(t, 90, live.Minutes)
			require.Len(t, live.Rows, 2)
			require.Equal(t, "志*者", live.Rows[0].Name, "names are masked")
			require.Nil(t, live.Rows[0].OutAt)
			r = h.do(http.MethodGet, fmt.Sprintf("/v1/reports/activity-checkins?activity=%d", aid), "mz", nil)
			require.Equal(t, http.StatusNotFound, r.status, "another city's activity")
			r = h.do(http.MethodGet, "/v1/reports/activity-checkins?activity=999", "admin", nil)
			require.Equal(t, http.StatusNotFound, r.status)
		})

		t.Run("bad parameters", func(t *testing.T) {
			for _, p := range []string{"?year=1999", "?format=pdf", "?org=-1", "?year=abc"} {
				r := h.do(http.MethodGet, "/v1/reports/targets"+p, "admin", nil)
				require.Equal(t, http.StatusBadRequest, r.status, p)
				r.problem(t)
			}
		})
	})
}

func TestConsoleServed(t *testing.T) {
	s := newStubServer(t)
	for _, tc := range []struct {
		path, ctype string
		status      int
		contains    string
	}{
		{"/", "text/html", http.StatusOK, "志愿者卡管理台"},
		{"/console/app.js", "javascript", http.StatusOK, "sessionStorage"},
		{"/console/app.css", "text/css", http.StatusOK, "--brand"},
		{"/console/nope.js", "", http.StatusNotFound, ""},
		{"/console/index.html", "", http.StatusNotFound, ""},
	} {
		t.Run(tc.path, func(t *testing.T) {
			rec := newRecorder(s, tc.path)
			require.Equal(t, tc.status, rec.Code)
			require.Contains(t, rec.Header().Get("Content-Type"), tc.ctype)
			require.Contains(t, rec.Body.String(), tc.contains)
			if tc.status == http.StatusOK {
				require.Contains(t, rec.Header().Get("Content-Security-Policy"), "default-src 'self'")
			}
		})
	}
}

func newRecorder(s *Server, path string) *httptest.ResponseRecorder {
	rec := httptest.NewRecorder()
	s.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
	return rec
}

// FuzzReportQuery sends arbitrary query strings to the report routes: never
// a 5xx.
func FuzzReportQuery(f *testing.F) {
	for _, q := range []string{"year=2017", "year=2018&org=2&format=csv", "format=xlsx", "org=abc", "year=99999999999999999999",
		"format=%00", "activity=1", "year=2017&year=2018", "org=-5&format=json"} {
		f.Add(q)
	}
	h := newHarness(f, storetest.SQLite(f), nil)
	routes := []string{"targets", "applications", "service-hours", "clothing", "contacts", "activity-checkins"}
	f.Fuzz(func(t *testing.T, q string) {
		for _, r := range routes {
			req, err := http.NewRequest(http.MethodGet, h.ts.URL+"/v1/reports/"+r, nil)
			require.NoError(t, err)
			req.URL.RawQuery = q
			req.Header.Set("Authorization", "Bearer "+h.tokens["gz"])
			res, err := h.client.Do(req)
			if err != nil {
				t.Skip("the HTTP client refuses this query") // control characters
			}
			_ = res.Body.Close()
			require.Less(t, res.StatusCode, 500, "%s?%s", r, q)
		}
	})
}

// TestSpreadsheetFormulaGuard: every text cell that a spreadsheet would run
// as a formula (=, +, -, @, tab, CR) is defused in CSV and XLSX alike, and
// numbers, negative ones too, stay numbers.
func TestSpreadsheetFormulaGuard(t *testing.T) {
	tb := table{Name: "guard", Columns: []string{"text", "number"}, Rows: [][]any{
		{"=HYPERLINK(\"x\")", int64(-5)}, {"+1", 3.5}, {"-2+3", int64(0)}, {"@SUM(A1)", int64(1)},
		{"\tx", int64(2)}, {"\rx", int64(3)}, {"张三", int64(4)},
	}}
	want := []string{"'=HYPERLINK(\"x\")", "'+1", "'-2+3", "'@SUM(A1)", "'\tx", "'\rx", "张三"}

	b, err := tableCSV(tb)
	require.NoError(t, err)
	recs, err := csv.NewReader(bytes.NewReader(bytes.TrimPrefix(b, []byte(utf8BOM)))).ReadAll()
	require.NoError(t, err)
	require.Len(t, recs, len(want)+1)
	for i, w := range want {
		require.Equal(t, w, recs[i+1][0], "csv row %d", i+1)
	}
	require.Equal(t, "-5", recs[1][1], "a negative number is not text")

	x, err := tableXLSX(tb)
	require.NoError(t, err)
	f, err := excelize.OpenReader(bytes.NewReader(x))
	require.NoError(t, err)
	defer f.Close()
	for i, w := range want {
		got, err := f.GetCellValue("guard", fmt.Sprintf("A%d", i+2))
		require.NoError(t, err)
		require.Equal(t, w, got, "xlsx row %d", i+2)
	}
	typ, err := f.GetCellType("guard", "B2")
	require.NoError(t, err)
	require.NotEqual(t, excelize.CellTypeSharedString, typ)
	require.NotEqual(t, excelize.CellTypeInlineString, typ)
}
