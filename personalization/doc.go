// Package personalization runs branch-issuance personalization sessions on
// the server. It is card work, so it sits beside the domain rather than in
// it: like bankgw for the bank, it is an adapter between issuance (whose
// applications and cards it moves) and the card (cardio, cardio/gp,
// cardio/emv, and its own dataprep for the card data). The domain imports
// neither. The sessions: it turns a bank_approved application into the two APDU
// batches a client relays to a blank card, and checks the card's answers.
//
// Open prepares the card data (personalization/dataprep: records, a fresh ICC key
// and its certificate, application keys, the PIN) and returns batch 1
// (SELECT card manager, GET CPLC, INITIALIZE UPDATE). Respond with batch
// 1's responses opens the SCP02 channel and returns batch 2 (EXTERNAL
// AUTHENTICATE, INSTALL, every STORE DATA, the read-back ending with
// INTERNAL AUTHENTICATE), computed from the INITIALIZE UPDATE response
// alone; Respond with batch 2's responses checks the read-back and DDA and
// records the card, moving the application bank_approved → personalized →
// issued in one transaction. Two HTTP round trips after opening.
//
// Between requests the session state (host challenge, prepared data with
// its keys, the batch handed out) is sealed with the PII keys and stored in
// the database (issuance.PersoSession.Secret), so any serve process can
// continue a session. Keys and the clear PAN leave the server only inside
// the protected STORE DATA commands.
//
// A card pulled before its last STORE DATA stays blank: a new session on
// the same or another blank card starts over. A card pulled after it is
// already personalized; a new session sees INSTALL refused (6985), finds
// the earlier session that wrote this chip (CPLC serial) and checks the
// card with a read-back-only batch: one more round trip.
package personalization
