package pcsc

import (
	"errors"
	"fmt"
	"testing"

	"github.com/ebfe/scard"
	"github.com/stretchr/testify/require"

	"github.com/volcard/volcard/cardio"
)

func TestWrapMapsCodes(t *testing.T) {
	tests := []struct {
		name string
		op   string
		code scard.Error
		want error // nil: no cardio sentinel
	}{
		{name: "no service", op: "establish context", code: scard.ErrNoService, want: cardio.ErrServiceUnavailable},
		{name: "service stopped", op: "list readers", code: scard.ErrServiceStopped, want: cardio.ErrServiceUnavailable},
		{name: "unknown reader", op: "connect", code: scard.ErrUnknownReader, want: cardio.ErrNoReader},
		{name: "reader unavailable", op: "wait", code: scard.ErrReaderUnavailable, want: cardio.ErrNoReader},
		{name: "no card at connect", op: "connect", code: scard.ErrNoSmartcard, want: cardio.ErrNoCard},
		{name: "removed at connect", op: "connect", code: scard.ErrRemovedCard, want: cardio.ErrNoCard},
		{name: "mute card at connect", op: "connect", code: scard.ErrUnresponsiveCard, want: cardio.ErrNoCard},
		{name: "removed in transmit", op: "transmit", code: scard.ErrRemovedCard, want: cardio.ErrCardRemoved},
		{name: "no card in transmit", op: "transmit", code: scard.ErrNoSmartcard, want: cardio.ErrCardRemoved},
		{name: "reset in transmit", op: "transmit", code: scard.ErrResetCard, want: cardio.ErrCardRemoved},
		{name: "unpowered in transmit", op: "transmit", code: scard.ErrUnpoweredCard, want: cardio.ErrCardRemoved},
		{name: "not transacted in transmit", op: "transmit", code: scard.ErrNotTransacted, want: cardio.ErrCardRemoved},
		{name: "comm error in transmit", op: "transmit", code: scard.ErrCommError, want: cardio.ErrCardRemoved},
		{name: "sharing violation", op: "connect", code: scard.ErrSharingViolation, want: ErrCardInUse},
		{name: "invalid handle", op: "transmit", code: scard.ErrInvalidHandle, want: ErrClosed},
		{name: "other", op: "transmit", code: scard.ErrInsufficientBuffer, want: nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := wrap(tt.op, "Reader 0", tt.code)
			require.ErrorIs(t, err, tt.code, "raw code kept")
			var pe *Error
			require.True(t, errors.As(err, &pe))
			require.Equal(t, tt.code, pe.Code)
			require.Contains(t, err.Error(), tt.op)
			for _, s := range []error{cardio.ErrServiceUnavailable, cardio.ErrNoReader, cardio.ErrNoCard, cardio.ErrCardRemoved, ErrCardInUse, ErrClosed} {
				require.Equal(t, s == tt.want, errors.Is(err, s), "errors.Is(%v)", s)
			}
		})
	}
}

func TestWrapOther(t *testing.T) {
	require.NoError(t, wrap("transmit", "r", nil))
	err := wrap("transmit", "r", errNoStatusWord)
	require.ErrorIs(t, err, cardio.ErrCardRemoved)
	plain := fmt.Errorf("boom")
	require.ErrorIs(t, wrap("connect", "r", plain), plain)
}
