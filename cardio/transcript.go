package cardio

import (
	"context"
	"encoding/hex"
	"fmt"
	"github.com/volcard/volcard/pii"
	"io"
	"strings"
	"sync"
)

// Exchange is one recorded APDU: the raw command, the raw response and the
// transport error, if any. Raw bytes are in clear: never log them directly;
// print the Transcript, which masks them.
type Exchange struct {
	Command  []byte
	Response []byte
	Err      error
}

// Transcript records the APDUs exchanged with a card for debugging. Its
// String and WriteTo mask card data: PAN (5A) and track data (56, 57,
// 9F1F, 9F20, 9F6B) keep only the first 6 and last 4 PAN digits, the
// cardholder ID number (9F61) is masked, PIN blocks (VERIFY, CHANGE PIN) and
// key material or personalization data (PUT DATA, STORE DATA, EXTERNAL
// AUTHENTICATE) are replaced by stars, and a response that is not BER-TLV
// is shown only by its length. A Transcript is safe for concurrent use.
type Transcript struct {
	mu        sync.Mutex
	exchanges []Exchange
}

// NewTranscript returns an empty transcript.
func NewTranscript() *Transcript { return &Transcript{} }

// Wrap returns a Card that forwards to card and records every exchange.
func (t *Transcript) Wrap(card Card) Card { return &recordingCard{Card: card, t: t} }

// Record appends one exchange.
func (t *Transcript) Record(command, response []byte, err error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.exchanges = append(t.exchanges, Exchange{Command: clone(command), Response: clone(response), Err: err})
}

// Exchanges returns a copy of the recorded exchanges (in clear).
func (t *Transcript) Exchanges() []Exchange {
	t.mu.Lock()
	defer t.mu.Unlock()
	return append([]Exchange(nil), t.exchanges...)
}

// Len returns the number of recorded APDUs.
func (t *Transcript) Len() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return len(t.exchanges)
}

// Reset forgets every exchange.
func (t *Transcript) Reset() {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.exchanges = nil
}

// String returns the masked transcript, one "C:" line per command and one
// "R:" line per response.
func (t *Transcript) String() string {
	var sb strings.Builder
	_, _ = t.WriteTo(&sb)
	return sb.String()
}

// WriteTo writes the masked transcript to w.
func (t *Transcript) WriteTo(w io.Writer) (int64, error) {
	var total int64
	for _, e := range t.Exchanges() {
		n, err := io.WriteString(w, "C: "+MaskCommand(e.Command)+"\n")
		total += int64(n)
		if err != nil {
			return total, err
		}
		line := "R: " + MaskResponse(e.Command, e.Response)
		if e.Err != nil {
			line = "R: error: " + e.Err.Error()
		}
		n, err = io.WriteString(w, line+"\n")
		total += int64(n)
		if err != nil {
			return total, err
		}
	}
	return total, nil
}

type recordingCard struct {
	Card
	t *Transcript
}

// Transmit forwards to the wrapped card and records the exchange.
func (r *recordingCard) Transmit(ctx context.Context, command []byte) ([]byte, error) {
	resp, err := r.Card.Transmit(ctx, command)
	r.t.Record(command, resp, err)
	return resp, err
}

func hexU(b []byte) string { return strings.ToUpper(hex.EncodeToString(b)) }

// secretINS lists instructions whose command data is secret (PIN blocks,
// keys, personalization data).
var secretINS = map[byte]bool{
	INSVerify: true, INSChangePIN: true, 0x2C: true, INSPutData: true, 0xDB: true,
	INSStoreData: true, INSExternalAuth: true, 0xE4: true, 0xE6: true, 0xE8: true,
}

// MaskCommand renders a raw command APDU in hex with secret data masked.
func MaskCommand(raw []byte) string {
	c, err := ParseCommand(raw)
	if err != nil {
		return fmt.Sprintf("<%d bytes, malformed>", len(raw))
	}
	var sb strings.Builder
	fmt.Fprintf(&sb, "%02X %02X %02X %02X", c.CLA, c.INS, c.P1, c.P2)
	if len(c.Data) > 0 {
		fmt.Fprintf(&sb, " Lc=%02X ", len(c.Data))
		if secretINS[c.INS] {
			sb.WriteString(strings.Repeat("*", 2*len(c.Data)))
		} else {
			sb.WriteString(hexU(c.Data))
		}
	}
	if c.Le > 0 {
		fmt.Fprintf(&sb, " Le=%02X", c.Le&0xFF)
	}
	return sb.String()
}

// MaskResponse renders a raw response APDU with sensitive data objects
// masked. command is the command it answers (used to decide what may be
// shown when the data is not BER-TLV).
func MaskResponse(command, raw []byte) string {
	r, err := ParseResponse(raw)
	if err != nil {
		return fmt.Sprintf("<%d bytes, malformed>", len(raw))
	}
	sw := fmt.Sprintf("%04X", r.SW)
	if len(r.Data) == 0 {
		return sw
	}
	if len(command) > 1 && command[1] == INSGetChallenge {
		return hexU(r.Data) + " " + sw
	}
	tlvs, err := DecodeTLV(r.Data)
	if err != nil {
		return fmt.Sprintf("<%d bytes, not TLV> %s", len(r.Data), sw)
	}
	var sb strings.Builder
	writeMasked(&sb, tlvs)
	return sb.String() + " " + sw
}

func writeMasked(sb *strings.Builder, tlvs []TLV) {
	for i, t := range tlvs {
		if i > 0 {
			sb.WriteByte(' ')
		}
		if len(t.TLVs) > 0 {
			inner, _ := EncodeTLV(t.TLVs...)
			fmt.Fprintf(sb, "%s%s[", t.Tag, lengthHex(len(inner)))
			writeMasked(sb, t.TLVs)
			sb.WriteByte(']')
			continue
		}
		fmt.Fprintf(sb, "%s%s%s", t.Tag, lengthHex(len(t.Value)), maskValue(t.Tag, t.Value))
	}
}

func lengthHex(n int) string {
	switch {
	case n < 0x80:
		return fmt.Sprintf("%02X", n)
	case n < 0x100:
		return fmt.Sprintf("81%02X", n)
	default:
		return fmt.Sprintf("82%04X", n)
	}
}

// maskValue renders one primitive value, masked when sensitive.
func maskValue(tag string, v []byte) string {
	switch tag {
	case "5A":
		return "{" + pii.MaskPAN(strings.TrimRight(hexU(v), "F")) + "}"
	case "57", "9F6B", "9F20":
		return "{" + maskTrack2(hexU(v)) + "}"
	case "56", "9F1F":
		return fmt.Sprintf("{track data, %d bytes}", len(v))
	case "9F61":
		return fmt.Sprintf("{ID number, %d bytes}", len(v))
	case "99", "DF8101":
		return strings.Repeat("*", 2*len(v))
	}
	return hexU(v)
}

// maskTrack2 masks track-2 equivalent data shown as hex digits: the PAN keeps
// its first 6 and last 4 digits, everything after the separator D is masked.
func maskTrack2(s string) string {
	pan, rest, found := strings.Cut(s, "D")
	out := pii.MaskPAN(pan)
	if found {
		out += "D" + strings.Repeat("*", len(rest))
	}
	return out
}
