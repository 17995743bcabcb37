package issuance_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/volcard/volcard/issuance"
	"github.com/volcard/volcard/issuance/issuancetest"
	"github.com/volcard/volcard/issuance/store"
	"github.com/volcard/volcard/issuance/store/storetest"
)

// TestVolunteerBirthDate checks the birth date rules of ValidateVolunteer:
// required for passport and permit holders, a real date not in the future,
// and for a resident ID equal to the date in the number.
func TestVolunteerBirthDate(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		f := issuancetest.New(t, st)
		resident := issuancetest.ResidentID("44010219900307001")
		for _, tc := range []struct {
			name    string
			idType  issuance.IDType
			number  string
			birth   string
			want    string // YYYY-MM-DD stored, or "" for a validation error
			wantErr string
		}{
			{name: "passport with date", idType: issuance.IDPassport, number: "E12345678", birth: "1995-06-15", want: "1995-06-15"},
			{name: "permit with spaces", idType: issuance.IDHKMacau, number: "H12345678", birth: " 2000-02-29 ", want: "2000-02-29"},
			{name: "passport without date", idType: issuance.IDPassport, number: "E12345678", wantErr: "required"},
			{name: "not a real date", idType: issuance.IDTaiwan, number: "12345678", birth: "2001-02-29", wantErr: "real date"},
			{name: "wrong layout", idType: issuance.IDPassport, number: "E12345678", birth: "15/06/1995", wantErr: "real date"},
			{name: "future", idType: issuance.IDPassport, number: "E12345678", birth: "2026-11-24", wantErr: "future"},
			{name: "today", idType: issuance.IDPassport, number: "E12345678", birth: "2026-11-23", want: "2026-11-23"},
			{name: "before 1900", idType: issuance.IDPassport, number: "E12345678", birth: "1899-12-31", wantErr: "1900"},
			{name: "resident without date", idType: issuance.IDResident, number: resident, want: "1990-03-07"},
			{name: "resident agreeing", idType: issuance.IDResident, number: resident, birth: "1990-03-07", want: "1990-03-07"},
			{name: "resident disagreeing", idType: issuance.IDResident, number: resident, birth: "1990-03-08", wantErr: "agree"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				v, err := f.Svc.ValidateVolunteer(issuance.NewVolunteer{OrgID: f.Guangzhou.ID, Name: "王五", IDType: tc.idType,
					IDNumber: tc.number, BirthDate: tc.birth, Phone: "13800138000"}, issuancetest.Now)
				if tc.wantErr != "" {
					var ve *issuance.ValidationError
					require.ErrorAs(t, err, &ve)
					require.Equal(t, "birth_date", ve.Field)
					require.Contains(t, ve.Reason, tc.wantErr)
					return
				}
				require.NoError(t, err)
				require.Equal(t, tc.want, v.BirthDate.Format(time.DateOnly))
			})
		}
	})
}

// TestPassportHolderAgeRule checks that the minimum age applies to a
// passport holder through the given birth date, as it does to residents
// through the ID number.
func TestPassportHolderAgeRule(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		f := issuancetest.New(t, st)
		for _, tc := range []struct {
			name, number, birth string
			ok                  bool
		}{
			{name: "adult", number: "E00000001", birth: "1990-01-01", ok: true},
			{name: "sixteen today", number: "E00000002", birth: "2010-11-23", ok: true},
			{name: "sixteen tomorrow", number: "E00000003", birth: "2010-11-24"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				v, err := f.Svc.RegisterVolunteer(ctx, f.GzAdmin, issuance.NewVolunteer{OrgID: f.Guangzhou.ID, Name: "Anna Smith",
					IDType: issuance.IDPassport, IDNumber: tc.number, BirthDate: tc.birth, Phone: "13800138000"})
				require.NoError(t, err)
				_, err = f.Svc.Apply(ctx, f.GzAdmin, v.ID, "GD-RV-BOC", issuance.ChannelOnline)
				if tc.ok {
					require.NoError(t, err)
					return
				}
				require.ErrorIs(t, err, issuance.ErrInvalid)
			})
		}
	})
}
