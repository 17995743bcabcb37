package issuance

import (
	"strings"
	"time"
)

// Role is what an actor may do.
type Role string

// Roles.
const (
	// RoleProvinceAdmin sees and does everything.
	RoleProvinceAdmin Role = "province_admin"
	// RoleOrgAdmin manages its organisation's subtree: volunteers,
	// applications and their review.
	RoleOrgAdmin Role = "org_admin"
	// RoleBankStaff works for one bank, optionally one branch (then its
	// city): registers people and applies at the branch, sees its bank's
	// applications.
	RoleBankStaff Role = "bank_staff"
	// RoleTerminal is a check-in terminal: reads volunteers.
	RoleTerminal Role = "terminal"
	// RolePlatform is the volunteer platform's integration: registers
	// volunteers, applies and cancels on their behalf.
	RolePlatform Role = "platform"
	// RoleSystem is an internal process (bank gateway, personalization). It
	// has no tokens.
	RoleSystem Role = "system"
	// RoleHolder is a card's holder acting for themself through a public
	// route that proves who they are by application number and ID number
	// (a loss report). It has no tokens and is recorded on events only.
	RoleHolder Role = "holder"
	// RoleHotline is a hotline agent (the 12355 youth line, the card's
	// service line): looks up one caller's application and card by
	// application number and ID number together, read-only, every look-up
	// audited. Refused everywhere else.
	RoleHotline Role = "hotline"
)

// Valid reports whether r is a role that tokens can carry.
func (r Role) Valid() bool {
	switch r {
	case RoleProvinceAdmin, RoleOrgAdmin, RoleBankStaff, RoleTerminal, RolePlatform, RoleHotline:
		return true
	}
	return false
}

// Channel returns the channel recorded on events caused by this role.
func (r Role) Channel() Channel {
	switch r {
	case RoleBankStaff:
		return ChannelBranch
	case RoleTerminal:
		return ChannelOnSite
	case RolePlatform:
		return ChannelPlatform
	case RoleSystem:
		return ChannelSystem
	case RoleHolder:
		return ChannelOnline
	default:
		return ChannelConsole
	}
}

// ApplicationChannel returns the channel of an application this role makes
// without naming one: a bank branch's (branch), the volunteer platform's
// (platform), a terminal's (on_site); league-committee staff (province and
// organisation admins) entering an application for a volunteer make it
// online, and internal processes as the platform, as for volunteers they
// load.
func (r Role) ApplicationChannel() Channel {
	switch r {
	case RoleBankStaff:
		return ChannelBranch
	case RoleTerminal:
		return ChannelOnSite
	case RolePlatform, RoleSystem:
		return ChannelPlatform
	default:
		return ChannelOnline
	}
}

// Actor is who runs a command: resolved from a token by
// Service.Authenticate, or SystemActor for internal processes.
type Actor struct {
	TokenID  int64
	Role     Role
	OrgID    int64
	BankCode string
	BranchID int64
	// ScopePath is the org path the actor is confined to ("/1/5/"), empty
	// for no org restriction. Authenticate fills it; when empty for an
	// org_admin the Service looks it up from OrgID.
	ScopePath string
	// Expires is when the actor's token expires (zero: never); caches of
	// authenticated tokens keep an actor no longer.
	Expires time.Time
}

// SystemActor returns the actor for internal processes and command-line
// tools: it may do everything and records role "system" on events.
func SystemActor() Actor { return Actor{Role: RoleSystem} }

// Scope is the query restriction derived from an Actor. Storage adapters
// apply it in the WHERE clause: rows outside it behave as absent.
type Scope struct {
	PathPrefix string // org path prefix, e.g. "/1/5/"; empty: any
	BankCode   string // applications of this bank only; empty: any
	// Holders confines volunteer reads to people with an application (and
	// so any card) at this bank; empty: any. Bank staff read volunteers
	// through it (Service.volunteerScope).
	Holders string
}

// Contains reports whether an object with the given org path (and, for
// applications, bank) lies inside the scope.
func (s Scope) Contains(orgPath, bankCode string) bool {
	if s.PathPrefix != "" && !strings.HasPrefix(orgPath, s.PathPrefix) {
		return false
	}
	if s.BankCode != "" && bankCode != "" && s.BankCode != bankCode {
		return false
	}
	return true
}
