package personalization

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/volcard/volcard/issuance"
)

func TestPSNByte(t *testing.T) {
	tests := []struct {
		in   string
		want byte
		ok   bool
	}{
		{"001", 0x01, true}, {"01", 0x01, true}, {"1", 0x01, true}, {"12", 0x12, true}, {"099", 0x99, true},
		{"100", 0, false}, {"", 0, false}, {"0x1", 0, false}, {"-1", 0, false},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			got, err := psnByte(tc.in)
			if !tc.ok {
				var ve *issuance.ValidationError
				require.ErrorAs(t, err, &ve)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tc.want, got)
		})
	}
}

func TestNewValidates(t *testing.T) {
	_, err := New(Config{})
	require.Error(t, err)
}
