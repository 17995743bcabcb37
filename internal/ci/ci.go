// Package ci tells tests whether they run in continuous integration, where
// a missing dependency (PostgreSQL, pcscd, chromium, docker-compose) is a
// failure instead of a skip.
package ci

import (
	"os"
	"strconv"
)

// Env is the variable read: CI, as set by most CI services.
const Env = "CI"

// Enabled reports whether CI is set to a true value: 1, t, true, TRUE,
// True (strconv.ParseBool). Unset, empty, 0 or false mean not in CI.
func Enabled() bool { return enabled(os.Getenv(Env)) }

func enabled(v string) bool {
	b, err := strconv.ParseBool(v)
	return err == nil && b
}
