package api

import (
	"github.com/volcard/volcard/issuance"
)

// Response masking of personal data (ID number and phone). Whose
// volunteers a role sees in full is issuance.Rules ("unmasked"), applied by
// Service.RevealsPII; everyone else gets 1101**********002X and
// 138****5678 and no birth date (it is part of the ID number):
//   - bank staff see in full the people who hold an application or card at
//     their bank (KYC when opening the card account), and on-site roster
//     rows (revealRosterPII) to check identities on site;
//   - the platform sees in full the people registered through the platform
//     channel, which only its token may register: the records it supplied.
//
// province_admin, org_admin and terminal always get masked values; they
// review and count, they never need the full number. The public progress
// lookup shows only the masked name. Contact phones of organisations are
// masked in organisation responses; the contacts report shows them in full
// to the staff who coordinate the programme (revealContactPhones). The
// phone of a bank branch's contact is the bank's work number and is shown in
// full (see toOnsiteSession).

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
