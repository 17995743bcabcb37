package emv

import (
	"bytes"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/big"
	"os"
	"time"

	"github.com/volcard/volcard/cardio"
)

// ErrInvalidKey means an RSA key is malformed or unusable.
var ErrInvalidKey = errors.New("emv: invalid RSA key")

// PublicKey is an RSA public key as EMV carries it: modulus and exponent as
// big-endian bytes (exponent 3 or 65537).
type PublicKey struct {
	Modulus  cardio.Hex `json:"modulus"`
	Exponent cardio.Hex `json:"exponent"`
}

// Size returns the modulus length in bytes (N_CA, N_I or N_IC in EMV Book 2).
func (k PublicKey) Size() int { return len(k.Modulus) }

func (k PublicKey) validate() error {
	if len(k.Modulus) < 64 || len(k.Modulus) > 248 || k.Modulus[0] == 0 {
		return fmt.Errorf("modulus of %d bytes: %w", len(k.Modulus), ErrInvalidKey)
	}
	e := new(big.Int).SetBytes(k.Exponent)
	if e.Cmp(big.NewInt(3)) < 0 || e.Bit(0) == 0 || len(k.Exponent) > 3 {
		return fmt.Errorf("exponent: %w", ErrInvalidKey)
	}
	return nil
}

// recover computes sig^e mod n (the EMV "recovery function"); sig must be
// exactly as long as the modulus and smaller than it.
func (k PublicKey) recover(sig []byte) ([]byte, error) {
	if err := k.validate(); err != nil {
		return nil, err
	}
	if len(sig) != len(k.Modulus) {
		return nil, fmt.Errorf("signature of %d bytes for a %d-byte key: %w", len(sig), len(k.Modulus), ErrCertificateFormat)
	}
	n := new(big.Int).SetBytes(k.Modulus)
	s := new(big.Int).SetBytes(sig)
	if s.Cmp(n) >= 0 {
		return nil, fmt.Errorf("signature not below modulus: %w", ErrCertificateFormat)
	}
	m := new(big.Int).Exp(s, new(big.Int).SetBytes(k.Exponent), n)
	return m.FillBytes(make([]byte, len(k.Modulus))), nil
}

// PrivateKey is an RSA private key for test CAs, issuers and ICCs (the card
// simulator). Keys held by a real issuer belong in an HSM, not in this type:
// its arithmetic is math/big, not constant time.
type PrivateKey struct {
	PublicKey
	D cardio.Hex `json:"d"`
	P cardio.Hex `json:"p"`
	Q cardio.Hex `json:"q"`
	// crt holds the values Precompute computed (nil until then).
	crt *crtValues
}

// Public returns the public half.
func (k *PrivateKey) Public() PublicKey { return k.PublicKey }

// Validate checks that the key is consistent (n = p*q, e*d = 1 mod lcm).
func (k *PrivateKey) Validate() error {
	if k == nil {
		return fmt.Errorf("nil key: %w", ErrInvalidKey)
	}
	if err := k.PublicKey.validate(); err != nil {
		return err
	}
	p, q := new(big.Int).SetBytes(k.P), new(big.Int).SetBytes(k.Q)
	n := new(big.Int).SetBytes(k.Modulus)
	if new(big.Int).Mul(p, q).Cmp(n) != 0 {
		return fmt.Errorf("modulus is not p*q: %w", ErrInvalidKey)
	}
	one := big.NewInt(1)
	p1, q1 := new(big.Int).Sub(p, one), new(big.Int).Sub(q, one)
	ed := new(big.Int).Mul(new(big.Int).SetBytes(k.Exponent), new(big.Int).SetBytes(k.D))
	if new(big.Int).Mod(ed, p1).Cmp(one) != 0 || new(big.Int).Mod(ed, q1).Cmp(one) != 0 {
		return fmt.Errorf("d is not the inverse of e: %w", ErrInvalidKey)
	}
	return nil
}

// crtValues are the numbers a CRT signature uses, computed once per key.
type crtValues struct {
	n, p, q, dp, dq, qinv *big.Int
}

// Precompute validates the key and computes and keeps the CRT values every
// signature needs, as crypto/rsa's Precompute does. Call it once before the
// key is shared between goroutines; a key not precomputed computes them per
// signature. A key from NewCRTKey is already precomputed.
func (k *PrivateKey) Precompute() error {
	if k.crt != nil {
		return nil
	}
	if err := k.Validate(); err != nil {
		return err
	}
	c, err := k.crtValues()
	if err != nil {
		return err
	}
	k.crt = c
	return nil
}

// NewCRTKey builds a private key from its public exponent e and its CRT
// parts, as a card receives them in personalization: the primes p and q,
// dP = d mod (p−1), dQ = d mod (q−1) and qInv = q⁻¹ mod p (big-endian).
// It checks that the parts belong together (e·dP ≡ 1 mod p−1,
// e·dQ ≡ 1 mod q−1, q·qInv ≡ 1 mod p) and keeps them as the key's
// precomputed values; D is e⁻¹ mod (p−1)(q−1).
func NewCRTKey(e, p, q, dp, dq, qinv []byte) (*PrivateKey, error) {
	P, Q := new(big.Int).SetBytes(p), new(big.Int).SetBytes(q)
	one := big.NewInt(1)
	if P.Cmp(one) <= 0 || Q.Cmp(one) <= 0 {
		return nil, fmt.Errorf("CRT key: prime below 2: %w", ErrInvalidKey)
	}
	n := new(big.Int).Mul(P, Q)
	k := &PrivateKey{PublicKey: PublicKey{Modulus: n.FillBytes(make([]byte, (n.BitLen()+7)/8)), Exponent: append(cardio.Hex(nil), e...)}}
	if err := k.PublicKey.validate(); err != nil {
		return nil, err
	}
	E := new(big.Int).SetBytes(e)
	c := &crtValues{n: n, p: P, q: Q, dp: new(big.Int).SetBytes(dp), dq: new(big.Int).SetBytes(dq), qinv: new(big.Int).SetBytes(qinv)}
	p1, q1 := new(big.Int).Sub(P, one), new(big.Int).Sub(Q, one)
	inverse := func(a, b, m *big.Int) bool { return new(big.Int).Mod(new(big.Int).Mul(a, b), m).Cmp(one) == 0 }
	if c.dp.Cmp(p1) >= 0 || c.dq.Cmp(q1) >= 0 || c.qinv.Cmp(P) >= 0 ||
		!inverse(E, c.dp, p1) || !inverse(E, c.dq, q1) || !inverse(Q, c.qinv, P) {
		return nil, fmt.Errorf("CRT key: the parts do not belong together: %w", ErrInvalidKey)
	}
	d := new(big.Int).ModInverse(E, new(big.Int).Mul(p1, q1))
	if d == nil {
		return nil, fmt.Errorf("CRT key: e not invertible: %w", ErrInvalidKey)
	}
	k.D, k.P, k.Q, k.crt = d.Bytes(), P.Bytes(), Q.Bytes(), c
	return k, nil
}

// crtValues returns the key's CRT values, or nil (and no error) for a key
// without its primes, which signs with m^d mod n.
func (k *PrivateKey) crtValues() (*crtValues, error) {
	if k.crt != nil {
		return k.crt, nil
	}
	n := new(big.Int).SetBytes(k.Modulus)
	P, Q := new(big.Int).SetBytes(k.P), new(big.Int).SetBytes(k.Q)
	if P.Sign() == 0 || Q.Sign() == 0 || new(big.Int).Mul(P, Q).Cmp(n) != 0 {
		return nil, nil
	}
	one := big.NewInt(1)
	d := new(big.Int).SetBytes(k.D)
	c := &crtValues{n: n, p: P, q: Q,
		dp:   new(big.Int).Mod(d, new(big.Int).Sub(P, one)),
		dq:   new(big.Int).Mod(d, new(big.Int).Sub(Q, one)),
		qinv: new(big.Int).ModInverse(Q, P)}
	if c.qinv == nil {
		return nil, fmt.Errorf("p and q not coprime: %w", ErrInvalidKey)
	}
	return c, nil
}

// sign computes m^d mod n for a block exactly as long as the modulus.
func (k *PrivateKey) sign(block []byte) ([]byte, error) {
	if k == nil || len(k.D) == 0 {
		return nil, fmt.Errorf("no private key: %w", ErrInvalidKey)
	}
	if len(block) != len(k.Modulus) {
		return nil, fmt.Errorf("block of %d bytes for a %d-byte key: %w", len(block), len(k.Modulus), ErrInvalidKey)
	}
	c, err := k.crtValues()
	if err != nil {
		return nil, err
	}
	m := new(big.Int).SetBytes(block)
	if c == nil {
		n := new(big.Int).SetBytes(k.Modulus)
		if m.Cmp(n) >= 0 {
			return nil, fmt.Errorf("block not below modulus: %w", ErrInvalidKey)
		}
		return new(big.Int).Exp(m, new(big.Int).SetBytes(k.D), n).FillBytes(make([]byte, len(k.Modulus))), nil
	}
	if m.Cmp(c.n) >= 0 {
		return nil, fmt.Errorf("block not below modulus: %w", ErrInvalidKey)
	}
	// Chinese remainder theorem: about three times faster than m^d mod n.
	m1 := new(big.Int).Exp(m, c.dp, c.p)
	m2 := new(big.Int).Exp(m, c.dq, c.q)
	h := m1.Sub(m1, m2)
	h.Mul(h, c.qinv).Mod(h, c.p)
	s := h.Mul(h, c.q).Add(h, m2)
	return s.FillBytes(make([]byte, len(k.Modulus))), nil
}

// GenerateKey makes an RSA key of exactly bits bits (a multiple of 16) with
// public exponent e (3 or 65537), as used for test CA, issuer and ICC keys.
func GenerateKey(random io.Reader, bits, e int) (*PrivateKey, error) {
	if bits < 512 || bits > 1984 || bits%16 != 0 || (e != 3 && e != 65537) {
		return nil, fmt.Errorf("generate %d-bit key with e=%d: %w", bits, e, ErrInvalidKey)
	}
	if random == nil {
		random = rand.Reader
	}
	E := big.NewInt(int64(e))
	one := big.NewInt(1)
	prime := func() (*big.Int, error) {
		for {
			p, err := rand.Prime(random, bits/2)
			if err != nil {
				return nil, fmt.Errorf("generate prime: %w", err)
			}
			if new(big.Int).Mod(new(big.Int).Sub(p, one), E).Sign() != 0 {
				return p, nil
			}
		}
	}
	for {
		p, err := prime()
		if err != nil {
			return nil, err
		}
		q, err := prime()
		if err != nil {
			return nil, err
		}
		if p.Cmp(q) == 0 {
			continue
		}
		n := new(big.Int).Mul(p, q)
		if n.BitLen() != bits {
			continue
		}
		p1, q1 := new(big.Int).Sub(p, one), new(big.Int).Sub(q, one)
		g := new(big.Int).GCD(nil, nil, p1, q1)
		lcm := new(big.Int).Div(new(big.Int).Mul(p1, q1), g)
		d := new(big.Int).ModInverse(E, lcm)
		if d == nil {
			continue
		}
		return &PrivateKey{
			PublicKey: PublicKey{Modulus: n.FillBytes(make([]byte, bits/8)), Exponent: E.Bytes()},
			D:         d.Bytes(), P: p.Bytes(), Q: q.Bytes(),
		}, nil
	}
}

// RIDUnionPay is the registered application provider identifier of China
// UnionPay, the RID of every PBOC AID (A000000333...).
var RIDUnionPay = cardio.Hex{0xA0, 0x00, 0x00, 0x03, 0x33}

// CAKey is a certification authority public key, identified by RID and
// index (tag 8F on the card).
type CAKey struct {
	RID   cardio.Hex `json:"rid"`
	Index byte       `json:"index"`
	PublicKey
	// Expiry is the last day the key may be used; zero means no expiry.
	Expiry time.Time `json:"expiry,omitzero"`
	// Note says what the key is (e.g. "volcard TEST CA, not for production").
	Note string `json:"note,omitempty"`
}

// CAKeys is the list of CA public keys a terminal trusts.
type CAKeys []CAKey

// Find returns the key for rid and index.
func (ks CAKeys) Find(rid []byte, index byte) (CAKey, bool) {
	for _, k := range ks {
		if k.Index == index && bytes.Equal(k.RID, rid) {
			return k, true
		}
	}
	return CAKey{}, false
}

// LoadCAKeys reads a JSON array of CAKey (testdata/keys/ca-public.json).
func LoadCAKeys(path string) (CAKeys, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("load CA keys: %w", err)
	}
	var ks CAKeys
	if err := json.Unmarshal(b, &ks); err != nil {
		return nil, fmt.Errorf("load CA keys %s: %w", path, err)
	}
	for i, k := range ks {
		if len(k.RID) != 5 {
			return nil, fmt.Errorf("load CA keys %s: key %d: RID must be 5 bytes: %w", path, i, ErrInvalidKey)
		}
		if err := k.validate(); err != nil {
			return nil, fmt.Errorf("load CA keys %s: key %d: %w", path, i, err)
		}
	}
	return ks, nil
}

// LoadPrivateKey reads a JSON PrivateKey (testdata/keys/*.json) and validates it.
func LoadPrivateKey(path string) (*PrivateKey, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("load private key: %w", err)
	}
	var k PrivateKey
	if err := json.Unmarshal(b, &k); err != nil {
		return nil, fmt.Errorf("load private key %s: %w", path, err)
	}
	if err := k.Validate(); err != nil {
		return nil, fmt.Errorf("load private key %s: %w", path, err)
	}
	return &k, nil
}
