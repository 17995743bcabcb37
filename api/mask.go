package api

import (
	"github.com/volcard/volcard/issuance"
)

// Response masking policy for personal data (ID number and phone). This file
// is the one rule: every response that carries an ID number or a phone asks
// one of the functions below.
//
// Responses show the ID number as 1101**********002X and the phone as
// 138****5678, and omit the birth date (it is part of the ID number),
// except:
//   - bank_staff sees the full values of every volunteer it can see: its
//     scope is its bank and branch city, and it needs the full ID to verify
//     identity and open the card account (KYC) when processing applications
//     of its bank, and on-site roster rows to check identities on site;
//   - platform (the volunteer platform's integration) sees the full values
//     of volunteers registered through the platform channel: it is the
//     system of record that supplied them.
//
// province_admin, org_admin and terminal always get masked values; they
// review and count, they never need the full number. The public progress
// lookup shows only the masked name. Contact phones of organisations are
// masked in organisation responses; the contacts report shows them in full
// to the staff who coordinate the programme (revealContactPhones). The
// phone of a bank branch's contact is the bank's work number and is shown in
// full (see toOnsiteSession).
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

// revealRosterPII reports whether on-site roster rows (upload report and
// rejected rows) show ID numbers and phones in full: to bank staff only.
// Roster rows are not yet volunteers of the platform channel, so the
// platform exception does not apply.
func revealRosterPII(a issuance.Actor) bool { return a.Role == issuance.RoleBankStaff }

// revealContactPhones reports whether the contacts report shows the phones
// of organisations' responsible persons and liaisons in full. These are work
// contacts each city and university names for the card programme (the
// notices' 回执) so that the league committees above them and the issuing
// banks can reach them: the province admin, an org admin (for its subtree;
// the report is scoped) and bank staff see them; terminals and the platform
// do not.
func revealContactPhones(a issuance.Actor) bool {
	switch a.Role {
	case issuance.RoleBankStaff, issuance.RoleProvinceAdmin, issuance.RoleOrgAdmin:
		return true
	}
	return false
}
