package emv

import (
	"crypto/rand"
	"fmt"
	"math/big"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestSignSizes checks a CRT signature against m^d mod n for the ICC key
// sizes (512–1024 bits) and one above them.
func TestSignSizes(t *testing.T) {
	for _, bitLen := range []int{512, 640, 768, 896, 1024, 1152} {
		t.Run(fmt.Sprintf("%d-bit", bitLen), func(t *testing.T) {
			k, err := GenerateKey(rand.Reader, bitLen, 3)
			require.NoError(t, err)
			require.NoError(t, k.Precompute())
			require.NotNil(t, k.crt, "CRT values kept")
			block := make([]byte, len(k.Modulus))
			_, _ = rand.Read(block[1:])
			block[0] = 0x6A
			got, err := k.sign(block)
			require.NoError(t, err)
			n := new(big.Int).SetBytes(k.Modulus)
			want := new(big.Int).Exp(new(big.Int).SetBytes(block), new(big.Int).SetBytes(k.D), n)
			require.Zero(t, new(big.Int).SetBytes(got).Cmp(want), "CRT signature differs from m^d mod n")
		})
	}
}
