package issuance

// The scope rules, written once: for each role which objects it sees, which
// it may change, and whose personal data it sees unmasked. The Service
// applies them (scope, volunteerScope, RevealsPII); docs/authorization.md
// is generated from Rules and the routes' roles by the API's authorization
// test, so code and docs cannot drift apart.

// Unmask says whose ID numbers and phones a role sees in full.
type Unmask string

// Unmask values.
const (
	// UnmaskNever: always masked (1101**********002X, 138****5678).
	UnmaskNever Unmask = "never"
	// UnmaskBankHolders: people with an application or card at the
	// actor's bank (bank staff: KYC when opening the card account).
	UnmaskBankHolders Unmask = "bank_holders"
	// UnmaskOwnSource: people registered through the actor's own channel
	// (the platform: the records it supplied).
	UnmaskOwnSource Unmask = "own_source"
)

// AccessRule is one role's scope.
type AccessRule struct {
	Role Role
	// Sees and Changes say, in the docs' words, which objects the role
	// reads and which it may change; outside them an object is absent
	// (404) and a route the role may not use is 403.
	Sees, Changes string
	// Unmasked says whose ID numbers and phones the role sees in full.
	Unmasked Unmask
}

// Rules are the scope rules of every role a token can carry.
var Rules = []AccessRule{
	{Role: RoleProvinceAdmin,
		Sees:     "everything in the province",
		Changes:  "everything: organisations, tokens, reviews, cards, activities, hours, offers, the bank outbox",
		Unmasked: UnmaskNever},
	{Role: RoleOrgAdmin,
		Sees:     "its organisation's subtree: organisations, volunteers, applications, cards, on-site sessions, activities, check-ins, reports",
		Changes:  "the same subtree: sub-organisations, volunteers, reviews of applications, card block/unblock/replace, activities, hours, offers, on-site sessions",
		Unmasked: UnmaskNever},
	{Role: RoleBankStaff,
		Sees: "its bank's applications, cards and on-site sessions, in its branch's city when the token names a branch (else the province); " +
			"volunteers only when they hold an application or card at its bank; a lookup by full ID number reaches anyone in that city (masked unless a holder)",
		Changes:  "registrations and applications at its branch, its bank's cards (block/unblock/replace), its on-site sessions and personalization",
		Unmasked: UnmaskBankHolders},
	{Role: RoleTerminal,
		Sees:     "the activities, organisations and volunteers (masked) of its organisation's subtree; the token must name one (the province for a province-wide terminal)",
		Changes:  "taps at those activities",
		Unmasked: UnmaskNever},
	{Role: RolePlatform,
		Sees:     "volunteers, applications and cards of the whole province",
		Changes:  "registrations (only it may register source platform), applications and their cancellation",
		Unmasked: UnmaskOwnSource},
	{Role: RoleHotline,
		Sees: "one caller's application and card state (masked name, last four digits), only by application number and " +
			"ID number together; every look-up audited and rate limited per token",
		Changes:  "nothing",
		Unmasked: UnmaskNever},
}

// rule returns the rule of role r; an unknown role (the system actor
// included) sees nothing unmasked.
func rule(r Role) AccessRule {
	for _, x := range Rules {
		if x.Role == r {
			return x
		}
	}
	return AccessRule{Role: r, Unmasked: UnmaskNever}
}
