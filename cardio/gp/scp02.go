package gp

import (
	"crypto/cipher"
	"encoding/binary"
	"fmt"

	"github.com/volcard/volcard/cardio"
)

// Instruction bytes of the GlobalPlatform commands used here.
const (
	INSInitializeUpdate byte = 0x50
	INSExternalAuth     byte = 0x82
	INSInstall          byte = 0xE6
	INSStoreData        byte = 0xE2
	INSGetData          byte = 0xCA
)

// CLA bytes: GlobalPlatform proprietary class, and with secure messaging.
const (
	CLAGP byte = 0x80
	CLASM byte = 0x84
)

// SecurityLevel is P1 of EXTERNAL AUTHENTICATE.
type SecurityLevel byte

// Security levels supported (R-MAC is not).
const (
	// LevelMAC protects every command with a C-MAC.
	LevelMAC SecurityLevel = 0x01
	// LevelMACENC adds encryption of the command data field (C-DECRYPTION).
	LevelMACENC SecurityLevel = 0x03
)

func (l SecurityLevel) valid() bool { return l == LevelMAC || l == LevelMACENC }

// SCP02 "i" parameters supported: 3 keys, C-MAC on the modified APDU,
// explicit initiation, ICV encryption; 0x55 adds the pseudo-random card
// challenge.
const (
	I15 byte = 0x15
	I55 byte = 0x55
)

func validI(i byte) bool { return i == I15 || i == I55 }

// iPseudoRandom is the bit of "i" that selects the well-known pseudo-random
// card challenge (GP Card Specification 2.2.1, table E-1).
const iPseudoRandom byte = 0x40

// Session key derivation constants (GP Card Specification 2.2, E.4.1).
var (
	constCMAC = [2]byte{0x01, 0x01}
	constRMAC = [2]byte{0x01, 0x02}
	constDEK  = [2]byte{0x01, 0x81}
	constENC  = [2]byte{0x01, 0x82}
)

// InitializeUpdateResponse is the 28-byte answer to INITIALIZE UPDATE for
// SCP02.
type InitializeUpdateResponse struct {
	// KDD is the key diversification data (10 bytes; EMV CPS: the card's
	// identity, used to diversify its keys from the KMC).
	KDD cardio.Hex
	// KeyVersion is the key version number of the key set the card uses.
	KeyVersion byte
	// SCP is the secure channel protocol identifier (02).
	SCP byte
	// SequenceCounter is the card's secure channel sequence counter.
	SequenceCounter uint16
	// CardChallenge is 6 bytes.
	CardChallenge cardio.Hex
	// CardCryptogram is 8 bytes.
	CardCryptogram cardio.Hex
}

// ParseInitializeUpdateResponse parses the data field of an INITIALIZE
// UPDATE response (status word removed). Only SCP02 (identifier 02) is
// accepted.
func ParseInitializeUpdateResponse(b []byte) (*InitializeUpdateResponse, error) {
	if len(b) != 28 {
		return nil, fmt.Errorf("parse INITIALIZE UPDATE response: %d bytes, want 28: %w", len(b), ErrMalformedResponse)
	}
	r := &InitializeUpdateResponse{
		KDD:             clone(b[0:10]),
		KeyVersion:      b[10],
		SCP:             b[11],
		SequenceCounter: binary.BigEndian.Uint16(b[12:14]),
		CardChallenge:   clone(b[14:20]),
		CardCryptogram:  clone(b[20:28]),
	}
	if r.SCP != 0x02 {
		return nil, fmt.Errorf("parse INITIALIZE UPDATE response: SCP %02X: %w", r.SCP, ErrUnsupportedSCP)
	}
	return r, nil
}

// Bytes encodes r as the card sends it.
func (r *InitializeUpdateResponse) Bytes() []byte {
	out := make([]byte, 0, 28)
	out = append(out, r.KDD...)
	out = append(out, r.KeyVersion, r.SCP, byte(r.SequenceCounter>>8), byte(r.SequenceCounter))
	out = append(out, r.CardChallenge...)
	return append(out, r.CardCryptogram...)
}

// SessionKeys are the SCP02 session keys of one secure channel session.
type SessionKeys struct {
	ENC  Key // S-ENC: cryptograms and command encryption
	CMAC Key // C-MAC
	RMAC Key // R-MAC (derived, unused: R-MAC is not supported)
	DEK  Key // DEK: sensitive data (STORE DATA DGIs, PUT KEY)
}

// DeriveSessionKeys derives the session keys from the static keys and the
// sequence counter: each is 3DES-CBC (zero IV) of constant || counter ||
// 12 zero bytes under the corresponding static key, with constants 0182
// (S-ENC), 0101 (C-MAC), 0102 (R-MAC) and 0181 (DEK).
func DeriveSessionKeys(static KeySet, counter uint16) (SessionKeys, error) {
	if err := static.Validate(); err != nil {
		return SessionKeys{}, fmt.Errorf("derive session keys: %w", err)
	}
	sc, err := newStaticCiphers(static)
	if err != nil {
		return SessionKeys{}, err
	}
	return sc.sessionKeys(counter)
}

// staticCiphers are the key schedules of a card's static keys: a card
// derives the session keys from them at every INITIALIZE UPDATE.
type staticCiphers struct {
	enc, mac, dek cipher.Block
}

func newStaticCiphers(static KeySet) (*staticCiphers, error) {
	var sc staticCiphers
	var err error
	if sc.enc, err = tdes(static.ENC); err != nil {
		return nil, err
	}
	if sc.mac, err = tdes(static.MAC); err != nil {
		return nil, err
	}
	if sc.dek, err = tdes(static.DEK); err != nil {
		return nil, err
	}
	return &sc, nil
}

func (sc *staticCiphers) sessionKeys(counter uint16) (SessionKeys, error) {
	derive := func(c cipher.Block, k [2]byte) (Key, error) {
		data := make([]byte, 16)
		data[0], data[1] = k[0], k[1]
		binary.BigEndian.PutUint16(data[2:4], counter)
		return cbcEncryptWith(c, data)
	}
	var sk SessionKeys
	var err error
	if sk.ENC, err = derive(sc.enc, constENC); err != nil {
		return SessionKeys{}, err
	}
	if sk.CMAC, err = derive(sc.mac, constCMAC); err != nil {
		return SessionKeys{}, err
	}
	if sk.RMAC, err = derive(sc.mac, constRMAC); err != nil {
		return SessionKeys{}, err
	}
	if sk.DEK, err = derive(sc.dek, constDEK); err != nil {
		return SessionKeys{}, err
	}
	return sk, nil
}

// cardCryptogram is the card cryptogram: full 3DES MAC under S-ENC of
// host challenge || sequence counter || card challenge.
func (sc *sessionCiphers) cardCryptogram(hostChallenge []byte, counter uint16, cardChallenge []byte) ([]byte, error) {
	d := make([]byte, 0, 16)
	d = append(d, hostChallenge...)
	d = append(d, byte(counter>>8), byte(counter))
	return fullMAC(sc.enc, append(d, cardChallenge...))
}

// pseudoRandomChallenge is the card challenge of the "well-known
// pseudo-random algorithm" (i = 55), GlobalPlatform Card Specification
// 2.2.1 section E.4.2.3 (the same text in 2.3.1): the AID of the security
// domain opening the channel, padded 80 00..., MACed as in B.1.2.2 (single
// DES plus final triple DES, the "retail MAC" the C-MAC uses) under the
// C-MAC session key with an ICV of zeroes; the six leftmost bytes of the
// MAC are the challenge.
func (sc *sessionCiphers) pseudoRandomChallenge(aid []byte) []byte {
	return sc.cmac(make([]byte, blockSize), aid)[:6]
}

// hostCryptogram is the host cryptogram: full 3DES MAC under S-ENC of
// sequence counter || card challenge || host challenge.
func (sc *sessionCiphers) hostCryptogram(hostChallenge []byte, counter uint16, cardChallenge []byte) ([]byte, error) {
	d := make([]byte, 0, 16)
	d = append(d, byte(counter>>8), byte(counter))
	d = append(d, cardChallenge...)
	return fullMAC(sc.enc, append(d, hostChallenge...))
}

// macInput is the data the C-MAC covers: the modified header (CLA with the
// secure-messaging bit, Lc increased by 8) and the clear data field.
func macInput(cmd cardio.Command) []byte {
	out := make([]byte, 0, 5+len(cmd.Data))
	out = append(out, cmd.CLA|0x04, cmd.INS, cmd.P1, cmd.P2, byte(len(cmd.Data)+8))
	return append(out, cmd.Data...)
}
