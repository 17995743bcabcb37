// Package archtest holds the tests that keep the layout honest: the
// dependency rules between the domain, its adapters and the card code, and
// between the two sides of the HTTP API (api and client share only wire),
// checked with go list on the whole module. It has no code of its own.
package archtest
