package gp

import (
	"crypto/rand"
	"crypto/subtle"
	"fmt"
	"io"

	"github.com/volcard/volcard/cardio"
)

// Options configures a host Session. Exactly one of Keys and KMC is set.
type Options struct {
	// Keys are the card's static keys when they are known as such.
	Keys *KeySet
	// KMC is the key master key from which the card's static keys are
	// diversified (with Diversification) using the key diversification data
	// of the INITIALIZE UPDATE response.
	KMC Key
	// Diversification is the method applied to KMC (the zero value,
	// DiversifyNone, uses the KMC itself as the card's keys).
	Diversification Diversification
	// KeyVersion is P1 of INITIALIZE UPDATE: 0 lets the card choose; any
	// other value must be echoed by the card.
	KeyVersion byte
	// Level is the security level asked for in EXTERNAL AUTHENTICATE;
	// LevelMAC when zero.
	Level SecurityLevel
	// I is the SCP02 implementation option (I15 or I55); I55 when zero.
	I byte
	// AID is the security domain the channel is opened with (the one
	// selected before INITIALIZE UPDATE). With I55 and AID set, Open checks
	// that the card challenge is the pseudo-random one of that AID
	// (ErrCardChallenge); with I15 or no AID the challenge is not checked.
	AID []byte
	// Rand is the source of the host challenge; crypto/rand when nil.
	Rand io.Reader
}

// Session is the host end of one SCP02 secure channel session. It is not
// safe for concurrent use. Its methods never send anything: they return
// commands to send and consume the card's answers, so a server can compute
// a whole script from the INITIALIZE UPDATE response alone.
//
// Order: InitializeUpdate → Open (the card's answer) → ExternalAuthenticate
// → Wrap / StoreData for every further command, in the order they will be
// sent (C-MAC chaining makes the order binding).
type Session struct {
	opts          Options
	hostChallenge []byte
	resp          *InitializeUpdateResponse
	ciphers       *sessionCiphers
	icv           []byte
	state         int
}

const (
	stateNew = iota
	stateInitialized
	stateOpened
	stateAuthenticated
)

// NewSession validates opts and returns a session ready for InitializeUpdate.
func NewSession(opts Options) (*Session, error) {
	switch {
	case opts.Keys != nil && opts.KMC != nil:
		return nil, fmt.Errorf("gp: new session: both Keys and KMC set: %w", ErrInvalidKey)
	case opts.Keys != nil:
		if err := opts.Keys.Validate(); err != nil {
			return nil, fmt.Errorf("gp: new session: %w", err)
		}
	case opts.KMC != nil:
		if err := opts.KMC.Validate(); err != nil {
			return nil, fmt.Errorf("gp: new session: KMC: %w", err)
		}
	default:
		return nil, fmt.Errorf("gp: new session: no keys: %w", ErrInvalidKey)
	}
	if opts.Level == 0 {
		opts.Level = LevelMAC
	}
	if !opts.Level.valid() {
		return nil, fmt.Errorf("gp: new session: security level %02X: %w", byte(opts.Level), ErrUnsupportedSCP)
	}
	if opts.I == 0 {
		opts.I = I55
	}
	if !validI(opts.I) {
		return nil, fmt.Errorf("gp: new session: i=%02X: %w", opts.I, ErrUnsupportedSCP)
	}
	if len(opts.AID) != 0 && (len(opts.AID) < 5 || len(opts.AID) > 16) {
		return nil, fmt.Errorf("gp: new session: AID of %d bytes, want 5 to 16: %w", len(opts.AID), ErrMalformedCommand)
	}
	opts.AID = clone(opts.AID)
	if opts.Rand == nil {
		opts.Rand = rand.Reader
	}
	return &Session{opts: opts}, nil
}

// InitializeUpdate returns INITIALIZE UPDATE (80 50 kv 00 08 host-challenge
// 00) with a fresh host challenge.
func (s *Session) InitializeUpdate() (cardio.Command, error) {
	hc := make([]byte, 8)
	if _, err := io.ReadFull(s.opts.Rand, hc); err != nil {
		return cardio.Command{}, fmt.Errorf("gp: host challenge: %w", err)
	}
	s.hostChallenge, s.resp, s.icv, s.state = hc, nil, nil, stateInitialized
	return cardio.Command{CLA: CLAGP, INS: INSInitializeUpdate, P1: s.opts.KeyVersion, Data: clone(hc), Le: 256}, nil
}

// Open consumes the data of the card's INITIALIZE UPDATE response: it
// parses it, derives the card's static keys (from the KMC when set) and the
// session keys, and checks the card cryptogram (ErrCardCryptogram) and,
// with I55 and an AID, the pseudo-random card challenge (ErrCardChallenge).
func (s *Session) Open(data []byte) (*InitializeUpdateResponse, error) {
	if s.state != stateInitialized {
		return nil, fmt.Errorf("gp: open: INITIALIZE UPDATE not sent: %w", ErrState)
	}
	r, err := ParseInitializeUpdateResponse(data)
	if err != nil {
		return nil, fmt.Errorf("gp: open: %w", err)
	}
	if s.opts.KeyVersion != 0 && r.KeyVersion != s.opts.KeyVersion {
		return nil, fmt.Errorf("gp: open: card key version %02X, asked %02X: %w", r.KeyVersion, s.opts.KeyVersion, ErrKeyVersion)
	}
	static := KeySet{}
	if s.opts.Keys != nil {
		static = *s.opts.Keys
	} else if static, err = Diversify(s.opts.KMC, s.opts.Diversification, r.KDD, r.KeyVersion); err != nil {
		return nil, fmt.Errorf("gp: open: %w", err)
	}
	sk, err := DeriveSessionKeys(static, r.SequenceCounter)
	if err != nil {
		return nil, fmt.Errorf("gp: open: %w", err)
	}
	ciphers, err := newSessionCiphers(sk)
	if err != nil {
		return nil, fmt.Errorf("gp: open: %w", err)
	}
	want, err := ciphers.cardCryptogram(s.hostChallenge, r.SequenceCounter, r.CardChallenge)
	if err != nil {
		return nil, fmt.Errorf("gp: open: %w", err)
	}
	if subtle.ConstantTimeCompare(want, r.CardCryptogram) != 1 {
		return nil, fmt.Errorf("gp: open: %w", ErrCardCryptogram)
	}
	if s.opts.I&iPseudoRandom != 0 && len(s.opts.AID) > 0 &&
		subtle.ConstantTimeCompare(ciphers.pseudoRandomChallenge(s.opts.AID), r.CardChallenge) != 1 {
		return nil, fmt.Errorf("gp: open: %w", ErrCardChallenge)
	}
	s.resp, s.ciphers, s.state = r, ciphers, stateOpened
	return r, nil
}

// ExternalAuthenticate returns EXTERNAL AUTHENTICATE (84 82 level 00 10
// host-cryptogram C-MAC); its C-MAC starts the chain with a zero ICV.
func (s *Session) ExternalAuthenticate() (cardio.Command, error) {
	if s.state != stateOpened {
		return cardio.Command{}, fmt.Errorf("gp: external authenticate: session not opened: %w", ErrState)
	}
	hc, err := s.ciphers.hostCryptogram(s.hostChallenge, s.resp.SequenceCounter, s.resp.CardChallenge)
	if err != nil {
		return cardio.Command{}, err
	}
	cmd := cardio.Command{CLA: CLAGP, INS: INSExternalAuth, P1: byte(s.opts.Level), Data: hc}
	mac := s.ciphers.cmac(make([]byte, blockSize), macInput(cmd))
	s.icv, s.state = mac, stateAuthenticated
	cmd.CLA |= 0x04
	cmd.Data = append(cmd.Data, mac...)
	return cmd, nil
}

// MaxData returns the largest clear data field Wrap accepts at the session's
// security level (short APDUs): 247 with C-MAC, 239 with C-MAC and
// encryption.
func (s *Session) MaxData() int {
	if s.opts.Level == LevelMACENC {
		return 239
	}
	return 247
}

// Wrap protects a command for the authenticated session: C-MAC over the
// modified header and clear data (ICV = previous C-MAC, single-DES
// encrypted), data encrypted with S-ENC (3DES-CBC, zero IV, 80-padded) at
// LevelMACENC, CLA with the secure-messaging bit. Commands must be sent in
// the order they were wrapped.
func (s *Session) Wrap(cmd cardio.Command) (cardio.Command, error) {
	if s.state != stateAuthenticated {
		return cardio.Command{}, fmt.Errorf("gp: wrap: session not authenticated: %w", ErrState)
	}
	if cmd.CLA&0x04 != 0 || cmd.CLA&0x03 != 0 {
		return cardio.Command{}, fmt.Errorf("gp: wrap: CLA %02X: %w", cmd.CLA, ErrMalformedCommand)
	}
	if len(cmd.Data) > s.MaxData() || cmd.Extended || cmd.Le > cardio.MaxShortLe {
		return cardio.Command{}, fmt.Errorf("gp: wrap: %d data bytes exceed %d: %w", len(cmd.Data), s.MaxData(), ErrMalformedCommand)
	}
	icv := s.icv
	if s.opts.I&0x10 != 0 {
		icv = s.ciphers.encryptICV(s.icv)
	}
	mac := s.ciphers.cmac(icv, macInput(cmd))
	s.icv = mac
	data := cmd.Data
	if s.opts.Level == LevelMACENC && len(data) > 0 {
		var err error
		if data, err = cbcEncryptWith(s.ciphers.enc, pad80(data)); err != nil {
			return cardio.Command{}, err
		}
	}
	out := cmd
	out.CLA |= 0x04
	out.Data = append(clone(data), mac...)
	return out, nil
}

// EncryptSensitive encrypts sensitive data for the card under the session
// DEK: 3DES-ECB of the data padded with 80 00... (always padded).
func (s *Session) EncryptSensitive(plain []byte) ([]byte, error) {
	if s.state < stateOpened {
		return nil, fmt.Errorf("gp: encrypt sensitive data: session not opened: %w", ErrState)
	}
	return ecbWith(s.ciphers.dek, pad80(plain), false)
}

// StoreData builds, encrypts (sensitive DGIs) and wraps the STORE DATA
// commands that carry dgis; see StoreDataCommands for the layout. The
// commands must be sent in order right after the previously wrapped ones.
func (s *Session) StoreData(dgis []DGI) ([]cardio.Command, error) {
	if s.state != stateAuthenticated {
		return nil, fmt.Errorf("gp: store data: session not authenticated: %w", ErrState)
	}
	plain, err := StoreDataCommands(dgis, s.EncryptSensitive, s.MaxData())
	if err != nil {
		return nil, err
	}
	out := make([]cardio.Command, len(plain))
	for i, c := range plain {
		if out[i], err = s.Wrap(c); err != nil {
			return nil, err
		}
	}
	return out, nil
}
