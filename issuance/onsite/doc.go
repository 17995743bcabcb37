// Package onsite is on-site batch enrollment, a feature of the issuance
// domain: an organisation requests a session for a group of 30 or more, a
// bank branch schedules and runs it, staff upload the roster (CSV or XLSX,
// checked row by row; rejected rows are kept sealed for download), the
// organisation approves the accepted rows' applications in one go, and the
// branch personalizes the cards in roster order from the session's queue.
//
// Service runs it over the core issuance.Service (actors, scope, products,
// volunteer validation and sealing, BulkApply for the applications) and its
// own storage port, Store, which issuance/store implements (asserted at
// compile time there). No HTTP, card or ISO 8583 types appear here.
package onsite
