package api

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/volcard/volcard/issuance"
	"github.com/volcard/volcard/issuance/pii"
)

// TestMaskingPolicy pins the one masking rule of api/mask.go for every role:
// only bank staff see volunteers' ID numbers and phones in full (plus the
// platform for the volunteers it supplied); the province admin does not.
// Programme contact phones are shown to the staff who coordinate.
func TestMaskingPolicy(t *testing.T) {
	platformVol := issuance.Volunteer{Source: issuance.ChannelPlatform,
		IDNumber: pii.IDNumber("44140219950615123X"), Phone: pii.Phone("13812345678")}
	consoleVol := issuance.Volunteer{Source: issuance.ChannelConsole,
		IDNumber: pii.IDNumber("44140219950615123X"), Phone: pii.Phone("13812345678")}
	for _, tc := range []struct {
		role                                          issuance.Role
		ownVolunteer, otherVolunteer, roster, contact bool
	}{
		{issuance.RoleBankStaff, true, true, true, true},
		{issuance.RolePlatform, true, false, false, false},
		{issuance.RoleProvinceAdmin, false, false, false, true},
		{issuance.RoleOrgAdmin, false, false, false, true},
		{issuance.RoleTerminal, false, false, false, false},
		{issuance.RoleSystem, false, false, false, false},
		{issuance.Role("unknown"), false, false, false, false},
	} {
		t.Run(string(tc.role), func(t *testing.T) {
			a := issuance.Actor{Role: tc.role}
			require.Equal(t, tc.ownVolunteer, revealVolunteerPII(a, platformVol), "platform-channel volunteer")
			require.Equal(t, tc.otherVolunteer, revealVolunteerPII(a, consoleVol), "console-channel volunteer")
			require.Equal(t, tc.roster, revealRosterPII(a), "roster rows")
			require.Equal(t, tc.contact, revealContactPhones(a), "contact phones")

			r := toVolunteer(a, consoleVol)
			if tc.otherVolunteer {
				require.Equal(t, "44140219950615123X", r.IDNumber)
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
