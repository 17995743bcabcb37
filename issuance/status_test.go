package issuance_test

import (
	"errors"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/volcard/volcard/issuance"
)

func TestStateMachine(t *testing.T) {
	allowed := map[[2]issuance.Status]bool{
		{issuance.StatusSubmitted, issuance.StatusApproved}:        true,
		{issuance.StatusSubmitted, issuance.StatusRejected}:        true,
		{issuance.StatusSubmitted, issuance.StatusCancelled}:       true,
		{issuance.StatusApproved, issuance.StatusBankPending}:      true,
		{issuance.StatusApproved, issuance.StatusCancelled}:        true,
		{issuance.StatusBankPending, issuance.StatusBankApproved}:  true,
		{issuance.StatusBankPending, issuance.StatusBankDeclined}:  true,
		{issuance.StatusBankApproved, issuance.StatusPersonalized}: true,
		{issuance.StatusPersonalized, issuance.StatusIssued}:       true,
		{issuance.StatusIssued, issuance.StatusActivated}:          true,
		{issuance.StatusIssued, issuance.StatusBankApproved}:       true, // card replaced
		{issuance.StatusActivated, issuance.StatusBankApproved}:    true, // card replaced
		{issuance.StatusBankApproved, issuance.StatusCancelled}:    true, // card closed (system only)
		{issuance.StatusPersonalized, issuance.StatusCancelled}:    true, // card closed (system only)
		{issuance.StatusIssued, issuance.StatusCancelled}:          true, // card closed (system only)
		{issuance.StatusActivated, issuance.StatusCancelled}:       true, // card closed (system only)
	}
	for _, from := range issuance.Statuses {
		for _, to := range issuance.Statuses {
			t.Run(string(from)+"→"+string(to), func(t *testing.T) {
				want := allowed[[2]issuance.Status{from, to}]
				require.Equal(t, want, issuance.CanTransition(from, to))
				err := issuance.CheckTransition(from, to)
				if want {
					require.NoError(t, err)
					return
				}
				var te *issuance.TransitionError
				require.ErrorAs(t, err, &te)
				require.Equal(t, issuance.TransitionError{From: from, To: to}, *te)
				require.True(t, errors.Is(err, issuance.ErrIllegalTransition))
			})
		}
	}
}

func TestStatusLive(t *testing.T) {
	for _, s := range issuance.Statuses {
		t.Run(string(s), func(t *testing.T) {
			dead := s == issuance.StatusRejected || s == issuance.StatusBankDeclined || s == issuance.StatusCancelled
			require.Equal(t, !dead, s.Live())
			require.True(t, s.Valid())
		})
	}
	require.False(t, issuance.Status("bogus").Valid())
}
