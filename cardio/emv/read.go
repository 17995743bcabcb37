package emv

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/volcard/volcard/cardio"
)

// Directory names and known UnionPay AIDs.
var (
	// PPSEName is the proximity payment system environment name.
	PPSEName = []byte("2PAY.SYS.DDF01")
	// PSEName is the (contact) payment system environment name.
	PSEName = []byte("1PAY.SYS.DDF01")
	// AIDDebit is the UnionPay debit application.
	AIDDebit = cardio.Hex{0xA0, 0x00, 0x00, 0x03, 0x33, 0x01, 0x01, 0x01}
	// AIDCredit is the UnionPay credit application.
	AIDCredit = cardio.Hex{0xA0, 0x00, 0x00, 0x03, 0x33, 0x01, 0x01, 0x02}
	// AIDQuasiCredit is the UnionPay quasi-credit application.
	AIDQuasiCredit = cardio.Hex{0xA0, 0x00, 0x00, 0x03, 0x33, 0x01, 0x01, 0x03}
	// KnownAIDs is the default list of AIDs the terminal supports, in the
	// order tried when the card has neither PPSE nor PSE.
	KnownAIDs = []cardio.Hex{AIDDebit, AIDCredit, AIDQuasiCredit}
)

// DefaultDDOL is the terminal's default DDOL (9F37 04), used when the card
// carries no 9F49.
var DefaultDDOL = cardio.DOL{{Tag: "9F37", Length: 4}}

// Options tunes Read. The zero value reads with DDA/SDA enabled, the
// system clock and crypto/rand, and no trusted CA key (so ODA fails with
// ErrCAKeyUnknown unless CAKeys is set or SkipODA is true).
type Options struct {
	// CAKeys are the trusted CA public keys for offline data authentication.
	CAKeys CAKeys
	// Fast skips GET DATA for ATC (9F36) and PIN try counter (9F17): the
	// check-in read. See APDU counts in docs/card-profile.md.
	Fast bool
	// SkipODA skips offline data authentication (no INTERNAL AUTHENTICATE).
	SkipODA bool
	// AIDs overrides KnownAIDs: the applications the terminal accepts, in
	// order of preference for the final fallback.
	AIDs []cardio.Hex
	// Terminal adds or overrides terminal data used to fill PDOL and DDOL,
	// keyed by upper-case hex tag (e.g. "9F02": amount).
	Terminal map[string][]byte
	// Now is the clock (transaction date/time, certificate expiry); default time.Now.
	Now func() time.Time
	// Rand is the source of unpredictable numbers (9F37); default crypto/rand.
	Rand io.Reader
}

func (o Options) now() time.Time {
	if o.Now != nil {
		return o.Now()
	}
	return time.Now()
}

func (o Options) random() io.Reader {
	if o.Rand != nil {
		return o.Rand
	}
	return rand.Reader
}

func (o Options) aids() []cardio.Hex {
	if len(o.AIDs) > 0 {
		return o.AIDs
	}
	return KnownAIDs
}

// TerminalData returns the terminal data used to fill a DOL at now, with a
// fresh unpredictable number, overridden by o.Terminal: 9F66 TTQ 46000000,
// 9F02 and 9F03 amounts zero, 9F1A and 5F2A 0156 (China, CNY), 95 TVR zero,
// 9A date, 9F21 time, 9C transaction type 00, 9F37 unpredictable number,
// 9F35 terminal type 22, 9F33 capabilities E0E1C8, 9F40, 9F4E merchant name.
func (o Options) TerminalData(now time.Time) (map[string][]byte, error) {
	un := make([]byte, 4)
	if _, err := io.ReadFull(o.random(), un); err != nil {
		return nil, fmt.Errorf("emv: unpredictable number: %w", err)
	}
	bcd := func(s string) []byte { b, _ := hex.DecodeString(s); return b }
	m := map[string][]byte{
		"9F66": {0x46, 0x00, 0x00, 0x00},
		"9F02": make([]byte, 6),
		"9F03": make([]byte, 6),
		"9F1A": {0x01, 0x56},
		"5F2A": {0x01, 0x56},
		"95":   make([]byte, 5),
		"9A":   bcd(now.Format("060102")),
		"9F21": bcd(now.Format("150405")),
		"9C":   {0x00},
		"9F37": un,
		"9F35": {0x22},
		"9F33": {0xE0, 0xE1, 0xC8},
		"9F40": {0x60, 0x00, 0x00, 0x10, 0x01},
		"9F4E": []byte("VOLCARD CHECK-IN"),
		"9F7A": {0x00},
	}
	for k, v := range o.Terminal {
		m[strings.ToUpper(k)] = v
	}
	return m, nil
}

// counter counts the command APDUs sent to a card.
type counter struct {
	cardio.Card
	n int
}

// Transmit counts and forwards one APDU.
func (c *counter) Transmit(ctx context.Context, cmd []byte) ([]byte, error) {
	c.n++
	return c.Card.Transmit(ctx, cmd)
}

// candidate is an application found in a directory.
type candidate struct {
	aid      []byte
	label    string
	priority int
}

// Read runs the check-in/read flow on card and returns the facts:
// application selection (PPSE, then PSE, then KnownAIDs), GET PROCESSING
// OPTIONS, READ RECORD over the AFL, GET DATA 9F36 and 9F17 (unless
// opts.Fast), and SDA or DDA (unless opts.SkipODA).
//
// APDUs: the default card image needs 8 in fast mode (SELECT PPSE, SELECT
// AID, GPO, 4 READ RECORD, INTERNAL AUTHENTICATE) and 10 otherwise.
//
// Errors: ErrNotFinancialCard when no payment application exists; card I/O
// errors as returned by the Card (errors.Is(err, cardio.ErrCardRemoved));
// *cardio.StatusError for unexpected status words; ErrMissingData,
// ErrMalformedData and *Track2Error for bad card data. When only offline
// authentication fails, Read returns the facts together with an *ODAError.
func Read(ctx context.Context, card cardio.Card, opts Options) (*CardFacts, error) {
	if card == nil {
		return nil, fmt.Errorf("emv read: %w", cardio.ErrNoCard)
	}
	cnt := &counter{Card: card}
	f, err := read(ctx, cnt, opts)
	if f != nil {
		f.APDUs = cnt.n
	}
	return f, err
}

// isStatus reports whether err is a status word from the card (as opposed
// to a transport failure that must abort the read).
func isStatus(err error) bool {
	var se *cardio.StatusError
	return errors.As(err, &se)
}

func selectName(ctx context.Context, card cardio.Card, name []byte) (cardio.Response, error) {
	return cardio.Transmit(ctx, card, cardio.Command{INS: cardio.INSSelect, P1: 0x04, Data: name, Le: 256})
}

func read(ctx context.Context, card cardio.Card, opts Options) (*CardFacts, error) {
	f := &CardFacts{raw: &rawData{tags: map[string][]byte{}}}
	var fci []cardio.TLV

	cands, err := readPPSE(ctx, card, opts)
	if err != nil {
		return nil, err
	}
	f.Selection = "PPSE"
	if len(cands) == 0 {
		f.Selection = "PSE"
		if cands, err = readPSE(ctx, card, opts); err != nil {
			return nil, err
		}
	}
	for _, c := range cands {
		resp, err := selectName(ctx, card, c.aid)
		if err != nil {
			if isStatus(err) {
				continue
			}
			return nil, fmt.Errorf("emv: select application: %w", err)
		}
		if fci, err = cardio.DecodeTLV(resp.Data); err != nil {
			continue
		}
		f.AID, f.Priority = c.aid, c.priority
		break
	}
	if f.AID == nil {
		f.Selection = "AID"
		for _, aid := range opts.aids() {
			resp, err := selectName(ctx, card, aid)
			if err != nil {
				if isStatus(err) {
					continue
				}
				return nil, fmt.Errorf("emv: select application: %w", err)
			}
			if fci, err = cardio.DecodeTLV(resp.Data); err != nil {
				continue
			}
			f.AID = aid
			if df, ok := cardio.FindValue(fci, "84"); ok && bytes.HasPrefix(df, aid) {
				f.AID = df
			}
			break
		}
	}
	if f.AID == nil {
		return nil, ErrNotFinancialCard
	}
	merge(f.raw.tags, fci)

	// GET PROCESSING OPTIONS.
	now := opts.now()
	term, err := opts.TerminalData(now)
	if err != nil {
		return nil, err
	}
	var pdolData []byte
	if raw, ok := f.raw.tags["9F38"]; ok {
		pdol, err := cardio.ParseDOL(raw)
		if err != nil {
			return nil, fmt.Errorf("emv: PDOL: %w", err)
		}
		pdolData = pdol.Build(term)
	}
	gpoData, err := cardio.EncodeTLV(cardio.NewTLV("83", pdolData))
	if err != nil {
		return nil, err
	}
	resp, err := cardio.Transmit(ctx, card, cardio.Command{CLA: 0x80, INS: cardio.INSGPO, Data: gpoData, Le: 256})
	if err != nil {
		return nil, fmt.Errorf("emv: get processing options: %w", err)
	}
	aip, afl, gpoTLV, err := parseGPO(resp.Data)
	if err != nil {
		return nil, err
	}
	merge(f.raw.tags, gpoTLV)
	f.raw.aip = aip
	f.AIP = AIP(aip)
	if f.AFL, err = cardio.ParseAFL(afl); err != nil {
		return nil, fmt.Errorf("emv: %w", err)
	}

	// READ RECORD over the AFL.
	for _, e := range f.AFL {
		for _, rec := range e.Records() {
			resp, err := cardio.Transmit(ctx, card, cardio.Command{INS: cardio.INSReadRecord, P1: rec, P2: e.SFI<<3 | 4, Le: 256})
			if err != nil {
				return nil, fmt.Errorf("emv: read record %d SFI %d: %w", rec, e.SFI, err)
			}
			tlvs, err := cardio.DecodeTLV(resp.Data)
			if err != nil || len(tlvs) == 0 || (e.SFI <= 10 && (len(tlvs) != 1 || tlvs[0].Tag != "70")) {
				return nil, fmt.Errorf("emv: record %d SFI %d is not a 70 template: %w", rec, e.SFI, ErrMalformedData)
			}
			f.raw.records = append(f.raw.records, Record{SFI: e.SFI, Number: rec, Raw: resp.Data})
			merge(f.raw.tags, tlvs)
		}
	}

	if !opts.Fast {
		if v, err := getData(ctx, card, 0x9F36); err != nil {
			return nil, err
		} else if v != nil {
			n := int(binaryUint(v))
			f.ATC = &n
		}
		if v, err := getData(ctx, card, 0x9F17); err != nil {
			return nil, err
		} else if v != nil {
			n := int(binaryUint(v))
			f.PINTryCounter = &n
		}
	}

	if err := f.decode(); err != nil {
		return nil, err
	}

	if opts.SkipODA {
		f.ODA = ODAResult{Method: ODANone}
		return f, nil
	}
	res, err := Authenticate(ctx, card, f, opts)
	f.ODA = res
	if err != nil {
		var oe *ODAError
		if !errors.As(err, &oe) {
			return nil, err
		}
		return f, err
	}
	return f, nil
}

func readPPSE(ctx context.Context, card cardio.Card, opts Options) ([]candidate, error) {
	resp, err := selectName(ctx, card, PPSEName)
	if err != nil {
		if isStatus(err) {
			return nil, nil
		}
		return nil, fmt.Errorf("emv: select PPSE: %w", err)
	}
	tlvs, err := cardio.DecodeTLV(resp.Data)
	if err != nil {
		return nil, nil // unusable PPSE: fall back to PSE
	}
	bf, ok := cardio.FindTag(tlvs, "BF0C")
	if !ok {
		return nil, nil
	}
	return directoryEntries(bf.TLVs, opts), nil
}

func readPSE(ctx context.Context, card cardio.Card, opts Options) ([]candidate, error) {
	resp, err := selectName(ctx, card, PSEName)
	if err != nil {
		if isStatus(err) {
			return nil, nil
		}
		return nil, fmt.Errorf("emv: select PSE: %w", err)
	}
	tlvs, err := cardio.DecodeTLV(resp.Data)
	if err != nil {
		return nil, nil
	}
	sfi := byte(1)
	if v, ok := cardio.FindValue(tlvs, "88"); ok && len(v) == 1 && v[0] >= 1 && v[0] <= 30 {
		sfi = v[0]
	}
	var entries []cardio.TLV
	for rec := byte(1); rec <= 16; rec++ {
		resp, err := cardio.Transmit(ctx, card, cardio.Command{INS: cardio.INSReadRecord, P1: rec, P2: sfi<<3 | 4, Le: 256})
		if err != nil {
			if isStatus(err) {
				break // 6A83: end of directory
			}
			return nil, fmt.Errorf("emv: read PSE record %d: %w", rec, err)
		}
		rtlvs, err := cardio.DecodeTLV(resp.Data)
		if err != nil || len(rtlvs) != 1 || rtlvs[0].Tag != "70" {
			break
		}
		entries = append(entries, rtlvs[0].TLVs...)
	}
	return directoryEntries(entries, opts), nil
}

// directoryEntries turns application templates (61) into candidates the
// terminal supports, sorted by priority (1 highest, absent last), keeping
// card order among equals.
func directoryEntries(tlvs []cardio.TLV, opts Options) []candidate {
	var out []candidate
	for _, t := range tlvs {
		if t.Tag != "61" {
			continue
		}
		aid, ok := cardio.FindValue(t.TLVs, "4F")
		if !ok || len(aid) < 5 || len(aid) > 16 {
			continue
		}
		supported := false
		for _, known := range opts.aids() {
			if bytes.HasPrefix(aid, known) {
				supported = true
			}
		}
		if !supported {
			continue
		}
		c := candidate{aid: aid}
		if l, ok := cardio.FindValue(t.TLVs, "50"); ok {
			c.label = DecodeText(l, 1, false)
		}
		if p, ok := cardio.FindValue(t.TLVs, "87"); ok && len(p) == 1 {
			c.priority = int(p[0] & 0x0F)
		}
		out = append(out, c)
	}
	sort.SliceStable(out, func(i, j int) bool { return rank(out[i].priority) < rank(out[j].priority) })
	return out
}

func rank(p int) int {
	if p == 0 {
		return 16
	}
	return p
}

// parseGPO reads AIP and AFL from a GPO response in format 1 (80: AIP || AFL)
// or format 2 (77 template with 82 and 94).
func parseGPO(data []byte) (aip, afl []byte, tlvs []cardio.TLV, err error) {
	tlvs, err = cardio.DecodeTLV(data)
	if err != nil || len(tlvs) == 0 {
		return nil, nil, nil, fmt.Errorf("emv: GPO response not TLV: %w", ErrMalformedData)
	}
	switch tlvs[0].Tag {
	case "80":
		v := tlvs[0].Value
		if len(v) < 6 || (len(v)-2)%4 != 0 {
			return nil, nil, nil, fmt.Errorf("emv: GPO format 1 of %d bytes: %w", len(v), ErrMalformedData)
		}
		return v[:2], v[2:], nil, nil
	case "77":
		a, ok1 := cardio.FindValue(tlvs[0].TLVs, "82")
		l, ok2 := cardio.FindValue(tlvs[0].TLVs, "94")
		if !ok1 || !ok2 || len(a) != 2 {
			return nil, nil, nil, fmt.Errorf("emv: GPO format 2 without AIP/AFL: %w", ErrMissingData)
		}
		return a, l, tlvs, nil
	}
	return nil, nil, nil, fmt.Errorf("emv: GPO response template %s: %w", tlvs[0].Tag, ErrMalformedData)
}

// getData sends GET DATA for a 2-byte tag; it returns nil, nil when the
// card does not have the object.
func getData(ctx context.Context, card cardio.Card, tag uint16) ([]byte, error) {
	resp, err := cardio.Transmit(ctx, card, cardio.Command{CLA: 0x80, INS: cardio.INSGetData, P1: byte(tag >> 8), P2: byte(tag), Le: 256})
	if err != nil {
		if isStatus(err) {
			return nil, nil
		}
		return nil, fmt.Errorf("emv: get data %04X: %w", tag, err)
	}
	tlvs, err := cardio.DecodeTLV(resp.Data)
	if err != nil {
		return nil, fmt.Errorf("emv: get data %04X: %w", tag, ErrMalformedData)
	}
	v, ok := cardio.FindValue(tlvs, fmt.Sprintf("%04X", tag))
	if !ok {
		return nil, fmt.Errorf("emv: get data %04X: tag missing: %w", tag, ErrMalformedData)
	}
	return v, nil
}

// TagChineseName is the volcard tag of the holder's Chinese name (GBK,
// b 2–40), in the signed cardholder record: EMV codes 5F20 and 9F0B as
// ISO 8859 text (ans), which cannot carry Chinese (docs/card-profile.md).
const TagChineseName = "DF20"

// isText reports whether b is printable ASCII (the ans characters a volcard
// card writes in 5F20 and 9F0B).
func isText(b []byte) bool {
	for _, c := range b {
		if c < 0x20 || c > 0x7E {
			return false
		}
	}
	return len(b) > 0
}

func binaryUint(b []byte) uint64 {
	var n uint64
	for _, c := range b {
		n = n<<8 | uint64(c)
	}
	return n
}

func merge(m map[string][]byte, tlvs []cardio.TLV) {
	for k, v := range cardio.Primitives(tlvs) {
		if _, seen := m[k]; !seen {
			m[k] = v
		}
	}
}

// decode fills the typed fields from the collected tags and checks them.
func (f *CardFacts) decode() error {
	t := f.raw.tags
	gbk := bytes.HasPrefix(f.AID, RIDUnionPay)
	if v, ok := t["9F11"]; ok && len(v) == 1 {
		f.CodeTableIndex = int(v[0])
	}
	if v, ok := t["50"]; ok {
		f.Label = DecodeText(v, f.CodeTableIndex, false)
	}
	if v, ok := t["9F12"]; ok {
		f.PreferredName = DecodeText(v, f.CodeTableIndex, gbk)
	}
	if v, ok := t["87"]; ok && len(v) == 1 {
		f.Priority = int(v[0] & 0x0F)
	}
	if v, ok := t["5F2D"]; ok {
		f.Language = DecodeText(v, 1, false)
	}

	panRaw, ok := t["5A"]
	if !ok {
		return fmt.Errorf("emv: PAN (5A): %w", ErrMissingData)
	}
	pan, err := NewPAN(strings.TrimRight(strings.ToUpper(hex.EncodeToString(panRaw)), "F"))
	if err != nil {
		return fmt.Errorf("emv: PAN (5A): %w", err)
	}
	f.PAN = pan
	exp, ok := t["5F24"]
	if !ok {
		return fmt.Errorf("emv: expiry (5F24): %w", ErrMissingData)
	}
	if f.Expiry, err = parseDate(exp); err != nil {
		return fmt.Errorf("emv: expiry (5F24): %w", err)
	}
	if v, ok := t["5F25"]; ok {
		if f.Effective, err = parseDate(v); err != nil {
			return fmt.Errorf("emv: effective date (5F25): %w", err)
		}
	}
	if v, ok := t["5F34"]; ok && len(v) == 1 {
		f.PSN = fmt.Sprintf("%02X", v[0])
	}
	if v, ok := t["5F20"]; ok {
		f.CardholderName = DecodeText(v, 1, gbk)
		if isText(v) {
			f.CardholderNameLatin = f.CardholderName
		}
	}
	if v, ok := t["9F0B"]; ok {
		f.CardholderNameExtended = DecodeText(v, 1, gbk)
		if isText(v) {
			f.CardholderNameLatin = f.CardholderNameExtended
		}
	}
	if v, ok := t[TagChineseName]; ok {
		f.CardholderName = DecodeText(v, 0, true)
	}
	if v, ok := t["9F61"]; ok {
		f.IDNumber = NewIDNumber(strings.TrimRight(string(v), " \x00"))
	}
	if v, ok := t["9F62"]; ok && len(v) == 1 {
		it := IDType(v[0])
		f.IDType = &it
	}
	if v, ok := t["5F28"]; ok {
		n, err := strconv.Atoi(hex.EncodeToString(v))
		if err != nil {
			return fmt.Errorf("emv: issuer country (5F28): %w", ErrMalformedData)
		}
		f.IssuerCountry = n
	}
	if v, ok := t["8E"]; ok {
		if f.CVMList, err = ParseCVMList(v); err != nil {
			return fmt.Errorf("emv: CVM list (8E): %w", err)
		}
	}
	if v, ok := t["57"]; ok {
		tr, err := ParseTrack2(v)
		if err != nil {
			return fmt.Errorf("emv: track 2 (57): %w", err)
		}
		if tr.PAN.Digits() != f.PAN.Digits() {
			return &Track2Error{Field: "PAN"}
		}
		if tr.Expiry != f.Expiry.Format("0601") {
			return &Track2Error{Field: "expiry"}
		}
		f.Track2 = tr
	}
	return nil
}
