package seed_test

import (
	"bytes"
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/volcard/volcard/issuance"
	"github.com/volcard/volcard/issuance/reports"
	"github.com/volcard/volcard/issuance/seed"
	"github.com/volcard/volcard/issuance/store"
	"github.com/volcard/volcard/issuance/store/storetest"
	"github.com/volcard/volcard/pii"
)

func newService(t testing.TB, st *store.Store) *issuance.Service {
	t.Helper()
	keys, err := pii.New(bytes.Repeat([]byte{9}, 32))
	require.NoError(t, err)
	svc, err := issuance.NewService(st, keys)
	require.NoError(t, err)
	return svc
}

// reportsOf returns the reports service over svc and st.
func reportsOf(t testing.TB, svc *issuance.Service, st *store.Store) *reports.Service {
	t.Helper()
	rs, err := reports.New(svc, st)
	require.NoError(t, err)
	return rs
}

// loadDemo runs Demo, the targets and n bulk volunteers.
func loadDemo(t testing.TB, st *store.Store, svc *issuance.Service, n int64) seed.VolunteersResult {
	t.Helper()
	ctx := context.Background()
	_, err := seed.Demo(ctx, svc)
	require.NoError(t, err)
	orgs, err := st.ListOrgs(ctx, "")
	require.NoError(t, err)
	tr, err := seed.SeedTargets(ctx, reportsOf(t, svc, st), orgs)
	require.NoError(t, err)
	require.Equal(t, len(seed.Targets), tr.Targets)
	res, err := seed.Volunteers(ctx, svc, st, n, seed.VolunteersOptions{Batch: 700})
	require.NoError(t, err)
	return res
}

func TestBulkVolunteers(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		svc := newService(t, st)
		res := loadDemo(t, st, svc, 3000)
		require.EqualValues(t, 3000, res.Volunteers)
		require.Positive(t, res.Applications)
		sys := issuance.SystemActor()

		t.Run("counters equal a full recount", func(t *testing.T) {
			diff, err := reportsOf(t, svc, st).CheckCounters(ctx, sys)
			require.NoError(t, err)
			require.Empty(t, diff)
		})

		t.Run("personal data sealed and valid", func(t *testing.T) {
			for _, id := range []int64{1, 1500, 3000} {
				v, err := svc.GetVolunteer(ctx, sys, id)
				require.NoError(t, err)
				_, err = issuance.ParseResidentID(v.IDNumber.Reveal(), time.Now())
				require.NoError(t, err, "generated ID numbers pass GB 11643")
				require.True(t, issuance.ValidMobile(v.Phone.Reveal()))
				got, err := svc.FindVolunteerByIDNumber(ctx, sys, v.IDNumber.Reveal())
				require.NoError(t, err, "blind index matches")
				require.Equal(t, v.ID, got.ID)
			}
		})

		t.Run("a second load continues without clashes", func(t *testing.T) {
			res, err := seed.Volunteers(ctx, svc, st, 500, seed.VolunteersOptions{Seed: 2})
			require.NoError(t, err)
			require.EqualValues(t, 500, res.Volunteers)
			diff, err := reportsOf(t, svc, st).CheckCounters(ctx, sys)
			require.NoError(t, err)
			require.Empty(t, diff)
		})

		t.Run("concurrent multi-row registrations", func(t *testing.T) {
			// Like on-site roster batches: several transactions, each
			// inserting many volunteers of one org at once.
			mz, err := svc.FindOrg(ctx, sys, 1, "梅州市")
			require.NoError(t, err)
			var wg sync.WaitGroup
			errs := make(chan error, 4)
			for g := range 4 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					var vs []*issuance.Volunteer
					for i := range 50 {
						body := fmt.Sprintf("44140219980%d%02d%03d", 1+g, 1+i%28, 100+i)
						v, err := svc.PrepareVolunteer(issuance.NewVolunteer{OrgID: mz.ID, Name: "批量", Phone: "13700000000",
							IDNumber: body + string(issuance.ResidentIDCheckChar(body))}, time.Now())
						if err != nil {
							errs <- err
							return
						}
						v.OrgPath = mz.Path
						vs = append(vs, &v)
					}
					errs <- st.InTx(ctx, func(ctx context.Context) error { return st.CreateVolunteers(ctx, vs) })
				}()
			}
			wg.Wait()
			close(errs)
			for err := range errs {
				require.NoError(t, err)
			}
			diff, err := reportsOf(t, svc, st).CheckCounters(ctx, sys)
			require.NoError(t, err)
			require.Empty(t, diff)
		})

		t.Run("live changes keep the counters right", func(t *testing.T) {
			// Concurrent registrations and issuances after the bulk load.
			var wg sync.WaitGroup
			mz, err := svc.FindOrg(ctx, sys, 1, "梅州市")
			require.NoError(t, err)
			errs := make(chan error, 20)
			for i := range 20 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					body := "44140219991231" + string(rune('0'+i/10)) + string(rune('0'+i%10)) + "7"
					v, err := svc.RegisterVolunteer(ctx, sys, issuance.NewVolunteer{OrgID: mz.ID, Name: "并发测试",
						IDNumber: body + string(issuance.ResidentIDCheckChar(body)), Phone: "13900000000", LeagueMember: i%2 == 0})
					if err != nil {
						errs <- err
						return
					}
					a, err := svc.Apply(ctx, sys, v.ID, seed.ProductMeizhouCCB, issuance.ChannelOnline)
					if err != nil {
						errs <- err
						return
					}
					for _, s := range []issuance.Status{issuance.StatusApproved, issuance.StatusBankPending,
						issuance.StatusBankApproved, issuance.StatusPersonalized, issuance.StatusIssued} {
						if _, err := svc.Transition(ctx, sys, a.ID, s, ""); err != nil {
							errs <- err
							return
						}
					}
				}()
			}
			wg.Wait()
			close(errs)
			for err := range errs {
				require.NoError(t, err)
			}
			diff, err := reportsOf(t, svc, st).CheckCounters(ctx, sys)
			require.NoError(t, err)
			require.Empty(t, diff)
		})
	})
}
