// Package feed is the event feed and the webhook endpoints, a feature of the
// issuance domain (issue #17): every change of an application, card,
// volunteer, check-in or on-site session is one Event in an ordered,
// durable stream with stable ids, read by cursor (Service.List) and pushed
// to the webhook endpoints whose scope and types it matches.
//
// The events are written by issuance/store in the transaction of each
// change (store.RecordEvent), with the webhook deliveries they queue; this
// package reads them within the actor's scope, and manages endpoints
// (URL, sealed secret shown once, types) and their delivery log. The HTTP
// delivery itself, its signature and its retries are api/webhook's.
//
// No HTTP, card or ISO 8583 types appear here, and no payload carries a
// PAN (last four only), an ID number, a phone or a name.
package feed
