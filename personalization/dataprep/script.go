package dataprep

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"time"

	"github.com/volcard/volcard/cardio"
	"github.com/volcard/volcard/cardio/emv"
	"github.com/volcard/volcard/cardio/gp"
)

// ISDAID is the AID of the blank card's issuer security domain (card
// manager), selected by the first batch.
var ISDAID = cardio.Hex{0xA0, 0x00, 0x00, 0x01, 0x51, 0x00, 0x00, 0x00}

// SessionOptions choose the secure channel of a personalization.
type SessionOptions struct {
	// KeyVersion is the card key version (P1 of INITIALIZE UPDATE); the key
	// store's KMC version when zero.
	KeyVersion byte
	// Level is gp.LevelMAC or gp.LevelMACENC (default).
	Level gp.SecurityLevel
	// Rand is the source of the host challenge (crypto/rand when nil). A
	// server that keeps a session across requests stores the 8-byte host
	// challenge and rebuilds the session by feeding it back here: the
	// INITIALIZE UPDATE is then the same command.
	Rand io.Reader
}

// FirstBatch opens a secure-channel session with the KMC from the key store
// and returns the first batch: SELECT the security domain, GET DATA CPLC
// (chip serial) and INITIALIZE UPDATE. Keep the session for SecondBatch.
func FirstBatch(ctx context.Context, keys KeyStore, o SessionOptions) (*gp.Session, []cardio.Command, error) {
	kmc, err := keys.KMC(ctx, o.KeyVersion)
	if err != nil {
		return nil, nil, fmt.Errorf("dataprep: first batch: %w", err)
	}
	if o.Level == 0 {
		o.Level = gp.LevelMACENC
	}
	s, err := gp.NewSession(gp.Options{KMC: kmc.Key, Diversification: kmc.Diversification, KeyVersion: kmc.Version, Level: o.Level,
		AID: ISDAID, Rand: o.Rand})
	if err != nil {
		return nil, nil, fmt.Errorf("dataprep: first batch: %w", err)
	}
	iu, err := s.InitializeUpdate()
	if err != nil {
		return nil, nil, fmt.Errorf("dataprep: first batch: %w", err)
	}
	return s, []cardio.Command{gp.Select(ISDAID), gp.GetCPLC(), iu}, nil
}

// Batch is the second personalization batch: EXTERNAL AUTHENTICATE,
// INSTALL [for personalization], every STORE DATA, then the read-back
// (SELECT PPSE, SELECT AID, GPO, READ RECORD for each AFL record, INTERNAL
// AUTHENTICATE), computed from the INITIALIZE UPDATE response alone.
type Batch struct {
	// Commands are sent in order; stop at the first status other than 9000.
	Commands []cardio.Command
	// ReadBack is the index of the first read-back command.
	ReadBack int
	// Now and UN are the terminal date and unpredictable number the
	// read-back commands (GPO, INTERNAL AUTHENTICATE) were built with.
	Now time.Time
	UN  []byte
}

// SecondBatch opens the session with the card's INITIALIZE UPDATE response
// (data field) and builds the second batch for p. un is the 4-byte
// unpredictable number for GPO and INTERNAL AUTHENTICATE (fresh random in
// production); now is the terminal date.
func SecondBatch(s *gp.Session, iuResponse []byte, p *Prepared, now time.Time, un []byte) (*Batch, error) {
	if len(un) != 4 {
		return nil, invalid("unpredictable number", "must be 4 bytes")
	}
	if _, err := s.Open(iuResponse); err != nil {
		return nil, fmt.Errorf("dataprep: second batch: %w", err)
	}
	ea, err := s.ExternalAuthenticate()
	if err != nil {
		return nil, fmt.Errorf("dataprep: second batch: %w", err)
	}
	inst, err := gp.InstallForPersonalization(p.AID)
	if err != nil {
		return nil, fmt.Errorf("dataprep: second batch: %w", err)
	}
	if inst, err = s.Wrap(inst); err != nil {
		return nil, fmt.Errorf("dataprep: second batch: %w", err)
	}
	store, err := s.StoreData(p.DGIs)
	if err != nil {
		return nil, fmt.Errorf("dataprep: second batch: %w", err)
	}
	b := &Batch{Now: now, UN: append([]byte(nil), un...)}
	b.Commands = append([]cardio.Command{ea, inst}, store...)
	b.ReadBack = len(b.Commands)
	rb, err := readBackCommands(p, b.options(nil))
	if err != nil {
		return nil, err
	}
	b.Commands = append(b.Commands, rb...)
	return b, nil
}

// ReadBackBatch is a batch of read-back commands only (ReadBack = 0), for
// checking a card that is already personalized (for example when the card
// was pulled after the last STORE DATA and a retry is refused with 6985).
func ReadBackBatch(p *Prepared, now time.Time, un []byte) (*Batch, error) {
	if len(un) != 4 {
		return nil, invalid("unpredictable number", "must be 4 bytes")
	}
	b := &Batch{Now: now, UN: append([]byte(nil), un...)}
	cmds, err := readBackCommands(p, b.options(nil))
	if err != nil {
		return nil, err
	}
	b.Commands = cmds
	return b, nil
}

// options are the emv.Read options that reproduce the read-back commands.
func (b *Batch) options(ca emv.CAKeys) emv.Options {
	return emv.Options{CAKeys: ca, Fast: true, Now: func() time.Time { return b.Now }, Rand: bytes.NewReader(bytes.Repeat(b.UN, 64))}
}

func readBackCommands(p *Prepared, opts emv.Options) ([]cardio.Command, error) {
	term, err := opts.TerminalData(opts.Now())
	if err != nil {
		return nil, err
	}
	pdol, err := cardio.ParseDOL(PDOL)
	if err != nil {
		return nil, err
	}
	ddol, err := cardio.ParseDOL(DDOL)
	if err != nil {
		return nil, err
	}
	cmds := []cardio.Command{
		gp.Select(emv.PPSEName),
		gp.Select(p.AID),
		{CLA: 0x80, INS: cardio.INSGPO, Data: append([]byte{0x83, byte(pdol.Len())}, pdol.Build(term)...), Le: 256},
	}
	afl, err := cardio.ParseAFL(AFL)
	if err != nil {
		return nil, err
	}
	for _, e := range afl {
		for _, n := range e.Records() {
			cmds = append(cmds, cardio.Command{INS: cardio.INSReadRecord, P1: n, P2: e.SFI<<3 | 4, Le: 256})
		}
	}
	return append(cmds, cardio.Command{INS: cardio.INSInternalAuth, Data: ddol.Build(term), Le: 256}), nil
}

// replay answers emv.Read from the recorded read-back responses.
type replay struct {
	cmds  []cardio.Command
	resps []cardio.Response
	used  []bool
}

func (r *replay) Transmit(_ context.Context, raw []byte) ([]byte, error) {
	c, err := cardio.ParseCommand(raw)
	if err != nil {
		return []byte{0x67, 0x00}, nil
	}
	for i, s := range r.cmds {
		if r.used[i] || s.CLA != c.CLA || s.INS != c.INS || s.P1 != c.P1 || s.P2 != c.P2 || !bytes.Equal(s.Data, c.Data) {
			continue
		}
		r.used[i] = true
		return r.resps[i].Bytes(), nil
	}
	return []byte{0x6D, 0x00}, nil
}

func (r *replay) ATR() []byte                      { return nil }
func (r *replay) Disconnect(context.Context) error { return nil }

// CheckReadBack verifies the card's answers to b: every personalization
// command answered 9000, and the read-back — replayed through emv.Read with
// the trusted CA keys — shows the PAN, PSN, expiry, names and ID number of
// p, DDA verifies, and every record equals the prepared one byte for byte
// (so the ICC certificate is the one just issued). responses are the final answers (after GET RESPONSE)
// in command order. It returns the facts read.
func CheckReadBack(ctx context.Context, p *Prepared, b *Batch, responses []cardio.Response, ca emv.CAKeys) (*emv.CardFacts, error) {
	if len(responses) != len(b.Commands) {
		return nil, fmt.Errorf("dataprep: read-back: %d responses for %d commands: %w", len(responses), len(b.Commands), ErrReadBack)
	}
	for i, r := range responses[:b.ReadBack] {
		if !r.OK() {
			return nil, fmt.Errorf("dataprep: read-back: command %d answered %04X: %w", i, r.SW, ErrReadBack)
		}
	}
	rp := &replay{cmds: b.Commands[b.ReadBack:], resps: responses[b.ReadBack:], used: make([]bool, len(b.Commands)-b.ReadBack)}
	facts, err := emv.Read(ctx, rp, b.options(ca))
	if err != nil {
		return nil, fmt.Errorf("dataprep: read-back: %w: %w", ErrReadBack, err)
	}
	switch {
	case facts.PAN.Digits() != p.PAN.Digits():
		return facts, fmt.Errorf("dataprep: read-back: PAN %s: %w", facts.PAN, ErrReadBack)
	case facts.PSN != fmt.Sprintf("%02X", p.PSN):
		return facts, fmt.Errorf("dataprep: read-back: PSN: %w", ErrReadBack)
	case facts.Expiry.Year() != p.Expiry.Year() || facts.Expiry.Month() != p.Expiry.Month():
		return facts, fmt.Errorf("dataprep: read-back: expiry: %w", ErrReadBack)
	case facts.CardholderName != p.legalName || facts.CardholderNameLatin != p.embossName:
		return facts, fmt.Errorf("dataprep: read-back: cardholder name: %w", ErrReadBack)
	case facts.IDNumber.Clear() != p.idNumber.Clear() || facts.IDType == nil || *facts.IDType != p.idType:
		return facts, fmt.Errorf("dataprep: read-back: ID number: %w", ErrReadBack)
	case facts.ODA.Method != emv.ODADDA || !facts.ODA.Verified:
		return facts, fmt.Errorf("dataprep: read-back: DDA: %s: %w", facts.ODA.Failure, ErrReadBack)
	}
	read := facts.Records()
	for _, want := range p.Records {
		found := false
		for _, got := range read {
			if got.SFI == want.SFI && got.Number == want.Number {
				found = bytes.Equal(got.Raw, want.Raw)
			}
		}
		if !found {
			return facts, fmt.Errorf("dataprep: read-back: SFI %d record %d differs: %w", want.SFI, want.Number, ErrReadBack)
		}
	}
	return facts, nil
}
