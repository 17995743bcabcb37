package store_test

import (
	"context"
	"errors"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/volcard/volcard/issuance"
	"github.com/volcard/volcard/issuance/store"
	"github.com/volcard/volcard/issuance/store/storetest"
)

var now = time.Date(2026, 11, 23, 1, 2, 3, 0, time.UTC)

// base creates a province, a city, a bank, a product and a volunteer row
// directly through the repositories.
func base(t *testing.T, st *store.Store) (issuance.Org, issuance.Org, issuance.Volunteer) {
	t.Helper()
	ctx := context.Background()
	prov := issuance.Org{Kind: issuance.OrgProvince, Name: "广东省", RegionCode: "440000", CreatedAt: now}
	require.NoError(t, st.CreateOrg(ctx, &prov))
	require.Equal(t, "/1/", prov.Path)
	city := issuance.Org{ParentID: prov.ID, Kind: issuance.OrgCity, Name: "梅州市", RegionCode: "441400", CreatedAt: now}
	require.NoError(t, st.CreateOrg(ctx, &city))
	require.Equal(t, "/1/2/", city.Path)
	require.NoError(t, st.PutBank(ctx, issuance.Bank{Code: "CCB", Name: "建行"}))
	require.NoError(t, st.PutProduct(ctx, issuance.Product{Code: "P", Name: "p", BankCode: "CCB", BIN: "621700",
		AID: "A000000333010101", Kind: issuance.CardDebit, OrgID: prov.ID, OrgPath: prov.Path}))
	v := issuance.Volunteer{OrgID: city.ID, OrgPath: city.Path, Name: "张三", EmbossName: "ZHANG SAN",
		IDType: issuance.IDResident, IDNumberSealed: []byte{1, 2, 3}, IDNumberIndex: []byte("idx-1"),
		PhoneSealed: []byte{4, 5}, ClothingSize: issuance.SizeM, Source: issuance.ChannelOnline,
		BirthDate: time.Date(1990, 3, 7, 0, 0, 0, 0, time.UTC), CreatedAt: now}
	require.NoError(t, st.CreateVolunteer(ctx, &v))
	return prov, city, v
}

func newApp(v issuance.Volunteer, number string) issuance.Application {
	return issuance.Application{Number: number, VolunteerID: v.ID, OrgID: v.OrgID, OrgPath: v.OrgPath,
		ProductCode: "P", BankCode: "CCB", Channel: issuance.ChannelOnline, Status: issuance.StatusSubmitted,
		Version: 1, CreatedAt: now, UpdatedAt: now}
}

func TestRepositories(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		prov, city, v := base(t, st)

		t.Run("org round trip and scope", func(t *testing.T) {
			got, err := st.GetOrg(ctx, city.ID, issuance.Scope{PathPrefix: "/1/"})
			require.NoError(t, err)
			require.Equal(t, city, got)
			_, err = st.GetOrg(ctx, prov.ID, issuance.Scope{PathPrefix: city.Path})
			require.ErrorIs(t, err, issuance.ErrNotFound)
			dup := issuance.Org{ParentID: prov.ID, Kind: issuance.OrgCity, Name: "梅州市", CreatedAt: now}
			var ce *issuance.ConflictError
			require.ErrorAs(t, st.CreateOrg(ctx, &dup), &ce)
			require.Equal(t, "org_name", ce.What)
			root2 := issuance.Org{Kind: issuance.OrgProvince, Name: "广东省", CreatedAt: now}
			require.ErrorAs(t, st.CreateOrg(ctx, &root2), &ce, "root names unique too (COALESCE index)")
		})

		t.Run("volunteer round trip", func(t *testing.T) {
			got, err := st.GetVolunteer(ctx, v.ID, issuance.Scope{PathPrefix: city.Path})
			require.NoError(t, err)
			require.Equal(t, v, got)
			got, err = st.FindVolunteerByIndex(ctx, []byte("idx-1"), issuance.Scope{})
			require.NoError(t, err)
			require.Equal(t, v.ID, got.ID)
			_, err = st.GetVolunteer(ctx, v.ID, issuance.Scope{PathPrefix: "/1/99/"})
			require.ErrorIs(t, err, issuance.ErrNotFound)
			dup := v
			dup.ID = 0
			var ce *issuance.ConflictError
			require.ErrorAs(t, st.CreateVolunteer(ctx, &dup), &ce)
			require.Equal(t, "id_number", ce.What)
		})

		t.Run("live application index", func(t *testing.T) {
			a := newApp(v, "N1")
			require.NoError(t, st.CreateApplication(ctx, &a))
			b := newApp(v, "N2")
			var ce *issuance.ConflictError
			require.ErrorAs(t, st.CreateApplication(ctx, &b), &ce)
			require.Equal(t, "live_application", ce.What)
			c := newApp(v, "N1")
			c.Status = issuance.StatusCancelled
			require.ErrorAs(t, st.CreateApplication(ctx, &c), &ce)
			require.Equal(t, "application_number", ce.What)

			a.Status = issuance.StatusCancelled
			require.NoError(t, st.UpdateApplicationStatus(ctx, &a, issuance.StatusSubmitted))
			require.EqualValues(t, 2, a.Version)
			require.NoError(t, st.CreateApplication(ctx, &b), "cancelled is not live")

			stale := a
			stale.Version = 1
			stale.Status = issuance.StatusApproved
			require.ErrorIs(t, st.UpdateApplicationStatus(ctx, &stale, issuance.StatusCancelled), issuance.ErrConflict)
			got, err := st.GetApplicationByNumber(ctx, "N1")
			require.NoError(t, err)
			require.Equal(t, a, got)
			_, err = st.GetApplication(ctx, a.ID, issuance.Scope{BankCode: "BOC"})
			require.ErrorIs(t, err, issuance.ErrNotFound)
		})

		t.Run("transactions", func(t *testing.T) {
			boom := errors.New("boom")
			err := st.InTx(ctx, func(ctx context.Context) error {
				o := issuance.Org{ParentID: prov.ID, Kind: issuance.OrgCity, Name: "rolled back", CreatedAt: now}
				require.NoError(t, st.CreateOrg(ctx, &o)) // nested InTx joins
				return boom
			})
			require.ErrorIs(t, err, boom)
			_, err = st.FindOrg(ctx, prov.ID, "rolled back")
			require.ErrorIs(t, err, issuance.ErrNotFound)
		})

		t.Run("events in order", func(t *testing.T) {
			a := newApp(v, "N9")
			a.ProductCode = "P"
			a.Status = issuance.StatusRejected
			require.NoError(t, st.CreateApplication(ctx, &a))
			for i, to := range []issuance.Status{issuance.StatusSubmitted, issuance.StatusRejected} {
				e := issuance.Event{ApplicationID: a.ID, To: to, ActorRole: issuance.RoleSystem,
					Channel: issuance.ChannelSystem, At: now.Add(time.Duration(i) * time.Second)}
				require.NoError(t, st.AppendEvent(ctx, &e))
			}
			ev, err := st.ListEvents(ctx, a.ID)
			require.NoError(t, err)
			require.Len(t, ev, 2)
			require.Equal(t, issuance.StatusRejected, ev[1].To)
			require.True(t, ev[1].At.Equal(now.Add(time.Second)))
		})

		t.Run("tokens", func(t *testing.T) {
			tok := issuance.Token{Role: issuance.RoleTerminal, Hash: []byte("h"), CreatedAt: now}
			require.NoError(t, st.CreateToken(ctx, &tok))
			got, err := st.GetTokenByHash(ctx, []byte("h"))
			require.NoError(t, err)
			require.Equal(t, tok, got)
			require.NoError(t, st.RevokeToken(ctx, tok.ID, now))
			require.NoError(t, st.RevokeToken(ctx, tok.ID, now), "twice is fine")
			got, err = st.GetTokenByHash(ctx, []byte("h"))
			require.NoError(t, err)
			require.True(t, got.RevokedAt.Equal(now))
			n, err := st.CountTokens(ctx)
			require.NoError(t, err)
			require.EqualValues(t, 1, n)
		})
	})
}

func TestMigrateTwice(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		v1, err := st.Migrate(context.Background())
		require.NoError(t, err)
		v2, err := st.Migrate(context.Background())
		require.NoError(t, err)
		require.Equal(t, v1, v2)
		require.GreaterOrEqual(t, v1, int64(5))
	})
}

func TestMigrationsMatchAcrossDialects(t *testing.T) {
	names := func(d store.Dialect) []string {
		fsys, err := store.Migrations(d)
		require.NoError(t, err)
		m, err := filepath.Glob("migrations/" + string(d) + "/*.sql")
		require.NoError(t, err)
		_ = fsys
		for i := range m {
			m[i] = filepath.Base(m[i])
		}
		return m
	}
	require.Equal(t, names(store.Postgres), names(store.SQLite))
}

func TestOpenErrors(t *testing.T) {
	_, err := store.Open(context.Background(), "")
	require.Error(t, err)
	_, err = store.Open(context.Background(), "postgres://u:s3cret@127.0.0.1:1/db?sslmode=disable&connect_timeout=1")
	require.Error(t, err)
	require.NotContains(t, err.Error(), "s3cret")
}
