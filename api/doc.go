// Package api is volcard's HTTP interface: an Echo v4 server under /v1 with
// bearer-token authentication, role checks and scoping (delegated to the
// issuance Service), strict JSON request decoding, RFC 9457
// application/problem+json errors with stable type URIs, Stripe-style
// Idempotency-Key handling backed by the database, a per-IP rate limit on the
// public progress lookup, masking of personal data in responses, request
// logging that never records bodies, query strings or credentials,
// Prometheus metrics, health and readiness probes, and the OpenAPI 3
// document served at /v1/openapi.json.
//
// The handlers hold no business rules: they decode, call the Service, and
// encode. Every error reaches one central handler (errorHandler) which turns
// it into a problem document; internal causes are logged, never sent.
package api
