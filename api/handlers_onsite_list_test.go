package api

import (
	"bytes"
	"encoding/csv"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"golang.org/x/text/encoding/simplifiedchinese"

	"github.com/volcard/volcard/client"
	"github.com/volcard/volcard/issuance/roster/rostertest"
	"github.com/volcard/volcard/wire"
)

// TestOnsiteSessionListAPI checks GET /v1/onsite-sessions on PostgreSQL
// through HTTP: scoping per role (including denials), filters, cursor
// pages, the items' names and roster figures; and org_name in the
// application list.
func TestOnsiteSessionListAPI(t *testing.T) {
	e := newOnsiteEnv(t)
	date := time.Now().AddDate(0, 0, 7).Format(time.DateOnly)
	request := func(token string, org int64, site string) wire.OnsiteSession {
		t.Helper()
		r := e.do(http.MethodPost, "/v1/onsite-sessions", token, wire.NewOnsiteSession{OrgID: org, Site: site, Date: date,
			ExpectedCount: 45, Product: "GD-RV-BOC"}, "Idempotency-Key", fmt.Sprintf("list-%d-%d", org, len(site)))
		require.Equal(t, http.StatusCreated, r.status, "%s", r.body)
		var s wire.OnsiteSession
		r.json(t, &s)
		return s
	}
	uni := request("uni", e.university.ID, "体育馆")
	city := request("admin", e.meizhou.ID, "梅州市青年活动中心")
	r := e.upload("bocmz", uni.ID, readFixture(t, "onsite-45-gb18030.csv"), "text/csv")
	require.Equal(t, http.StatusOK, r.status, "%s", r.body)

	list := func(token, query string) (wire.OnsiteSessionPage, response) {
		t.Helper()
		r := e.do(http.MethodGet, "/v1/onsite-sessions"+query, token, nil)
		var p wire.OnsiteSessionPage
		if r.status == http.StatusOK {
			r.json(t, &p)
		}
		return p, r
	}
	ids := func(p wire.OnsiteSessionPage) []int64 {
		out := []int64{}
		for _, it := range p.Items {
			out = append(out, it.ID)
		}
		return out
	}

	tests := []struct {
		name   string
		token  string
		query  string
		status int
		want   []int64
	}{
		{name: "province admin", token: "admin", status: 200, want: []int64{city.ID, uni.ID}},
		{name: "university admin: its own", token: "uni", status: 200, want: []int64{uni.ID}},
		{name: "city admin: its subtree", token: "mz", status: 200, want: []int64{city.ID, uni.ID}},
		{name: "other city admin: nothing", token: "gz", status: 200, want: []int64{}},
		{name: "bank staff of the city's branch", token: "bocmz", status: 200, want: []int64{city.ID, uni.ID}},
		{name: "state filter", token: "admin", query: "?state=requested&org=" + fmt.Sprint(e.university.ID), status: 200, want: []int64{uni.ID}},
		{name: "org filter outside the scope", token: "gz", query: "?org=" + fmt.Sprint(e.meizhou.ID), status: 404},
		{name: "org filter above the scope", token: "uni", query: "?org=" + fmt.Sprint(e.meizhou.ID), status: 404},
		{name: "terminal", token: "terminal", status: 403},
		{name: "platform", token: "platform", status: 403},
		{name: "no token", token: "", status: 401},
		{name: "bad state", token: "admin", query: "?state=open", status: 400},
		{name: "bad limit", token: "admin", query: "?limit=0", status: 400},
		{name: "bad cursor", token: "admin", query: "?cursor=xyz", status: 400},
		{name: "bad org", token: "admin", query: "?org=-1", status: 400},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p, r := list(tc.token, tc.query)
			require.Equal(t, tc.status, r.status, "%s", r.body)
			if tc.status != http.StatusOK {
				r.problem(t)
				return
			}
			require.Equal(t, tc.want, ids(p))
		})
	}

	t.Run("pages", func(t *testing.T) {
		p, r := list("admin", "?limit=1")
		require.Equal(t, http.StatusOK, r.status)
		require.Equal(t, []int64{city.ID}, ids(p))
		require.NotEmpty(t, p.NextCursor)
		p2, r := list("admin", "?limit=1&cursor="+p.NextCursor)
		require.Equal(t, http.StatusOK, r.status)
		require.Equal(t, []int64{uni.ID}, ids(p2))
		require.Empty(t, p2.NextCursor)
	})

	t.Run("items", func(t *testing.T) {
		p, _ := list("uni", "")
		require.Len(t, p.Items, 1)
		it := p.Items[0]
		require.Equal(t, "嘉应学院", it.OrgName)
		require.Equal(t, 40, it.Accepted)
		require.Equal(t, 5, it.Rejected)
		require.Equal(t, 45, it.ExpectedCount)
		require.Equal(t, date, it.Date)
		require.Equal(t, "requested", it.Status)
		require.Equal(t, "中国银行梅州分行", it.Branch.Name)
		require.Empty(t, it.Branch.ContactPhone, "contacts only in GET /v1/onsite-sessions/{id}")
		require.False(t, strings.Contains(string(e.do(http.MethodGet, "/v1/onsite-sessions", "uni", nil).body), "0753"))
	})

	t.Run("client", func(t *testing.T) {
		c, err := client.New(e.ts.URL, e.tokens["mz"])
		require.NoError(t, err)
		p, err := c.ListOnsiteSessions(t.Context(), client.OnsiteSessionFilter{State: "requested", OrgID: e.university.ID, Limit: 10})
		require.NoError(t, err)
		require.Equal(t, []int64{uni.ID}, ids(p))
	})

	t.Run("application list carries org_name", func(t *testing.T) {
		r := e.do(http.MethodGet, "/v1/applications?limit=2", "mz", nil)
		require.Equal(t, http.StatusOK, r.status, "%s", r.body)
		var page struct {
			Items []struct {
				OrgID   int64  `json:"org_id"`
				OrgName string `json:"org_name"`
			} `json:"items"`
		}
		r.json(t, &page)
		require.Len(t, page.Items, 2)
		for _, a := range page.Items {
			require.Equal(t, e.university.ID, a.OrgID)
			require.Equal(t, "嘉应学院", a.OrgName)
		}
	})

	// The rejected-rows CSV of an org admin has masked ID numbers and
	// phones: its 行号 column (the line in the uploaded file) and reasons
	// must find and explain each row in the original file.
	t.Run("rejected rows for the org admin", func(t *testing.T) {
		r := e.do(http.MethodGet, fmt.Sprintf("/v1/onsite-sessions/%d/rejected.csv", uni.ID), "uni", nil)
		require.Equal(t, http.StatusOK, r.status, "%s", r.body)
		recs, err := csv.NewReader(bytes.NewReader(bytes.TrimPrefix(r.body, []byte("\ufeff")))).ReadAll()
		require.NoError(t, err)
		require.Equal(t, "行号", recs[0][0])
		require.Equal(t, "原因", recs[0][len(recs[0])-1])
		require.Equal(t, "身份证号", recs[0][2])
		orig, err := simplifiedchinese.GB18030.NewDecoder().Bytes(readFixture(t, "onsite-45-gb18030.csv"))
		require.NoError(t, err)
		lines := strings.Split(strings.ReplaceAll(string(orig), "\r\n", "\n"), "\n")
		want := map[string]string{
			fmt.Sprint(rostertest.BadChecksumRow + 1): "[bad_checksum]", fmt.Sprint(rostertest.UnderAgeRow + 1): "[under_age]",
			fmt.Sprint(rostertest.DuplicateRow + 1): "[duplicate_in_file]", fmt.Sprint(rostertest.BadPhoneRow + 1): "[bad_phone]",
			fmt.Sprint(rostertest.MissingNameRow + 1): "[missing_field]",
		}
		require.Len(t, recs, 1+len(want))
		for _, rec := range recs[1:] {
			line, idn, reasons := rec[0], rec[2], rec[len(rec)-1]
			require.Contains(t, want, line)
			require.Contains(t, reasons, want[line], "line %s", line)
			require.Contains(t, idn, "*", "masked for the org admin")
			var n int
			_, err := fmt.Sscan(line, &n)
			require.NoError(t, err)
			// Line n of the file (1-based; columns 序号,身份证号,姓名,...).
			fields := strings.Split(lines[n-1], ",")
			require.Equal(t, fields[2], rec[1], "line %d of the file is this row (name)", n)
			if len(idn) == len(fields[1]) && len(idn) >= 4 {
				require.Equal(t, fields[1][len(fields[1])-4:], idn[len(idn)-4:], "line %d: last digits", n)
			}
		}
	})
}
