package gp

import (
	"crypto/rand"
	"crypto/subtle"
	"fmt"
	"io"

	"github.com/volcard/volcard/cardio"
)

// CardChannel is the card end of SCP02, as a security domain implements it:
// it answers INITIALIZE UPDATE, verifies EXTERNAL AUTHENTICATE and then
// checks the C-MAC of (and decrypts) every further command. Any failed
// check closes the channel. It is not safe for concurrent use.
type CardChannel struct {
	keys          KeySet
	static        *staticCiphers
	kdd           []byte
	i             byte
	aid           []byte
	hostChallenge []byte
	cardChallenge []byte
	counter       uint16
	ciphers       *sessionCiphers
	icv           []byte
	level         SecurityLevel
	state         int
}

// NewCardChannel returns the card end for a security domain with static
// keys, key diversification data kdd (10 bytes, returned in INITIALIZE
// UPDATE), implementation option i (I15 or I55) and the security domain's
// AID (used for the pseudo-random card challenge of I55).
func NewCardChannel(keys KeySet, kdd []byte, i byte, aid []byte) (*CardChannel, error) {
	if err := keys.Validate(); err != nil {
		return nil, fmt.Errorf("gp: card channel: %w", err)
	}
	if len(kdd) != KDDLen {
		return nil, fmt.Errorf("gp: card channel: diversification data of %d bytes: %w", len(kdd), ErrMalformedResponse)
	}
	if !validI(i) {
		return nil, fmt.Errorf("gp: card channel: i=%02X: %w", i, ErrUnsupportedSCP)
	}
	static, err := newStaticCiphers(keys)
	if err != nil {
		return nil, fmt.Errorf("gp: card channel: %w", err)
	}
	return &CardChannel{keys: keys, static: static, kdd: clone(kdd), i: i, aid: clone(aid)}, nil
}

// Close ends the session (on error, SELECT, reset).
func (c *CardChannel) Close() {
	c.state, c.icv, c.level, c.ciphers = stateNew, nil, 0, nil
}

// Authenticated reports whether EXTERNAL AUTHENTICATE succeeded and the
// channel is still open.
func (c *CardChannel) Authenticated() bool { return c.state == stateAuthenticated }

// Level returns the security level of the open session (0 when closed).
func (c *CardChannel) Level() SecurityLevel {
	if c.state != stateAuthenticated {
		return 0
	}
	return c.level
}

// InitializeUpdate answers INITIALIZE UPDATE with the current sequence
// counter; random supplies the card challenge (crypto/rand when nil; unused
// for I55, whose challenge is pseudo-random, see pseudoRandomChallenge). It
// returns the 28-byte response data. Errors: ErrMalformedCommand,
// ErrKeyVersion.
func (c *CardChannel) InitializeUpdate(cmd cardio.Command, counter uint16, random io.Reader) ([]byte, error) {
	c.Close()
	if cmd.P2 != 0 || len(cmd.Data) != 8 {
		return nil, fmt.Errorf("gp: initialize update: %w", ErrMalformedCommand)
	}
	if cmd.P1 != 0 && cmd.P1 != c.keys.Version {
		return nil, fmt.Errorf("gp: initialize update: key version %02X: %w", cmd.P1, ErrKeyVersion)
	}
	sk, err := c.static.sessionKeys(counter)
	if err != nil {
		return nil, err
	}
	ciphers, err := newSessionCiphers(sk)
	if err != nil {
		return nil, err
	}
	var cc []byte
	if c.i&iPseudoRandom != 0 {
		cc = ciphers.pseudoRandomChallenge(c.aid)
	} else {
		if random == nil {
			random = rand.Reader
		}
		cc = make([]byte, 6)
		if _, err := io.ReadFull(random, cc); err != nil {
			return nil, fmt.Errorf("gp: card challenge: %w", err)
		}
	}
	crypt, err := ciphers.cardCryptogram(cmd.Data, counter, cc)
	if err != nil {
		return nil, err
	}
	c.hostChallenge, c.cardChallenge, c.counter, c.ciphers, c.state = clone(cmd.Data), cc, counter, ciphers, stateInitialized
	r := InitializeUpdateResponse{KDD: c.kdd, KeyVersion: c.keys.Version, SCP: 0x02, SequenceCounter: counter, CardChallenge: cc, CardCryptogram: crypt}
	return r.Bytes(), nil
}

// ExternalAuthenticate verifies EXTERNAL AUTHENTICATE (host cryptogram and
// C-MAC with a zero ICV) and opens the channel at the requested level.
// Errors (the channel is closed): ErrState when INITIALIZE UPDATE did not
// come just before, ErrMalformedCommand, ErrHostCryptogram, ErrMAC.
func (c *CardChannel) ExternalAuthenticate(cmd cardio.Command) error {
	if c.state != stateInitialized {
		c.Close()
		return fmt.Errorf("gp: external authenticate: %w", ErrState)
	}
	lvl := SecurityLevel(cmd.P1)
	if cmd.CLA != CLASM || cmd.P2 != 0 || len(cmd.Data) != 16 || !lvl.valid() {
		c.Close()
		return fmt.Errorf("gp: external authenticate: %w", ErrMalformedCommand)
	}
	want, err := c.ciphers.hostCryptogram(c.hostChallenge, c.counter, c.cardChallenge)
	if err != nil {
		c.Close()
		return err
	}
	if subtle.ConstantTimeCompare(want, cmd.Data[:8]) != 1 {
		c.Close()
		return fmt.Errorf("gp: external authenticate: %w", ErrHostCryptogram)
	}
	clear := cardio.Command{CLA: CLAGP, INS: cmd.INS, P1: cmd.P1, P2: cmd.P2, Data: cmd.Data[:8]}
	mac := c.ciphers.cmac(make([]byte, blockSize), macInput(clear))
	if subtle.ConstantTimeCompare(mac, cmd.Data[8:]) != 1 {
		c.Close()
		return fmt.Errorf("gp: external authenticate: %w", ErrMAC)
	}
	c.icv, c.level, c.state = mac, lvl, stateAuthenticated
	return nil
}

// Unwrap checks a command received in the open channel and returns it in
// clear (CLA without the secure-messaging bit, data decrypted, C-MAC
// removed). A command without secure messaging, with a wrong C-MAC or bad
// padding closes the channel and returns ErrMAC (the card answers 6982).
func (c *CardChannel) Unwrap(cmd cardio.Command) (cardio.Command, error) {
	if c.state != stateAuthenticated {
		return cardio.Command{}, fmt.Errorf("gp: unwrap: %w", ErrState)
	}
	if cmd.CLA&0x04 == 0 || len(cmd.Data) < blockSize {
		c.Close()
		return cardio.Command{}, fmt.Errorf("gp: unwrap: no C-MAC: %w", ErrMAC)
	}
	n := len(cmd.Data) - blockSize
	data, mac := cmd.Data[:n], cmd.Data[n:]
	if c.level == LevelMACENC && n > 0 {
		dec, err := cbcDecryptWith(c.ciphers.enc, data)
		if err == nil {
			data, err = unpad80(dec)
		}
		if err != nil {
			c.Close()
			return cardio.Command{}, fmt.Errorf("gp: unwrap: decrypt: %w", ErrMAC)
		}
	}
	clear := cmd
	clear.CLA &^= 0x04
	clear.Data = clone(data)
	icv := c.icv
	if c.i&0x10 != 0 {
		icv = c.ciphers.encryptICV(c.icv)
	}
	want := c.ciphers.cmac(icv, macInput(clear))
	if subtle.ConstantTimeCompare(want, mac) != 1 {
		c.Close()
		return cardio.Command{}, fmt.Errorf("gp: unwrap: %w", ErrMAC)
	}
	c.icv = want
	return clear, nil
}

// DecryptSensitive decrypts a sensitive DGI value (3DES-ECB under the
// session DEK) and removes its 80 00... padding.
func (c *CardChannel) DecryptSensitive(data []byte) ([]byte, error) {
	if c.state != stateAuthenticated {
		return nil, fmt.Errorf("gp: decrypt sensitive data: %w", ErrState)
	}
	if len(data) == 0 || len(data)%blockSize != 0 {
		return nil, fmt.Errorf("gp: decrypt sensitive data: %d bytes: %w", len(data), ErrMalformedDGI)
	}
	dec, err := ecbWith(c.ciphers.dek, data, true)
	if err != nil {
		return nil, err
	}
	out, err := unpad80(dec)
	if err != nil {
		return nil, fmt.Errorf("gp: decrypt sensitive data: %w", ErrMalformedDGI)
	}
	return out, nil
}
