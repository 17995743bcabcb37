// Package archtest holds the tests that keep the layout honest: the
// dependency rules between the domain, its adapters and the card code,
// checked with go list on the whole module. It has no code of its own.
package archtest
