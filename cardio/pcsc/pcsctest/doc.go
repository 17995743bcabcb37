// Package pcsctest is the harness for tests that go through the real
// pcscd with the vsmartcard vpcd driver: it starts pcscd when none runs
// ([Start]), hands out one of the two vpcd reader slots under a lock that
// holds across test processes ([Slot]), and inserts a software card into a
// slot, returning once pcscd sees it ([Insert]).
//
// When pcscd or the vpcd driver is missing, tests are skipped, except with
// CI=true in the environment, where they fail.
package pcsctest
