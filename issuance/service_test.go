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
	"github.com/volcard/volcard/issuance/issuancetest"
	"github.com/volcard/volcard/issuance/store"
	"github.com/volcard/volcard/issuance/store/storetest"
)

func TestApplicationFlow(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		f := issuancetest.New(t, st)
		v := f.Volunteer(t, f.GzAdmin, f.Guangzhou, "张三")
		require.Equal(t, "ZHANG SAN", v.EmbossName)
		require.Equal(t, issuance.SizeL, v.ClothingSize)

		app, err := f.Svc.Apply(ctx, f.GzAdmin, v.ID, "GD-RV-BOC", issuance.ChannelOnline)
		require.NoError(t, err)
		require.Equal(t, issuance.StatusSubmitted, app.Status)
		require.Regexp(t, `^GD20261123\d{8}$`, app.Number)

		_, err = f.Svc.Apply(ctx, f.GzAdmin, v.ID, "GD-RV-BOC", issuance.ChannelOnline)
		var ce *issuance.ConflictError
		require.ErrorAs(t, err, &ce)
		require.Equal(t, "live_application", ce.What)
		require.ErrorIs(t, err, issuance.ErrConflict)

		_, err = f.Svc.Apply(ctx, f.GzAdmin, v.ID, "MZ-VC-CCB", issuance.ChannelOnline)
		require.ErrorIs(t, err, issuance.ErrInvalid, "Meizhou card is for Meizhou volunteers")

		f.Clock.T = issuancetest.Now.Add(time.Hour)
		app, err = f.Svc.Approve(ctx, f.GzAdmin, app.ID)
		require.NoError(t, err)
		require.Equal(t, issuance.StatusApproved, app.Status)

		_, err = f.Svc.Reject(ctx, f.GzAdmin, app.ID, "late")
		var te *issuance.TransitionError
		require.ErrorAs(t, err, &te)
		require.Equal(t, issuance.TransitionError{From: issuance.StatusApproved, To: issuance.StatusRejected}, *te)
		require.ErrorIs(t, err, issuance.ErrIllegalTransition)

		_, err = f.Svc.Transition(ctx, f.GzAdmin, app.ID, issuance.StatusBankPending, "")
		require.ErrorIs(t, err, issuance.ErrForbidden)
		app, err = f.Svc.Transition(ctx, f.Sys, app.ID, issuance.StatusBankPending, "")
		require.NoError(t, err)
		_, err = f.Svc.Cancel(ctx, f.GzAdmin, app.ID, "changed my mind")
		require.ErrorIs(t, err, issuance.ErrIllegalTransition, "no cancel once at the bank")

		ev, err := f.Svc.Events(ctx, f.GzAdmin, app.ID)
		require.NoError(t, err)
		require.Len(t, ev, 3)
		require.Equal(t, []issuance.Status{"", issuance.StatusSubmitted, issuance.StatusApproved},
			[]issuance.Status{ev[0].From, ev[1].From, ev[2].From})
		require.Equal(t, []issuance.Status{issuance.StatusSubmitted, issuance.StatusApproved, issuance.StatusBankPending},
			[]issuance.Status{ev[0].To, ev[1].To, ev[2].To})
		require.Equal(t, f.GzAdmin.TokenID, ev[1].ActorTokenID)
		require.Equal(t, issuance.RoleOrgAdmin, ev[1].ActorRole)
		require.Equal(t, issuance.ChannelConsole, ev[1].Channel)
		require.Equal(t, issuance.RoleSystem, ev[2].ActorRole)
		require.True(t, ev[1].At.Equal(issuancetest.Now.Add(time.Hour)), "event time from the clock: %v", ev[1].At)

		p, err := f.Svc.Progress(ctx, app.Number, v.IDNumber.Reveal())
		require.NoError(t, err)
		require.Equal(t, "张*", p.MaskedName)
		require.Equal(t, issuance.StatusBankPending, p.Status)
		require.Equal(t, issuance.StatusBankApproved, p.Next)
		require.True(t, p.Steps[2].Done)
		require.False(t, p.Steps[3].Done)
		// lower-case check character and spaces are accepted
		_, err = f.Svc.Progress(ctx, " "+app.Number+" ", v.IDNumber.Reveal())
		require.NoError(t, err)
		for name, tc := range map[string][2]string{
			"wrong id number": {app.Number, issuancetest.ResidentID("44010219900307999")},
			"unknown number":  {"GD2026112399999999", v.IDNumber.Reveal()},
			"empty":           {"", ""},
		} {
			t.Run(name, func(t *testing.T) {
				_, err := f.Svc.Progress(ctx, tc[0], tc[1])
				require.ErrorIs(t, err, issuance.ErrNotFound)
			})
		}
	})
}

func TestCancelThenReapply(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		f := issuancetest.New(t, st)
		v := f.Volunteer(t, f.GzAdmin, f.Guangzhou, "李小龙")
		app, err := f.Svc.Apply(ctx, f.Sys, v.ID, "GD-RV-BOC", issuance.ChannelPlatform)
		require.NoError(t, err)
		app, err = f.Svc.Cancel(ctx, f.Sys, app.ID, "duplicate")
		require.NoError(t, err)
		require.Equal(t, issuance.StatusCancelled, app.Status)
		require.Equal(t, "duplicate", app.Reason)
		app2, err := f.Svc.Apply(ctx, f.Sys, v.ID, "GD-RV-BOC", issuance.ChannelPlatform)
		require.NoError(t, err, "a cancelled application is not live")
		require.NotEqual(t, app.ID, app2.ID)
		p, err := f.Svc.Progress(ctx, app.Number, v.IDNumber.Reveal())
		require.NoError(t, err)
		require.Equal(t, issuance.Status(""), p.Next)
	})
}

func TestRegisterVolunteerDuplicate(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		f := issuancetest.New(t, st)
		in := issuance.NewVolunteer{OrgID: f.Guangzhou.ID, Name: "王五", IDNumber: "11010519491231002x", Phone: "13912345678"}
		v, err := f.Svc.RegisterVolunteer(ctx, f.Sys, in)
		require.NoError(t, err)
		require.Equal(t, "11010519491231002X", v.IDNumber.Reveal())
		require.Equal(t, issuance.GenderFemale, v.Gender)
		require.Equal(t, 76, v.Age(issuancetest.Now))
		_, err = f.Svc.RegisterVolunteer(ctx, f.Sys, in)
		var ce *issuance.ConflictError
		require.ErrorAs(t, err, &ce)
		require.Equal(t, "id_number", ce.What)

		got, err := f.Svc.FindVolunteerByIDNumber(ctx, f.GzAdmin, " 11010519491231002x")
		require.NoError(t, err)
		require.Equal(t, v.ID, got.ID)
		require.Equal(t, "13912345678", got.Phone.Reveal())
		_, err = f.Svc.FindVolunteerByIDNumber(ctx, f.MzAdmin, "11010519491231002X")
		require.ErrorIs(t, err, issuance.ErrNotFound)
	})
}

func TestScoping(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		f := issuancetest.New(t, st)
		gzV := f.Volunteer(t, f.GzAdmin, f.Guangzhou, "陈一")
		mzV := f.Volunteer(t, f.MzAdmin, f.Meizhou, "陈二")
		gzApp, err := f.Svc.Apply(ctx, f.GzAdmin, gzV.ID, "GD-RV-BOC", issuance.ChannelOnline)
		require.NoError(t, err)
		mzApp, err := f.Svc.Apply(ctx, f.MzAdmin, mzV.ID, "MZ-VC-CCB", issuance.ChannelBranch)
		require.NoError(t, err)
		ccb := f.Token(t, issuance.NewToken{Role: issuance.RoleBankStaff, BankCode: "CCB"})
		terminal := f.Token(t, issuance.NewToken{Role: issuance.RoleTerminal, OrgID: f.Meizhou.ID})

		cases := []struct {
			name string
			fn   func() error
		}{
			{"gz admin reads mz volunteer", func() error { _, err := f.Svc.GetVolunteer(ctx, f.GzAdmin, mzV.ID); return err }},
			{"gz admin reads mz application", func() error { _, err := f.Svc.GetApplication(ctx, f.GzAdmin, mzApp.ID); return err }},
			{"gz admin approves mz application", func() error { _, err := f.Svc.Approve(ctx, f.GzAdmin, mzApp.ID); return err }},
			{"gz admin lists mz events", func() error { _, err := f.Svc.Events(ctx, f.GzAdmin, mzApp.ID); return err }},
			{"gz admin applies for mz volunteer", func() error {
				_, err := f.Svc.Apply(ctx, f.GzAdmin, mzV.ID, "GD-RV-BOC", issuance.ChannelOnline)
				return err
			}},
			{"gz admin reads mz org", func() error { _, err := f.Svc.GetOrg(ctx, f.GzAdmin, f.Meizhou.ID); return err }},
			{"gz admin reads province", func() error { _, err := f.Svc.GetOrg(ctx, f.GzAdmin, f.Province.ID); return err }},
			{"ccb staff reads boc application", func() error { _, err := f.Svc.GetApplication(ctx, ccb, gzApp.ID); return err }},
			{"mz terminal reads gz volunteer", func() error { _, err := f.Svc.GetVolunteer(ctx, terminal, gzV.ID); return err }},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				err := tc.fn()
				require.Error(t, err)
				require.True(t, errors.Is(err, issuance.ErrNotFound) || errors.Is(err, issuance.ErrInvalid), "got %v", err)
			})
		}
		_, err = f.Svc.GetApplication(ctx, ccb, mzApp.ID)
		require.NoError(t, err)
		_, err = f.Svc.GetVolunteer(ctx, terminal, mzV.ID)
		require.NoError(t, err)
		_, err = f.Svc.Approve(ctx, terminal, mzApp.ID)
		require.ErrorIs(t, err, issuance.ErrForbidden)

		page, err := f.Svc.ListApplications(ctx, f.GzAdmin, issuance.ApplicationFilter{})
		require.NoError(t, err)
		require.Len(t, page.Items, 1)
		require.Equal(t, gzApp.ID, page.Items[0].ID)
		_, err = f.Svc.ListApplications(ctx, f.GzAdmin, issuance.ApplicationFilter{OrgID: f.Meizhou.ID})
		require.ErrorIs(t, err, issuance.ErrNotFound)
	})
}

func TestListApplicationsPagination(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		f := issuancetest.New(t, st)
		var ids []int64
		for i := 0; i < 7; i++ {
			v := f.Volunteer(t, f.Sys, f.Guangzhou, "赵六")
			ch := issuance.ChannelOnline
			if i%2 == 1 {
				ch = issuance.ChannelBranch
			}
			a, err := f.Svc.Apply(ctx, f.Sys, v.ID, "GD-RV-BOC", ch)
			require.NoError(t, err)
			ids = append([]int64{a.ID}, ids...)
		}
		var got []int64
		cursor := ""
		for pages := 0; ; pages++ {
			require.Less(t, pages, 5)
			page, err := f.Svc.ListApplications(ctx, f.GzAdmin, issuance.ApplicationFilter{Limit: 3, Cursor: cursor})
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

		page, err := f.Svc.ListApplications(ctx, f.Sys, issuance.ApplicationFilter{Channel: issuance.ChannelBranch,
			Status: issuance.StatusSubmitted, ProductCode: "GD-RV-BOC", OrgID: f.Guangzhou.ID})
		require.NoError(t, err)
		require.Len(t, page.Items, 3)
		_, err = f.Svc.ListApplications(ctx, f.Sys, issuance.ApplicationFilter{Cursor: "garbage!"})
		require.ErrorIs(t, err, issuance.ErrInvalid)
	})
}

func TestPIIAtRest(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		f := issuancetest.New(t, st)
		v := f.Volunteer(t, f.Sys, f.Guangzhou, "孙七")
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
		got, err := f.Svc.GetVolunteer(ctx, f.Sys, v.ID)
		require.NoError(t, err)
		require.Equal(t, v.IDNumber.Reveal(), got.IDNumber.Reveal())
		require.Equal(t, v.Phone.Reveal(), got.Phone.Reveal())
		require.Equal(t, "138****5678", fmt.Sprint(got.Phone))
		o, err := f.Svc.GetOrg(ctx, f.Sys, f.Guangzhou.ID)
		require.NoError(t, err)
		require.Equal(t, "13900001111", o.Responsible.Phone.Reveal())
	})
}

func TestTokens(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		f := issuancetest.New(t, st)
		n, err := f.Svc.CountTokens(ctx)
		require.NoError(t, err)
		require.EqualValues(t, 2, n)
		plain, tok, err := f.Svc.CreateToken(ctx, f.Sys, issuance.NewToken{Role: issuance.RoleProvinceAdmin, Name: "admin"})
		require.NoError(t, err)
		require.Regexp(t, `^vc_[A-Za-z0-9_-]{43}$`, plain)
		require.Equal(t, plain[:7], tok.Hint)
		a, err := f.Svc.Authenticate(ctx, plain)
		require.NoError(t, err)
		require.Equal(t, issuance.Actor{TokenID: tok.ID, Role: issuance.RoleProvinceAdmin}, a)
		require.Equal(t, f.Guangzhou.Path, f.GzAdmin.ScopePath)

		_, _, err = f.Svc.CreateToken(ctx, f.GzAdmin, issuance.NewToken{Role: issuance.RoleProvinceAdmin})
		require.ErrorIs(t, err, issuance.ErrForbidden)
		_, _, err = f.Svc.CreateToken(ctx, f.Sys, issuance.NewToken{Role: issuance.RoleOrgAdmin})
		require.ErrorIs(t, err, issuance.ErrInvalid)
		_, _, err = f.Svc.CreateToken(ctx, f.Sys, issuance.NewToken{Role: issuance.RoleSystem})
		require.ErrorIs(t, err, issuance.ErrInvalid)

		cached, err := issuance.NewService(st, issuancetest.Keys(t), issuance.WithTokenCache(time.Minute))
		require.NoError(t, err)
		ca, err := cached.Authenticate(ctx, plain)
		require.NoError(t, err)
		require.Equal(t, a, ca)
		require.NoError(t, cached.RevokeToken(ctx, a, tok.ID))
		_, err = cached.Authenticate(ctx, plain)
		require.ErrorIs(t, err, issuance.ErrUnauthenticated, "revocation drops the cache entry")
		require.NoError(t, f.Svc.RevokeToken(ctx, a, tok.ID))
		_, err = f.Svc.Authenticate(ctx, plain)
		require.ErrorIs(t, err, issuance.ErrUnauthenticated)
		for _, bad := range []string{"", "vc_", "Bearer x", plain[:len(plain)-1] + "A"} {
			_, err = f.Svc.Authenticate(ctx, bad)
			require.ErrorIs(t, err, issuance.ErrUnauthenticated)
		}
		require.ErrorIs(t, f.Svc.RevokeToken(ctx, f.Sys, 99999), issuance.ErrNotFound)
	})
}

func TestConcurrentCommands(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		f := issuancetest.New(t, st)
		v := f.Volunteer(t, f.Sys, f.Guangzhou, "周八")
		const n = 8
		errs := make(chan error, n)
		for range n {
			go func() {
				_, err := f.Svc.Apply(ctx, f.GzAdmin, v.ID, "GD-RV-BOC", issuance.ChannelOnline)
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

		page, err := f.Svc.ListApplications(ctx, f.Sys, issuance.ApplicationFilter{})
		require.NoError(t, err)
		require.Len(t, page.Items, 1)
		id := page.Items[0].ID
		for range n {
			go func() {
				_, err := f.Svc.Approve(ctx, f.GzAdmin, id)
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
		ev, err := f.Svc.Events(ctx, f.Sys, id)
		require.NoError(t, err)
		require.Len(t, ev, 2, "exactly one approval event")
	})
}
