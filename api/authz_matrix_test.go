package api

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/volcard/volcard/issuance/feed"
	"github.com/volcard/volcard/issuance/onsite"
	"github.com/volcard/volcard/issuance/rebates"
	"github.com/volcard/volcard/issuance/reconcile"
	"github.com/volcard/volcard/wire"

	"github.com/volcard/volcard/issuance/checkin"

	"github.com/stretchr/testify/require"

	"github.com/volcard/volcard/issuance"
	"github.com/volcard/volcard/issuance/store"
	"github.com/volcard/volcard/issuance/store/storetest"
	"github.com/volcard/volcard/pii"
)

var updateMatrix = flag.Bool("update-matrix", false, "rewrite testdata/authz_matrix.golden and docs/authorization.md")

// The authorization matrix: every operation of the served OpenAPI document ×
// every kind of token × {in scope, out of scope}, plus no token, on
// PostgreSQL and SQLite. The expected statuses are testdata/
// authz_matrix.golden (reviewed by hand; -update-matrix rewrites it and
// docs/authorization.md). Besides the golden file, these hold for every
// case whatever the file says:
//   - no token is 401, a role the operation does not list is 403 (in and
//     out of scope alike);
//   - an object out of a scoped token's scope is never answered 2xx;
//   - a refused write (any 4xx) leaves every table's row count unchanged.
// An operation of the document with no row in the golden file fails the
// test, so a new route cannot ship without its row.

// matrixToken is a kind of token of the matrix. Home is Guangzhou (and
// BOC); away is Meizhou (and CCB).
type matrixToken struct {
	name string
	role issuance.Role
	// scoped: the away objects are out of its scope (province admin and
	// platform see the whole province).
	scoped bool
}

var matrixTokens = []matrixToken{
	{"province_admin", issuance.RoleProvinceAdmin, false},
	{"org_admin", issuance.RoleOrgAdmin, true},
	{"bank_staff_branch", issuance.RoleBankStaff, true},
	// Its organisation scope is the province (activities, organisations);
	// its bank bounds the rest, checked by bankBound and the golden file.
	{"bank_staff_bank", issuance.RoleBankStaff, false},
	{"terminal", issuance.RoleTerminal, true},
	{"platform", issuance.RolePlatform, false},
	// The hotline answers callers of the whole province, only through its
	// look-up (refused everywhere else).
	{"hotline", issuance.RoleHotline, false},
}

// matrixWorld is the data the cases point at.
type matrixWorld struct {
	h   *checkinHarness
	seq atomic.Int64
	// rebateMonths numbers the months generateRebateStatements asks for.
	rebateMonths atomic.Int64
	home, away   side
}

// side is what one side (home or away) holds.
type side struct {
	name      string
	org       issuance.Org
	product   string
	volunteer issuance.Volunteer
	idNumber  string
	app       issuance.Application
	card      issuance.Card
	pan       string
	activity  wire.Activity
	session   onsite.Session
	// recon is a reconciliation report of the side's bank.
	recon int64
	// offer is an offer of the side's organisation.
	offer int64
	// statement is the side's city's rebate statement of June 2025.
	statement int64
	// endpoint is a webhook endpoint scoped to the side's city and bank.
	endpoint int64
}

func newMatrixWorld(t *testing.T, st *store.Store) *matrixWorld {
	// The loss report's limit is not under test here (TestHolderLossReport).
	h := withCheckin(t, newOutboxHarness(t, st, func(o *Options) { o.LossReportBurst = 1000 }))
	ctx, sys := context.Background(), issuance.SystemActor()
	w := &matrixWorld{h: h}
	require.NoError(t, h.svc.PutBank(ctx, sys, issuance.Bank{Code: "CCB", Name: "中国建设银行"}))
	require.NoError(t, h.svc.PutProduct(ctx, sys, issuance.Product{Code: "MZ-CCB", Name: "梅州志愿者卡（建设银行）",
		BankCode: "CCB", BIN: "621700", AID: "A000000333010101", Kind: issuance.CardDebit, OrgID: h.meizhou.ID}))
	br := &issuance.Branch{BankCode: "BOC", OrgID: h.guangzhou.ID, Name: "中国银行广州分行"}
	require.NoError(t, h.svc.PutBranch(ctx, sys, br))
	require.NoError(t, h.svc.PutBranch(ctx, sys, &issuance.Branch{BankCode: "CCB", OrgID: h.meizhou.ID, Name: "建设银行梅州分行"}))
	for name, in := range map[string]issuance.NewToken{
		"province_admin":    {Name: "m admin", Role: issuance.RoleProvinceAdmin},
		"org_admin":         {Name: "m gz", Role: issuance.RoleOrgAdmin, OrgID: h.guangzhou.ID},
		"bank_staff_branch": {Name: "m boc gz", Role: issuance.RoleBankStaff, BankCode: "BOC", BranchID: br.ID},
		"bank_staff_bank":   {Name: "m boc", Role: issuance.RoleBankStaff, BankCode: "BOC"},
		"terminal":          {Name: "m terminal gz", Role: issuance.RoleTerminal, OrgID: h.guangzhou.ID},
		"platform":          {Name: "m platform", Role: issuance.RolePlatform},
		"hotline":           {Name: "m hotline", Role: issuance.RoleHotline},
	} {
		plain, _, err := h.svc.CreateToken(ctx, sys, in)
		require.NoError(t, err)
		h.tokens["m:"+name] = plain
	}
	w.home = w.newSide(t, "home", h.guangzhou, "GD-RV-BOC")
	w.away = w.newSide(t, "away", h.meizhou, "MZ-CCB")
	w.rebateStatements(t)
	return w
}

// rebateStatements generates June 2025's rebate statements from one
// spending advice of each side's card (its China date set back to June
// 2025) and records each side's statement.
func (w *matrixWorld) rebateStatements(t *testing.T) {
	ctx, sys := context.Background(), issuance.SystemActor()
	reb, err := rebates.New(w.h.svc, w.h.st)
	require.NoError(t, err)
	for _, s := range []*side{&w.home, &w.away} {
		bank := "BOC"
		if s.product == "MZ-CCB" {
			bank = "CCB"
		}
		_, err := reb.SetRate(ctx, sys, rebates.NewRate{BankCode: bank, ProductCode: s.product, RateBP: 50,
			FoundationBP: 2000, EffectiveFrom: "2025-01-01"})
		require.NoError(t, err)
		_, err = w.h.svc.RecordCardSpending(ctx, issuance.CardRef{PAN: pii.NewSecret(pii.KindOther, s.pan)},
			issuance.Spending{RRN: "M" + s.name, Amount: 10000, Currency: "156"})
		require.NoError(t, err)
	}
	require.NoError(t, w.h.st.DB(ctx).Exec("UPDATE card_spending SET china_date = '2025-06-15'").Error)
	_, _, err = reb.Generate(ctx, sys, "2025-06")
	require.NoError(t, err)
	_, sts, err := reb.Statements(ctx, sys, "2025-06")
	require.NoError(t, err)
	require.Len(t, sts, 2)
	for _, st := range sts {
		switch st.OrgID {
		case w.home.org.ID:
			w.home.statement = st.ID
		case w.away.org.ID:
			w.away.statement = st.ID
		}
	}
}

func (w *matrixWorld) newSide(t *testing.T, name string, org issuance.Org, product string) side {
	ctx, sys := context.Background(), issuance.SystemActor()
	s := side{name: name, org: org, product: product}
	s.volunteer, s.idNumber = w.volunteer(t, org, issuance.ChannelConsole)
	s.app, s.card, s.pan = w.card(t, s.volunteer, product)
	now := time.Now()
	a, err := w.h.ck.CreateActivity(ctx, sys, checkin.NewActivity{OrgID: org.ID, Title: "植树 " + name, Site: "公园",
		StartsAt: now.Add(-time.Hour), EndsAt: now.Add(3 * time.Hour)})
	require.NoError(t, err)
	s.activity = wire.Activity{ID: a.ID}
	s.session, err = w.h.on.Request(ctx, sys, onsite.NewSession{OrgID: org.ID, Site: "礼堂 " + name,
		Date: now.AddDate(0, 0, 14), ExpectedCount: 40, ProductCode: product})
	require.NoError(t, err)
	rec, err := reconcile.New(w.h.svc, w.h.st)
	require.NoError(t, err)
	rep, err := rec.Reconcile(ctx, sys, reconcile.Input{BankCode: s.app.BankCode, Date: now, Source: "matrix",
		PANMAC: func(string) string { return "" }, Rows: func(func(reconcile.BankCard, error) bool) {}})
	require.NoError(t, err)
	s.recon = rep.ID
	s.offer = freshOffer(t, w, s)
	s.endpoint = w.endpoint(t, s)
	return s
}

// endpoint registers a webhook endpoint scoped to the side's city and bank
// (as that bank's staff in that city would).
func (w *matrixWorld) endpoint(t *testing.T, s side) int64 {
	a := issuance.Actor{Role: issuance.RoleBankStaff, BankCode: s.app.BankCode, ScopePath: s.org.Path}
	e, _, err := w.h.fd.CreateEndpoint(context.Background(), a, feed.NewEndpoint{URL: "https://platform.example/hooks/" + s.name})
	require.NoError(t, err)
	return e.ID
}

func freshEndpoint(req func(ep int64) matrixRequest) matrixOp {
	return func(t *testing.T, w *matrixWorld, s side) matrixRequest { return req(w.endpoint(t, s)) }
}

// volunteer registers a fresh volunteer in org.
func (w *matrixWorld) volunteer(t *testing.T, org issuance.Org, src issuance.Channel) (issuance.Volunteer, string) {
	n := int(w.seq.Add(1))
	region := org.RegionCode
	id := residentID(region, fmt.Sprintf("1990%02d%02d", 1+n/28%12, 1+n%28), n%1000)
	v, err := w.h.svc.RegisterVolunteer(context.Background(), issuance.SystemActor(), issuance.NewVolunteer{
		OrgID: org.ID, Name: "测试" + strconv.Itoa(n), IDNumber: id, Phone: "13800138000", Source: src})
	require.NoError(t, err)
	return v, id
}

// application makes a submitted application of v.
func (w *matrixWorld) application(t *testing.T, v issuance.Volunteer, product string) issuance.Application {
	a, err := w.h.svc.Apply(context.Background(), issuance.SystemActor(), v.ID, product, issuance.ChannelOnline)
	require.NoError(t, err)
	return a
}

// card takes a fresh application of v to bank_approved with a card of the
// product's BIN, recorded as the bank would.
func (w *matrixWorld) card(t *testing.T, v issuance.Volunteer, product string) (issuance.Application, issuance.Card, string) {
	ctx, sys := context.Background(), issuance.SystemActor()
	a := w.application(t, v, product)
	_, err := w.h.svc.Approve(ctx, sys, a.ID)
	require.NoError(t, err)
	_, err = w.h.svc.SubmitApprovedToBank(ctx, 100)
	require.NoError(t, err)
	bin := "621661"
	if product == "MZ-CCB" {
		bin = "621700"
	}
	body := fmt.Sprintf("%s%012d", bin, w.seq.Add(1))
	pan := body + luhnDigit(body)
	_, err = w.h.svc.RecordBankApproval(ctx, a.ID, issuance.IssuedCard{PAN: pii.NewSecret(pii.KindOther, pan),
		Expiry: "3112", PSN: "01", Reference: "R" + strconv.FormatInt(a.ID, 10)})
	require.NoError(t, err)
	c, err := w.h.svc.CardOf(ctx, a.ID)
	require.NoError(t, err)
	return a, c, pan
}

func luhnDigit(body string) string {
	sum := 0
	for i := len(body) - 1; i >= 0; i-- {
		d := int(body[i] - '0')
		if (len(body)-1-i)%2 == 0 {
			d *= 2
			if d > 9 {
				d -= 9
			}
		}
		sum += d
	}
	return strconv.Itoa((10 - sum%10) % 10)
}

// matrixRequest is one request of a case.
type matrixRequest struct {
	method, path string
	body         any
	header       []string // extra header pairs
}

// matrixOp builds the request of an operation for a side; fresh objects
// are made for writes so that every case starts from the same state.
type matrixOp func(t *testing.T, w *matrixWorld, s side) matrixRequest

func id(n int64) string { return strconv.FormatInt(n, 10) }

// matrixOps has one entry per operationId of the document.
var matrixOps = map[string]matrixOp{
	"listOrgs": func(_ *testing.T, _ *matrixWorld, s side) matrixRequest {
		return get("/v1/orgs?parent=" + id(s.org.ID))
	},
	"getOrg":       func(_ *testing.T, _ *matrixWorld, s side) matrixRequest { return get("/v1/orgs/" + id(s.org.ID)) },
	"listProducts": func(_ *testing.T, _ *matrixWorld, s side) matrixRequest { return get("/v1/products") },
	"getMe":        func(_ *testing.T, _ *matrixWorld, _ side) matrixRequest { return get("/v1/me") },
	"createOrg": func(_ *testing.T, w *matrixWorld, s side) matrixRequest {
		return post("/v1/orgs", map[string]any{"parent_id": s.org.ID, "kind": "unit", "name": "单位" + id(w.seq.Add(1))})
	},
	"getMemberHours": func(_ *testing.T, _ *matrixWorld, s side) matrixRequest {
		return get("/v1/orgs/" + id(s.org.ID) + "/member-hours?year=2026")
	},
	"createVolunteer": func(_ *testing.T, w *matrixWorld, s side) matrixRequest {
		n := int(w.seq.Add(1))
		return post("/v1/volunteers", map[string]any{"org_id": s.org.ID, "name": "新人", "phone": "13900139000",
			"id_number": residentID(s.org.RegionCode, "19950101", n%1000)})
	},
	"findVolunteer": func(_ *testing.T, _ *matrixWorld, s side) matrixRequest {
		return get("/v1/volunteers?id_number=" + s.idNumber)
	},
	"getVolunteer": func(_ *testing.T, _ *matrixWorld, s side) matrixRequest {
		return get("/v1/volunteers/" + id(s.volunteer.ID))
	},
	"listVolunteerCards": func(_ *testing.T, _ *matrixWorld, s side) matrixRequest {
		return get("/v1/volunteers/" + id(s.volunteer.ID) + "/cards")
	},
	"getServiceRecord": func(_ *testing.T, _ *matrixWorld, s side) matrixRequest {
		return get("/v1/volunteers/" + id(s.volunteer.ID) + "/service-record")
	},
	"addServiceHours": func(_ *testing.T, _ *matrixWorld, s side) matrixRequest {
		return post("/v1/volunteers/"+id(s.volunteer.ID)+"/service-hours", map[string]any{"hours": 2, "year": 2026, "reason": "补录"})
	},
	"createApplication": func(t *testing.T, w *matrixWorld, s side) matrixRequest {
		v, _ := w.volunteer(t, s.org, issuance.ChannelConsole)
		return post("/v1/applications", map[string]any{"volunteer_id": v.ID, "product": s.product, "channel": "online"})
	},
	"listApplications": func(_ *testing.T, _ *matrixWorld, s side) matrixRequest {
		return get("/v1/applications?org=" + id(s.org.ID))
	},
	"getApplication": func(_ *testing.T, _ *matrixWorld, s side) matrixRequest {
		return get("/v1/applications/" + id(s.app.ID))
	},
	"listEvents": func(_ *testing.T, _ *matrixWorld, s side) matrixRequest {
		return get("/v1/applications/" + id(s.app.ID) + "/events")
	},
	"approveApplication": freshApplication("approve", nil),
	"rejectApplication":  freshApplication("reject", map[string]any{"reason": "材料不全"}),
	"cancelApplication":  freshApplication("cancel", map[string]any{"reason": "本人撤回"}),
	"getCard":            func(_ *testing.T, _ *matrixWorld, s side) matrixRequest { return get("/v1/cards/" + id(s.card.ID)) },
	"listExpiringCards": func(_ *testing.T, _ *matrixWorld, s side) matrixRequest {
		return get("/v1/orgs/" + id(s.org.ID) + "/cards/expiring?within=732d")
	},
	"listCardEvents": func(_ *testing.T, _ *matrixWorld, s side) matrixRequest {
		return get("/v1/cards/" + id(s.card.ID) + "/events")
	},
	"blockCardAtBank": freshCard(func(c issuance.Card, _ string) matrixRequest {
		return post("/v1/cards/"+id(c.ID)+"/block", map[string]any{"reason": "丢失"})
	}),
	"unblockCard": freshCard(func(c issuance.Card, _ string) matrixRequest {
		return post("/v1/cards/"+id(c.ID)+"/unblock", map[string]any{})
	}),
	"replaceCard": freshCard(func(c issuance.Card, _ string) matrixRequest {
		return post("/v1/cards/"+id(c.ID)+"/replace", map[string]any{"reason": "损坏"})
	}),
	"renewCard": freshCard(func(c issuance.Card, _ string) matrixRequest {
		return post("/v1/cards/"+id(c.ID)+"/renew", map[string]any{})
	}),
	"closeCard": freshCard(func(c issuance.Card, _ string) matrixRequest {
		return post("/v1/cards/"+id(c.ID)+"/close", map[string]any{"reason": "holder_left"})
	}),
	"createRenewalBatch": func(_ *testing.T, _ *matrixWorld, s side) matrixRequest {
		return post("/v1/orgs/"+id(s.org.ID)+"/cards/renewals", map[string]any{"expired": true})
	},
	"getRenewalBatch": func(t *testing.T, w *matrixWorld, s side) matrixRequest {
		b, err := w.h.svc.RequestRenewals(context.Background(), issuance.SystemActor(), issuance.RenewalRequest{OrgID: s.org.ID, ExpiredOnly: true})
		require.NoError(t, err)
		return get("/v1/renewals/" + id(b.ID))
	},
	"testActivateCard": freshCard(func(c issuance.Card, _ string) matrixRequest {
		return post("/v1/test/cards/"+id(c.ID)+"/activate", map[string]any{})
	}),
	"testCardSpending": freshCard(func(c issuance.Card, _ string) matrixRequest {
		return post("/v1/test/cards/"+id(c.ID)+"/spending", map[string]any{"amount_fen": 1234})
	}),
	"blockCard": freshCard(func(_ issuance.Card, pan string) matrixRequest {
		return post("/v1/cards/block", map[string]any{"pan": pan, "reason": "丢失"})
	}),
	"unblockCardByPAN": freshCard(func(_ issuance.Card, pan string) matrixRequest {
		return post("/v1/cards/unblock", map[string]any{"pan": pan})
	}),
	"listActivities": func(_ *testing.T, _ *matrixWorld, s side) matrixRequest {
		return get("/v1/activities?org=" + id(s.org.ID))
	},
	"getActivity": func(_ *testing.T, _ *matrixWorld, s side) matrixRequest {
		return get("/v1/activities/" + id(s.activity.ID))
	},
	"createActivity": func(_ *testing.T, _ *matrixWorld, s side) matrixRequest {
		now := time.Now().UTC()
		return post("/v1/activities", map[string]any{"org_id": s.org.ID, "title": "清洁", "site": "海边",
			"starts_at": now.Format(time.RFC3339), "ends_at": now.Add(time.Hour).Format(time.RFC3339)})
	},
	"postTap": func(_ *testing.T, w *matrixWorld, s side) matrixRequest {
		// A card that is not genuine: the activity's scope is checked
		// before the card (404 out of scope, 4xx about the card in it).
		return post("/v1/activities/"+id(s.activity.ID)+"/taps", map[string]any{"seq": w.seq.Add(1), "challenge_id": "unknown",
			"card": map[string]any{"aid": "A000000333010101", "aip": "7C00", "afl": "08010101", "ddol_data": "00000000", "sdad": "00"}})
	},
	"issueChallenge": func(_ *testing.T, _ *matrixWorld, _ side) matrixRequest {
		return post("/v1/terminals/challenge", map[string]any{})
	},
	"getTerminalState": func(_ *testing.T, _ *matrixWorld, s side) matrixRequest {
		return get("/v1/terminals/self?activity=" + id(s.activity.ID))
	},
	"correctAttendance": func(_ *testing.T, _ *matrixWorld, _ side) matrixRequest {
		// No attendance exists on either side: 404 for every role that may
		// correct (the scope of a real attendance is TestCheckinAPI's).
		now := time.Now().UTC()
		return post("/v1/attendances/999999/correction", map[string]any{"in_at": now.Add(-time.Hour).Format(time.RFC3339),
			"out_at": now.Format(time.RFC3339), "reason": "忘记签退"})
	},
	"createOffer": func(_ *testing.T, _ *matrixWorld, s side) matrixRequest {
		return post("/v1/offers", map[string]any{"org_id": s.org.ID, "tier": "card_holder", "title": "免费体检"})
	},
	"listOffers": func(_ *testing.T, _ *matrixWorld, s side) matrixRequest {
		return get("/v1/offers?org=" + id(s.org.ID))
	},
	"getOffer": func(_ *testing.T, _ *matrixWorld, s side) matrixRequest {
		return get("/v1/offers/" + id(s.offer))
	},
	"changeOffer": func(t *testing.T, w *matrixWorld, s side) matrixRequest {
		return matrixRequest{method: http.MethodPatch, path: "/v1/offers/" + id(freshOffer(t, w, s)),
			body: map[string]any{"title": "体检八折", "requires_pin": true}}
	},
	"withdrawOffer": func(t *testing.T, w *matrixWorld, s side) matrixRequest {
		return post("/v1/offers/"+id(freshOffer(t, w, s))+"/withdraw", map[string]any{"reason": "活动结束"})
	},
	"listRedemptions": func(_ *testing.T, _ *matrixWorld, s side) matrixRequest {
		return get("/v1/offers/" + id(s.offer) + "/redemptions")
	},
	"redeemOffer": func(_ *testing.T, _ *matrixWorld, s side) matrixRequest {
		// No such check: a terminal gets 404 (the redemption of a real
		// check is TestRedeemAPI's), every other role 403.
		return post("/v1/benefits/redemptions", map[string]any{"check_id": "bc_unknown", "offer_id": s.offer, "cvm": "none"})
	},
	"checkBenefits": func(_ *testing.T, _ *matrixWorld, _ side) matrixRequest {
		return post("/v1/benefits/check", map[string]any{"challenge_id": "unknown", "card": map[string]any{"aid": "A000000333010101"}})
	},
	"listOnsiteSessions": func(_ *testing.T, _ *matrixWorld, s side) matrixRequest {
		return get("/v1/onsite-sessions?org=" + id(s.org.ID))
	},
	"getOnsiteSession": sessionGet(""),
	"onsiteQueue":      sessionGet("/queue"),
	"rejectedRoster":   sessionGet("/rejected.csv"),
	"onsiteReport":     sessionGet("/report"),
	"requestOnsiteSession": func(_ *testing.T, _ *matrixWorld, s side) matrixRequest {
		return post("/v1/onsite-sessions", map[string]any{"org_id": s.org.ID, "site": "体育馆", "expected_count": 40,
			"date": time.Now().AddDate(0, 0, 20).Format(time.DateOnly), "product": s.product})
	},
	"approveOnsiteSession":  sessionPost("/approve", nil),
	"cancelOnsiteSession":   sessionPost("/cancel", map[string]any{"reason": "改期"}),
	"completeOnsiteSession": sessionPost("/complete", nil),
	"scheduleOnsiteSession": sessionPost("/schedule", map[string]any{"branch_id": 1}),
	"startOnsiteSession":    sessionPost("/start", nil),
	"markOnsiteQueueEntry":  sessionPost("/queue/1", map[string]any{"state": "skipped", "note": "未到"}),
	"uploadRoster": func(t *testing.T, w *matrixWorld, s side) matrixRequest {
		sess := freshSession(t, w, s)
		return matrixRequest{method: http.MethodPost, path: "/v1/onsite-sessions/" + id(sess.ID) + "/roster",
			body:   "姓名,身份证号,手机号\n张三," + residentID(s.org.RegionCode, "19950101", int(w.seq.Add(1))%1000) + ",13800138000\n",
			header: []string{"Content-Type", "text/csv"}}
	},
	"listBankRequests": func(_ *testing.T, _ *matrixWorld, _ side) matrixRequest { return get("/v1/admin/bank-requests") },
	"listBankLinks":    func(_ *testing.T, _ *matrixWorld, _ side) matrixRequest { return get("/v1/admin/banks") },
	"listReconciliations": func(_ *testing.T, _ *matrixWorld, _ side) matrixRequest {
		return get("/v1/admin/reconciliations")
	},
	"getReconciliation": func(_ *testing.T, _ *matrixWorld, s side) matrixRequest {
		return get("/v1/admin/reconciliations/" + id(s.recon))
	},
	"downloadReconciliation": func(_ *testing.T, _ *matrixWorld, s side) matrixRequest {
		return get("/v1/admin/reconciliations/" + id(s.recon) + "/differences?format=xlsx")
	},
	"retryBankRequest": func(_ *testing.T, _ *matrixWorld, _ side) matrixRequest {
		return post("/v1/admin/bank-requests/999999/retry", map[string]any{})
	},
	"cancelBankRequest": func(_ *testing.T, _ *matrixWorld, _ side) matrixRequest {
		return post("/v1/admin/bank-requests/999999/cancel", map[string]any{"reason": "放弃"})
	},
	"listPlatformRequests": func(_ *testing.T, _ *matrixWorld, _ side) matrixRequest {
		return get("/v1/admin/platform-requests")
	},
	"retryPlatformRequest": func(_ *testing.T, _ *matrixWorld, _ side) matrixRequest {
		return post("/v1/admin/platform-requests/999999/retry", map[string]any{})
	},
	"setPlatformNumber": func(t *testing.T, w *matrixWorld, s side) matrixRequest {
		v, _ := w.volunteer(t, s.org, issuance.ChannelConsole)
		return matrixRequest{method: http.MethodPut, path: "/v1/volunteers/" + id(v.ID) + "/platform-number",
			body: map[string]any{"volunteer_number": "M-" + id(v.ID), "reason": "补录平台编号"}}
	},
	"importVolunteers": func(_ *testing.T, w *matrixWorld, s side) matrixRequest {
		n := int(w.seq.Add(1))
		return post("/v1/imports/volunteers", map[string]any{"import_id": "matrix-" + strconv.Itoa(n), "seq": 0,
			"rows": []map[string]any{{"line": 1, "volunteer_number": "MX" + strconv.Itoa(n), "name": "导入" + strconv.Itoa(n),
				"id_number": residentID(s.org.RegionCode, fmt.Sprintf("1991%02d%02d", 1+n/28%12, 1+n%28), n%1000),
				"phone":     "13800138000", "org_id": s.org.ID}}})
	},
	"importHours": func(_ *testing.T, w *matrixWorld, _ side) matrixRequest {
		return post("/v1/imports/hours", map[string]any{"import_id": "matrix-h" + strconv.Itoa(int(w.seq.Add(1))), "seq": 0,
			"rows": []map[string]any{{"line": 1, "volunteer_number": "NOPE", "hours": 12.5}}})
	},
	"getImport": func(_ *testing.T, _ *matrixWorld, _ side) matrixRequest { return get("/v1/imports/matrix-none") },
	"listInsurancePolicies": func(_ *testing.T, _ *matrixWorld, _ side) matrixRequest {
		return get("/v1/admin/insurance/policies")
	},
	"setInsurancePolicy": func(_ *testing.T, w *matrixWorld, _ side) matrixRequest {
		n := w.seq.Add(1)
		return post("/v1/admin/insurance/policies", map[string]any{"insurer": "中国人寿财产保险", "policy_number": "M-" + id(n),
			"cover_fen": 10_000_000, "effective_from": time.Now().AddDate(0, 0, 30+int(n)).Format(time.DateOnly)})
	},
	"downloadInsuranceFile": func(_ *testing.T, _ *matrixWorld, _ side) matrixRequest {
		return get("/v1/admin/insurance/files/" + time.Now().Format(time.DateOnly))
	},
	"getInsuranceReport": func(_ *testing.T, _ *matrixWorld, s side) matrixRequest {
		return get("/v1/orgs/" + id(s.org.ID) + "/insurance")
	},
	"listRebateRates": func(_ *testing.T, _ *matrixWorld, s side) matrixRequest {
		if s.name == "away" {
			return get("/v1/admin/rebates/rates?bank=CCB")
		}
		return get("/v1/admin/rebates/rates?bank=BOC")
	},
	"setRebateRate": func(_ *testing.T, w *matrixWorld, s side) matrixRequest {
		bank := "BOC"
		if s.name == "away" {
			bank = "CCB"
		}
		from := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC).AddDate(0, 0, int(w.seq.Add(1)))
		return post("/v1/admin/rebates/rates", map[string]any{"bank_code": bank, "product_code": s.product, "rate_bp": 40,
			"foundation_bp": 1500, "effective_from": from.Format(time.DateOnly)})
	},
	"generateRebateStatements": func(_ *testing.T, w *matrixWorld, _ side) matrixRequest {
		// A past month (1990 on): its statements are generated, 201. Its own
		// counter: the world's sequence, shared by every case in the map's
		// random order, could reach a month not yet ended (400).
		n := int(w.rebateMonths.Add(1))
		return post("/v1/admin/rebates/statements", map[string]any{"month": fmt.Sprintf("%04d-%02d", 1990+n/12, 1+n%12)})
	},
	"listRebateStatements": func(_ *testing.T, _ *matrixWorld, _ side) matrixRequest {
		return get("/v1/rebates/statements?month=2025-06")
	},
	"exportRebateStatements": func(_ *testing.T, _ *matrixWorld, _ side) matrixRequest {
		return get("/v1/rebates/statements/export?month=2025-06&format=xlsx")
	},
	"getRebateStatement": func(_ *testing.T, _ *matrixWorld, s side) matrixRequest {
		return get("/v1/rebates/statements/" + id(s.statement))
	},
	"listFeedEvents": func(_ *testing.T, _ *matrixWorld, _ side) matrixRequest {
		return get("/v1/events?limit=5&types=application.submitted")
	},
	"listWebhookEndpoints": func(_ *testing.T, _ *matrixWorld, _ side) matrixRequest { return get("/v1/webhooks") },
	"createWebhookEndpoint": func(_ *testing.T, _ *matrixWorld, _ side) matrixRequest {
		return post("/v1/webhooks", map[string]any{"url": "https://platform.example/hook", "types": []string{"card.activated"}})
	},
	"getWebhookEndpoint": func(_ *testing.T, _ *matrixWorld, s side) matrixRequest {
		return get("/v1/webhooks/" + id(s.endpoint))
	},
	"listWebhookDeliveries": func(_ *testing.T, _ *matrixWorld, s side) matrixRequest {
		return get("/v1/webhooks/" + id(s.endpoint) + "/deliveries")
	},
	"updateWebhookEndpoint": freshEndpoint(func(ep int64) matrixRequest {
		return matrixRequest{method: http.MethodPatch, path: "/v1/webhooks/" + id(ep), body: map[string]any{"description": "改"}}
	}),
	"deleteWebhookEndpoint": freshEndpoint(func(ep int64) matrixRequest {
		return matrixRequest{method: http.MethodDelete, path: "/v1/webhooks/" + id(ep)}
	}),
	"enableWebhookEndpoint": freshEndpoint(func(ep int64) matrixRequest {
		return post("/v1/webhooks/"+id(ep)+"/enable", nil)
	}),
	"redeliverWebhook": func(t *testing.T, w *matrixWorld, s side) matrixRequest {
		// A fresh endpoint of the side and a fresh application there: the
		// application's first event is queued for the endpoint.
		ep := w.endpoint(t, s)
		v, _ := w.volunteer(t, s.org, issuance.ChannelConsole)
		w.application(t, v, s.product)
		ds, err := w.h.st.ListDeliveries(context.Background(), feed.DeliveryQuery{EndpointID: ep, Limit: 10})
		require.NoError(t, err)
		require.Len(t, ds, 1)
		return post("/v1/webhook-deliveries/"+id(ds[0].ID)+"/redeliver", nil)
	},
	// The staff console's edits (handlers_admin.go).
	"updateOrg": func(_ *testing.T, w *matrixWorld, s side) matrixRequest {
		return matrixRequest{method: http.MethodPatch, path: "/v1/orgs/" + id(s.org.ID), body: map[string]any{
			"liaison": map[string]any{"name": "联络员" + id(w.seq.Add(1)), "position": "干事", "phone": "13800000000"}}}
	},
	"listBranches": func(_ *testing.T, _ *matrixWorld, s side) matrixRequest {
		return get("/v1/branches?org=" + id(s.org.ID))
	},
	"createBranch": func(_ *testing.T, w *matrixWorld, s side) matrixRequest {
		return post("/v1/branches", map[string]any{"bank": sideBank(s), "org_id": s.org.ID, "name": "支行" + id(w.seq.Add(1)),
			"contact": map[string]any{"name": "张强", "phone": "13600000000"}})
	},
	"updateBranch": func(t *testing.T, w *matrixWorld, s side) matrixRequest {
		br := &issuance.Branch{BankCode: sideBank(s), OrgID: s.org.ID, Name: "支行" + id(w.seq.Add(1))}
		require.NoError(t, w.h.svc.PutBranch(context.Background(), issuance.SystemActor(), br))
		return matrixRequest{method: http.MethodPatch, path: "/v1/branches/" + id(br.ID),
			body: map[string]any{"contact": map[string]any{"name": "赵敏", "phone": "13700000000"}}}
	},
	"putProduct": func(_ *testing.T, w *matrixWorld, s side) matrixRequest {
		return matrixRequest{method: http.MethodPut, path: "/v1/products/P" + id(w.seq.Add(1)), body: map[string]any{
			"name": "产品", "bank": sideBank(s), "bin": "621661", "aid": "A000000333010101", "kind": "debit", "org_id": s.org.ID}}
	},
	"listAudit":   func(_ *testing.T, _ *matrixWorld, _ side) matrixRequest { return get("/v1/admin/audit") },
	"listTargets": func(_ *testing.T, _ *matrixWorld, _ side) matrixRequest { return get("/v1/targets?year=2026") },
	"putTarget": func(_ *testing.T, _ *matrixWorld, s side) matrixRequest {
		return matrixRequest{method: http.MethodPut, path: "/v1/targets", body: map[string]any{"year": 2026,
			"scope_org_id": s.org.ID, "indicator": "card_rate", "target_bp": 3000}}
	},
	"updateVolunteer": func(t *testing.T, w *matrixWorld, s side) matrixRequest {
		v, _ := w.volunteer(t, s.org, issuance.ChannelConsole)
		w.card(t, v, s.product)
		return matrixRequest{method: http.MethodPatch, path: "/v1/volunteers/" + id(v.ID), body: map[string]any{"phone": "13912345678"}}
	},
	"hotlineLookup": func(_ *testing.T, _ *matrixWorld, s side) matrixRequest {
		return get("/v1/hotline/lookup?application_number=" + s.app.Number + "&id_number=" + s.idNumber)
	},
	// A walk-in made by the BOC Guangzhou branch token at home (where the
	// policy is on), an online application away.
	"instantApproveApplication": func(t *testing.T, w *matrixWorld, s side) matrixRequest {
		ctx, sys := context.Background(), issuance.SystemActor()
		v, _ := w.volunteer(t, s.org, issuance.ChannelConsole)
		if s.name == "away" {
			return post("/v1/applications/"+id(w.application(t, v, s.product).ID)+"/instant-approve", nil)
		}
		on := true
		_, err := w.h.svc.UpdateOrg(ctx, sys, s.org.ID, issuance.OrgPatch{InstantIssuance: &on})
		require.NoError(t, err)
		counter, err := w.h.svc.Authenticate(ctx, w.h.tokens["m:bank_staff_branch"])
		require.NoError(t, err)
		a, err := w.h.svc.Apply(ctx, counter, v.ID, s.product, issuance.ChannelBranch)
		require.NoError(t, err)
		return post("/v1/applications/"+id(a.ID)+"/instant-approve", nil)
	},
	"rosterTemplateCSV": func(_ *testing.T, _ *matrixWorld, _ side) matrixRequest {
		return get("/v1/onsite-sessions/roster-template.csv")
	},
	"rosterTemplateXLSX": func(_ *testing.T, _ *matrixWorld, _ side) matrixRequest {
		return get("/v1/onsite-sessions/roster-template.xlsx")
	},
	"listTokens": func(_ *testing.T, _ *matrixWorld, _ side) matrixRequest { return get("/v1/admin/tokens") },
	"createToken": func(_ *testing.T, _ *matrixWorld, s side) matrixRequest {
		return post("/v1/admin/tokens", map[string]any{"role": "terminal", "org_id": s.org.ID})
	},
	"updateToken": freshToken(func(tid int64) matrixRequest {
		return matrixRequest{method: http.MethodPatch, path: "/v1/admin/tokens/" + id(tid), body: map[string]any{"name": "改名"}}
	}),
	"revokeToken": freshToken(func(tid int64) matrixRequest {
		return post("/v1/admin/tokens/"+id(tid)+"/revoke", map[string]any{"reason": "丢失"})
	}),
	"reportTargets":      report("targets", true),
	"reportApplications": report("applications", true),
	"reportClothing":     report("clothing", false),
	"reportContacts":     report("contacts", false),
	"reportServiceHours": report("service-hours", true),
	"reportActivityCheckins": func(_ *testing.T, _ *matrixWorld, s side) matrixRequest {
		return get("/v1/reports/activity-checkins?activity=" + id(s.activity.ID))
	},
}

// freshToken makes a terminal token of the side's organisation for req.
func freshToken(req func(tid int64) matrixRequest) matrixOp {
	return func(t *testing.T, w *matrixWorld, s side) matrixRequest {
		_, tok, err := w.h.svc.CreateToken(context.Background(), issuance.SystemActor(),
			issuance.NewToken{Role: issuance.RoleTerminal, OrgID: s.org.ID})
		require.NoError(t, err)
		return req(tok.ID)
	}
}

// sideBank is the bank of a side: BOC at home, CCB away.
func sideBank(s side) string {
	if s.name == "away" {
		return "CCB"
	}
	return "BOC"
}

func get(path string) matrixRequest { return matrixRequest{method: http.MethodGet, path: path} }

func post(path string, body any) matrixRequest {
	return matrixRequest{method: http.MethodPost, path: path, body: body}
}

func freshApplication(step string, body any) matrixOp {
	return func(t *testing.T, w *matrixWorld, s side) matrixRequest {
		v, _ := w.volunteer(t, s.org, issuance.ChannelConsole)
		a := w.application(t, v, s.product)
		return post("/v1/applications/"+id(a.ID)+"/"+step, body)
	}
}

func freshCard(req func(c issuance.Card, pan string) matrixRequest) matrixOp {
	return func(t *testing.T, w *matrixWorld, s side) matrixRequest {
		v, _ := w.volunteer(t, s.org, issuance.ChannelConsole)
		_, c, pan := w.card(t, v, s.product)
		return req(c, pan)
	}
}

// freshOffer makes an offer of the side's organisation.
func freshOffer(t *testing.T, w *matrixWorld, s side) int64 {
	o, err := w.h.ck.CreateOffer(context.Background(), issuance.SystemActor(), checkin.NewOffer{OrgID: s.org.ID,
		Tier: checkin.TierCardHolder, Title: "免费体检"})
	require.NoError(t, err)
	return o.ID
}

func freshSession(t *testing.T, w *matrixWorld, s side) onsite.Session {
	sess, err := w.h.on.Request(context.Background(), issuance.SystemActor(), onsite.NewSession{
		OrgID: s.org.ID, Site: "礼堂", Date: time.Now().AddDate(0, 0, 14), ExpectedCount: 40, ProductCode: s.product})
	require.NoError(t, err)
	return sess
}

func sessionGet(suffix string) matrixOp {
	return func(_ *testing.T, _ *matrixWorld, s side) matrixRequest {
		return get("/v1/onsite-sessions/" + id(s.session.ID) + suffix)
	}
}

func sessionPost(suffix string, body any) matrixOp {
	return func(t *testing.T, w *matrixWorld, s side) matrixRequest {
		return post("/v1/onsite-sessions/"+id(freshSession(t, w, s).ID)+suffix, body)
	}
}

func report(name string, perYear bool) matrixOp {
	return func(_ *testing.T, _ *matrixWorld, s side) matrixRequest {
		p := "/v1/reports/" + name + "?org=" + id(s.org.ID)
		if perYear {
			p += "&year=2026"
		}
		return get(p)
	}
}

// bankBound are the operations whose away object (a Meizhou volunteer who
// holds only a CCB application, that application, its card, a CCB on-site
// session) no BOC staff may reach, with or without a branch.
var bankBound = map[string]bool{
	"getVolunteer": true, "listVolunteerCards": true, "getServiceRecord": true, "getApplication": true,
	"listEvents": true, "cancelApplication": true, "getCard": true, "listCardEvents": true, "blockCardAtBank": true,
	"unblockCard": true, "replaceCard": true, "blockCard": true, "unblockCardByPAN": true, "getOnsiteSession": true,
	"onsiteQueue": true, "rejectedRoster": true, "onsiteReport": true, "createApplication": true,
	"getReconciliation": true, "downloadReconciliation": true, "listRebateRates": true,
	"getWebhookEndpoint": true, "listWebhookDeliveries": true, "updateWebhookEndpoint": true,
	"deleteWebhookEndpoint": true, "enableWebhookEndpoint": true, "redeliverWebhook": true,
	"updateVolunteer": true,
}

// publicOps are the public write routes that have a row in the matrix:
// they take no token and ignore one, so every token (and none) gets the
// same answer, and a refused one writes nothing.
var publicOps = map[string]matrixOp{
	// A holder's loss report with the right pair of a fresh card of each
	// side: any caller who knows the pair may report the card lost.
	"reportLoss": func(t *testing.T, w *matrixWorld, s side) matrixRequest {
		v, idNumber := w.volunteer(t, s.org, issuance.ChannelConsole)
		a, _, _ := w.card(t, v, s.product)
		return post("/v1/progress/loss-report", map[string]any{"application_number": a.Number, "id_number": idNumber})
	},
	// The wrong ID number: 404, nothing written.
	"reportLoss wrong pair": func(_ *testing.T, _ *matrixWorld, s side) matrixRequest {
		return post("/v1/progress/loss-report", map[string]any{"application_number": s.app.Number, "id_number": "110101199003077777"})
	},
}

// publicRow sends op's requests (and its variants, "op …") with every token
// and none, and records them in got like the other rows.
func publicRow(t *testing.T, w *matrixWorld, st *store.Store, opID string, _ matrixOp, got map[string]string) {
	for name, build := range publicOps {
		if name != opID && !strings.HasPrefix(name, opID+" ") {
			continue
		}
		row := strings.ReplaceAll(name, " ", "_")
		first := ""
		for _, tok := range append(matrixTokens, matrixToken{name: "none"}) {
			for _, s := range []side{w.home, w.away} {
				if tok.name == "none" && s.name == "away" {
					continue
				}
				req := build(t, w, s)
				before := rowCounts(t, st)
				token := ""
				if tok.name != "none" {
					token = "m:" + tok.name
				}
				res := w.h.do(req.method, req.path, token, req.body, req.header...)
				require.NotEqual(t, http.StatusInternalServerError, res.status, "%s as %s (%s): %s", name, tok.name, s.name, res.body)
				if first == "" {
					first = strconv.Itoa(res.status)
				}
				require.Equal(t, first, strconv.Itoa(res.status), "%s as %s (%s): a public route answers every caller alike: %s", name, tok.name, s.name, res.body)
				if res.status >= 400 {
					require.Equal(t, before, rowCounts(t, st), "%s as %s (%s) was refused (%d) but wrote rows", name, tok.name, s.name, res.status)
				}
				got[row+" "+tok.name+" "+s.name] = strconv.Itoa(res.status)
			}
		}
	}
}

// sideless are the operations that name no object of a side (the same
// request is sent for both).
var sideless = map[string]bool{
	"listProducts": true, "getMe": true, "issueChallenge": true, "checkBenefits": true, "listBankRequests": true,
	"retryBankRequest": true, "cancelBankRequest": true, "correctAttendance": true, "listReconciliations": true,
	"listInsurancePolicies": true, "setInsurancePolicy": true, "downloadInsuranceFile": true,
	"generateRebateStatements": true, "exportRebateStatements": true,
	"listFeedEvents": true, "listWebhookEndpoints": true, "createWebhookEndpoint": true,
	"listAudit": true, "listTargets": true, "listTokens": true, "rosterTemplateCSV": true, "rosterTemplateXLSX": true,
}

// matrixDoc is what the matrix reads of the OpenAPI document.
type matrixDoc struct {
	Paths map[string]map[string]struct {
		ID    string   `json:"operationId"`
		Roles []string `json:"x-roles"`
	} `json:"paths"`
}

// rowCounts counts the rows of every table.
func rowCounts(t *testing.T, st *store.Store) map[string]int64 {
	db := st.DB(context.Background())
	var tables []string
	if st.Dialect() == store.Postgres {
		require.NoError(t, db.Raw(`SELECT table_name FROM information_schema.tables
			WHERE table_schema = current_schema() AND table_type = 'BASE TABLE'`).Scan(&tables).Error)
	} else {
		require.NoError(t, db.Raw(`SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'`).Scan(&tables).Error)
	}
	sort.Strings(tables)
	parts := make([]string, len(tables))
	for i, tb := range tables {
		parts[i] = fmt.Sprintf(`SELECT '%s' AS name, COUNT(*) AS n FROM "%s"`, tb, tb)
	}
	var rows []struct {
		Name string
		N    int64
	}
	require.NoError(t, db.Raw(strings.Join(parts, " UNION ALL ")).Scan(&rows).Error)
	out := make(map[string]int64, len(rows))
	for _, r := range rows {
		out[r.Name] = r.N
	}
	return out
}

func TestAuthorizationMatrix(t *testing.T) {
	results := map[string]map[string]string{} // backend → "op token side" → status
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		w := newMatrixWorld(t, st)
		var doc matrixDoc
		require.NoError(t, json.Unmarshal(w.h.srv.OpenAPI(), &doc))
		got := map[string]string{}
		for path, ops := range doc.Paths {
			for method, op := range ops {
				if len(op.Roles) == 0 {
					if build, ok := publicOps[op.ID]; ok {
						publicRow(t, w, st, op.ID, build, got)
					}
					continue // public: health, metrics, the document, the console, progress
				}
				build, ok := matrixOps[op.ID]
				require.True(t, ok, "%s %s (%s) has no row in the authorization matrix", method, path, op.ID)
				write := method != "get"
				for _, tok := range append(matrixTokens, matrixToken{name: "none"}) {
					for _, s := range []side{w.home, w.away} {
						if tok.name == "none" && s.name == "away" {
							continue
						}
						req := build(t, w, s)
						var before map[string]int64
						if write {
							before = rowCounts(t, st)
						}
						token := ""
						if tok.name != "none" {
							token = "m:" + tok.name
						}
						res := w.h.do(req.method, req.path, token, req.body, req.header...)
						require.NotEqual(t, http.StatusInternalServerError, res.status, "%s as %s (%s): %s", op.ID, tok.name, s.name, res.body)
						switch {
						case tok.name == "none":
							require.Equal(t, http.StatusUnauthorized, res.status, "%s without a token", op.ID)
						case !slices.Contains(op.Roles, string(tok.role)):
							require.Equal(t, http.StatusForbidden, res.status, "%s as %s (%s): %s", op.ID, tok.name, s.name, res.body)
						case (tok.scoped || tok.role == issuance.RoleBankStaff && bankBound[op.ID]) && s.name == "away" && !sideless[op.ID]:
							if strings.HasPrefix(op.ID, "list") && res.status == http.StatusOK {
								// A list filtered to the away side answers
								// nothing of it.
								require.NotContains(t, string(res.body), "梅州", "%s as %s", op.ID, tok.name)
								require.NotContains(t, string(res.body), fmt.Sprintf(`"org_id":%d`, s.org.ID), "%s as %s", op.ID, tok.name)
								break
							}
							require.GreaterOrEqual(t, res.status, 400, "%s as %s reached an away object: %s", op.ID, tok.name, res.body)
						}
						if write && res.status >= 400 {
							require.Equal(t, before, rowCounts(t, st), "%s as %s (%s) was refused (%d) but wrote rows", op.ID, tok.name, s.name, res.status)
						}
						got[op.ID+" "+tok.name+" "+s.name] = strconv.Itoa(res.status)
					}
				}
			}
		}
		results[t.Name()] = got
	})
	if t.Failed() {
		return
	}
	// Both backends answer alike, and as the golden file says.
	var backends []string
	for b := range results {
		backends = append(backends, b)
	}
	sort.Strings(backends)
	first := results[backends[0]]
	for _, b := range backends[1:] {
		for k, v := range first {
			require.Equal(t, v, results[b][k], "%s: %s answers %s, %s answers %s", k, backends[0], v, b, results[b][k])
		}
	}
	golden := filepath.Join("testdata", "authz_matrix.golden")
	text := matrixGolden(first)
	if *updateMatrix {
		require.NoError(t, os.WriteFile(golden, []byte(text), 0o644))
		require.NoError(t, os.WriteFile(filepath.Join("..", "docs", "authorization.md"), []byte(authorizationDoc(first)), 0o644))
	}
	want, err := os.ReadFile(golden)
	require.NoError(t, err, "run go test ./api -run TestAuthorizationMatrix -update-matrix once and review the file")
	require.Equal(t, string(want), text, "the matrix changed: review, then -update-matrix")
	doc, err := os.ReadFile(filepath.Join("..", "docs", "authorization.md"))
	require.NoError(t, err)
	require.Equal(t, authorizationDoc(first), string(doc), "docs/authorization.md is stale: -update-matrix")
	t.Logf("%d cases per backend, %d backends", len(first), len(backends))
}

// matrixGolden renders the results one operation a line: the status for
// each token, home/away.
func matrixGolden(res map[string]string) string {
	var b strings.Builder
	b.WriteString("# operation")
	for _, tok := range matrixTokens {
		b.WriteString(" " + tok.name)
	}
	b.WriteString(" none\n")
	for _, op := range matrixOpIDs(res) {
		b.WriteString(op)
		for _, tok := range matrixTokens {
			b.WriteString(" " + res[op+" "+tok.name+" home"] + "/" + res[op+" "+tok.name+" away"])
		}
		b.WriteString(" " + res[op+" none home"] + "\n")
	}
	return b.String()
}

func matrixOpIDs(res map[string]string) []string {
	seen := map[string]bool{}
	var ops []string
	for k := range res {
		op, _, _ := strings.Cut(k, " ")
		if !seen[op] {
			seen[op] = true
			ops = append(ops, op)
		}
	}
	sort.Strings(ops)
	return ops
}

// authorizationDoc renders docs/authorization.md from issuance.Rules and the
// matrix.
func authorizationDoc(res map[string]string) string {
	var b strings.Builder
	b.WriteString(`# Authorization

Generated by ` + "`go test ./api -run TestAuthorizationMatrix -update-matrix`" + ` from ` + "`issuance.Rules`" + ` and the
authorization matrix test (do not edit by hand). A route outside a token's role is 403; an object outside the
token's scope is 404, exactly as if it did not exist; no token is 401. A refused write leaves nothing behind.

## Scope rules

| role | sees | may change | ID number and phone in full |
|---|---|---|---|
`)
	for _, r := range issuance.Rules {
		fmt.Fprintf(&b, "| `%s` | %s | %s | %s |\n", r.Role, r.Sees, r.Changes, unmaskText[r.Unmasked])
	}
	b.WriteString(`
## Matrix

Each cell is the status for an object inside / outside the token's scope. The tokens: ` + "`province_admin`" + `;
` + "`org_admin`" + ` of Guangzhou; ` + "`bank_staff_branch`" + ` of BOC with its Guangzhou branch; ` + "`bank_staff_bank`" + ` of BOC without a
branch; ` + "`terminal`" + ` of Guangzhou; ` + "`platform`" + `. Inside is Guangzhou and BOC (a volunteer with a BOC application and
card, an activity, an on-site session); outside is Meizhou and CCB. Writes act on fresh objects of each side.
Statuses other than 2xx/403/404 inside the scope are the operation's own answer to the request the test sends (a
session not in the state for the step, a card that is not genuine, a row that does not exist): they show that
the scope check let the request through.

| operation | ` + strings.Join(matrixTokenNames(), " | ") + ` | no token |
|---|` + strings.Repeat("---|", len(matrixTokens)+1) + `
`)
	for _, op := range matrixOpIDs(res) {
		fmt.Fprintf(&b, "| `%s` |", op)
		for _, tok := range matrixTokens {
			fmt.Fprintf(&b, " %s / %s |", res[op+" "+tok.name+" home"], res[op+" "+tok.name+" away"])
		}
		fmt.Fprintf(&b, " %s |\n", res[op+" none home"])
	}
	b.WriteString(decisions)
	return b.String()
}

func matrixTokenNames() []string {
	out := make([]string, len(matrixTokens))
	for i, tok := range matrixTokens {
		out[i] = "`" + tok.name + "`"
	}
	return out
}

var unmaskText = map[issuance.Unmask]string{
	issuance.UnmaskNever:       "never",
	issuance.UnmaskBankHolders: "people with an application or card at its bank",
	issuance.UnmaskOwnSource:   "people it registered (source `platform`)",
}

// decisions are the deliberate decisions behind the rules.
const decisions = `
## Deliberate decisions

- **Bank staff and volunteers.** Bank staff read a volunteer by id, the volunteer's cards and service record only
  when the person holds an application (and so any card) at their bank, in their branch's city when the token
  names a branch; a token without a branch covers the province, still only for the bank's holders. A lookup by
  full ID number (` + "`GET /v1/volunteers?id_number=`" + `) reaches anyone in that city, masked unless a holder: the person is
  at the counter with the ID card and the branch applies for people registered elsewhere (registering them again
  would answer 409 anyway). Registration answers are masked for bank staff until the person applies there.
- **Blocking by PAN.** ` + "`POST /v1/cards/block`" + ` and ` + "`/unblock`" + ` change a bank card through the bank when it is in the
  caller's scope; a card bound at check-in to a volunteer the caller sees is blocked at check-in; anything else is
  404 with nothing written. Only the province admin may block ahead a card volcard does not know.
- **The holder's loss report** (` + "`POST /v1/progress/loss-report`" + `, rows ` + "`reportLoss`" + `) is public: it takes no token
  and ignores one, and is authenticated by the application number and the holder's ID number, as the progress
  lookup is. Every caller gets the same answer: 202 for the right pair of a card that can be blocked, 404 with
  nothing written for a wrong pair (or a right pair without such a card); over the per-address limit, 429.
- **Sources.** A volunteer registered without ` + "`source`" + ` takes the registering role's channel (` + "`console`" + ` for
  league-committee staff, ` + "`branch`" + ` for bank staff, ` + "`platform`" + ` for the platform); only the platform token may
  register ` + "`source: platform`" + `, which is what unmasks a volunteer for it. Internal loads (seed, bulk) are ` + "`platform`" + `.
  An application posted without ` + "`channel`" + ` takes the caller's: ` + "`branch`" + ` for bank staff, ` + "`platform`" + ` for the platform,
  ` + "`online`" + ` for league-committee staff (province and organisation admins entering it for the volunteer).
- **Terminals** must name an organisation (the province's id for a province-wide terminal); a terminal token
  made before this rule is refused (403).
- **Cursors.** Every list pages with an opaque ` + "`cursor`" + ` / ` + "`next_cursor`" + ` (the bank outbox list too); a malformed
  cursor, or another list's, is 400, never page 1.
- **Numbers** from outside are range-checked where they enter (400 naming the field): years 1949–2200 (reports
  2000–2100), head counts 0–10,000,000,000, on-site head counts 30–` + "`MaxOnsiteHeadCount`" + `, hours ±10,000.
- **Bank answers.** An approval whose PAN lies outside the product's BIN is refused: the outbox row ends failed
  with the reason (last four digits only) and nothing of the card is stored.
`
