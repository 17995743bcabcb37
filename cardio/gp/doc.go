// Package gp is the GlobalPlatform side of card personalization: the SCP02
// secure channel (i = 15 and 55) and STORE DATA with DGIs (EMV CPS).
//
// It owns both ends of the channel:
//
//   - Session, the host (off-card entity): INITIALIZE UPDATE, card-cryptogram
//     check, EXTERNAL AUTHENTICATE with the host cryptogram and C-MAC,
//     C-MAC chaining with an encrypted ICV, command encryption for security
//     level MAC+ENC, sensitive-data encryption under the session DEK and
//     wrapping of STORE DATA scripts. A Session computes every command from
//     the INITIALIZE UPDATE response alone, so a server can hand a client a
//     whole APDU script in one HTTP round trip.
//   - CardChannel, the card: session keys, cryptograms, C-MAC verification
//     and decryption; used by cardio/cardsim's blank card.
//
// Static card keys are diversified from a key master key (KMC) with the EMV
// CPS method or the VISA2 method (Diversify). Keys are 16-byte two-key
// triple-DES keys and never print (Key.String masks them).
//
// SCP03 is not implemented.
package gp
