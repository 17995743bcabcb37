package api

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/volcard/volcard/issuance"
	"github.com/volcard/volcard/issuance/store/storetest"
	"github.com/volcard/volcard/pii"
)

// TestMaskingPolicy pins the masking rule (issuance.Rules, "unmasked") for
// every role over a real store: bank staff see in full only the people who
// hold an application at their bank, the platform only the volunteers it
// supplied, nobody else anyone. Roster rows are shown in full to bank staff,
// programme contact phones to the staff who coordinate.
func TestMaskingPolicy(t *testing.T) {
	h := newHarness(t, storetest.SQLite(t), nil)
	ctx, sys := context.Background(), issuance.SystemActor()
	register := func(seq int, src issuance.Channel) issuance.Volunteer {
		v, err := h.svc.RegisterVolunteer(ctx, sys, issuance.NewVolunteer{OrgID: h.guangzhou.ID, Name: "张三",
			IDNumber: residentID("440106", "19950615", seq), Phone: "13812345678", Source: src})
		require.NoError(t, err)
		return v
	}
	platformVol := register(1, issuance.ChannelPlatform)
	consoleVol := register(2, issuance.ChannelConsole)
	holder := register(3, issuance.ChannelConsole)
	_, err := h.svc.Apply(ctx, sys, holder.ID, "GD-RV-BOC", issuance.ChannelOnline)
	require.NoError(t, err)

	for _, tc := range []struct {
		role                                                           issuance.Role
		platformVolunteer, otherVolunteer, bankHolder, roster, contact bool
	}{
		{issuance.RoleBankStaff, false, false, true, true, true},
		{issuance.RolePlatform, true, false, false, false, false},
		{issuance.RoleProvinceAdmin, false, false, false, false, true},
		{issuance.RoleOrgAdmin, false, false, false, false, true},
		{issuance.RoleTerminal, false, false, false, false, false},
		{issuance.RoleSystem, false, false, false, false, false},
		{issuance.Role("unknown"), false, false, false, false, false},
	} {
		t.Run(string(tc.role), func(t *testing.T) {
			a := issuance.Actor{Role: tc.role, OrgID: h.guangzhou.ID, ScopePath: h.guangzhou.Path}
			if tc.role == issuance.RoleBankStaff {
				a = issuance.Actor{Role: tc.role, BankCode: "BOC"}
			}
			reveals := func(v issuance.Volunteer) bool {
				ok, err := h.svc.RevealsPII(ctx, a, v)
				require.NoError(t, err)
				return ok
			}
			require.Equal(t, tc.platformVolunteer, reveals(platformVol), "platform-channel volunteer")
			require.Equal(t, tc.otherVolunteer, reveals(consoleVol), "console-channel volunteer")
			require.Equal(t, tc.bankHolder, reveals(holder), "holder of a BOC application")
			require.Equal(t, tc.roster, revealRosterPII(a), "roster rows")
			require.Equal(t, tc.contact, revealContactPhones(a), "contact phones")

			r := toVolunteer(holder, reveals(holder))
			if tc.bankHolder {
				require.Equal(t, holder.IDNumber.Reveal(), r.IDNumber)
				require.Equal(t, "13812345678", r.Phone)
				require.False(t, r.Masked)
			} else {
				require.NotContains(t, r.IDNumber, "19950615", "birth date hidden")
				require.NotEqual(t, "13812345678", r.Phone)
				require.True(t, r.Masked)
				require.Empty(t, r.BirthDate)
			}
			p := contactPhone(a, pii.Phone("13912345678"))
			require.Equal(t, tc.contact, p == "13912345678", "contact phone %q", p)
		})
	}
}
