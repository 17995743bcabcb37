package gp

import (
	"encoding/hex"
	"fmt"
	"strings"
)

// KeyLen is the length of every SCP02 key: two-key triple DES.
const KeyLen = 16

// Key is a 16-byte two-key triple-DES key. It never prints: String, Format
// and JSON show only its key check value.
type Key []byte

// ParseKey decodes a 32-digit hex key (spaces allowed).
func ParseKey(s string) (Key, error) {
	b, err := hex.DecodeString(strings.ReplaceAll(s, " ", ""))
	if err != nil || len(b) != KeyLen {
		return nil, fmt.Errorf("parse key: need %d hex bytes: %w", KeyLen, ErrInvalidKey)
	}
	return b, nil
}

// Validate checks the key length.
func (k Key) Validate() error {
	if len(k) != KeyLen {
		return fmt.Errorf("key of %d bytes: %w", len(k), ErrInvalidKey)
	}
	return nil
}

// KCV returns the key check value: the first 3 bytes of the key's triple-DES
// encryption of eight zero bytes.
func (k Key) KCV() []byte {
	out, err := ecb(k, make([]byte, blockSize), false)
	if err != nil {
		return nil
	}
	return out[:3]
}

// EncryptECB encrypts data (a multiple of 8 bytes) with the key in triple-DES
// ECB mode (key derivation, EMV option A).
func (k Key) EncryptECB(data []byte) ([]byte, error) {
	if len(data)%blockSize != 0 {
		return nil, fmt.Errorf("ECB input of %d bytes: %w", len(data), ErrMalformedCommand)
	}
	return ecb(k, data, false)
}

// String shows the key check value only.
func (k Key) String() string {
	if len(k) != KeyLen {
		return "gp.Key(invalid)"
	}
	return fmt.Sprintf("gp.Key(KCV %X)", k.KCV())
}

// GoString shows the key check value only.
func (k Key) GoString() string { return k.String() }

// Format prints the masked form whatever the verb.
func (k Key) Format(f fmt.State, _ rune) { _, _ = f.Write([]byte(k.String())) }

// MarshalText refuses to serialise a key by accident: it yields the masked form.
func (k Key) MarshalText() ([]byte, error) { return []byte(k.String()), nil }

// KeySet is a card's static secure-channel keys: ENC (authentication and
// encryption), MAC and DEK (key/sensitive data encryption), with their key
// version number.
type KeySet struct {
	Version byte
	ENC     Key
	MAC     Key
	DEK     Key
}

// Validate checks the three keys.
func (ks KeySet) Validate() error {
	for _, k := range []Key{ks.ENC, ks.MAC, ks.DEK} {
		if err := k.Validate(); err != nil {
			return err
		}
	}
	return nil
}

// Diversification is a method to derive a card's static keys from a KMC.
type Diversification int

// Diversification methods.
const (
	// DiversifyNone uses the KMC itself as ENC, MAC and DEK.
	DiversifyNone Diversification = iota
	// DiversifyEMV is the EMV CPS method: KEYDATA = the six rightmost bytes of
	// the key diversification data; K = 3DES(KMC)[KEYDATA || F0 0n] ||
	// 3DES(KMC)[KEYDATA || 0F 0n] with n = 1 (ENC), 2 (MAC), 3 (DEK).
	DiversifyEMV
	// DiversifyVISA2 is the VISA2 method: KEYDATA = bytes 1-2 and 5-8 of the
	// key diversification data, then as DiversifyEMV.
	DiversifyVISA2
)

// String names the method.
func (d Diversification) String() string {
	switch d {
	case DiversifyNone:
		return "none"
	case DiversifyEMV:
		return "emv"
	case DiversifyVISA2:
		return "visa2"
	}
	return fmt.Sprintf("Diversification(%d)", int(d))
}

// KDDLen is the length of the key diversification data returned by
// INITIALIZE UPDATE.
const KDDLen = 10

// Diversify derives a card's static keys from the KMC and the card's key
// diversification data (the first 10 bytes of the INITIALIZE UPDATE
// response). version is copied into the result.
func Diversify(kmc Key, method Diversification, kdd []byte, version byte) (KeySet, error) {
	if err := kmc.Validate(); err != nil {
		return KeySet{}, fmt.Errorf("diversify: KMC: %w", err)
	}
	if method == DiversifyNone {
		return KeySet{Version: version, ENC: clone(kmc), MAC: clone(kmc), DEK: clone(kmc)}, nil
	}
	if len(kdd) != KDDLen {
		return KeySet{}, fmt.Errorf("diversify: diversification data of %d bytes: %w", len(kdd), ErrMalformedResponse)
	}
	var keydata []byte
	switch method {
	case DiversifyEMV:
		keydata = kdd[4:10]
	case DiversifyVISA2:
		keydata = append(append([]byte(nil), kdd[0:2]...), kdd[4:8]...)
	default:
		return KeySet{}, fmt.Errorf("diversify: method %v: %w", method, ErrUnsupportedSCP)
	}
	derive := func(n byte) (Key, error) {
		in := make([]byte, 0, 16)
		in = append(append(in, keydata...), 0xF0, n)
		in = append(append(in, keydata...), 0x0F, n)
		return ecb(kmc, in, false)
	}
	ks := KeySet{Version: version}
	var err error
	if ks.ENC, err = derive(1); err != nil {
		return KeySet{}, err
	}
	if ks.MAC, err = derive(2); err != nil {
		return KeySet{}, err
	}
	if ks.DEK, err = derive(3); err != nil {
		return KeySet{}, err
	}
	return ks, nil
}

func clone(b []byte) []byte { return append([]byte(nil), b...) }
