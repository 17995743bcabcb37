package seed_test

import (
	"bytes"
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/volcard/volcard/issuance"
	"github.com/volcard/volcard/issuance/seed"
	"github.com/volcard/volcard/issuance/store"
	"github.com/volcard/volcard/issuance/store/storetest"
	"github.com/volcard/volcard/pii"
)

func TestCityData(t *testing.T) {
	require.Len(t, seed.Cities, 21)
	require.Equal(t, "440100", seed.Cities[0].Code)
	require.Equal(t, "Guangzhou", seed.Cities[0].NameEN)
	require.Equal(t, "445300", seed.Cities[20].Code)
	require.Equal(t, "Yunfu", seed.Cities[20].NameEN)
	seen := map[string]bool{}
	var sum int64
	for _, c := range seed.Cities {
		t.Run(c.NameEN, func(t *testing.T) {
			require.Regexp(t, `^44\d{2}00$`, c.Code)
			require.False(t, seen[c.Code], "duplicate code")
			require.Greater(t, c.Population10k, int64(10000), "more than one million people")
		})
		seen[c.Code] = true
		sum += c.Population10k
	}
	// The cities add up to the provincial total within rounding and
	// the yearbook's unallocated remainder (< 0.1%).
	require.InDelta(t, seed.ProvincePopulation10k, sum, float64(seed.ProvincePopulation10k)/1000)
}

func TestDemoIdempotent(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		keys, err := pii.New(bytes.Repeat([]byte{3}, 32))
		require.NoError(t, err)
		svc, err := issuance.NewService(st, keys)
		require.NoError(t, err)
		first, err := seed.Demo(ctx, svc)
		require.NoError(t, err)
		require.Equal(t, seed.Result{Orgs: 1 + 21 + 8 + 4, Banks: 4, Products: 4, Branches: 21*2 + 2}, first)
		second, err := seed.Demo(ctx, svc)
		require.NoError(t, err)
		require.Equal(t, seed.Result{}, second)

		sys := issuance.SystemActor()
		prov, err := svc.FindOrg(ctx, sys, 0, seed.ProvinceName)
		require.NoError(t, err)
		mz, err := svc.FindOrg(ctx, sys, prov.ID, "梅州市")
		require.NoError(t, err)
		require.Equal(t, "441400", mz.RegionCode)
		require.EqualValues(t, 4_378_800, mz.ResidentPopulation)
		require.Equal(t, seed.PopulationYear, mz.PopulationYear)
		jy, err := svc.FindOrg(ctx, sys, mz.ID, "嘉应学院")
		require.NoError(t, err)
		require.Equal(t, issuance.OrgUniversity, jy.Kind)

		p, err := svc.GetProduct(ctx, seed.ProductMeizhouPSBC)
		require.NoError(t, err)
		require.Equal(t, issuance.CardCredit, p.Kind)
		require.Equal(t, seed.AIDCredit, p.AID)
		require.Equal(t, mz.Path, p.OrgPath)
		brs, err := svc.ListBranches(ctx, seed.CCB, mz.ID)
		require.NoError(t, err)
		require.Len(t, brs, 1)
		require.Equal(t, "中国建设银行梅州分行", brs[0].Name)
		require.True(t, issuance.ValidMobile(brs[0].Contact.Phone.Reveal()))
	})
}
