package gp

import "errors"

// Errors returned by the secure channel and STORE DATA helpers. None of them
// carries key material or card data.
var (
	// ErrInvalidKey means a key is not 16 bytes (two-key triple DES).
	ErrInvalidKey = errors.New("gp: invalid key")
	// ErrMalformedResponse means an INITIALIZE UPDATE response (or other
	// card answer) could not be parsed.
	ErrMalformedResponse = errors.New("gp: malformed card response")
	// ErrUnsupportedSCP means the card answered with a secure channel
	// protocol or option this package does not implement.
	ErrUnsupportedSCP = errors.New("gp: unsupported secure channel protocol")
	// ErrKeyVersion means the card uses a key version other than the one asked for.
	ErrKeyVersion = errors.New("gp: key version mismatch")
	// ErrCardCryptogram means the card cryptogram did not verify: wrong keys
	// or not the card we think.
	ErrCardCryptogram = errors.New("gp: card cryptogram mismatch")
	// ErrCardChallenge means the card cryptogram verified but the card
	// challenge is not the pseudo-random one of i = 55 for the security
	// domain's AID: the card does not use SCP02 i = 55 (or the channel was
	// opened on another security domain).
	ErrCardChallenge = errors.New("gp: card challenge is not the i=55 pseudo-random challenge")
	// ErrHostCryptogram means (card side) the host cryptogram did not verify.
	ErrHostCryptogram = errors.New("gp: host cryptogram mismatch")
	// ErrMAC means (card side) a C-MAC did not verify.
	ErrMAC = errors.New("gp: C-MAC mismatch")
	// ErrState means a command came in the wrong order (no open session,
	// session already authenticated, ...).
	ErrState = errors.New("gp: secure channel not in the right state")
	// ErrMalformedCommand means a command is malformed for the secure channel
	// (bad length, bad padding, unsupported security level).
	ErrMalformedCommand = errors.New("gp: malformed command")
	// ErrMalformedDGI means a DGI stream could not be encoded or parsed.
	ErrMalformedDGI = errors.New("gp: malformed DGI")
	// ErrMalformedCPLC means card production life cycle data could not be parsed.
	ErrMalformedCPLC = errors.New("gp: malformed CPLC data")
)
