// Package webhook is the HTTP side of the event feed's webhooks: the
// signature scheme (Sign, Verify: HMAC-SHA256 over "timestamp.body", sent
// as "Volcard-Signature: t=UNIX,v1=HEX", the scheme Stripe uses) and the
// Worker that claims due deliveries from the database and POSTs them,
// retrying with exponential backoff.
//
// A receiver verifies a request with Verify (docs/platform-interface.md
// shows it, and the same check in Python).
package webhook
