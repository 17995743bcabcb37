package api

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/volcard/volcard/issuance"
	"github.com/volcard/volcard/issuance/reports"
	"github.com/volcard/volcard/issuance/store"
	"github.com/volcard/volcard/issuance/store/storetest"
	"github.com/volcard/volcard/pii"
)

// issuedHolder registers a volunteer in org and takes an application of the
// provincial BOC card to an issued card, recorded as the bank would.
func issuedHolder(t testing.TB, h *harness, org issuance.Org, seq int) (issuance.Volunteer, issuance.Application) {
	t.Helper()
	ctx, sys := context.Background(), issuance.SystemActor()
	v, err := h.svc.RegisterVolunteer(ctx, sys, issuance.NewVolunteer{OrgID: org.ID, Name: "李小红", LeagueMember: true,
		IDNumber: residentID(org.RegionCode, "19980305", seq), Phone: "13800138000"})
	require.NoError(t, err)
	a, err := h.svc.Apply(ctx, sys, v.ID, "GD-RV-BOC", issuance.ChannelOnline)
	require.NoError(t, err)
	_, err = h.svc.Approve(ctx, sys, a.ID)
	require.NoError(t, err)
	_, err = h.svc.SubmitApprovedToBank(ctx, 100)
	require.NoError(t, err)
	body := fmt.Sprintf("621661%012d", seq)
	_, err = h.svc.RecordBankApproval(ctx, a.ID, issuance.IssuedCard{PAN: pii.NewSecret(pii.KindOther, body+luhnDigit(body)),
		Expiry: "3112", PSN: "01", Reference: "R" + strconv.Itoa(seq)})
	require.NoError(t, err)
	for _, to := range []issuance.Status{issuance.StatusPersonalized, issuance.StatusIssued} {
		_, err = h.svc.Transition(ctx, sys, a.ID, to, "handed over")
		require.NoError(t, err)
	}
	return v, a
}

// holderRequests returns the payloads of an application's holder_update
// outbox rows.
func holderRequests(t *testing.T, st *store.Store, appID int64) []string {
	t.Helper()
	var out []string
	require.NoError(t, st.DB(context.Background()).Raw(
		"SELECT payload FROM bank_requests WHERE application_id = ? AND kind = 'holder_update' ORDER BY id", appID).Scan(&out).Error)
	return out
}

// TestVolunteerEditAPI edits volunteers through the API on both databases:
// a phone change and a name correction of a card holder each queue a
// holder update for the bank (without personal data in the row) with the
// audit event; a move between organisations keeps the targets counters
// equal to a recount; bad or out-of-scope edits are refused with nothing
// written.
func TestVolunteerEditAPI(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		h := newOutboxHarness(t, st)
		ctx := context.Background()
		v, app := issuedHolder(t, h, h.meizhou, 7)
		vp := "/v1/volunteers/" + strconv.FormatInt(v.ID, 10)

		r := h.do("PATCH", vp, "mz", map[string]any{"phone": "13911112222"})
		require.Equal(t, http.StatusOK, r.status, "body: %s", r.body)
		got, err := h.svc.GetVolunteer(ctx, issuance.SystemActor(), v.ID)
		require.NoError(t, err)
		require.Equal(t, "13911112222", got.Phone.Reveal())
		reqs := holderRequests(t, st, app.ID)
		require.Len(t, reqs, 1)
		require.JSONEq(t, fmt.Sprintf(`{"volunteer_id":%d,"fields":["phone"]}`, v.ID), reqs[0])

		before := rowCounts(t, st)
		for _, c := range []struct {
			name, token string
			body        map[string]any
			status      int
		}{
			{"name without reason", "mz", map[string]any{"name": "李晓红"}, http.StatusBadRequest},
			{"reason without name", "mz", map[string]any{"name_reason": "笔误"}, http.StatusBadRequest},
			{"bad phone", "mz", map[string]any{"phone": "12345"}, http.StatusBadRequest},
			{"nothing", "mz", map[string]any{}, http.StatusBadRequest},
			{"another city's admin", "gz", map[string]any{"phone": "13911113333"}, http.StatusNotFound},
			{"move out of scope", "mz", map[string]any{"org_id": h.guangzhou.ID}, http.StatusBadRequest},
			{"bank staff moves", "boc", map[string]any{"org_id": h.guangzhou.ID}, http.StatusForbidden},
			{"terminal", "terminal", map[string]any{"phone": "13911113333"}, http.StatusForbidden},
			{"id number is not editable", "admin", map[string]any{"id_number": "110101199003077777"}, http.StatusBadRequest},
		} {
			t.Run(c.name, func(t *testing.T) {
				r := h.do("PATCH", vp, c.token, c.body)
				require.Equal(t, c.status, r.status, "body: %s", r.body)
				r.problem(t)
			})
		}
		require.Equal(t, before, rowCounts(t, st), "refused edits wrote nothing")

		// Bank staff correct the name of their bank's holder at the counter.
		r = h.do("PATCH", vp, "boc", map[string]any{"name": "李晓红", "name_reason": "登记时笔误，凭身份证更正"})
		require.Equal(t, http.StatusOK, r.status, "body: %s", r.body)
		got, err = h.svc.GetVolunteer(ctx, issuance.SystemActor(), v.ID)
		require.NoError(t, err)
		require.Equal(t, "李晓红", got.Name)
		require.Equal(t, "LI XIAOHONG", got.EmbossName)
		reqs = holderRequests(t, st, app.ID)
		require.Len(t, reqs, 2)
		require.Contains(t, reqs[1], `"fields":["name"]`)
		for _, p := range reqs {
			require.NotContains(t, p, "139")
			require.NotContains(t, p, "李")
		}

		// The province admin moves the holder to Guangzhou: the counters
		// move along.
		r = h.do("PATCH", vp, "admin", map[string]any{"org_id": h.guangzhou.ID})
		require.Equal(t, http.StatusOK, r.status, "body: %s", r.body)
		require.Len(t, holderRequests(t, st, app.ID), 2, "a move is not the bank's business")
		require.Equal(t, http.StatusNotFound, h.do("GET", vp, "mz", nil).status, "moved out of Meizhou's scope")
		require.Equal(t, http.StatusOK, h.do("GET", vp, "gz", nil).status)
		diff, err := h.rs.CheckCounters(ctx, issuance.SystemActor())
		require.NoError(t, err)
		require.Empty(t, diff, "counters equal a recount after the move")
		counts, err := st.SumCounters(ctx, h.guangzhou.Path, 3000)
		require.NoError(t, err)
		var total reports.OrgYearCounts
		for _, c := range counts {
			total.Volunteers += c.Volunteers
			total.Holders += c.Holders
			total.LeagueMembers += c.LeagueMembers
		}
		require.Equal(t, int64(1), total.Volunteers)
		require.Equal(t, int64(1), total.Holders)
		require.Equal(t, int64(1), total.LeagueMembers)

		evs := auditOf(t, h, "volunteer", strconv.FormatInt(v.ID, 10))
		require.Len(t, evs, 3)
		require.Contains(t, evs[0].Detail, fmt.Sprintf("org %d→%d", h.meizhou.ID, h.guangzhou.ID))
		require.Contains(t, evs[1].Detail, "reason: 登记时笔误")
		require.Contains(t, evs[1].Detail, "sent to the bank (1)")
		require.Equal(t, "bank_staff", evs[1].ActorRole)
		require.Equal(t, "changed: phone; sent to the bank (1)", evs[2].Detail)

		// A volunteer without a card: nothing goes to a bank.
		plain, err := h.svc.RegisterVolunteer(ctx, issuance.SystemActor(), issuance.NewVolunteer{OrgID: h.meizhou.ID,
			Name: "张三", IDNumber: residentID("441400", "19990101", 8), Phone: "13800138001"})
		require.NoError(t, err)
		var n int64
		require.NoError(t, st.DB(ctx).Raw("SELECT COUNT(*) FROM bank_requests").Scan(&n).Error)
		r = h.do("PATCH", "/v1/volunteers/"+strconv.FormatInt(plain.ID, 10), "mz", map[string]any{"phone": "13700000000"})
		require.Equal(t, http.StatusOK, r.status, "body: %s", r.body)
		var n2 int64
		require.NoError(t, st.DB(ctx).Raw("SELECT COUNT(*) FROM bank_requests").Scan(&n2).Error)
		require.Equal(t, n, n2)
	})
}

// TestHolderUpdateReachesBank is the holder update end to end: PostgreSQL,
// the outbox worker and the bank simulator over TCP. A phone change and a
// name correction through the API reach the bank as 0300 changes without
// ST and their rows end done.
func TestHolderUpdateReachesBank(t *testing.T) {
	ctx := context.Background()
	h := newCardHarness(t)
	sys := issuance.SystemActor()
	app, err := h.svc.Apply(ctx, sys, h.holder.ID, "GD-RV-BOC", issuance.ChannelOnline)
	require.NoError(t, err)
	_, err = h.svc.Approve(ctx, sys, app.ID)
	require.NoError(t, err)
	require.Eventually(t, func() bool {
		a, err := h.svc.GetApplication(ctx, sys, app.ID)
		require.NoError(t, err)
		return a.Status == issuance.StatusBankApproved
	}, 30*time.Second, 10*time.Millisecond)
	_, ok := h.sim.HolderData(app.Number)
	require.False(t, ok)

	vp := "/v1/volunteers/" + strconv.FormatInt(h.holder.ID, 10)
	r := h.do("PATCH", vp, "admin", map[string]any{"phone": "13922223333", "name": "王小明", "name_reason": "改名，凭户口簿"})
	require.Equal(t, http.StatusOK, r.status, "body: %s", r.body)
	var got struct {
		Updates int
		Name    string
		Emboss  string
		Phone   string
	}
	require.Eventually(t, func() bool {
		hd, ok := h.sim.HolderData(app.Number)
		got.Updates, got.Name, got.Emboss, got.Phone = hd.Updates, hd.Name, hd.EmbossName, hd.Phone
		return ok
	}, 30*time.Second, 10*time.Millisecond, "the holder update never reached the bank")
	require.Equal(t, "王小明", got.Name)
	require.Equal(t, "WANG XIAOMING", got.Emboss)
	require.Equal(t, "13922223333", got.Phone)
	require.Eventually(t, func() bool {
		var states []string
		require.NoError(t, h.st.DB(ctx).Raw("SELECT state FROM bank_requests WHERE application_id = ? AND kind = 'holder_update'",
			app.ID).Scan(&states).Error)
		return len(states) == 1 && states[0] == "done"
	}, 30*time.Second, 10*time.Millisecond, "the holder_update row never ended done")
}
