package api

import (
	"context"
	"net/http"
	"strconv"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/volcard/volcard/issuance"
	"github.com/volcard/volcard/issuance/roster"
	"github.com/volcard/volcard/issuance/store"
	"github.com/volcard/volcard/issuance/store/storetest"
)

// auditOf returns the audit events of one object through the API.
func auditOf(t *testing.T, h *harness, subject, id string) []auditJSON {
	t.Helper()
	r := h.do("GET", "/v1/admin/audit?subject="+subject+"&subject_id="+id, "admin", nil)
	require.Equal(t, http.StatusOK, r.status, "body: %s", r.body)
	var page listResponse[auditJSON]
	r.json(t, &page)
	return page.Items
}

// TestOrgEditAPI edits an organisation's contacts and figures through the
// API on both databases: the province admin sets everything, a city's
// admin its own contacts only, another city's admin nothing; phones are
// sealed at rest and masked in answers; every change is audited without
// the phone; a refused edit writes nothing.
func TestOrgEditAPI(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		h := newHarness(t, st, nil)
		mz := "/v1/orgs/" + strconv.FormatInt(h.meizhou.ID, 10)
		r := h.do("PATCH", mz, "admin", map[string]any{
			"responsible":         map[string]any{"name": "李明", "position": "团市委副书记", "phone": "13912345678"},
			"liaison":             map[string]any{"name": "王芳", "position": "志愿者工作部部长", "phone": "0753-2188888"},
			"resident_population": 3_870_000, "population_year": 2025, "league_members": 120_000,
		})
		require.Equal(t, http.StatusOK, r.status, "body: %s", r.body)
		var o orgResponse
		r.json(t, &o)
		require.Equal(t, "李明", o.Responsible.Name)
		require.Equal(t, "团市委副书记", o.Responsible.Position)
		require.NotContains(t, string(r.body), "13912345678", "phones are masked in answers")
		require.Equal(t, int64(3_870_000), o.ResidentPopulation)

		got, err := h.svc.GetOrg(context.Background(), issuance.SystemActor(), h.meizhou.ID)
		require.NoError(t, err)
		require.Equal(t, "13912345678", got.Responsible.Phone.Reveal())
		require.Equal(t, "0753-2188888", got.Liaison.Phone.Reveal())
		var raw []byte
		require.NoError(t, st.DB(context.Background()).Raw("SELECT responsible_phone FROM orgs WHERE id = ?", h.meizhou.ID).Row().Scan(&raw))
		require.NotContains(t, string(raw), "13912345678", "the phone is sealed at rest")

		evs := auditOf(t, h, "org", strconv.FormatInt(h.meizhou.ID, 10))
		require.Len(t, evs, 1)
		require.Equal(t, "org.updated", evs[0].Kind)
		require.Equal(t, "province_admin", evs[0].ActorRole)
		require.NotZero(t, evs[0].ActorTokenID)
		require.Contains(t, evs[0].Detail, "responsible.phone")
		require.Contains(t, evs[0].Detail, "resident_population 0→3870000")
		require.NotContains(t, evs[0].Detail, "13912345678")
		require.NotContains(t, evs[0].Detail, "李明")

		// The city's own admin names its liaison; the same body again
		// changes nothing and is not audited again.
		body := map[string]any{"liaison": map[string]any{"name": "陈静", "position": "干事", "phone": "13800000001"}}
		r = h.do("PATCH", mz, "mz", body)
		require.Equal(t, http.StatusOK, r.status, "body: %s", r.body)
		r = h.do("PATCH", mz, "mz", body)
		require.Equal(t, http.StatusOK, r.status, "body: %s", r.body)
		require.Len(t, auditOf(t, h, "org", strconv.FormatInt(h.meizhou.ID, 10)), 2)

		before := rowCounts(t, st)
		for _, c := range []struct {
			name, token string
			body        map[string]any
			status      int
		}{
			{"org admin sets figures", "mz", map[string]any{"resident_population": 1}, http.StatusForbidden},
			{"another city", "gz", body, http.StatusNotFound},
			{"bank staff", "boc", body, http.StatusForbidden},
			{"bad phone", "admin", map[string]any{"liaison": map[string]any{"name": "x", "phone": "call me"}}, http.StatusBadRequest},
			{"negative population", "admin", map[string]any{"resident_population": -5}, http.StatusBadRequest},
			{"bad year", "admin", map[string]any{"population_year": 1800}, http.StatusBadRequest},
			{"empty", "admin", map[string]any{}, http.StatusBadRequest},
			{"unknown field", "admin", map[string]any{"name": "改名"}, http.StatusBadRequest},
		} {
			t.Run(c.name, func(t *testing.T) {
				r := h.do("PATCH", mz, c.token, c.body)
				require.Equal(t, c.status, r.status, "body: %s", r.body)
				r.problem(t)
			})
		}
		require.Equal(t, before, rowCounts(t, st), "refused edits wrote nothing")
		got, err = h.svc.GetOrg(context.Background(), issuance.SystemActor(), h.meizhou.ID)
		require.NoError(t, err)
		require.Equal(t, "陈静", got.Liaison.Name)
		require.Equal(t, int64(3_870_000), got.ResidentPopulation)
	})
}

// TestCatalogAndTargetAPI sets targets, branches and products through the
// API on both databases, each audited.
func TestCatalogAndTargetAPI(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		h := newHarness(t, st, nil)
		// Targets of any year.
		r := h.do("PUT", "/v1/targets", "admin", map[string]any{"year": 2027, "scope_org_id": h.meizhou.ID,
			"org_kind": "county", "indicator": "volunteer_rate", "target_bp": 1200, "note": "梅州县区 2027"})
		require.Equal(t, http.StatusOK, r.status, "body: %s", r.body)
		var tg targetJSON
		r.json(t, &tg)
		require.NotZero(t, tg.ID)
		r = h.do("PUT", "/v1/targets", "admin", map[string]any{"year": 2027, "scope_org_id": h.meizhou.ID,
			"org_kind": "county", "indicator": "volunteer_rate", "target_bp": 1500})
		require.Equal(t, http.StatusOK, r.status, "body: %s", r.body)
		var again targetJSON
		r.json(t, &again)
		require.Equal(t, tg.ID, again.ID, "the same rule is replaced")
		r = h.do("GET", "/v1/targets?year=2027", "mz", nil)
		require.Equal(t, http.StatusOK, r.status, "body: %s", r.body)
		var tl listResponse[targetJSON]
		r.json(t, &tl)
		require.Len(t, tl.Items, 1)
		require.Equal(t, int64(1500), tl.Items[0].TargetBP)
		require.Len(t, auditOf(t, h, "target", strconv.FormatInt(tg.ID, 10)), 2)
		require.Equal(t, http.StatusForbidden, h.do("PUT", "/v1/targets", "mz", map[string]any{"year": 2027,
			"scope_org_id": h.meizhou.ID, "indicator": "card_rate", "target_bp": 1}).status)
		require.Equal(t, http.StatusBadRequest, h.do("PUT", "/v1/targets", "admin", map[string]any{"year": 2027,
			"scope_org_id": h.meizhou.ID, "indicator": "nonsense", "target_bp": 1}).status)

		// Branches and their contacts.
		r = h.do("POST", "/v1/branches", "admin", map[string]any{"bank": "BOC", "org_id": h.meizhou.ID, "name": "中国银行梅州分行",
			"contact": map[string]any{"name": "张强", "position": "个人金融部经理", "phone": "13600000000"}})
		require.Equal(t, http.StatusCreated, r.status, "body: %s", r.body)
		var br branchResponse
		r.json(t, &br)
		require.Equal(t, "个人金融部经理", br.Contact.Position)
		require.NotContains(t, string(r.body), "13600000000")
		r = h.do("POST", "/v1/branches", "admin", map[string]any{"bank": "BOC", "org_id": h.meizhou.ID, "name": "中国银行梅州分行"})
		require.Equal(t, http.StatusConflict, r.status, "body: %s", r.body)
		require.Contains(t, r.problem(t).Detail, "PATCH /v1/branches/")
		bid := strconv.FormatInt(br.ID, 10)
		r = h.do("PATCH", "/v1/branches/"+bid, "admin", map[string]any{"contact": map[string]any{"name": "赵敏", "phone": "13700000000"}})
		require.Equal(t, http.StatusOK, r.status, "body: %s", r.body)
		b, err := h.svc.Branch(context.Background(), br.ID)
		require.NoError(t, err)
		require.Equal(t, "赵敏", b.Contact.Name)
		require.Equal(t, "13700000000", b.Contact.Phone.Reveal())
		require.Len(t, auditOf(t, h, "branch", bid), 2)
		require.Equal(t, http.StatusForbidden, h.do("PATCH", "/v1/branches/"+bid, "boc", map[string]any{"contact": map[string]any{"name": "x"}}).status)
		require.Equal(t, http.StatusNotFound, h.do("PATCH", "/v1/branches/999999", "admin", map[string]any{"contact": map[string]any{"name": "x"}}).status)
		r = h.do("GET", "/v1/branches?bank=CCB", "boc", nil)
		require.Equal(t, http.StatusOK, r.status)
		require.NotContains(t, string(r.body), "中国银行梅州分行", "bank staff see their own bank's branches only")
		r = h.do("GET", "/v1/branches", "boc", nil)
		require.Contains(t, string(r.body), "中国银行梅州分行")

		// Products and their BIN.
		r = h.do("PUT", "/v1/products/GD-RV-BOC", "admin", map[string]any{"name": "广东省注册志愿者证（中国银行）二代",
			"bank": "BOC", "bin": "62166100", "aid": "A000000333010101", "kind": "debit", "org_id": h.province.ID})
		require.Equal(t, http.StatusOK, r.status, "body: %s", r.body)
		p, err := h.svc.GetProduct(context.Background(), "GD-RV-BOC")
		require.NoError(t, err)
		require.Equal(t, "62166100", p.BIN)
		pe := auditOf(t, h, "product", "GD-RV-BOC")
		require.Len(t, pe, 2, "the fixture's put (system) and this one")
		require.Equal(t, "province_admin", pe[0].ActorRole)
		require.Contains(t, pe[0].Detail, "bin 62166100")
		before := rowCounts(t, st)
		for _, body := range []map[string]any{
			{"name": "x", "bank": "BOC", "bin": "62A661", "aid": "A000000333010101", "kind": "debit", "org_id": h.province.ID},
			{"name": "x", "bank": "XXX", "bin": "621661", "aid": "A000000333010101", "kind": "debit", "org_id": h.province.ID},
			{"name": "x", "bank": "BOC", "bin": "621661", "aid": "A000000333010101", "kind": "debit", "org_id": 999999},
			{"name": "x", "bank": "BOC", "bin": "621661", "aid": "XYZ", "kind": "debit", "org_id": h.province.ID},
		} {
			r = h.do("PUT", "/v1/products/NEW", "admin", body)
			require.Equal(t, http.StatusBadRequest, r.status, "body: %s", r.body)
		}
		require.Equal(t, before, rowCounts(t, st))
	})
}

// TestRosterTemplate downloads the roster template in both formats on both
// databases: the parser maps every column of it, finds no rows, and the
// template with one row filled in uploads as a roster of one accepted row.
func TestRosterTemplate(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		h := newHarness(t, st, nil)
		require.NoError(t, h.svc.PutBranch(context.Background(), issuance.SystemActor(),
			&issuance.Branch{BankCode: "BOC", OrgID: h.meizhou.ID, Name: "中国银行梅州分行"}))
		sess := h.do("POST", "/v1/onsite-sessions", "mz", map[string]any{"org_id": h.meizhou.ID, "site": "嘉应学院",
			"expected_count": 40, "product": "GD-RV-BOC", "date": "2030-05-04"})
		require.Equal(t, http.StatusCreated, sess.status, "body: %s", sess.body)
		var s struct{ ID int64 }
		sess.json(t, &s)
		for _, c := range []struct {
			ext    string
			format roster.Format
		}{{"csv", roster.FormatCSV}, {"xlsx", roster.FormatXLSX}} {
			r := h.do("GET", "/v1/onsite-sessions/roster-template."+c.ext, "boc", nil)
			require.Equal(t, http.StatusOK, r.status, "body: %s", r.body)
			require.Contains(t, r.header.Get("Content-Disposition"), "roster-template."+c.ext)
			f, err := roster.Parse(r.body, c.format, roster.Limits{})
			require.NoError(t, err, c.ext)
			require.Empty(t, f.Rows)
			require.Len(t, f.Header.Columns, len(roster.Fields), "every column maps (%s)", c.ext)
			require.Empty(t, f.Header.Ignored)
		}
		r := h.do("GET", "/v1/onsite-sessions/roster-template.csv", "admin", nil)
		filled := string(r.body) + "陈晨," + residentID("441400", "20000101", 31) + ",13800003333,是,L,\r\n"
		r = h.do("POST", "/v1/onsite-sessions/"+strconv.FormatInt(s.ID, 10)+"/roster", "mz", filled, "Content-Type", "text/csv")
		require.Equal(t, http.StatusOK, r.status, "body: %s", r.body)
		require.Contains(t, string(r.body), `"accepted":1`)
		require.Equal(t, http.StatusForbidden, h.do("GET", "/v1/onsite-sessions/roster-template.csv", "terminal", nil).status)
	})
}
