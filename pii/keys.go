package pii

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"hash"
	"io"
	"strings"
)

// DataKeySize is the size in bytes of the data key.
const DataKeySize = 32

// HKDF info strings; changing them changes every derived key.
const (
	infoEnc   = "volcard pii aes-256-gcm v1"
	infoIndex = "volcard pii blind-index hmac-sha256 v1"
)

// ParseDataKey decodes a 32-byte data key given as 64 hex characters or as
// standard or URL-safe base64 (padded or not). Surrounding space is ignored.
func ParseDataKey(s string) ([]byte, error) {
	s = strings.TrimSpace(s)
	if len(s) == 2*DataKeySize {
		if k, err := hex.DecodeString(s); err == nil {
			return k, nil
		}
	}
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		if k, err := enc.DecodeString(s); err == nil && len(k) == DataKeySize {
			return k, nil
		}
	}
	return nil, fmt.Errorf("%w: want %d bytes as 64 hex characters or base64", ErrKey, DataKeySize)
}

// NewDataKey returns a fresh random data key.
func NewDataKey() ([]byte, error) {
	k := make([]byte, DataKeySize)
	if _, err := io.ReadFull(rand.Reader, k); err != nil {
		return nil, fmt.Errorf("generate data key: %w", err)
	}
	return k, nil
}

// Keys encrypts and indexes personal data. It is safe for concurrent use.
type Keys struct {
	current byte
	aeads   map[byte]cipher.AEAD
	index   []byte
}

// Option configures Keys.
type Option func(*Keys) error

// WithKeyID sets the id byte written in front of new ciphertexts for the data
// key given to New. The default is 1.
func WithKeyID(id byte) Option {
	return func(k *Keys) error {
		if id == 0 {
			return fmt.Errorf("%w: key id 0 is reserved", ErrKey)
		}
		a := k.aeads[k.current]
		delete(k.aeads, k.current)
		k.current = id
		k.aeads[id] = a
		return nil
	}
}

// WithOldKey adds a retired data key under id so ciphertexts sealed with it
// still open. New data is always sealed with the current key. Blind indexes
// always use the current key's index key, so rotating the data key requires
// re-indexing.
func WithOldKey(id byte, dataKey []byte) Option {
	return func(k *Keys) error {
		a, _, err := derive(dataKey)
		if err != nil {
			return err
		}
		if _, dup := k.aeads[id]; dup || id == 0 {
			return fmt.Errorf("%w: key id %d reserved or used twice", ErrKey, id)
		}
		k.aeads[id] = a
		return nil
	}
}

// New derives the encryption and index keys from a 32-byte data key.
func New(dataKey []byte, opts ...Option) (*Keys, error) {
	a, idx, err := derive(dataKey)
	if err != nil {
		return nil, err
	}
	k := &Keys{current: 1, aeads: map[byte]cipher.AEAD{1: a}, index: idx}
	for _, o := range opts {
		if err := o(k); err != nil {
			return nil, err
		}
	}
	return k, nil
}

func derive(dataKey []byte) (cipher.AEAD, []byte, error) {
	if len(dataKey) != DataKeySize {
		return nil, nil, fmt.Errorf("%w: got %d bytes, want %d", ErrKey, len(dataKey), DataKeySize)
	}
	encKey, err := hkdf.Key(sha256.New, dataKey, nil, infoEnc, 32)
	if err != nil {
		return nil, nil, fmt.Errorf("derive encryption key: %w", err)
	}
	idxKey, err := hkdf.Key(sha256.New, dataKey, nil, infoIndex, 32)
	if err != nil {
		return nil, nil, fmt.Errorf("derive index key: %w", err)
	}
	block, err := aes.NewCipher(encKey)
	if err != nil {
		return nil, nil, fmt.Errorf("aes: %w", err)
	}
	a, err := cipher.NewGCM(block)
	if err != nil {
		return nil, nil, fmt.Errorf("gcm: %w", err)
	}
	return a, idxKey, nil
}

// Seal encrypts plaintext bound to purpose (e.g. "volunteer.id_number"), which
// must be given again to Open. The result is key id ‖ nonce ‖ ciphertext+tag.
// An empty plaintext seals to nil.
func (k *Keys) Seal(purpose, plaintext string) ([]byte, error) {
	if plaintext == "" {
		return nil, nil
	}
	a := k.aeads[k.current]
	out := make([]byte, 1+a.NonceSize(), 1+a.NonceSize()+len(plaintext)+a.Overhead())
	out[0] = k.current
	if _, err := io.ReadFull(rand.Reader, out[1:]); err != nil {
		return nil, fmt.Errorf("nonce: %w", err)
	}
	return a.Seal(out, out[1:], []byte(plaintext), []byte(purpose)), nil
}

// Open decrypts a value made by Seal with the same purpose. Nil opens to "".
func (k *Keys) Open(purpose string, sealed []byte) (string, error) {
	if len(sealed) == 0 {
		return "", nil
	}
	a, ok := k.aeads[sealed[0]]
	if !ok {
		return "", fmt.Errorf("%w: unknown key id %d", ErrDecrypt, sealed[0])
	}
	if len(sealed) < 1+a.NonceSize()+a.Overhead() {
		return "", fmt.Errorf("%w: too short", ErrDecrypt)
	}
	n := 1 + a.NonceSize()
	pt, err := a.Open(nil, sealed[1:n], sealed[n:], []byte(purpose))
	if err != nil {
		return "", fmt.Errorf("%w: %s", ErrDecrypt, purpose)
	}
	return string(pt), nil
}

// Index returns the HMAC-SHA256 blind index of value for purpose; equal
// inputs give equal indexes, so it supports exact lookup without decrypting.
// Normalise the value (case, spaces) before indexing.
func (k *Keys) Index(purpose, value string) []byte {
	var m hash.Hash = hmac.New(sha256.New, k.index)
	m.Write([]byte(purpose))
	m.Write([]byte{0})
	m.Write([]byte(value))
	return m.Sum(nil)
}
