package emv

import (
	"bytes"
	"crypto/rand"
	"math/big"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// TestMontExp checks the unrolled Montgomery exponentiation against
// math/big for every unrolled size, with moduli whose top limb is full or
// nearly empty, and the edge values of base and exponent.
func TestMontExp(t *testing.T) {
	for k := 1; k <= montLimbs+1; k++ {
		for _, bitLen := range []int{64*k - 63, 64*k - 1, 64 * k} {
			for range 20 {
				n, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), uint(bitLen)))
				if err != nil {
					t.Fatal(err)
				}
				n.SetBit(n, bitLen-1, 1).SetBit(n, 0, 1) // exactly bitLen bits, odd
				m := newMontModulus(n)
				if k < 4 || k > montLimbs {
					if m != nil {
						t.Fatalf("%d limbs: no unrolled multiplication expected", k)
					}
					continue
				}
				if m == nil {
					t.Fatalf("%d-bit modulus not prepared", bitLen)
				}
				x, _ := rand.Int(rand.Reader, n)
				e, _ := rand.Int(rand.Reader, n)
				nm1 := new(big.Int).Sub(n, big.NewInt(1))
				for _, c := range [][2]*big.Int{{x, e}, {big.NewInt(0), e}, {big.NewInt(1), e}, {nm1, e}, {x, big.NewInt(0)},
					{x, big.NewInt(1)}, {nm1, big.NewInt(2)}, {x, nm1}} {
					if got, want := m.exp(c[0], c[1]), new(big.Int).Exp(c[0], c[1], n); got.Cmp(want) != 0 {
						t.Fatalf("%d-bit modulus %x: %x^%x = %x, want %x", bitLen, n, c[0], c[1], got, want)
					}
				}
			}
		}
	}
	if newMontModulus(big.NewInt(1<<62)) != nil || newMontModulus(new(big.Int).Lsh(big.NewInt(1), 300)) != nil {
		t.Fatal("even moduli must be refused")
	}
}

// BenchmarkCRTExp compares one CRT half of a 768-bit ICC signature (a
// 384-bit exponentiation) with math/big's and with the unrolled code.
func BenchmarkCRTExp(b *testing.B) {
	p, err := rand.Prime(rand.Reader, 384)
	if err != nil {
		b.Fatal(err)
	}
	x, _ := rand.Int(rand.Reader, p)
	e, _ := rand.Int(rand.Reader, p)
	m := newMontModulus(p)
	b.Run("math-big", func(b *testing.B) {
		for b.Loop() {
			new(big.Int).Exp(x, e, p)
		}
	})
	b.Run("unrolled", func(b *testing.B) {
		for b.Loop() {
			m.exp(x, e)
		}
	})
}

// TestSignSizes checks a CRT signature against m^d mod n for ICC key sizes
// across the unrolled range (512–1024 bits) and one past it (math/big).
func TestSignSizes(t *testing.T) {
	for _, bitLen := range []int{512, 640, 768, 896, 1024, 1152} {
		k, err := GenerateKey(rand.Reader, bitLen, 3)
		if err != nil {
			t.Fatal(err)
		}
		if err := k.Precompute(); err != nil {
			t.Fatal(err)
		}
		if unrolled := k.crt.mp != nil && k.crt.mq != nil; unrolled != (bitLen <= 1024) {
			t.Fatalf("%d bits: unrolled %v", bitLen, unrolled)
		}
		block := make([]byte, len(k.Modulus))
		_, _ = rand.Read(block[1:])
		block[0] = 0x6A
		got, err := k.sign(block)
		if err != nil {
			t.Fatal(err)
		}
		n := new(big.Int).SetBytes(k.Modulus)
		want := new(big.Int).Exp(new(big.Int).SetBytes(block), new(big.Int).SetBytes(k.D), n)
		if new(big.Int).SetBytes(got).Cmp(want) != 0 {
			t.Fatalf("%d bits: CRT signature differs from m^d mod n", bitLen)
		}
	}
}

// TestMontGenUpToDate checks mont_gen.go against what montgen.go writes
// (go generate ./cardio/emv rewrites it).
func TestMontGenUpToDate(t *testing.T) {
	out := filepath.Join(t.TempDir(), "mont_gen.go")
	if b, err := exec.Command("go", "run", "montgen.go", "-o", out).CombinedOutput(); err != nil {
		t.Fatalf("go run montgen.go: %v\n%s", err, b)
	}
	want, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile("mont_gen.go")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatal("mont_gen.go is stale: go generate ./cardio/emv")
	}
}
