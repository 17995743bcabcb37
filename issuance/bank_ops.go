package issuance

// The operators of the bank outbox (volcard outbox, the admin API) list its
// rows, send a failed row again or give it up; bankgw/outbox runs those
// commands on its rows. The domain keeps who may do it and what a cancelled
// row leaves behind (RecordCardChangeRefused).

// bankOutboxRoles may operate the bank outbox: province admins, and the
// system (the volcard command line, which works on the database directly).
var bankOutboxRoles = []Role{RoleProvinceAdmin, RoleSystem}

// AuthorizeBankOutbox returns nil when a may list, retry and cancel bank
// outbox rows, else an error wrapping ErrForbidden. The rows hold no
// personal data, so the right is not scoped: it is the province's.
func AuthorizeBankOutbox(a Actor) error {
	return RequireRole(a, bankOutboxRoles...)
}
