package api

import (
	"errors"
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/volcard/volcard/issuance/checkin"
)

// TestCheckinErrorExpired: an expired card is its own problem (403
// card-expired) saying what to do, never card-not-genuine.
func TestCheckinErrorExpired(t *testing.T) {
	err := checkinError(errors.Join(errors.New("tap"), checkin.ErrCardExpired))
	var e *Error
	require.True(t, errors.As(err, &e))
	require.Equal(t, KindCardExpired, e.Kind)
	require.Equal(t, http.StatusForbidden, kinds[KindCardExpired].status)
	require.Contains(t, e.Detail, "renewed card")
}
