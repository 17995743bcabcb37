// Package issuancetest is the core's test fixture, shared by the tests of
// issuance and of its feature packages.
package issuancetest

import (
	"bytes"
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/volcard/volcard/issuance"
	"github.com/volcard/volcard/issuance/store"
	"github.com/volcard/volcard/pii"
)

// Now is the fixture clock's starting time.
var Now = time.Date(2026, 11, 23, 9, 30, 0, 0, time.UTC)

// Fixture is a core service over a fresh store with a province, two cities
// (Guangzhou, Meizhou), two banks (BOC, CCB), a provincial and a Meizhou
// product, and an org admin token of each city.
type Fixture struct {
	Svc       *issuance.Service
	St        *store.Store
	Sys       issuance.Actor
	Province  issuance.Org
	Guangzhou issuance.Org
	Meizhou   issuance.Org
	GzAdmin   issuance.Actor
	MzAdmin   issuance.Actor
	Clock     *Clock
}

// Clock is a clock tests set by hand.
type Clock struct{ T time.Time }

// Now returns the time set.
func (c *Clock) Now() time.Time { return c.T }

// Keys returns the fixed test data keys.
func Keys(t testing.TB) *pii.Keys {
	t.Helper()
	k, err := pii.New(bytes.Repeat([]byte{7}, 32))
	require.NoError(t, err)
	return k
}

// ResidentID returns a valid resident ID with the given first 17 digits.
func ResidentID(body string) string {
	return body + string(issuance.ResidentIDCheckChar(body))
}

// New builds the fixture over st.
func New(t testing.TB, st *store.Store) *Fixture { t.Helper(); return NewWith(t, st) }

// NewWith builds the fixture over st with more service options (hooks).
func NewWith(t testing.TB, st *store.Store, opts ...issuance.Option) *Fixture {
	t.Helper()
	ctx := context.Background()
	clk := &Clock{T: Now}
	svc, err := issuance.NewService(st, Keys(t), append([]issuance.Option{issuance.WithClock(clk)}, opts...)...)
	require.NoError(t, err)
	f := &Fixture{Svc: svc, St: st, Sys: issuance.SystemActor(), Clock: clk}
	f.Province, err = svc.CreateOrg(ctx, f.Sys, issuance.NewOrg{Kind: issuance.OrgProvince, Name: "广东省", RegionCode: "440000"})
	require.NoError(t, err)
	f.Guangzhou, err = svc.CreateOrg(ctx, f.Sys, issuance.NewOrg{ParentID: f.Province.ID, Kind: issuance.OrgCity,
		Name: "广州市", RegionCode: "440100", ResidentPopulation: 14_044_000,
		Responsible: issuance.Contact{Name: "李四", Phone: pii.Phone("13900001111")}})
	require.NoError(t, err)
	f.Meizhou, err = svc.CreateOrg(ctx, f.Sys, issuance.NewOrg{ParentID: f.Province.ID, Kind: issuance.OrgCity,
		Name: "梅州市", RegionCode: "441400"})
	require.NoError(t, err)
	require.NoError(t, svc.PutBank(ctx, f.Sys, issuance.Bank{Code: "BOC", Name: "中国银行"}))
	require.NoError(t, svc.PutBank(ctx, f.Sys, issuance.Bank{Code: "CCB", Name: "中国建设银行"}))
	require.NoError(t, svc.PutProduct(ctx, f.Sys, issuance.Product{Code: "GD-RV-BOC", Name: "注册志愿者证（中国银行）",
		BankCode: "BOC", BIN: "621785", AID: "A000000333010101", Kind: issuance.CardDebit, OrgID: f.Province.ID}))
	require.NoError(t, svc.PutProduct(ctx, f.Sys, issuance.Product{Code: "MZ-VC-CCB", Name: "梅州志愿者卡（建设银行）",
		BankCode: "CCB", BIN: "621700", AID: "A000000333010101", Kind: issuance.CardDebit, OrgID: f.Meizhou.ID}))
	f.GzAdmin = f.Token(t, issuance.NewToken{Role: issuance.RoleOrgAdmin, OrgID: f.Guangzhou.ID})
	f.MzAdmin = f.Token(t, issuance.NewToken{Role: issuance.RoleOrgAdmin, OrgID: f.Meizhou.ID})
	return f
}

// Token creates a token and returns its actor.
func (f *Fixture) Token(t testing.TB, in issuance.NewToken) issuance.Actor {
	t.Helper()
	plain, _, err := f.Svc.CreateToken(context.Background(), f.Sys, in)
	require.NoError(t, err)
	a, err := f.Svc.Authenticate(context.Background(), plain)
	require.NoError(t, err)
	return a
}

var seq atomic.Int64

// Volunteer registers a league member named name in org as a.
func (f *Fixture) Volunteer(t *testing.T, a issuance.Actor, org issuance.Org, name string) issuance.Volunteer {
	t.Helper()
	n := seq.Add(1)
	v, err := f.Svc.RegisterVolunteer(context.Background(), a, issuance.NewVolunteer{
		OrgID: org.ID, Name: name, IDNumber: ResidentID(fmt.Sprintf("44010219900307%03d", n%1000)),
		Phone: "13812345678", LeagueMember: true, ClothingSize: "l",
	})
	require.NoError(t, err)
	return v
}
