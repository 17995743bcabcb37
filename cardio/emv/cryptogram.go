package emv

import (
	"crypto/cipher"
	"crypto/des" //nolint:gosec // EMV application cryptograms are defined on (triple) DES.
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
)

// Application cryptograms and issuer authentication: the symmetric
// cryptography of the card, the issuer and the terminal's view of it.
//
// Key hierarchy (docs/card-profile.md, "Application cryptograms"):
//   - issuer master key IMK-AC (held by the issuer, an HSM in production)
//   - card master key MK-AC = DeriveICCMasterKey(IMK-AC, PAN, PSN), EMV Book 2
//     A1.4.1 option A, written to the card at personalization
//   - session key SK-AC = SessionKeyPBOC(MK-AC, ATC), one per transaction
//   - ARQC/TC/AAC = CryptogramMAC(SK-AC, CryptogramInput(...)), and
//     ARPC = ARPCMethod1(SK-AC, ARQC, ARC).

// ErrCryptoInput means a key, counter or cryptogram has the wrong length or
// a PAN is not digits.
var ErrCryptoInput = errors.New("emv: invalid cryptographic input")

// CryptogramType is the type of an application cryptogram: bits 8-7 of the
// cryptogram information data (9F27) and of P1 of GENERATE AC.
type CryptogramType byte

// Cryptogram types (EMV Book 3, 6.5.5.4).
const (
	AAC  CryptogramType = 0x00 // application authentication cryptogram: declined
	TC   CryptogramType = 0x40 // transaction certificate: approved
	ARQC CryptogramType = 0x80 // authorisation request cryptogram: go online
)

// String names the type.
func (t CryptogramType) String() string {
	switch t {
	case AAC:
		return "AAC"
	case TC:
		return "TC"
	case ARQC:
		return "ARQC"
	}
	return fmt.Sprintf("RFU(%02X)", byte(t))
}

// Cryptogram versions (the CVN byte of 9F10).
const (
	// CVNPBOC is cryptogram version 01 of PBOC 3.0: PBOC session key
	// (SessionKeyPBOC), MAC over CryptogramInput, CVR included.
	CVNPBOC byte = 0x01
)

// Authorisation response codes (8A) the card gives a meaning to.
var (
	ARCApproved       = []byte("00") // approved by the issuer
	ARCDeclined       = []byte("05") // do not honour
	ARCOfflineApprove = []byte("Y3") // unable to go online, terminal would approve
	ARCOfflineDecline = []byte("Z3") // unable to go online, terminal would decline
)

// ARCApproves reports whether an authorisation response code is an issuer
// approval ("00", "10" partial, "11" VIP).
func ARCApproves(arc []byte) bool {
	s := string(arc)
	return s == "00" || s == "10" || s == "11"
}

// ARCUnableOnline reports whether an authorisation response code says the
// terminal could not go online (Y3, Z3).
func ARCUnableOnline(arc []byte) bool {
	s := string(arc)
	return s == "Y3" || s == "Z3"
}

// tdes returns two-key triple DES (K1 K2 K1) for a 16-byte key.
func tdes(key []byte) (cipher.Block, error) {
	if len(key) != 16 {
		return nil, fmt.Errorf("triple DES key of %d bytes: %w", len(key), ErrCryptoInput)
	}
	k := make([]byte, 0, 24)
	k = append(append(k, key...), key[:8]...)
	return des.NewTripleDESCipher(k)
}

func encryptBlocks(key []byte, blocks ...[]byte) ([]byte, error) {
	c, err := tdes(key)
	if err != nil {
		return nil, err
	}
	out := make([]byte, 0, 8*len(blocks))
	for _, b := range blocks {
		if len(b) != 8 {
			return nil, fmt.Errorf("block of %d bytes: %w", len(b), ErrCryptoInput)
		}
		e := make([]byte, 8)
		c.Encrypt(e, b)
		out = append(out, e...)
	}
	return out, nil
}

// oddParity sets the DES parity bit of each byte (odd parity).
func oddParity(k []byte) {
	for i, b := range k {
		n := 0
		for j := 1; j < 8; j++ {
			n += int(b>>j) & 1
		}
		if n%2 == 0 {
			k[i] = b | 1
		} else {
			k[i] = b &^ 1
		}
	}
}

// DeriveICCMasterKey derives a card master key (MK-AC, MK-SMI, MK-SMC) from
// an issuer master key with EMV Book 2 A1.4.1 option A: Y = the rightmost 16
// digits of PAN ‖ PSN (left-padded with zeros, PSN as its two BCD digits,
// 00 when absent), MK = 3DES(IMK)[Y] ‖ 3DES(IMK)[Y ⊕ FF…FF], with odd
// parity. The issuer (bank) and data preparation use the same function.
func DeriveICCMasterKey(imk []byte, pan string, psn byte) ([]byte, error) {
	s := pan + fmt.Sprintf("%02X", psn)
	if pan == "" || strings.Trim(s, "0123456789") != "" {
		return nil, fmt.Errorf("option A: PAN or PSN not digits: %w", ErrCryptoInput)
	}
	if len(s) < 16 {
		s = strings.Repeat("0", 16-len(s)) + s
	}
	y, _ := hex.DecodeString(s[len(s)-16:])
	yx := make([]byte, 8)
	for i := range y {
		yx[i] = y[i] ^ 0xFF
	}
	z, err := encryptBlocks(imk, y, yx)
	if err != nil {
		return nil, fmt.Errorf("option A: %w", err)
	}
	oddParity(z)
	return z, nil
}

// SessionKeyPBOC derives the application cryptogram session key the PBOC
// way (the convention of PBOC 3.0 cards, CVN 01): SK = 3DES(MK)[00…00 ‖ ATC]
// ‖ 3DES(MK)[00…00 ‖ (ATC ⊕ FFFF)], each input 8 bytes with the ATC in the
// two rightmost bytes. It differs from EMV's common session key derivation
// (SessionKeyEMV).
func SessionKeyPBOC(mk []byte, atc uint16) ([]byte, error) {
	l := []byte{0, 0, 0, 0, 0, 0, byte(atc >> 8), byte(atc)}
	r := []byte{0, 0, 0, 0, 0, 0, ^byte(atc >> 8), ^byte(atc)}
	sk, err := encryptBlocks(mk, l, r)
	if err != nil {
		return nil, fmt.Errorf("PBOC session key: %w", err)
	}
	return sk, nil
}

// SessionKeyEMV derives a session key with the EMV common session key
// derivation (EMV Book 2, A1.3.1) for the application cryptogram: R = ATC ‖
// 00…00, SK = 3DES(MK)[R0 R1 F0 R3…R7] ‖ 3DES(MK)[R0 R1 0F R3…R7]. volcard
// cards use SessionKeyPBOC; this one is here for cards of other profiles and
// for the comparison in docs/card-profile.md.
func SessionKeyEMV(mk []byte, atc uint16) ([]byte, error) {
	l := []byte{byte(atc >> 8), byte(atc), 0xF0, 0, 0, 0, 0, 0}
	r := []byte{byte(atc >> 8), byte(atc), 0x0F, 0, 0, 0, 0, 0}
	sk, err := encryptBlocks(mk, l, r)
	if err != nil {
		return nil, fmt.Errorf("EMV session key: %w", err)
	}
	return sk, nil
}

// CryptogramMAC is the application cryptogram algorithm (EMV Book 2,
// A1.2.1): ISO/IEC 9797-1 MAC algorithm 3 (single DES CBC under the left
// half of the key, the last block decrypted with the right half and
// encrypted again with the left), padding method 2 (80 00…), zero ICV; 8 bytes.
func CryptogramMAC(key, data []byte) ([]byte, error) {
	if len(key) != 16 {
		return nil, fmt.Errorf("MAC key of %d bytes: %w", len(key), ErrCryptoInput)
	}
	k1, err := des.NewCipher(key[:8])
	if err != nil {
		return nil, err
	}
	k2, err := des.NewCipher(key[8:])
	if err != nil {
		return nil, err
	}
	p := append(append(make([]byte, 0, len(data)+8), data...), 0x80)
	for len(p)%8 != 0 {
		p = append(p, 0)
	}
	h := make([]byte, 8)
	for i := 0; i < len(p); i += 8 {
		subtle.XORBytes(h, h, p[i:i+8])
		k1.Encrypt(h, h)
	}
	k2.Decrypt(h, h)
	k1.Encrypt(h, h)
	return h, nil
}

// CryptogramInputTags are the terminal data objects a volcard card
// authenticates in every application cryptogram, in this order (the
// minimum set of EMV Book 2, 8.1.1): amount authorised, amount other,
// terminal country, TVR, currency, date, type, unpredictable number.
var CryptogramInputTags = []struct {
	Tag    string
	Length int
}{
	{"9F02", 6}, {"9F03", 6}, {"9F1A", 2}, {"95", 5}, {"5F2A", 2}, {"9A", 3}, {"9C", 1}, {"9F37", 4},
}

// CryptogramInput assembles the data a CVN 01 cryptogram is computed over:
// the values of CryptogramInputTags (from the CDOL data of the GENERATE AC,
// or from field 55 at the issuer) ‖ AIP (2) ‖ ATC (2) ‖ the CVR part of the
// issuer application data (4 bytes: its length 03 and the 3 CVR bytes).
// A missing or wrongly sized value is an error.
func CryptogramInput(values map[string][]byte, aip []byte, atc uint16, iad IssuerApplicationData) ([]byte, error) {
	if len(aip) != 2 {
		return nil, fmt.Errorf("cryptogram input: AIP of %d bytes: %w", len(aip), ErrCryptoInput)
	}
	out := make([]byte, 0, 37)
	for _, e := range CryptogramInputTags {
		v, ok := values[e.Tag]
		if !ok || len(v) != e.Length {
			return nil, fmt.Errorf("cryptogram input: %s missing or not %d bytes: %w", e.Tag, e.Length, ErrCryptoInput)
		}
		out = append(out, v...)
	}
	out = append(out, aip...)
	out = append(out, byte(atc>>8), byte(atc), 0x03)
	return append(out, iad.CVR[:]...), nil
}

// ARPCMethod1 computes the authorisation response cryptogram, ARPC method 1
// (EMV Book 2, 8.2.1): 3DES(SK)[ARQC ⊕ (ARC ‖ 00 00 00 00 00 00)], with the
// 2-byte authorisation response code and the cryptogram session key.
func ARPCMethod1(sk, arqc, arc []byte) ([]byte, error) {
	if len(arqc) != 8 || len(arc) != 2 {
		return nil, fmt.Errorf("ARPC: ARQC %d bytes, ARC %d bytes: %w", len(arqc), len(arc), ErrCryptoInput)
	}
	x := make([]byte, 8)
	copy(x, arc)
	subtle.XORBytes(x, x, arqc)
	out, err := encryptBlocks(sk, x)
	if err != nil {
		return nil, fmt.Errorf("ARPC: %w", err)
	}
	return out, nil
}

// IssuerApplicationData is 9F10 as a volcard card writes it (the PBOC
// layout): length 07 ‖ derivation key index ‖ cryptogram version ‖ CVR
// (its length 03 and 3 bytes) ‖ algorithm identifier (01 = triple DES).
// Issuer discretionary data after these 8 bytes is allowed and ignored.
type IssuerApplicationData struct {
	DKI       byte
	CVN       byte
	CVR       [3]byte
	Algorithm byte
}

// Encode returns the 8 bytes of 9F10.
func (d IssuerApplicationData) Encode() []byte {
	return []byte{0x07, d.DKI, d.CVN, 0x03, d.CVR[0], d.CVR[1], d.CVR[2], d.Algorithm}
}

// ParseIssuerApplicationData decodes 9F10 in the PBOC layout. Anything
// shorter than 8 bytes, a first length byte below 07 or beyond the data,
// or a CVR length other than 03 is ErrMalformedData.
func ParseIssuerApplicationData(b []byte) (IssuerApplicationData, error) {
	if len(b) < 8 || len(b) > 32 || b[0] < 7 || int(b[0])+1 > len(b) || b[3] != 0x03 {
		return IssuerApplicationData{}, fmt.Errorf("issuer application data (9F10) of %d bytes: %w", len(b), ErrMalformedData)
	}
	return IssuerApplicationData{DKI: b[1], CVN: b[2], CVR: [3]byte{b[4], b[5], b[6]}, Algorithm: b[7]}, nil
}
