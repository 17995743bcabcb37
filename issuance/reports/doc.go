// Package reports is the reporting feature of the issuance domain: the
// yearly targets of the league committees and the rates against them (card
// holders and registered volunteers per resident population and per league
// member), kept from per-organisation counters that triggers maintain in the
// same transaction as each change, with their check and rebuild; and the
// organisation reports (application funnel, clothing orders, contacts,
// service hours, an activity's check-ins).
//
// Service runs them over the core issuance.Service (actors and scope) and
// its own storage port, Store, which issuance/store implements (asserted at
// compile time there). No HTTP, card or ISO 8583 types appear here.
package reports
