// Package checkin is check-in at service sites, a feature of the issuance
// domain: activities, terminal challenges, taps (with the card's evidence of
// presence), attendances and service hours, star levels and benefit tiers,
// offers (made, listed, changed and withdrawn by their organisation, each
// change audited), benefit checks at a merchant and the redemptions a
// merchant's terminal records after them (redemptions.go: the trust model),
// the member-hours report and check-in card blocks.
//
// Service runs it over the core issuance.Service (actors, scope,
// volunteers, cards) and its own storage port, Store, which issuance/store
// implements (asserted at compile time there). Card cryptography stays out:
// the card's evidence (package evidence) is checked by a Verifier, which
// cardio/emv implements (emv.EvidenceVerifier). No HTTP, card or ISO 8583
// types appear here.
package checkin
