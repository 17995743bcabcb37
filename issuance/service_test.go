package issuance_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/volcard/volcard/issuance"
	"github.com/volcard/volcard/issuance/store"
	"github.com/volcard/volcard/issuance/store/storetest"
	"github.com/volcard/volcard/pii"
)

var testNow = time.Date(2026, 11, 23, 9, 30, 0, 0, time.UTC)

// fixture is a service over a fresh store with a province, two cities
// (Guangzhou, Meizhou), a bank and two products.
type fixture struct {
	svc       *issuance.Service
	st        *store.Store
	sys       issuance.Actor
	province  issuance.Org
	guangzhou issuance.Org
	meizhou   issuance.Org
	gzAdmin   issuance.Actor
	mzAdmin   issuance.Actor
	clock     *fakeClock
}

type fakeClock struct{ t time.Time }

func (c *fakeClock) Now() time.Time { return c.t }

func testKeys(t testing.TB) *pii.Keys {
	t.Helper()
	k, err := pii.New(bytes.Repeat([]byte{7}, 32))
	require.NoError(t, err)
	return k
}

// residentID returns a valid resident ID with the given first 17 digits.
func residentID(body string) string {
	return body + string(issuance.ResidentIDCheckChar(body))
}

func newFixture(t testing.TB, st *store.Store) *fixture {
	t.Helper()
	ctx := context.Background()
	clk := &fakeClock{t: testNow}
	svc, err := issuance.NewService(st, testKeys(t), issuance.WithClock(clk))
	require.NoError(t, err)
	f := &fixture{svc: svc, st: st, sys: issuance.SystemActor(), clock: clk}
	f.province, err = svc.CreateOrg(ctx, f.sys, issuance.NewOrg{Kind: issuance.OrgProvince, Name: "广东省", RegionCode: "440000"})
	require.NoError(t, err)
	f.guangzhou, err = svc.CreateOrg(ctx, f.sys, issuance.NewOrg{ParentID: f.province.ID, Kind: issuance.OrgCity,
		Name: "广州市", RegionCode: "440100", ResidentPopulation: 14_044_000,
		Responsible: issuance.Contact{Name: "李四", Phone: pii.Phone("13900001111")}})
	require.NoError(t, err)
	f.meizhou, err = svc.CreateOrg(ctx, f.sys, issuance.NewOrg{ParentID: f.province.ID, Kind: issuance.OrgCity,
		Name: "梅州市", RegionCode: "441400"})
	require.NoError(t, err)
	require.NoError(t, svc.PutBank(ctx, f.sys, issuance.Bank{Code: "BOC", Name: "中国银行"}))
	require.NoError(t, svc.PutBank(ctx, f.sys, issuance.Bank{Code: "CCB", Name: "中国建设银行"}))
	require.NoError(t, svc.PutProduct(ctx, f.sys, issuance.Product{Code: "GD-RV-BOC", Name: "注册志愿者证（中国银行）",
		BankCode: "BOC", BIN: "621785", AID: "A000000333010101", Kind: issuance.CardDebit, OrgID: f.province.ID}))
	require.NoError(t, svc.PutProduct(ctx, f.sys, issuance.Product{Code: "MZ-VC-CCB", Name: "梅州志愿者卡（建设银行）",
		BankCode: "CCB", BIN: "621700", AID: "A000000333010101", Kind: issuance.CardDebit, OrgID: f.meizhou.ID}))
	f.gzAdmin = f.token(t, issuance.NewToken{Role: issuance.RoleOrgAdmin, OrgID: f.guangzhou.ID})
	f.mzAdmin = f.token(t, issuance.NewToken{Role: issuance.RoleOrgAdmin, OrgID: f.meizhou.ID})
	return f
}

func (f *fixture) token(t testing.TB, in issuance.NewToken) issuance.Actor {
	t.Helper()
	plain, _, err := f.svc.CreateToken(context.Background(), f.sys, in)
	require.NoError(t, err)
	a, err := f.svc.Authenticate(context.Background(), plain)
	require.NoError(t, err)
	return a
}

var seq int

func (f *fixture) volunteer(t *testing.T, a issuance.Actor, org issuance.Org, name string) issuance.Volunteer {
	t.Helper()
	seq++
	v, err := f.svc.RegisterVolunteer(context.Background(), a, issuance.NewVolunteer{
		OrgID: org.ID, Name: name, IDNumber: residentID(fmt.Sprintf("44010219900307%03d", seq%1000)),
		Phone: "13812345678", LeagueMember: true, ClothingSize: "l",
	})
	require.NoError(t, err)
	return v
}

func TestApplicationFlow(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		f := newFixture(t, st)
		v := f.volunteer(t, f.gzAdmin, f.guangzhou, "张三")
		require.Equal(t, "ZHANG SAN", v.EmbossName)
		require.Equal(t, issuance.SizeL, v.ClothingSize)

		app, err := f.svc.Apply(ctx, f.gzAdmin, v.ID, "GD-RV-BOC", issuance.ChannelOnline)
		require.NoError(t, err)
		require.Equal(t, issuance.StatusSubmitted, app.Status)
		require.Regexp(t, `^GD20261123\d{8}$`, app.Number)

		_, err = f.svc.Apply(ctx, f.gzAdmin, v.ID, "GD-RV-BOC", issuance.ChannelOnline)
		var ce *issuance.ConflictError
		require.ErrorAs(t, err, &ce)
		require.Equal(t, "live_application", ce.What)
		require.ErrorIs(t, err, issuance.ErrConflict)

		_, err = f.svc.Apply(ctx, f.gzAdmin, v.ID, "MZ-VC-CCB", issuance.ChannelOnline)
		require.ErrorIs(t, err, issuance.ErrInvalid, "Meizhou card is for Meizhou volunteers")

		f.clock.t = testNow.Add(time.Hour)
		app, err = f.svc.Approve(ctx, f.gzAdmin, app.ID)
		require.NoError(t, err)
		require.Equal(t, issuance.StatusApproved, app.Status)

		_, err = f.svc.Reject(ctx, f.gzAdmin, app.ID, "late")
		var te *issuance.TransitionError
		require.ErrorAs(t, err, &te)
		require.Equal(t, issuance.TransitionError{From: issuance.StatusApproved, To: issuance.StatusRejected}, *te)
		require.ErrorIs(t, err, issuance.ErrIllegalTransition)

		_, err = f.svc.Transition(ctx, f.gzAdmin, app.ID, issuance.StatusBankPending, "")
		require.ErrorIs(t, err, issuance.ErrForbidden)
		app, err = f.svc.Transition(ctx, f.sys, app.ID, issuance.StatusBankPending, "")
		require.NoError(t, err)
		_, err = f.svc.Cancel(ctx, f.gzAdmin, app.ID, "changed my mind")
		require.ErrorIs(t, err, issuance.ErrIllegalTransition, "no cancel once at the bank")

		ev, err := f.svc.Events(ctx, f.gzAdmin, app.ID)
		require.NoError(t, err)
		require.Len(t, ev, 3)
		require.Equal(t, []issuance.Status{"", issuance.StatusSubmitted, issuance.StatusApproved},
			[]issuance.Status{ev[0].From, ev[1].From, ev[2].From})
		require.Equal(t, []issuance.Status{issuance.StatusSubmitted, issuance.StatusApproved, issuance.StatusBankPending},
			[]issuance.Status{ev[0].To, ev[1].To, ev[2].To})
		require.Equal(t, f.gzAdmin.TokenID, ev[1].ActorTokenID)
		require.Equal(t, issuance.RoleOrgAdmin, ev[1].ActorRole)
		require.Equal(t, issuance.ChannelConsole, ev[1].Channel)
		require.Equal(t, issuance.RoleSystem, ev[2].ActorRole)
		require.True(t, ev[1].At.Equal(testNow.Add(time.Hour)), "event time from the clock: %v", ev[1].At)

		p, err := f.svc.Progress(ctx, app.Number, v.IDNumber.Reveal())
		require.NoError(t, err)
		require.Equal(t, "张*", p.MaskedName)
		require.Equal(t, issuance.StatusBankPending, p.Status)
		require.Equal(t, issuance.StatusBankApproved, p.Next)
		require.True(t, p.Steps[2].Done)
		require.False(t, p.Steps[3].Done)
		// lower-case check character and spaces are accepted
		_, err = f.svc.Progress(ctx, " "+app.Number+" ", v.IDNumber.Reveal())
		require.NoError(t, err)
		for name, tc := range map[string][2]string{
			"wrong id number": {app.Number, residentID("44010219900307999")},
			"unknown number":  {"GD2026112399999999", v.IDNumber.Reveal()},
			"empty":           {"", ""},
		} {
			t.Run(name, func(t *testing.T) {
				_, err := f.svc.Progress(ctx, tc[0], tc[1])
				require.ErrorIs(t, err, issuance.ErrNotFound)
			})
		}
	})
}

func TestCancelThenReapply(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		f := newFixture(t, st)
		v := f.volunteer(t, f.gzAdmin, f.guangzhou, "李小龙")
		app, err := f.svc.Apply(ctx, f.sys, v.ID, "GD-RV-BOC", issuance.ChannelPlatform)
		require.NoError(t, err)
		app, err = f.svc.Cancel(ctx, f.sys, app.ID, "duplicate")
		require.NoError(t, err)
		require.Equal(t, issuance.StatusCancelled, app.Status)
		require.Equal(t, "duplicate", app.Reason)
		app2, err := f.svc.Apply(ctx, f.sys, v.ID, "GD-RV-BOC", issuance.ChannelPlatform)
		require.NoError(t, err, "a cancelled application is not live")
		require.NotEqual(t, app.ID, app2.ID)
		p, err := f.svc.Progress(ctx, app.Number, v.IDNumber.Reveal())
		require.NoError(t, err)
		require.Equal(t, issuance.Status(""), p.Next)
	})
}

func TestRegisterVolunteerDuplicate(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		f := newFixture(t, st)
		in := issuance.NewVolunteer{OrgID: f.guangzhou.ID, Name: "王五", IDNumber: "11010519491231002x", Phone: "13912345678"}
		v, err := f.svc.RegisterVolunteer(ctx, f.sys, in)
		require.NoError(t, err)
		require.Equal(t, "11010519491231002X", v.IDNumber.Reveal())
		require.Equal(t, issuance.GenderFemale, v.Gender)
		require.Equal(t, 76, v.Age(testNow))
		_, err = f.svc.RegisterVolunteer(ctx, f.sys, in)
		var ce *issuance.ConflictError
		require.ErrorAs(t, err, &ce)
		require.Equal(t, "id_number", ce.What)

		got, err := f.svc.FindVolunteerByIDNumber(ctx, f.gzAdmin, " 11010519491231002x")
		require.NoError(t, err)
		require.Equal(t, v.ID, got.ID)
		require.Equal(t, "13912345678", got.Phone.Reveal())
		_, err = f.svc.FindVolunteerByIDNumber(ctx, f.mzAdmin, "11010519491231002X")
		require.ErrorIs(t, err, issuance.ErrNotFound)
	})
}

func TestScoping(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		f := newFixture(t, st)
		gzV := f.volunteer(t, f.gzAdmin, f.guangzhou, "陈一")
		mzV := f.volunteer(t, f.mzAdmin, f.meizhou, "陈二")
		gzApp, err := f.svc.Apply(ctx, f.gzAdmin, gzV.ID, "GD-RV-BOC", issuance.ChannelOnline)
		require.NoError(t, err)
		mzApp, err := f.svc.Apply(ctx, f.mzAdmin, mzV.ID, "MZ-VC-CCB", issuance.ChannelBranch)
		require.NoError(t, err)
		ccb := f.token(t, issuance.NewToken{Role: issuance.RoleBankStaff, BankCode: "CCB"})
		terminal := f.token(t, issuance.NewToken{Role: issuance.RoleTerminal, OrgID: f.meizhou.ID})

		cases := []struct {
			name string
			fn   func() error
		}{
			{"gz admin reads mz volunteer", func() error { _, err := f.svc.GetVolunteer(ctx, f.gzAdmin, mzV.ID); return err }},
			{"gz admin reads mz application", func() error { _, err := f.svc.GetApplication(ctx, f.gzAdmin, mzApp.ID); return err }},
			{"gz admin approves mz application", func() error { _, err := f.svc.Approve(ctx, f.gzAdmin, mzApp.ID); return err }},
			{"gz admin lists mz events", func() error { _, err := f.svc.Events(ctx, f.gzAdmin, mzApp.ID); return err }},
			{"gz admin applies for mz volunteer", func() error {
				_, err := f.svc.Apply(ctx, f.gzAdmin, mzV.ID, "GD-RV-BOC", issuance.ChannelOnline)
				return err
			}},
			{"gz admin reads mz org", func() error { _, err := f.svc.GetOrg(ctx, f.gzAdmin, f.meizhou.ID); return err }},
			{"gz admin reads province", func() error { _, err := f.svc.GetOrg(ctx, f.gzAdmin, f.province.ID); return err }},
			{"ccb staff reads boc application", func() error { _, err := f.svc.GetApplication(ctx, ccb, gzApp.ID); return err }},
			{"mz terminal reads gz volunteer", func() error { _, err := f.svc.GetVolunteer(ctx, terminal, gzV.ID); return err }},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				err := tc.fn()
				require.Error(t, err)
				require.True(t, errors.Is(err, issuance.ErrNotFound) || errors.Is(err, issuance.ErrInvalid), "got %v", err)
			})
		}
		_, err = f.svc.GetApplication(ctx, ccb, mzApp.ID)
		require.NoError(t, err)
		_, err = f.svc.GetVolunteer(ctx, terminal, mzV.ID)
		require.NoError(t, err)
		_, err = f.svc.Approve(ctx, terminal, mzApp.ID)
		require.ErrorIs(t, err, issuance.ErrForbidden)

		page, err := f.svc.ListApplications(ctx, f.gzAdmin, issuance.ApplicationFilter{})
		require.NoError(t, err)
		require.Len(t, page.Items, 1)
		require.Equal(t, gzApp.ID, page.Items[0].ID)
		_, err = f.svc.ListApplications(ctx, f.gzAdmin, issuance.ApplicationFilter{OrgID: f.meizhou.ID})
		require.ErrorIs(t, err, issuance.ErrNotFound)
	})
}

func TestListApplicationsPagination(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		f := newFixture(t, st)
		var ids []int64
		for i := 0; i < 7; i++ {
			v := f.volunteer(t, f.sys, f.guangzhou, "赵六")
			ch := issuance.ChannelOnline
			if i%2 == 1 {
				ch = issuance.ChannelBranch
			}
			a, err := f.svc.Apply(ctx, f.sys, v.ID, "GD-RV-BOC", ch)
			require.NoError(t, err)
			ids = append([]int64{a.ID}, ids...)
		}
		var got []int64
		cursor := ""
		for pages := 0; ; pages++ {
			require.Less(t, pages, 5)
			page, err := f.svc.ListApplications(ctx, f.gzAdmin, issuance.ApplicationFilter{Limit: 3, Cursor: cursor})
			require.NoError(t, err)
			for _, a := range page.Items {
				got = append(got, a.ID)
			}
			if page.NextCursor == "" {
				break
			}
			cursor = page.NextCursor
		}
		require.Equal(t, ids, got)

		page, err := f.svc.ListApplications(ctx, f.sys, issuance.ApplicationFilter{Channel: issuance.ChannelBranch,
			Status: issuance.StatusSubmitted, ProductCode: "GD-RV-BOC", OrgID: f.guangzhou.ID})
		require.NoError(t, err)
		require.Len(t, page.Items, 3)
		_, err = f.svc.ListApplications(ctx, f.sys, issuance.ApplicationFilter{Cursor: "garbage!"})
		require.ErrorIs(t, err, issuance.ErrInvalid)
	})
}

func TestPIIAtRest(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		f := newFixture(t, st)
		v := f.volunteer(t, f.sys, f.guangzhou, "孙七")
		rows, err := st.SQLDB().QueryContext(ctx, "SELECT * FROM volunteers WHERE id = $1", v.ID)
		require.NoError(t, err)
		defer rows.Close()
		cols, err := rows.Columns()
		require.NoError(t, err)
		require.True(t, rows.Next())
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		require.NoError(t, rows.Scan(ptrs...))
		for i, c := range cols {
			b := []byte(fmt.Sprint(vals[i]))
			if raw, ok := vals[i].([]byte); ok {
				b = raw
			}
			require.False(t, bytes.Contains(b, []byte(v.IDNumber.Reveal())), "column %s holds the ID number", c)
			require.False(t, bytes.Contains(b, []byte(v.IDNumber.Reveal()[6:14])), "column %s holds the ID digits", c)
			require.False(t, bytes.Contains(b, []byte(v.Phone.Reveal())), "column %s holds the phone", c)
		}
		got, err := f.svc.GetVolunteer(ctx, f.sys, v.ID)
		require.NoError(t, err)
		require.Equal(t, v.IDNumber.Reveal(), got.IDNumber.Reveal())
		require.Equal(t, v.Phone.Reveal(), got.Phone.Reveal())
		require.Equal(t, "138****5678", fmt.Sprint(got.Phone))
		o, err := f.svc.GetOrg(ctx, f.sys, f.guangzhou.ID)
		require.NoError(t, err)
		require.Equal(t, "13900001111", o.Responsible.Phone.Reveal())
	})
}

func TestTokens(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		f := newFixture(t, st)
		n, err := f.svc.CountTokens(ctx)
		require.NoError(t, err)
		require.EqualValues(t, 2, n)
		plain, tok, err := f.svc.CreateToken(ctx, f.sys, issuance.NewToken{Role: issuance.RoleProvinceAdmin, Name: "admin"})
		require.NoError(t, err)
		require.Regexp(t, `^vc_[A-Za-z0-9_-]{43}$`, plain)
		require.Equal(t, plain[:7], tok.Hint)
		a, err := f.svc.Authenticate(ctx, plain)
		require.NoError(t, err)
		require.Equal(t, issuance.Actor{TokenID: tok.ID, Role: issuance.RoleProvinceAdmin}, a)
		require.Equal(t, f.guangzhou.Path, f.gzAdmin.ScopePath)

		_, _, err = f.svc.CreateToken(ctx, f.gzAdmin, issuance.NewToken{Role: issuance.RoleProvinceAdmin})
		require.ErrorIs(t, err, issuance.ErrForbidden)
		_, _, err = f.svc.CreateToken(ctx, f.sys, issuance.NewToken{Role: issuance.RoleOrgAdmin})
		require.ErrorIs(t, err, issuance.ErrInvalid)
		_, _, err = f.svc.CreateToken(ctx, f.sys, issuance.NewToken{Role: issuance.RoleSystem})
		require.ErrorIs(t, err, issuance.ErrInvalid)

		cached, err := issuance.NewService(st, testKeys(t), issuance.WithTokenCache(time.Minute))
		require.NoError(t, err)
		ca, err := cached.Authenticate(ctx, plain)
		require.NoError(t, err)
		require.Equal(t, a, ca)
		require.NoError(t, cached.RevokeToken(ctx, a, tok.ID))
		_, err = cached.Authenticate(ctx, plain)
		require.ErrorIs(t, err, issuance.ErrUnauthenticated, "revocation drops the cache entry")
		require.NoError(t, f.svc.RevokeToken(ctx, a, tok.ID))
		_, err = f.svc.Authenticate(ctx, plain)
		require.ErrorIs(t, err, issuance.ErrUnauthenticated)
		for _, bad := range []string{"", "vc_", "Bearer x", plain[:len(plain)-1] + "A"} {
			_, err = f.svc.Authenticate(ctx, bad)
			require.ErrorIs(t, err, issuance.ErrUnauthenticated)
		}
		require.ErrorIs(t, f.svc.RevokeToken(ctx, f.sys, 99999), issuance.ErrNotFound)
	})
}

func TestConcurrentCommands(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		f := newFixture(t, st)
		v := f.volunteer(t, f.sys, f.guangzhou, "周八")
		const n = 8
		errs := make(chan error, n)
		for range n {
			go func() {
				_, err := f.svc.Apply(ctx, f.gzAdmin, v.ID, "GD-RV-BOC", issuance.ChannelOnline)
				errs <- err
			}()
		}
		var ok, conflict int
		for range n {
			err := <-errs
			switch {
			case err == nil:
				ok++
			case errors.Is(err, issuance.ErrConflict):
				conflict++
			default:
				t.Errorf("unexpected error: %v", err)
			}
		}
		require.Equal(t, 1, ok)
		require.Equal(t, n-1, conflict)

		page, err := f.svc.ListApplications(ctx, f.sys, issuance.ApplicationFilter{})
		require.NoError(t, err)
		require.Len(t, page.Items, 1)
		id := page.Items[0].ID
		for range n {
			go func() {
				_, err := f.svc.Approve(ctx, f.gzAdmin, id)
				errs <- err
			}()
		}
		ok = 0
		for range n {
			err := <-errs
			switch {
			case err == nil:
				ok++
			case errors.Is(err, issuance.ErrConflict), errors.Is(err, issuance.ErrIllegalTransition):
			default:
				t.Errorf("unexpected error: %v", err)
			}
		}
		require.Equal(t, 1, ok)
		ev, err := f.svc.Events(ctx, f.sys, id)
		require.NoError(t, err)
		require.Len(t, ev, 2, "exactly one approval event")
	})
}
