package api

import (
	"github.com/volcard/volcard/issuance"
)

// Response masking policy for personal data (ID number and phone).
//
// Responses show the ID number as 1101**********002X and the phone as
// 138****5678, and omit the birth date (it is part of the ID number),
// except:
//   - bank_staff sees the full values of every volunteer it can see: its
//     scope is its bank and branch city, and it needs the full ID to verify
//     identity and open the card account (KYC) when processing applications
//     of its bank;
//   - platform (the volunteer platform's integration) sees the full values
//     of volunteers registered through the platform channel: it is the
//     system of record that supplied them.
//
// province_admin, org_admin and terminal always get masked values; they
// review and count, they never need the full number. The public progress
// lookup shows only the masked name. Contact phones of organisations are
// masked for everyone.
func revealVolunteerPII(a issuance.Actor, v issuance.Volunteer) bool {
	switch a.Role {
	case issuance.RoleBankStaff:
		return true
	case issuance.RolePlatform:
		return v.Source == issuance.ChannelPlatform
	default:
		return false
	}
}
