package api

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/volcard/volcard/issuance"
	"github.com/volcard/volcard/issuance/store"
	"github.com/volcard/volcard/issuance/store/storetest"
	"github.com/volcard/volcard/wire"
)

// TestRosterModes uploads several rosters to one session on both
// databases: the same file again is a repeat; a different file without
// mode is a 409 saying to choose and writes nothing; append adds rows;
// replace removes the earlier rows not in it and cancels their
// applications; a replacement after approval is refused; the report counts
// every upload's rows.
func TestRosterModes(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		h := newHarness(t, st, nil)
		ctx := context.Background()
		require.NoError(t, h.svc.PutBranch(ctx, issuance.SystemActor(),
			&issuance.Branch{BankCode: "BOC", OrgID: h.meizhou.ID, Name: "中国银行梅州分行"}))
		r := h.do("POST", "/v1/onsite-sessions", "mz", map[string]any{"org_id": h.meizhou.ID, "site": "嘉应学院",
			"expected_count": 40, "product": "GD-RV-BOC", "date": "2030-05-04"})
		require.Equal(t, http.StatusCreated, r.status, "body: %s", r.body)
		var sess struct{ ID int64 }
		r.json(t, &sess)
		base := "/v1/onsite-sessions/" + strconv.FormatInt(sess.ID, 10)
		person := func(n int) string {
			return fmt.Sprintf("人员%d,%s,138000%05d,否,M\n", n, residentID("441400", "20010101", 100+n), n)
		}
		file := func(people ...int) string {
			s := "姓名,身份证号,手机号,是否团员,服装尺码\n"
			for _, p := range people {
				s += person(p)
			}
			return s
		}
		upload := func(body, mode string) (int, wire.RosterReport, string) {
			t.Helper()
			p := base + "/roster"
			if mode != "" {
				p += "?mode=" + mode
			}
			r := h.do("POST", p, "mz", body, "Content-Type", "text/csv")
			var rep wire.RosterReport
			if r.status == http.StatusOK {
				r.json(t, &rep)
			}
			return r.status, rep, string(r.body)
		}
		status, rep, body := upload(file(1, 2, 3), "")
		require.Equal(t, http.StatusOK, status, body)
		require.Equal(t, "first", rep.Mode)
		require.Equal(t, 3, rep.Accepted)
		second := rep.Items[1].ApplicationID // 人员2's application
		status, rep, body = upload(file(1, 2, 3), "")
		require.Equal(t, http.StatusOK, status, body)
		require.True(t, rep.Repeated, "the same file again is a repeat, no mode needed")

		before := rowCounts(t, st)
		status, _, body = upload(file(3, 4), "")
		require.Equal(t, http.StatusConflict, status, body)
		require.Contains(t, body, "mode=append")
		require.Contains(t, body, "mode=replace")
		status, _, body = upload(file(3, 4), "merge")
		require.Equal(t, http.StatusBadRequest, status, body)
		require.Equal(t, before, rowCounts(t, st), "a refused upload wrote nothing")

		status, rep, body = upload(file(3, 4), "append")
		require.Equal(t, http.StatusOK, status, body)
		require.Equal(t, "append", rep.Mode)
		require.Equal(t, 1, rep.Stored)
		require.Equal(t, 1, rep.AlreadyStored)

		status, rep, body = upload(file(1, 5), "replace")
		require.Equal(t, http.StatusOK, status, body)
		require.Equal(t, "replace", rep.Mode)
		require.Equal(t, 3, rep.Removed, "persons 2, 3 and 4 left the roster")

		r = h.do("GET", base+"/queue", "mz", nil)
		require.Equal(t, http.StatusOK, r.status, "body: %s", r.body)
		require.Contains(t, string(r.body), "人员1")
		require.Contains(t, string(r.body), "人员5")
		require.NotContains(t, string(r.body), "人员2")
		r = h.do("GET", base+"/report", "mz", nil)
		require.Equal(t, http.StatusOK, r.status, "body: %s", r.body)
		var counts wire.OnsiteReport
		r.json(t, &counts)
		require.Equal(t, 3+2+2, counts.UploadedRows, "every upload's rows")
		require.Len(t, counts.Uploads, 3)
		require.Equal(t, []string{"first", "append", "replace"}, []string{counts.Uploads[0].Mode, counts.Uploads[1].Mode, counts.Uploads[2].Mode})
		require.Equal(t, 2, counts.Accepted)
		a, err := h.svc.GetApplication(ctx, issuance.SystemActor(), second)
		require.NoError(t, err)
		require.Equal(t, issuance.StatusCancelled, a.Status, "a removed row's application is cancelled")
		require.Contains(t, a.Reason, "removed from the on-site roster by upload")

		r = h.do("POST", base+"/approve", "mz", nil)
		require.Equal(t, http.StatusOK, r.status, "body: %s", r.body)
		before = rowCounts(t, st)
		status, _, body = upload(file(6), "replace")
		require.Equal(t, http.StatusConflict, status, body)
		require.Contains(t, body, "approved")
		require.Equal(t, before, rowCounts(t, st))
		status, rep, body = upload(file(6), "append")
		require.Equal(t, http.StatusOK, status, body)
		require.Equal(t, 1, rep.Stored)
		require.False(t, strings.Contains(body, "removed"))
	})
}
