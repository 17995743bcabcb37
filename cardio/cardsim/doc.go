// Package cardsim is a software PBOC 3.0 debit card and an in-process
// reader for it.
//
// A Card is built from a JSON card image (testdata/cards/*.json): PPSE and
// PSE directories, applications with their FCI and PDOL, GPO response (format
// 1 or 2), records, GET DATA objects, PIN and try counter, the ICC
// private key for DDA, and the payment part (card master keys, card risk
// management, last online ATC, transaction log; payment.go). It answers
// SELECT, GET PROCESSING OPTIONS, READ RECORD, GET DATA, VERIFY, GET
// CHALLENGE, INTERNAL AUTHENTICATE, GENERATE AC, EXTERNAL AUTHENTICATE and
// GET RESPONSE with the status words a real card uses, emulates T=0 (61xx when
// Le is absent, 6Cxx when Le is wrong), and supports fault injection (card
// removed after N APDUs, per-APDU delay, a chosen status word for a chosen
// command).
//
// A blank card (image kind "blank", blank.go) adds a GlobalPlatform issuer
// security domain: SCP02 (cardio/gp), INSTALL [for personalization] and
// STORE DATA with DGIs collected in a staging area and committed atomically
// on the last block, after which the card behaves as an image-loaded
// personalized card. GET DATA 9F7F returns its CPLC (chip serial).
//
// Card.Image exports a card's whole persistent state (counters, keys,
// personalization, payment state) as a card file, format CurrentFormat
// (image.go); Card.Save and Load keep a card across runs, and
// NewBlankImages makes series of distinct blank cards.
//
// Readers implements cardio.Readers with one reader named "sim"; the vpcd
// client (cardio/vpcd) drives a Card through ATR, Reset and Process so the
// real pcscd sees it.
package cardsim
