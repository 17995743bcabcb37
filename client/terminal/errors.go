package terminal

import "errors"

// Errors of Start: the terminal cannot work with its token or activity, and
// tapping cards would only fail at the first volunteer. Each wraps the
// server's answer (*client.ProblemError).
var (
	// ErrTokenRefused means the server does not know the token, or it was
	// revoked (401).
	ErrTokenRefused = errors.New("terminal: the server refuses the token (unknown or revoked)")
	// ErrNotTerminalToken means the token works but is not a terminal's
	// (another role, or a terminal token made without an organisation) (403).
	ErrNotTerminalToken = errors.New("terminal: the token is not a terminal token")
	// ErrActivityUnknown means the activity does not exist or lies outside
	// the organisation subtree of the terminal's token (404).
	ErrActivityUnknown = errors.New("terminal: activity unknown or outside the token's organisation")
)

// ErrNoDDA means the card does not support dynamic data authentication
// (AIP byte 1 bit 6 clear: an SDA-only card): it cannot sign the server's
// challenge, so it cannot be used at check-in however often it is tapped.
var ErrNoDDA = errors.New("terminal: the card does not support DDA")
