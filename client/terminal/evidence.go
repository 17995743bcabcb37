package terminal

import (
	"context"
	"fmt"
	"time"

	"github.com/volcard/volcard/cardio"
	"github.com/volcard/volcard/cardio/emv"
	"github.com/volcard/volcard/wire"
)

// ReadCard reads a card for a tap and returns its facts and the evidence
// to send: a fast read without local ODA (SELECT PPSE, SELECT AID, GPO,
// READ RECORD over the AFL), then one INTERNAL AUTHENTICATE with the DDOL
// (9F49, else emv.DefaultDDOL) filled with un as the unpredictable number
// (9F37). The server checks the certificates and the signature; the
// terminal holds no CA key it must trust. facts.APDUs counts the APDUs of
// the whole exchange.
//
// Errors: emv.ErrNotFinancialCard, ErrNoDDA (the AIP announces no DDA: the
// card cannot sign a challenge), card I/O errors (cardio.ErrCardRemoved),
// *cardio.StatusError and emv data errors, all wrapped.
func ReadCard(ctx context.Context, card cardio.Card, un []byte, opts emv.Options) (*emv.CardFacts, wire.CardEvidence, error) {
	if len(un) != 4 {
		return nil, wire.CardEvidence{}, fmt.Errorf("terminal: unpredictable number must be 4 bytes, got %d", len(un))
	}
	opts.Fast, opts.SkipODA = true, true
	f, err := emv.Read(ctx, card, opts)
	if err != nil {
		return nil, wire.CardEvidence{}, fmt.Errorf("terminal: read card: %w", err)
	}
	if !f.AIP.DDA() {
		// INTERNAL AUTHENTICATE would fail (6D00 on an SDA-only card).
		return f, wire.CardEvidence{}, fmt.Errorf("terminal: AIP %s: %w", f.AIP, ErrNoDDA)
	}
	ddol := emv.DefaultDDOL
	if raw, ok := f.Tag("9F49"); ok {
		if ddol, err = cardio.ParseDOL(raw); err != nil {
			return nil, wire.CardEvidence{}, fmt.Errorf("terminal: card DDOL: %w", err)
		}
	}
	now := time.Now()
	if opts.Now != nil {
		now = opts.Now()
	}
	term, err := opts.TerminalData(now)
	if err != nil {
		return nil, wire.CardEvidence{}, err
	}
	term["9F37"] = un
	data := ddol.Build(term)
	sdad, err := emv.InternalAuthenticate(ctx, card, data)
	f.APDUs++
	if err != nil {
		return f, wire.CardEvidence{}, fmt.Errorf("terminal: %w", err)
	}
	ev := wire.CardEvidence{AID: f.AID, PAN: f.PAN.Digits(), AIP: f.AIP[:], AFL: cardio.EncodeAFL(f.AFL),
		DDOLData: data, SDAD: sdad}
	for _, r := range f.Records() {
		ev.Records = append(ev.Records, wire.Record{SFI: r.SFI, Number: r.Number, Raw: r.Raw})
	}
	return f, ev, nil
}
