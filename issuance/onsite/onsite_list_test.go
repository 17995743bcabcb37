package onsite_test

import (
	"context"
	"errors"
	"testing"

	"github.com/volcard/volcard/issuance/onsite"

	"github.com/google/go-cmp/cmp"
	"github.com/stretchr/testify/require"

	"github.com/volcard/volcard/issuance"
	"github.com/volcard/volcard/issuance/store"
	"github.com/volcard/volcard/issuance/store/storetest"
	"github.com/volcard/volcard/pii"
)

// TestListOnsiteSessions checks the session list on both databases:
// scoping by role (org admin: subtree; bank staff: its bank in its branch's
// city; province admin: all), filters, newest first, cursor pagination and
// the roster figures of each item.
func TestListOnsiteSessions(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		f := newOnsiteFixture(t, st)
		sys := f.Sys
		actor := func(in issuance.NewToken) issuance.Actor {
			plain, _, err := f.Svc.CreateToken(ctx, sys, in)
			require.NoError(t, err)
			a, err := f.Svc.Authenticate(ctx, plain)
			require.NoError(t, err)
			return a
		}
		gzBranch := issuance.Branch{BankCode: "BOC", OrgID: f.Guangzhou.ID, Name: "中国银行广州分行",
			Contact: issuance.Contact{Name: "黄经理", Phone: pii.Phone("020-83338888")}}
		require.NoError(t, f.Svc.PutBranch(ctx, sys, &gzBranch))
		cebBranch := issuance.Branch{BankCode: "CEB", OrgID: f.Meizhou.ID, Name: "光大银行梅州分行"}
		require.NoError(t, f.Svc.PutBranch(ctx, sys, &cebBranch))
		province := actor(issuance.NewToken{Name: "prov", Role: issuance.RoleProvinceAdmin})
		mzAdmin := actor(issuance.NewToken{Name: "mz", Role: issuance.RoleOrgAdmin, OrgID: f.Meizhou.ID})
		gzAdmin := actor(issuance.NewToken{Name: "gz", Role: issuance.RoleOrgAdmin, OrgID: f.Guangzhou.ID})
		bocGZ := actor(issuance.NewToken{Name: "boc gz", Role: issuance.RoleBankStaff, BankCode: "BOC", BranchID: gzBranch.ID})
		cebMZ := actor(issuance.NewToken{Name: "ceb mz", Role: issuance.RoleBankStaff, BankCode: "CEB", BranchID: cebBranch.ID})
		terminal := actor(issuance.NewToken{Name: "term", Role: issuance.RoleTerminal, OrgID: f.Meizhou.ID})

		request := func(org int64, site string) onsite.Session {
			s, err := f.On.Request(ctx, province, onsite.NewSession{
				OrgID: org, Site: site, Date: f.date, ExpectedCount: 45, ProductCode: "GD-RV-BOC"})
			require.NoError(t, err)
			return s
		}
		uni1 := request(f.university.ID, "体育馆")
		mz := request(f.Meizhou.ID, "梅州市青年活动中心")
		gz := request(f.Guangzhou.ID, "天河体育中心")
		uni2 := request(f.university.ID, "礼堂")
		_, err := f.On.Transition(ctx, f.uniAdmin, uni2.ID, onsite.SessionCancelled, "exams")
		require.NoError(t, err)
		_, err = f.On.UploadRoster(ctx, f.bocStaff, uni1.ID, onsite.RosterInput{Data: fixtureFile(t, "onsite-45-gb18030.csv")})
		require.NoError(t, err)

		ids := func(p onsite.SessionPage) []int64 {
			out := []int64{}
			for _, it := range p.Items {
				out = append(out, it.ID)
			}
			return out
		}
		tests := []struct {
			name  string
			actor issuance.Actor
			f     onsite.SessionFilter
			want  []int64
		}{
			{name: "province admin sees all, newest first", actor: province, want: []int64{uni2.ID, gz.ID, mz.ID, uni1.ID}},
			{name: "university admin sees its own", actor: f.uniAdmin, want: []int64{uni2.ID, uni1.ID}},
			{name: "city admin sees its subtree", actor: mzAdmin, want: []int64{uni2.ID, mz.ID, uni1.ID}},
			{name: "other city admin", actor: gzAdmin, want: []int64{gz.ID}},
			{name: "bank staff of the city", actor: f.bocStaff, want: []int64{uni2.ID, mz.ID, uni1.ID}},
			{name: "bank staff of another city", actor: bocGZ, want: []int64{gz.ID}},
			{name: "another bank in the city", actor: cebMZ, want: []int64{}},
			{name: "state filter", actor: province, f: onsite.SessionFilter{Status: onsite.SessionCancelled}, want: []int64{uni2.ID}},
			{name: "org filter", actor: province, f: onsite.SessionFilter{OrgID: f.university.ID}, want: []int64{uni2.ID, uni1.ID}},
			{name: "org filter inside scope", actor: mzAdmin, f: onsite.SessionFilter{OrgID: f.university.ID, Status: onsite.SessionRequested},
				want: []int64{uni1.ID}},
		}
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				p, err := f.On.List(ctx, tc.actor, tc.f)
				require.NoError(t, err)
				if d := cmp.Diff(tc.want, ids(p)); d != "" {
					t.Fatalf("sessions (-want +got):\n%s", d)
				}
				require.Empty(t, p.NextCursor)
			})
		}

		t.Run("denied", func(t *testing.T) {
			_, err := f.On.List(ctx, f.uniAdmin, onsite.SessionFilter{OrgID: f.Guangzhou.ID})
			require.ErrorIs(t, err, issuance.ErrNotFound, "an org filter outside the scope")
			_, err = f.On.List(ctx, gzAdmin, onsite.SessionFilter{OrgID: f.Meizhou.ID})
			require.ErrorIs(t, err, issuance.ErrNotFound)
			_, err = f.On.List(ctx, terminal, onsite.SessionFilter{})
			require.ErrorIs(t, err, issuance.ErrForbidden)
		})

		t.Run("bad filter", func(t *testing.T) {
			for name, flt := range map[string]onsite.SessionFilter{
				"state": {Status: "open"}, "cursor": {Cursor: "nope"}, "limit": {Limit: issuance.MaxPageSize + 1},
			} {
				_, err := f.On.List(ctx, province, flt)
				var ve *issuance.ValidationError
				require.True(t, errors.As(err, &ve), "%s: %v", name, err)
				require.Equal(t, name, ve.Field)
			}
		})

		t.Run("pages", func(t *testing.T) {
			var got []int64
			flt := onsite.SessionFilter{Limit: 3}
			for pages := 0; ; pages++ {
				require.Less(t, pages, 3)
				p, err := f.On.List(ctx, province, flt)
				require.NoError(t, err)
				got = append(got, ids(p)...)
				if p.NextCursor == "" {
					break
				}
				flt.Cursor = p.NextCursor
			}
			require.Equal(t, []int64{uni2.ID, gz.ID, mz.ID, uni1.ID}, got)
		})

		t.Run("figures", func(t *testing.T) {
			p, err := f.On.List(ctx, f.bocStaff, onsite.SessionFilter{OrgID: f.university.ID})
			require.NoError(t, err)
			require.Len(t, p.Items, 2)
			first := p.Items[1]
			require.Equal(t, uni1.ID, first.ID)
			require.Equal(t, "嘉应学院", first.OrgName)
			require.Equal(t, "中国银行梅州分行", first.BranchName)
			require.Equal(t, "中国银行梅州分行", first.Branch.Name)
			require.Empty(t, first.Branch.Contact.Name, "no contact in lists")
			require.Equal(t, 40, first.Accepted)
			require.Equal(t, 5, first.Rejected)
			require.Equal(t, 45, first.ExpectedCount)
			require.Equal(t, f.date.Format("2006-01-02"), first.Date.Format("2006-01-02"))
			require.Equal(t, onsite.SessionCancelled, p.Items[0].Status)
			require.Zero(t, p.Items[0].Accepted)
			require.Zero(t, p.Items[0].Rejected)
		})

		t.Run("application list carries organisation names", func(t *testing.T) {
			p, err := f.Svc.ListApplications(ctx, f.uniAdmin, issuance.ApplicationFilter{Limit: 5})
			require.NoError(t, err)
			require.NotEmpty(t, p.Items)
			for _, a := range p.Items {
				require.Equal(t, "嘉应学院", a.OrgName)
			}
		})
	})
}
