package ci

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestEnabled(t *testing.T) {
	for v, want := range map[string]bool{"": false, "true": true, "1": true, "TRUE": true, "True": true,
		"false": false, "0": false, "yes": false} {
		t.Run("CI="+v, func(t *testing.T) {
			require.Equal(t, want, enabled(v))
			t.Setenv(Env, v)
			require.Equal(t, want, Enabled())
		})
	}
}
