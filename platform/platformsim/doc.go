// Package platformsim is a simulator of the provincial volunteer
// platform's registration API (docs/platform-interface.md, section 3) for
// tests and for serve's embedded default when no platform URL is
// configured: it registers people under new volunteer numbers, matches
// people it already holds by ID type and number, answers a repeated
// Idempotency-Key with its first answer, and injects faults.
package platformsim
