package outbox

import "errors"

// Errors returned by this package.
var (
	// ErrInvalidConfig means a Config failed validation.
	ErrInvalidConfig = errors.New("outbox: invalid configuration")
	// ErrCrash is returned by a Config.Hook to simulate the process dying
	// at that point: the worker stops at once and leaves its leases to
	// expire.
	ErrCrash = errors.New("outbox: simulated crash")
	// ErrLeaseLost means a row is no longer leased to the worker (its
	// lease expired and another worker claimed it, or a late response
	// resolved it).
	ErrLeaseLost = errors.New("bank request lease lost")
)
