package api

import (
	"context"
	"net/http"
	"strconv"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/volcard/volcard/issuance"
	"github.com/volcard/volcard/issuance/store"
	"github.com/volcard/volcard/issuance/store/storetest"
)

// TestInstantIssuanceAPI approves a walk-in at the counter on both
// databases: refused while the organisation's policy is off, for a token
// without a branch or of another branch, and for an application not made
// at the branch, each with the rule named and nothing written; allowed once
// the province admin turns the policy on for the city, the event recording
// the bank staff's token, role and channel.
func TestInstantIssuanceAPI(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		h := newOutboxHarness(t, st)
		ctx, sys := context.Background(), issuance.SystemActor()
		var branches []int64
		for _, name := range []string{"中国银行梅州分行", "中国银行梅江支行"} {
			br := &issuance.Branch{BankCode: "BOC", OrgID: h.meizhou.ID, Name: name}
			require.NoError(t, h.svc.PutBranch(ctx, sys, br))
			branches = append(branches, br.ID)
		}
		for i, name := range []string{"counter", "other branch"} {
			plain, _, err := h.svc.CreateToken(ctx, sys, issuance.NewToken{Name: name, Role: issuance.RoleBankStaff,
				BankCode: "BOC", BranchID: branches[i]})
			require.NoError(t, err)
			h.tokens[name] = plain
		}
		// The walk-in: registered and applied for at the counter.
		r := h.do("POST", "/v1/volunteers", "counter", map[string]any{"org_id": h.meizhou.ID, "name": "刘洋",
			"id_number": residentID("441400", "19970707", 21), "phone": "13800001111"})
		require.Equal(t, http.StatusCreated, r.status, "body: %s", r.body)
		var v struct {
			ID int64 `json:"id"`
		}
		r.json(t, &v)
		r = h.do("POST", "/v1/applications", "counter", map[string]any{"volunteer_id": v.ID, "product": "GD-RV-BOC"})
		require.Equal(t, http.StatusCreated, r.status, "body: %s", r.body)
		var app struct {
			ID      int64  `json:"id"`
			Channel string `json:"channel"`
			Status  string `json:"status"`
		}
		r.json(t, &app)
		require.Equal(t, "branch", app.Channel)
		path := "/v1/applications/" + strconv.FormatInt(app.ID, 10) + "/instant-approve"

		// An online application of another volunteer, for the walk-in rule.
		other, err := h.svc.RegisterVolunteer(ctx, sys, issuance.NewVolunteer{OrgID: h.meizhou.ID, Name: "周杰",
			IDNumber: residentID("441400", "19960606", 22), Phone: "13800002222"})
		require.NoError(t, err)
		online, err := h.svc.Apply(ctx, sys, other.ID, "GD-RV-BOC", issuance.ChannelOnline)
		require.NoError(t, err)

		refuse := func(name, token, p, rule string) {
			t.Helper()
			before := rowCounts(t, st)
			r := h.do("POST", p, token, nil)
			require.Equal(t, http.StatusForbidden, r.status, "%s: %s", name, r.body)
			require.Contains(t, r.problem(t).Detail, rule, name)
			require.Equal(t, before, rowCounts(t, st), "%s wrote rows", name)
		}
		refuse("policy off", "counter", path, "policy does not allow instant issuance")
		require.Equal(t, http.StatusForbidden, h.do("PATCH", "/v1/orgs/"+strconv.FormatInt(h.meizhou.ID, 10), "mz",
			map[string]any{"instant_issuance": true}).status, "only the province admin sets the policy")
		r = h.do("PATCH", "/v1/orgs/"+strconv.FormatInt(h.meizhou.ID, 10), "admin", map[string]any{"instant_issuance": true})
		require.Equal(t, http.StatusOK, r.status, "body: %s", r.body)
		require.Contains(t, string(r.body), `"instant_issuance":true`)
		require.Contains(t, auditOf(t, h, "org", strconv.FormatInt(h.meizhou.ID, 10))[0].Detail, "instant_issuance false→true")

		refuse("no branch", "boc", path, "needs a token of a branch")
		refuse("another branch", "other branch", path, "made at another branch")
		refuse("not a walk-in", "counter", "/v1/applications/"+strconv.FormatInt(online.ID, 10)+"/instant-approve", "walk-in")
		require.Equal(t, http.StatusForbidden, h.do("POST", path, "mz", nil).status, "the committee approves with /approve")

		r = h.do("POST", path, "counter", nil)
		require.Equal(t, http.StatusOK, r.status, "body: %s", r.body)
		r.json(t, &app)
		require.Equal(t, "approved", app.Status)
		evs, err := h.svc.Events(ctx, sys, app.ID)
		require.NoError(t, err)
		last := evs[len(evs)-1]
		require.Equal(t, issuance.StatusApproved, last.To)
		require.Equal(t, issuance.RoleBankStaff, last.ActorRole)
		require.Equal(t, issuance.ChannelBranch, last.Channel)
		require.Equal(t, issuance.InstantIssuanceReason, last.Reason)
		require.Equal(t, evs[0].ActorTokenID, last.ActorTokenID, "the same counter token made and approved it")
		require.Equal(t, http.StatusConflict, h.do("POST", path, "counter", nil).status, "approved already")
	})
}
