package checkin_test

import (
	"context"
	"testing"
	"time"

	"github.com/volcard/volcard/issuance/checkin"

	"github.com/google/go-cmp/cmp"
	"github.com/stretchr/testify/require"

	"github.com/volcard/volcard/issuance"
	"github.com/volcard/volcard/issuance/store"
	"github.com/volcard/volcard/issuance/store/storetest"
)

// TestListActivities checks Checkin.ListActivities on both databases:
// scoping per role (denials included), newest start first with ties by id,
// the window filter, cursor pages across equal starts, validation, and the
// check-in figures of each item.
func TestListActivities(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		cf := newCheckinFixture(t, st, checkin.Config{})
		f := cf.Fixture
		uni, err := f.Svc.CreateOrg(ctx, f.Sys, issuance.NewOrg{ParentID: f.Meizhou.ID, Kind: issuance.OrgUniversity,
			Name: "嘉应学院", RegionCode: "441402"})
		require.NoError(t, err)
		uniAdmin := f.Token(t, issuance.NewToken{Role: issuance.RoleOrgAdmin, OrgID: uni.ID})
		gzTerminal := f.Token(t, issuance.NewToken{Name: "gz gate", Role: issuance.RoleTerminal, OrgID: f.Guangzhou.ID})
		province := f.Token(t, issuance.NewToken{Role: issuance.RoleProvinceAdmin})
		platform := f.Token(t, issuance.NewToken{Name: "izyz", Role: issuance.RolePlatform})

		day := func(d, hh int) time.Time { return time.Date(2026, 11, d, hh, 0, 0, 0, cst) }
		create := func(a issuance.Actor, org issuance.Org, title string, from, to time.Time) checkin.Activity {
			t.Helper()
			act, err := cf.ck.CreateActivity(ctx, a, checkin.NewActivity{OrgID: org.ID, Title: title, Site: "现场",
				StartsAt: from, EndsAt: to})
			require.NoError(t, err)
			return act
		}
		mz := cf.act // 23rd 09:00–12:00, Meizhou
		uniTalk := create(uniAdmin, uni, "校园宣讲", day(24, 14), day(24, 16))
		uniSame := create(uniAdmin, uni, "校园义诊", day(24, 14), day(24, 17)) // same start: after uniTalk by id
		gz := create(f.GzAdmin, f.Guangzhou, "广州塔志愿服务", day(22, 9), day(22, 18))
		multi := create(f.MzAdmin, f.Meizhou, "梅州读书月", day(10, 9), day(25, 18)) // still running on the 23rd

		ids := func(p checkin.ActivityPage) []int64 {
			out := []int64{}
			for _, it := range p.Items {
				out = append(out, it.ID)
			}
			return out
		}
		all := []int64{uniSame.ID, uniTalk.ID, mz.ID, gz.ID, multi.ID}

		tests := []struct {
			name  string
			actor issuance.Actor
			f     checkin.ActivityFilter
			want  []int64
			err   error
		}{
			{name: "province admin: all, newest start first", actor: province, want: all},
			{name: "platform: all", actor: platform, want: all},
			{name: "city admin: its subtree", actor: f.MzAdmin, want: []int64{uniSame.ID, uniTalk.ID, mz.ID, multi.ID}},
			{name: "university admin: its own", actor: uniAdmin, want: []int64{uniSame.ID, uniTalk.ID}},
			{name: "other city admin: its own", actor: f.GzAdmin, want: []int64{gz.ID}},
			{name: "terminal: its org", actor: cf.terminal, want: []int64{uniSame.ID, uniTalk.ID, mz.ID, multi.ID}},
			{name: "other city's terminal", actor: gzTerminal, want: []int64{gz.ID}},
			{name: "org filter", actor: province, f: checkin.ActivityFilter{OrgID: uni.ID}, want: []int64{uniSame.ID, uniTalk.ID}},
			{name: "today and upcoming", actor: f.MzAdmin, f: checkin.ActivityFilter{From: day(23, 0)},
				want: []int64{uniSame.ID, uniTalk.ID, mz.ID, multi.ID}},
			{name: "one day", actor: province, f: checkin.ActivityFilter{From: day(23, 0), To: day(24, 0)},
				want: []int64{mz.ID, multi.ID}},
			{name: "ended before from", actor: province, f: checkin.ActivityFilter{From: day(25, 18)}, want: []int64{}},
			{name: "starts at to: excluded", actor: province, f: checkin.ActivityFilter{From: day(24, 0), To: day(24, 14)},
				want: []int64{multi.ID}},
			{name: "denied: org filter outside the scope", actor: f.GzAdmin, f: checkin.ActivityFilter{OrgID: f.Meizhou.ID}, err: issuance.ErrNotFound},
			{name: "denied: org filter above the scope", actor: uniAdmin, f: checkin.ActivityFilter{OrgID: f.Meizhou.ID}, err: issuance.ErrNotFound},
			{name: "denied: terminal filtering another city", actor: cf.terminal, f: checkin.ActivityFilter{OrgID: f.Guangzhou.ID}, err: issuance.ErrNotFound},
			{name: "denied: unknown role", actor: issuance.Actor{Role: "volunteer"}, err: issuance.ErrForbidden},
			{name: "limit too large", actor: province, f: checkin.ActivityFilter{Limit: issuance.MaxPageSize + 1}, err: issuance.ErrInvalid},
			{name: "negative limit", actor: province, f: checkin.ActivityFilter{Limit: -1}, err: issuance.ErrInvalid},
			{name: "negative org", actor: province, f: checkin.ActivityFilter{OrgID: -1}, err: issuance.ErrInvalid},
			{name: "to before from", actor: province, f: checkin.ActivityFilter{From: day(24, 0), To: day(23, 0)}, err: issuance.ErrInvalid},
			{name: "malformed cursor", actor: province, f: checkin.ActivityFilter{Cursor: "eHl6"}, err: issuance.ErrInvalid},
			{name: "application cursor", actor: province, f: checkin.ActivityFilter{Cursor: "YTE6MTI"}, err: issuance.ErrInvalid},
		}
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				p, err := cf.ck.ListActivities(ctx, tc.actor, tc.f)
				if tc.err != nil {
					require.ErrorIs(t, err, tc.err)
					return
				}
				require.NoError(t, err)
				require.Equal(t, tc.want, ids(p))
				require.Empty(t, p.NextCursor)
			})
		}

		t.Run("pages across equal starts", func(t *testing.T) {
			var got []int64
			cursor := ""
			for range 10 {
				p, err := cf.ck.ListActivities(ctx, province, checkin.ActivityFilter{Limit: 1, Cursor: cursor})
				require.NoError(t, err)
				got = append(got, ids(p)...)
				if cursor = p.NextCursor; cursor == "" {
					break
				}
			}
			require.Equal(t, all, got)
			p, err := cf.ck.ListActivities(ctx, province, checkin.ActivityFilter{Limit: 2})
			require.NoError(t, err)
			require.Equal(t, []int64{uniSame.ID, uniTalk.ID}, ids(p))
			p, err = cf.ck.ListActivities(ctx, province, checkin.ActivityFilter{Limit: 2, Cursor: p.NextCursor})
			require.NoError(t, err)
			require.Equal(t, []int64{mz.ID, gz.ID}, ids(p))
		})

		t.Run("items and check-in figures", func(t *testing.T) {
			cf.at(9, 10)
			_, err := cf.tap(t, "default.json")
			require.NoError(t, err)
			p, err := cf.ck.ListActivities(ctx, f.MzAdmin, checkin.ActivityFilter{From: day(23, 0), To: day(24, 0)})
			require.NoError(t, err)
			require.Len(t, p.Items, 2)
			want := checkin.ActivitySummary{Activity: mz, OrgName: "梅州市", CheckIns: 1, OnSite: 1}
			require.Empty(t, cmp.Diff(want, p.Items[0]))
			require.Equal(t, int64(0), p.Items[1].CheckIns)

			cf.at(11, 0)
			_, err = cf.tap(t, "default.json")
			require.NoError(t, err)
			p, err = cf.ck.ListActivities(ctx, cf.terminal, checkin.ActivityFilter{OrgID: f.Meizhou.ID, From: day(23, 0), To: day(24, 0)})
			require.NoError(t, err)
			require.Equal(t, int64(1), p.Items[0].CheckIns)
			require.Equal(t, int64(0), p.Items[0].OnSite, "checked out")
			require.Equal(t, "梅州市", p.Items[1].OrgName)
		})
	})
}
