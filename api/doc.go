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
//
// The bodies a client also uses (check-in, on-site enrollment,
// personalization, the problem document, the reason body) are package
// wire's: the handlers decode into and encode from them, and no copy of
// them lives here. Bodies only the server knows stay beside their handlers
// (dto.go for organisations, volunteers and applications).
//
// Files follow one layout, by area (meta, orgs, volunteers, applications,
// onsite, cards, checkin, personalization, reports, bank_requests,
// console):
//
//   - handlers_<area>.go holds the area's handlers and the mapping of its
//     domain errors to problems (checkinError, cardError ...). Every area
//     but the core ones also registers its routes there: cardRoutes and
//     consoleRoutes, which routes() calls, or Enable<Area> for the routes a
//     Server serves only when given their service (EnableOnsite,
//     EnableReports, EnableCheckin, EnablePersonalization,
//     EnableBankRequests, EnableBankLinks).
//     The tests are handlers_<area>_test.go and
//     handlers_<area>_<topic>_test.go.
//   - openapi_<area>.go holds the area's OpenAPI fragment, one function
//     <area>OpenAPI(paths, schemas obj) that adds its paths and schemas.
//     openapi.go holds the helpers, the Problem schema and the assembly:
//     openAPIDocument adds the fragments of the routes every Server serves,
//     and Enable<Area> adds its own with extendOpenAPI.
//   - problem.go declares every problem kind (Kind, defined from wire's
//     problem type names) with its status and title in one table, and the
//     central error handler; errors.go holds the Error type and the
//     package's sentinel errors.
//   - middleware_<name>.go holds one middleware; bind.go request decoding
//     and validation; mask.go who sees personal data in full; server.go
//     Options, New and routes(), which registers the core areas' routes
//     (meta, orgs, volunteers, applications).
package api
