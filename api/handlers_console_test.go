package api

import (
	"context"
	"encoding/json"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/require"

	"github.com/volcard/volcard/api/console"
	"github.com/volcard/volcard/cardio/emv"
	"github.com/volcard/volcard/issuance"
	"github.com/volcard/volcard/issuance/store/storetest"
	"github.com/volcard/volcard/personalization"
	"github.com/volcard/volcard/personalization/dataprep"
)

// TestMe checks GET /v1/me: each token (the hotline too) learns its role and what bounds it,
// and no token learns nothing but a 401.
func TestMe(t *testing.T) {
	h := newHarness(t, storetest.SQLite(t), nil)
	plain, _, err := h.svc.CreateToken(context.Background(), issuance.SystemActor(),
		issuance.NewToken{Name: "12355 坐席", Role: issuance.RoleHotline})
	require.NoError(t, err)
	h.tokens["hotline"] = plain
	tests := []struct {
		token string
		want  Me
	}{
		{token: "admin", want: Me{Role: "province_admin"}},
		{token: "mz", want: Me{Role: "org_admin", OrgID: h.meizhou.ID, OrgName: "梅州市"}},
		{token: "gz", want: Me{Role: "org_admin", OrgID: h.guangzhou.ID, OrgName: "广州市"}},
		{token: "boc", want: Me{Role: "bank_staff", Bank: "BOC"}},
		{token: "terminal", want: Me{Role: "terminal", OrgID: h.meizhou.ID, OrgName: "梅州市"}},
		{token: "platform", want: Me{Role: "platform"}},
		// The hotline signs in to the console for its one page.
		{token: "hotline", want: Me{Role: "hotline"}},
	}
	for _, tc := range tests {
		t.Run(tc.token, func(t *testing.T) {
			r := h.do(http.MethodGet, "/v1/me", tc.token, nil)
			require.Equal(t, http.StatusOK, r.status, "%s", r.body)
			var got Me
			r.json(t, &got)
			require.Positive(t, got.TokenID)
			got.TokenID = 0
			require.Equal(t, tc.want, got)
		})
	}
	t.Run("no token", func(t *testing.T) {
		require.Equal(t, http.StatusUnauthorized, h.do(http.MethodGet, "/v1/me", "", nil).status)
	})
}

// consoleLabels reads the console's label table (api/console/assets/labels.js,
// strict JSON after "const LABELS =").
func consoleLabels(t *testing.T) map[string]map[string]map[string]string {
	t.Helper()
	b, err := fs.ReadFile(console.Assets(), "labels.js")
	require.NoError(t, err)
	s := string(b)
	i := strings.Index(s, "const LABELS = ")
	require.GreaterOrEqual(t, i, 0, "labels.js defines LABELS")
	s = strings.TrimSpace(s[i+len("const LABELS = "):])
	s = strings.TrimSuffix(s, ";")
	var labels map[string]map[string]map[string]string
	require.NoError(t, json.Unmarshal([]byte(s), &labels), "LABELS is strict JSON")
	return labels
}

// docEnums walks an OpenAPI document and returns every enum by its JSON
// pointer ("/components/schemas/Status").
func docEnums(doc []byte) (map[string][]string, error) {
	var v any
	if err := json.Unmarshal(doc, &v); err != nil {
		return nil, err
	}
	out := map[string][]string{}
	var walk func(p string, v any)
	walk = func(p string, v any) {
		switch x := v.(type) {
		case map[string]any:
			if e, ok := x["enum"].([]any); ok {
				for _, s := range e {
					if s, ok := s.(string); ok && s != "" {
						out[p] = append(out[p], s)
					}
				}
			}
			for k, c := range x {
				walk(p+"/"+k, c)
			}
		case []any:
			for i, c := range x {
				walk(p+"/"+strconv.Itoa(i), c)
			}
		}
	}
	walk("", v)
	return out, nil
}

// fullServer is the authorization matrix's server with personalization
// enabled too: every route the service can register.
func fullServer(t *testing.T) *Server {
	t.Helper()
	w := newMatrixWorld(t, storetest.SQLite(t))
	ks, err := dataprep.LoadSoftKeyStore(dataprep.SoftKeyStoreConfig{Dir: persoKeysDir,
		ProductBINs: map[string]string{"GD-RV-BOC": "621661"}})
	require.NoError(t, err)
	ca, err := emv.LoadCAKeys(persoKeysDir + "/ca-public.json")
	require.NoError(t, err)
	perso, err := personalization.New(personalization.Config{Issuance: w.h.svc, Keys: ks, CAKeys: ca})
	require.NoError(t, err)
	require.NoError(t, w.h.srv.EnablePersonalization(perso))
	return w.h.srv
}

// TestConsoleLabels checks that the console labels, in Chinese and in
// English, every code the API answers with: application states, channels,
// roles, on-site, card, bank-request and queue states, organisation kinds,
// document types, card kinds, roster outcomes and ratings, as the OpenAPI
// document and the handlers list them.
func TestConsoleLabels(t *testing.T) {
	labels := consoleLabels(t)
	enums, err := docEnums(fullServer(t).OpenAPI())
	require.NoError(t, err)
	var rating []string
	for p, e := range enums {
		if strings.HasSuffix(p, "/properties/rating") {
			rating = e
		}
	}
	require.NotEmpty(t, rating, "the document has a rating enum")
	groups := map[string][][]string{
		"status":           {enums["/components/schemas/Status"]},
		"channel":          {enums["/components/schemas/Channel"], enums["/components/schemas/NewVolunteer/properties/source"]},
		"role":             {enums["/components/schemas/Me/properties/role"], {"system", "holder"}},
		"session":          {enums["/components/schemas/OnsiteSession/properties/status"]},
		"card":             {enums["/components/schemas/Card/properties/state"], enums["/components/schemas/Card/properties/confirmed_state"]},
		"change":           {enums["/components/schemas/Card/properties/pending_change"]},
		"card_event":       {enums["/components/schemas/CardEventList/properties/items/items/properties/kind"]},
		"bank_request":     {bankRequestStates},
		"bank_kind":        {bankRequestKinds},
		"personalize":      {enums["/components/schemas/QueueEntry/properties/personalize"]},
		"org_kind":         {enums["/components/schemas/NewOrg/properties/kind"]},
		"row":              {enums["/components/schemas/RosterReport/properties/items/items/properties/status"]},
		"id_type":          {enums["/components/schemas/NewVolunteer/properties/id_type"]},
		"card_kind":        {enums["/components/schemas/Product/properties/kind"]},
		"rating":           {rating},
		"tier":             {enums["/components/schemas/ServiceRecord/properties/tier"], enums["/components/schemas/NewOffer/properties/tier"]},
		"close_reason":     {enums["/components/schemas/CloseCard/properties/reason"]},
		"spending":         {enums["/components/schemas/TestSpending/properties/kind"], {"activation"}},
		"renewal":          {enums["/components/schemas/RenewalBatch/properties/items/items/properties/state"]},
		"delivery":         {enums["/components/schemas/WebhookDelivery/properties/state"]},
		"platform_request": {platformRequestStates},
	}
	for group, lists := range groups {
		t.Run(group, func(t *testing.T) {
			var codes []string
			for _, l := range lists {
				require.NotEmpty(t, l, "an enum of %s is missing from the document (renamed?)", group)
				codes = append(codes, l...)
			}
			for _, code := range codes {
				l, ok := labels[group][code]
				require.True(t, ok, "labels.js has no %s label for %q", group, code)
				require.NotEmpty(t, l["zh"], "%s %q in Chinese", group, code)
				require.NotEmpty(t, l["en"], "%s %q in English", group, code)
				require.NotEqual(t, code, l["zh"], "%s %q is labelled with its code", group, code)
				require.True(t, utf8.ValidString(l["zh"]))
			}
		})
	}
}

// staffRoles are the roles that use the console.
var staffRoles = []string{"province_admin", "org_admin", "bank_staff", "hotline"}

// consoleRouteRow is one row of docs/console.md's route table.
type consoleRouteRow struct {
	method, path, op string
	pages            []string
}

// consoleRouteTable reads the table of docs/console.md: rows of the form
// | `GET /v1/path/{id}` | `operationId` | roles | pages | ... with pages
// the console's page ids in backquotes, or "—".
func consoleRouteTable(t *testing.T) []consoleRouteRow {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "docs", "console.md"))
	require.NoError(t, err)
	var rows []consoleRouteRow
	for _, line := range strings.Split(string(b), "\n") {
		cells := strings.Split(line, "|")
		if len(cells) < 6 || !strings.HasPrefix(strings.TrimSpace(cells[1]), "`") {
			continue
		}
		route := strings.Trim(strings.TrimSpace(cells[1]), "`")
		method, path, ok := strings.Cut(route, " ")
		if !ok {
			continue
		}
		r := consoleRouteRow{method: method, path: path, op: strings.Trim(strings.TrimSpace(cells[2]), "`")}
		for _, p := range strings.Split(cells[4], ",") {
			p = strings.Trim(strings.TrimSpace(p), "`")
			if p != "" && p != "—" {
				r.pages = append(r.pages, p)
			}
		}
		rows = append(rows, r)
	}
	return rows
}

// consoleViews reads the page ids of VIEWS in app.js and in app-money.js
// (which adds its pages to VIEWS).
func consoleViews(t *testing.T) map[string]bool {
	t.Helper()
	views := map[string]bool{}
	for _, name := range []string{"app.js", "app-money.js"} {
		b, err := fs.ReadFile(console.Assets(), name)
		require.NoError(t, err)
		for _, m := range regexp.MustCompile(`(?m)^  (\w+): \{ roles: `).FindAllStringSubmatch(string(b), -1) {
			views[m[1]] = true
		}
	}
	require.NotEmpty(t, views)
	return views
}

// TestConsoleRouteTable checks docs/console.md against the server: every
// route registered with a staff role (province_admin, org_admin, hotline,
// bank_staff) has its row, with its operation, naming console pages that
// exist (or "—" with where staff do it instead); no row names a route that
// is not registered.
func TestConsoleRouteTable(t *testing.T) {
	srv := fullServer(t)
	var doc struct {
		Paths map[string]map[string]struct {
			ID    string   `json:"operationId"`
			Roles []string `json:"x-roles"`
		} `json:"paths"`
	}
	require.NoError(t, json.Unmarshal(srv.OpenAPI(), &doc))
	rows := consoleRouteTable(t)
	views := consoleViews(t)
	byRoute := map[string]consoleRouteRow{}
	for _, r := range rows {
		key := r.method + " " + r.path
		_, dup := byRoute[key]
		require.False(t, dup, "docs/console.md lists %s twice", key)
		byRoute[key] = r
		for _, p := range r.pages {
			require.True(t, views[p], "docs/console.md: %s names page %q, which app.js's VIEWS lacks", key, p)
		}
	}
	param := regexp.MustCompile(`:(\w+)`)
	registered := map[string]bool{}
	staff := 0
	for _, rt := range srv.Routes() {
		if !strings.HasPrefix(rt.Path, "/v1/") {
			continue
		}
		path := param.ReplaceAllString(rt.Path, "{$1}")
		key := rt.Method + " " + path
		registered[key] = true
		op, ok := doc.Paths[path][strings.ToLower(rt.Method)]
		require.True(t, ok, "%s is registered but not in the OpenAPI document", key)
		if !slices.ContainsFunc(op.Roles, func(r string) bool { return slices.Contains(staffRoles, r) }) {
			continue
		}
		staff++
		row, ok := byRoute[key]
		require.True(t, ok, "docs/console.md has no row for %s (%s), a route staff use", key, op.ID)
		require.Equal(t, op.ID, row.op, "docs/console.md: the operation of %s", key)
	}
	for key := range byRoute {
		require.True(t, registered[key], "docs/console.md lists %s, which the server does not register", key)
	}
	t.Logf("%d staff routes, %d rows", staff, len(rows))
}
