package dataprep_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/volcard/volcard/cardio/emv"
	"github.com/volcard/volcard/personalization/dataprep"
)

// TestSoftKeyStoreProductBINs: each product's BIN gets its own issuer
// certificate, so PANs of that BIN prepare and verify; others keep the
// default.
func TestSoftKeyStoreProductBINs(t *testing.T) {
	ctx := context.Background()
	ks, err := dataprep.LoadSoftKeyStore(dataprep.SoftKeyStoreConfig{Dir: keysDir,
		ProductBINs: map[string]string{"GD-RV-CEB": "622660", "MZ-CCB": "621700", "MZ-CCB-2": "621700"}})
	require.NoError(t, err)
	tests := []struct{ product, bin string }{
		{"GD-RV-CEB", "622660"}, {"MZ-CCB", "621700"}, {"MZ-CCB-2", "621700"}, {"volunteer-debit", "621785"},
	}
	for _, tc := range tests {
		t.Run(tc.product, func(t *testing.T) {
			sg, err := ks.IssuerKey(ctx, "bank", tc.product)
			require.NoError(t, err)
			require.Equal(t, tc.bin, sg.Certificate().IssuerID)
			p, err := dataprep.New(ks, dataprep.WithClock(func() time.Time { return testNow }))
			require.NoError(t, err)
			in := input(t, "1234")
			in.Product = tc.product
			in.PAN, err = emv.NewPAN(luhn(tc.bin + "000012345"))
			require.NoError(t, err)
			_, err = p.Prepare(ctx, in)
			require.NoError(t, err)
		})
	}
	_, err = dataprep.LoadSoftKeyStore(dataprep.SoftKeyStoreConfig{Dir: keysDir, ProductBINs: map[string]string{"X": "62a"}})
	require.ErrorIs(t, err, dataprep.ErrInvalidInput)
}
