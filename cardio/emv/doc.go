// Package emv reads PBOC 3.0 / EMV debit and credit cards over a cardio.Card.
//
// It owns the read flow (PPSE, PSE and known-AID selection, GET PROCESSING
// OPTIONS, READ RECORD over the AFL, GET DATA), the decoding of the result
// into CardFacts (with PAN, track 2 and ID number masked whenever printed),
// offline data authentication (SDA and DDA per EMV Book 2, RSA certificate
// chain from a CA public key list), offline plaintext PIN verification, the
// symmetric side of a transaction (card keys by EMV option A, PBOC session
// keys, application cryptograms, ARPC method 1, GENERATE AC and EXTERNAL
// AUTHENTICATE, the transaction log), and
// the certificate-building functions an issuer (or the card simulator) needs
// to make cards that pass offline authentication.
package emv
