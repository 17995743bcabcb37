package gp

import (
	"crypto/cipher"
	"crypto/des" //nolint:gosec // SCP02 is defined on (triple) DES.
	"crypto/subtle"
	"fmt"
)

// blockSize is the DES block size.
const blockSize = 8

// tdes returns a two-key triple-DES block cipher (K1 K2 K1) for a 16-byte key.
func tdes(key []byte) (cipher.Block, error) {
	if len(key) != KeyLen {
		return nil, fmt.Errorf("triple DES key of %d bytes: %w", len(key), ErrInvalidKey)
	}
	k := make([]byte, 0, 24)
	k = append(append(k, key...), key[:8]...)
	return des.NewTripleDESCipher(k)
}

// pad80 appends 80 and zeros up to a multiple of 8 (ISO/IEC 9797-1 method 2);
// padding is always added.
func pad80(b []byte) []byte {
	out := make([]byte, 0, len(b)+blockSize)
	out = append(append(out, b...), 0x80)
	for len(out)%blockSize != 0 {
		out = append(out, 0)
	}
	return out
}

// unpad80 removes ISO/IEC 9797-1 method 2 padding.
func unpad80(b []byte) ([]byte, error) {
	if len(b) == 0 || len(b)%blockSize != 0 {
		return nil, fmt.Errorf("padded data of %d bytes: %w", len(b), ErrMalformedCommand)
	}
	for i := len(b) - 1; i >= 0 && i >= len(b)-blockSize; i-- {
		switch b[i] {
		case 0x00:
			continue
		case 0x80:
			return b[:i], nil
		}
		break
	}
	return nil, fmt.Errorf("bad padding: %w", ErrMalformedCommand)
}

// sessionCiphers are the key schedules of one session's keys, made once
// per session: setting up a DES key costs more than encrypting a whole
// STORE DATA block with it.
type sessionCiphers struct {
	enc, dek   cipher.Block // triple DES under S-ENC and DEK
	mac1, mac2 cipher.Block // single DES under the halves of C-MAC
}

func newSessionCiphers(sk SessionKeys) (*sessionCiphers, error) {
	var sc sessionCiphers
	var err error
	if sc.enc, err = tdes(sk.ENC); err != nil {
		return nil, err
	}
	if sc.dek, err = tdes(sk.DEK); err != nil {
		return nil, err
	}
	if len(sk.CMAC) != KeyLen {
		return nil, fmt.Errorf("MAC key of %d bytes: %w", len(sk.CMAC), ErrInvalidKey)
	}
	if sc.mac1, err = des.NewCipher(sk.CMAC[:8]); err != nil {
		return nil, err
	}
	if sc.mac2, err = des.NewCipher(sk.CMAC[8:]); err != nil {
		return nil, err
	}
	return &sc, nil
}

// cbcEncryptWith encrypts data (a multiple of 8 bytes) with c in CBC mode
// and a zero IV.
func cbcEncryptWith(c cipher.Block, data []byte) ([]byte, error) {
	if len(data)%blockSize != 0 {
		return nil, fmt.Errorf("CBC input of %d bytes: %w", len(data), ErrMalformedCommand)
	}
	out := make([]byte, len(data))
	cipher.NewCBCEncrypter(c, make([]byte, blockSize)).CryptBlocks(out, data)
	return out, nil
}

// cbcDecryptWith is the inverse of cbcEncryptWith.
func cbcDecryptWith(c cipher.Block, data []byte) ([]byte, error) {
	if len(data) == 0 || len(data)%blockSize != 0 {
		return nil, fmt.Errorf("CBC input of %d bytes: %w", len(data), ErrMalformedCommand)
	}
	out := make([]byte, len(data))
	cipher.NewCBCDecrypter(c, make([]byte, blockSize)).CryptBlocks(out, data)
	return out, nil
}

// ecb encrypts or decrypts data (a multiple of 8 bytes) with triple DES in
// ECB mode.
func ecb(key, data []byte, decrypt bool) ([]byte, error) {
	c, err := tdes(key)
	if err != nil {
		return nil, err
	}
	return ecbWith(c, data, decrypt)
}

// ecbWith is ecb with a ready cipher.
func ecbWith(c cipher.Block, data []byte, decrypt bool) ([]byte, error) {
	if len(data)%blockSize != 0 {
		return nil, fmt.Errorf("ECB input of %d bytes: %w", len(data), ErrMalformedDGI)
	}
	out := make([]byte, len(data))
	for i := 0; i < len(data); i += blockSize {
		if decrypt {
			c.Decrypt(out[i:i+blockSize], data[i:i+blockSize])
		} else {
			c.Encrypt(out[i:i+blockSize], data[i:i+blockSize])
		}
	}
	return out, nil
}

// fullMAC is the full triple-DES MAC (ISO/IEC 9797-1 algorithm 1 with
// triple DES, padding method 2, zero ICV): the last block of 3DES-CBC. SCP02
// uses it for the card and host cryptograms.
func fullMAC(c cipher.Block, data []byte) ([]byte, error) {
	out, err := cbcEncryptWith(c, pad80(data))
	if err != nil {
		return nil, err
	}
	return out[len(out)-blockSize:], nil
}

// cmac is the SCP02 C-MAC (ISO/IEC 9797-1 algorithm 3, padding method 2):
// single DES CBC with K1 over every block, then decrypt with K2 and
// encrypt with K1 the last one.
func (sc *sessionCiphers) cmac(icv, data []byte) []byte {
	h := make([]byte, blockSize)
	copy(h, icv)
	p := pad80(data)
	for i := 0; i < len(p); i += blockSize {
		subtle.XORBytes(h, h, p[i:i+blockSize])
		sc.mac1.Encrypt(h, h)
	}
	sc.mac2.Decrypt(h, h)
	sc.mac1.Encrypt(h, h)
	return h
}

// encryptICV encrypts the ICV with single DES under the first half of the
// C-MAC session key (SCP02 option "ICV encryption for C-MAC session").
func (sc *sessionCiphers) encryptICV(icv []byte) []byte {
	out := make([]byte, blockSize)
	sc.mac1.Encrypt(out, icv)
	return out
}
