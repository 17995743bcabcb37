// Package dataprep is card data preparation: from an approved application
// (cardholder data) and the bank's data (PAN, expiry, PSN) it builds
// everything a blank volunteer card receives at personalization — records
// in the AFL layout of docs/card-profile.md, a fresh per-card ICC RSA key
// and its certificate signed by the issuer key, application keys derived
// from issuer master keys (EMV option A), the card risk management data
// (CDOLs, consecutive offline limits, card issuer action codes, log format),
// the offline PIN and its try limit — as DGIs for STORE DATA (cardio/gp).
//
// Keys come through the KeyStore port (an HSM in production). SoftKeyStore
// is the all-software implementation that loads the TEST keys of
// testdata/keys; production must use an HSM-backed KeyStore (docs/operations.md).
//
// Script turns a Prepared card into the APDU script of the second
// personalization batch (EXTERNAL AUTHENTICATE, INSTALL, every STORE DATA,
// read-back and INTERNAL AUTHENTICATE) from the INITIALIZE UPDATE response
// alone; CheckReadBack verifies the card's answers.
//
// Clear PANs, PINs, ID numbers and keys never appear in errors or logs.
// This package knows nothing of HTTP, PC/SC or ISO 8583.
package dataprep
