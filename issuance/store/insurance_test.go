package store_test

import (
	"context"
	"testing"
	"time"

	"github.com/pressly/goose/v3"
	"github.com/stretchr/testify/require"

	"github.com/volcard/volcard/issuance"
	"github.com/volcard/volcard/issuance/insurance"
	"github.com/volcard/volcard/issuance/issuancetest"
	"github.com/volcard/volcard/issuance/store"
	"github.com/volcard/volcard/issuance/store/storetest"
	"github.com/volcard/volcard/pii"
)

// TestInsuranceMigrationEnrolsActiveHolders: a holder whose card was
// activated before migration 00220 is enrolled by it, from the card's
// activation, recorded today; a holder with an issued card only is not;
// migrating down and up again gives the same.
func TestInsuranceMigrationEnrolsActiveHolders(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		f := issuancetest.New(t, st)
		card := func(name, pan string) {
			v := f.Volunteer(t, f.Sys, f.Guangzhou, name)
			app, err := f.Svc.Apply(ctx, f.Sys, v.ID, "GD-RV-BOC", issuance.ChannelOnline)
			require.NoError(t, err)
			_, err = f.Svc.Approve(ctx, f.Sys, app.ID)
			require.NoError(t, err)
			_, err = f.Svc.Transition(ctx, f.Sys, app.ID, issuance.StatusBankPending, "")
			require.NoError(t, err)
			_, err = f.Svc.RecordBankApproval(ctx, app.ID, issuance.IssuedCard{PAN: pii.NewSecret(pii.KindOther, pan),
				Expiry: "3112", PSN: "01", Reference: "R" + pan[len(pan)-6:]})
			require.NoError(t, err)
		}
		card("活跃", "6217850000000000013")
		card("未激活", "6217850000000000021")
		_, err := f.Svc.RecordActivationAdvice(ctx, "RRN000000001", issuance.CardRef{PAN: pii.NewSecret(pii.KindOther, "6217850000000000013")})
		require.NoError(t, err)

		fsys, err := store.Migrations(st.Dialect())
		require.NoError(t, err)
		gd := goose.DialectPostgres
		if st.Dialect() == store.SQLite {
			gd = goose.DialectSQLite3
		}
		p, err := goose.NewProvider(gd, st.SQLDB(), fsys)
		require.NoError(t, err)
		for range 2 {
			_, err = p.DownTo(ctx, 219)
			require.NoError(t, err)
			_, err = p.Up(ctx)
			require.NoError(t, err)
			ens, err := st.Enrolments(ctx)
			require.NoError(t, err)
			require.Len(t, ens, 1)
			require.True(t, ens[0].StartsAt.Equal(issuancetest.Now), ens[0].StartsAt)
			require.Equal(t, insurance.Day(time.Now()), ens[0].StartDay)
			require.Equal(t, insurance.DefaultCoverFen, ens[0].CoverFen)
			require.NotZero(t, ens[0].CardID)
		}
	})
}
