package emv

import (
	"math/big"
	"math/bits"
)

//go:generate go run montgen.go

// montModulus is an odd modulus of 4 to montLimbs 64-bit limbs (the CRT
// primes of 512- to 1024-bit ICC keys) prepared for Montgomery
// exponentiation with the multiplication unrolled for its size
// (mont_gen.go). math/big's Exp spends most of its time at these sizes
// calling its vector routines a few words at a time; an ICC signature
// (INTERNAL AUTHENTICATE) is about twice as fast this way. Like math/big,
// it is not constant time (see PrivateKey).
type montModulus struct {
	k       int
	n       [montLimbs]uint64 // little-endian limbs
	one, rr [montLimbs]uint64 // R mod n and R² mod n, R = 2^(64k)
	n0      uint64            // −n⁻¹ mod 2⁶⁴
	mul     func(z, x, y, n *[montLimbs]uint64, n0 uint64)
}

// newMontModulus prepares m, or returns nil when m is even or its size has
// no unrolled multiplication (the caller then uses math/big).
func newMontModulus(m *big.Int) *montModulus {
	k := (m.BitLen() + 63) / 64
	if m.Sign() <= 0 || m.Bit(0) == 0 || k >= len(montMuls) || montMuls[k] == nil {
		return nil
	}
	mm := &montModulus{k: k, mul: montMuls[k]}
	toLimbs(&mm.n, m, k)
	// n0 by Newton's iteration: each step doubles the correct low bits
	// (n is odd, so n·1 ≡ 1 mod 2 to start).
	inv := uint64(1)
	for range 6 {
		inv *= 2 - mm.n[0]*inv
	}
	mm.n0 = -inv
	r := new(big.Int).Lsh(big.NewInt(1), uint(64*k))
	toLimbs(&mm.one, new(big.Int).Mod(r, m), k)
	toLimbs(&mm.rr, new(big.Int).Mod(new(big.Int).Mul(r, r), m), k)
	return mm
}

// toLimbs sets z to x (0 ≤ x < 2^(64k)) as k little-endian limbs.
func toLimbs(z *[montLimbs]uint64, x *big.Int, k int) {
	var buf [8 * montLimbs]byte
	b := x.FillBytes(buf[:8*k])
	*z = [montLimbs]uint64{}
	for i := range k {
		for _, c := range b[8*(k-1-i) : 8*(k-i)] {
			z[i] = z[i]<<8 | uint64(c)
		}
	}
}

// fromLimbs returns the k-limb number z.
func fromLimbs(z *[montLimbs]uint64, k int) *big.Int {
	var buf [8 * montLimbs]byte
	b := buf[:8*k]
	for i := range k {
		for j := range 8 {
			b[8*(k-1-i)+7-j] = byte(z[i] >> (8 * j))
		}
	}
	return new(big.Int).SetBytes(b)
}

// exp returns x^e mod n for 0 ≤ x < n, with a fixed 4-bit window, as
// math/big does.
func (m *montModulus) exp(x, e *big.Int) *big.Int {
	var table [16][montLimbs]uint64
	var xl [montLimbs]uint64
	toLimbs(&xl, x, m.k)
	table[0] = m.one
	m.mul(&table[1], &xl, &m.rr, &m.n, m.n0) // x·R mod n
	for i := 2; i < len(table); i++ {
		m.mul(&table[i], &table[i-1], &table[1], &m.n, m.n0)
	}
	z := m.one
	started := false // squaring 1 is a waste: skip the leading zero digits
	words := e.Bits()
	for i := len(words) - 1; i >= 0; i-- {
		w := uint(words[i])
		for s := bits.UintSize - 4; s >= 0; s -= 4 {
			if started {
				for range 4 {
					m.mul(&z, &z, &z, &m.n, m.n0)
				}
			}
			if d := w >> uint(s) & 15; d != 0 {
				m.mul(&z, &z, &table[d], &m.n, m.n0)
				started = true
			}
		}
	}
	// Out of Montgomery form: z·1·R⁻¹.
	var one [montLimbs]uint64
	one[0] = 1
	m.mul(&z, &z, &one, &m.n, m.n0)
	return fromLimbs(&z, m.k)
}
