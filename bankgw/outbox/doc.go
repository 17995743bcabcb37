// Package outbox is the durable bank outbox: the rows of requests to the
// partner bank and their gateway mechanics (states, leases, traces,
// repeats, reversals). The domain writes a row when it asks the bank for
// something (issuance.BankOutbox: an apply when an application enters
// bank_pending, a status change of a card) and keeps the state
// transitions (issuance.Service.RecordBankApproval, RecordBankDecline,
// RecordCardStatusChange ...); everything else about a row is here, behind
// the storage port this package declares (Rows; AdminRows for the
// operators, StatsSource for the gauges), which issuance/store implements.
//
// The Worker moves approved applications to bank_pending (each with its
// row, in one transaction), claims due rows with a lease (FOR UPDATE SKIP
// LOCKED on PostgreSQL), sends them through the bankgw.Client with the
// trace stored before sending, and applies the bank's answer to the
// application in the same transaction that resolves the row.
//
// Recovery follows docs/bank-interface.md section 9: an add without an
// answer is repeated as 0301 with the same trace; after Config.Repeats
// repeats it is reversed (0420, reason 68; 0421 until a 0430 arrives) and,
// once the reversal is acknowledged, applied afresh with a new STAN (the
// bank reinstates the same card). Temporary declines (91, 96) and an
// unreachable bank are retried with exponential back-off and jitter. Late
// and duplicate 0310/0430 are applied idempotently by application number
// and trace (Handlers.LateResponse); 0220 advices are stored idempotently
// (Handlers.Advice).
//
// Status changes (rows of kind status_change: block, unblock, replace,
// renew, close a card, written by issuance.Service.RequestCardChange and
// RequestRenewals) are idempotent at the bank, so they are never reversed:
// without an answer they are repeated as 0301 with the same trace until the
// bank answers; its approval changes the card (and, for a replacement or a
// renewal, stores the card issued) in the transaction that resolves the
// row, a final decline drops the pending change. A renewal answered against
// the bank's declared rule (Config.Renewal) is not applied: the row fails
// for an operator.
//
// An activation advice for a card not recorded yet is parked (issuance
// bank_advices) and acknowledged; issuance applies it when the card is
// recorded. Monitor keeps the outbox gauges (rows by kind and state, failed
// rows, oldest open row, parked advices) from a periodic count.
//
// A worker may be limited to some banks (Config.Banks): serve runs one per
// bank link, each claiming only the rows of its bank's applications, so a
// bank that is down holds only its own requests. Banks reports each bank's
// link (signed on, last echo) beside its backlog (queue depth, failed rows)
// for the admin API and /metrics.
//
// Admin runs the operators' commands (volcard outbox, the admin API): list
// rows (of one bank, of one state), retry or cancel a failed one. Who may run them is the domain's rule
// (issuance.AuthorizeBankOutbox).
package outbox
