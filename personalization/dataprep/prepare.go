package dataprep

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"log/slog"
	"math/big"
	"strings"
	"time"

	"github.com/volcard/volcard/cardio"
	"github.com/volcard/volcard/cardio/emv"
	"github.com/volcard/volcard/cardio/gp"
)

// DGI numbers of the volcard personalization profile (docs/card-profile.md,
// section "Personalization: DGIs"). Records are DGI SFI||record.
const (
	DGIRecordSFI1Rec1 uint16 = 0x0101 // cardholder data
	DGIRecordSFI2Rec1 uint16 = 0x0201 // application data
	DGIRecordSFI3Rec1 uint16 = 0x0301 // issuer public key certificate
	DGIRecordSFI3Rec2 uint16 = 0x0302 // ICC public key certificate
	DGIFCI            uint16 = 0x9102
	DGIGetData        uint16 = 0x9103
	DGIGPO            uint16 = 0x9104
	DGIKeyKCV         uint16 = 0x9000
	DGIPINTry         uint16 = 0x9010
	DGICardRisk       uint16 = 0x9200 // CIACs, DKI, options (card risk management)
	DGIAppKeys        uint16 = 0x8000
	DGIPIN            uint16 = 0x8010
	DGIICCQInv        uint16 = 0x8201
	DGIICCDQ          uint16 = 0x8202
	DGIICCDP          uint16 = 0x8203
	DGIICCPrimeQ      uint16 = 0x8204
	DGIICCPrimeP      uint16 = 0x8205
)

// Profile constants (docs/card-profile.md).
var (
	// AIP is 7C00: SDA, DDA, cardholder verification, terminal risk
	// management, issuer authentication.
	AIP = cardio.Hex{0x7C, 0x00}
	// AFL names SFI 1 record 1 and SFI 2 record 1 (both signed) and SFI 3
	// records 1-2.
	AFL = cardio.Hex{0x08, 0x01, 0x01, 0x01, 0x10, 0x01, 0x01, 0x01, 0x18, 0x01, 0x02, 0x00}
	// PDOL is the processing options data object list of the profile.
	PDOL = cardio.Hex{0x9F, 0x66, 0x04, 0x9F, 0x02, 0x06, 0x9F, 0x03, 0x06, 0x9F, 0x1A, 0x02, 0x95, 0x05, 0x5F, 0x2A, 0x02, 0x9A, 0x03, 0x9C, 0x01, 0x9F, 0x37, 0x04, 0x9F, 0x21, 0x03}
	// DDOL is 9F37 04 (unpredictable number).
	DDOL = cardio.Hex{0x9F, 0x37, 0x04}
	// CDOL1 and CDOL2 are the card risk management data object lists of
	// the first and second GENERATE AC (8C, 8D): each carries every value
	// the cryptogram covers (emv.CryptogramInputTags), CDOL2 the
	// authorisation response code (8A) first.
	CDOL1 = bcdHex("9F0206 9F0306 9F1A02 9505 5F2A02 9A03 9C01 9F3704 9F2103 9F4E14")
	CDOL2 = bcdHex("8A02 9F0206 9F0306 9F1A02 9505 5F2A02 9A03 9C01 9F3704")
	// LogEntry (9F4D) names the transaction log: SFI 11, 10 records.
	LogEntry = cardio.Hex{0x0B, 0x0A}
	// LogFormat (9F4F) is the content of each log record: date, time,
	// amount, amount other, terminal country, currency, merchant name,
	// transaction type, ATC (45 bytes).
	LogFormat = bcdHex("9A03 9F2103 9F0206 9F0306 9F1A02 5F2A02 9F4E14 9C01 9F3602")
	// CIACDecline, CIACOnline and CIACDefault are the card issuer action
	// codes matched against the CVR (docs/card-profile.md): decline when
	// the PIN try limit is exceeded; go online (or, unable to, decline)
	// after a wrong offline PIN, for a new card, after an incomplete or
	// unauthenticated last online transaction, or past the lower
	// consecutive offline limit.
	CIACDecline = cardio.Hex{0x00, 0x40, 0x00}
	CIACOnline  = cardio.Hex{0x02, 0xB8, 0x00}
	CIACDefault = cardio.Hex{0x02, 0xB8, 0x00}
)

// Card risk management limits written in SFI 2 record 1.
const (
	// LowerConsecutiveOfflineLimit is 9F14: past it the card goes online.
	LowerConsecutiveOfflineLimit = 3
	// UpperConsecutiveOfflineLimit is 9F23: past it a card that cannot go
	// online declines.
	UpperConsecutiveOfflineLimit = 5
	// DKI is the derivation key index written in 9F10.
	DKI = 0x01
)

// PIN is an offline PIN (4 to 12 digits). It never prints.
type PIN struct{ digits string }

// NewPIN validates a PIN.
func NewPIN(digits string) (PIN, error) {
	if _, err := emv.PINBlock(digits); err != nil {
		return PIN{}, invalid("PIN", "must be 4 to 12 digits")
	}
	return PIN{digits: digits}, nil
}

// PINFromBlock decodes a plaintext PIN block (2L PPPP...F).
func PINFromBlock(block []byte) (PIN, error) {
	if len(block) != 8 {
		return PIN{}, invalid("PIN block", "must be 8 bytes")
	}
	h := strings.ToUpper(hex.EncodeToString(block))
	n := int(h[1] - '0')
	if h[0] != '2' || n < 4 || n > 12 || strings.Trim(h[2+n:], "F") != "" {
		return PIN{}, invalid("PIN block", "not a plaintext PIN block")
	}
	return NewPIN(h[2 : 2+n])
}

// IsZero reports whether no PIN is set.
func (p PIN) IsZero() bool { return p.digits == "" }

// String never shows the PIN.
func (p PIN) String() string { return "******" }

// GoString never shows the PIN.
func (p PIN) GoString() string { return "dataprep.PIN(******)" }

// Format never shows the PIN.
func (p PIN) Format(f fmt.State, _ rune) { _, _ = io.WriteString(f, p.String()) }

// LogValue never shows the PIN.
func (p PIN) LogValue() slog.Value { return slog.StringValue(p.String()) }

// Input is what one card needs: cardholder data from the approved
// application, the bank's data, and the card product.
type Input struct {
	// Bank and Product select the issuer key (KeyStore.IssuerKey).
	Bank, Product string
	// MasterKeyID selects the issuer master keys (KeyStore.MasterKeys).
	MasterKeyID string

	// LegalName is the holder's Chinese name, written in GBK to the volcard
	// tag DF20 (2-40 bytes encoded).
	LegalName string
	// EmbossName is the romanized name (pinyin, printable ASCII), 2 to 45
	// characters or empty: 5F20 holds it (its first 26 characters), and
	// 9F0B the whole name when it is longer than 26.
	EmbossName string
	// IDType is 9F62; IDNumber is 9F61 (up to 40 characters).
	IDType   emv.IDType
	IDNumber emv.IDNumber
	// PIN is the offline PIN chosen by the cardholder.
	PIN PIN
	// PINTryLimit is 1-15; 3 when zero.
	PINTryLimit int

	// AID is the application (the UnionPay debit AID when empty).
	AID cardio.Hex
	// Label is 50 (ASCII, up to 16): "PBOC DEBIT" when empty.
	Label string
	// PreferredName is 9F12 (ISO 8859-1 as 9F11 says, printable ASCII, up
	// to 16): "VOLUNTEER DEBIT" when empty.
	PreferredName string

	// PAN, Expiry (month of 5F24, last day), Effective (5F25) and PSN (5F34,
	// the byte as on the card: BCD, e.g. 0x01) come from the bank.
	PAN       emv.PAN
	Expiry    time.Time
	Effective time.Time
	PSN       byte

	// KDD is the card's key diversification data from INITIALIZE UPDATE
	// (optional, recorded in Prepared for audit).
	KDD cardio.Hex
}

// Prepared is one card's personalization data. It holds clear key material
// and personal data in memory: never log it (String masks everything).
type Prepared struct {
	// AID is the application instance to personalize.
	AID cardio.Hex
	// DGIs are the STORE DATA payload, clear values, sensitive ones flagged.
	DGIs []gp.DGI
	// PAN, PSN and Expiry as written.
	PAN    emv.PAN
	PSN    byte
	Expiry time.Time
	// Records are the records as the card will serve them (for read-back).
	Records []emv.Record
	// ICCPublicKey is the fresh ICC key certified in 9F46.
	ICCPublicKey emv.PublicKey
	// KDD is copied from the input.
	KDD cardio.Hex
	// name and id for read-back checks
	legalName, embossName string
	idNumber              emv.IDNumber
	idType                emv.IDType
}

// String masks everything.
func (p *Prepared) String() string {
	return fmt.Sprintf("dataprep.Prepared(AID %s, PAN %s, %d DGIs)", p.AID, p.PAN, len(p.DGIs))
}

// Preparer prepares cards with keys from a KeyStore.
type Preparer struct {
	keys KeyStore
	now  func() time.Time
	rand io.Reader
	bits int
	pool *KeyPool
}

// Option configures a Preparer.
type Option func(*Preparer) error

// WithClock sets the clock (certificate checks); time.Now by default.
func WithClock(now func() time.Time) Option {
	return func(p *Preparer) error { p.now = now; return nil }
}

// WithRand sets the randomness for ICC keys; crypto/rand by default.
func WithRand(r io.Reader) Option {
	return func(p *Preparer) error { p.rand = r; return nil }
}

// DefaultICCKeyBits is the ICC RSA key size unless WithICCKeyBits says
// otherwise.
const DefaultICCKeyBits = 768

// WithICCKeyBits sets the ICC RSA key size (512-1024 step 16, not longer
// than the issuer key); DefaultICCKeyBits by default.
func WithICCKeyBits(bits int) Option {
	return func(p *Preparer) error {
		if bits < 512 || bits > 1024 || bits%16 != 0 {
			return invalid("ICC key size", "must be 512 to 1024 bits, a multiple of 16")
		}
		p.bits = bits
		return nil
	}
}

// New returns a Preparer using keys.
func New(keys KeyStore, opts ...Option) (*Preparer, error) {
	if keys == nil {
		return nil, fmt.Errorf("dataprep: nil key store: %w", ErrKeyNotFound)
	}
	p := &Preparer{keys: keys, now: time.Now, rand: rand.Reader, bits: DefaultICCKeyBits}
	for _, o := range opts {
		if err := o(p); err != nil {
			return nil, err
		}
	}
	if p.pool != nil && p.pool.Bits() != p.bits {
		return nil, invalid("ICC key pool", fmt.Sprintf("holds %d-bit keys, the cards get %d-bit keys", p.pool.Bits(), p.bits))
	}
	return p, nil
}

func bcd(s string) []byte {
	if len(s)%2 == 1 {
		s += "F"
	}
	b, _ := hex.DecodeString(s)
	return b
}

func ascii(s string) bool {
	for _, c := range s {
		if c < 0x20 || c > 0x7E {
			return false
		}
	}
	return true
}

func (in *Input) normalize() error {
	if len(in.AID) == 0 {
		in.AID = emv.AIDDebit
	}
	if in.Label == "" {
		in.Label = "PBOC DEBIT"
	}
	if in.PreferredName == "" {
		in.PreferredName = "VOLUNTEER DEBIT"
	}
	if in.PINTryLimit == 0 {
		in.PINTryLimit = 3
	}
	switch {
	case len(in.AID) < 5 || len(in.AID) > 16:
		return invalid("AID", "must be 5 to 16 bytes")
	case in.PAN.IsZero() || !in.PAN.LuhnValid() || len(in.PAN.Digits()) < 12 || len(in.PAN.Digits()) > 19:
		return invalid("PAN", "must be 12 to 19 digits with a valid check digit")
	case in.Expiry.IsZero():
		return invalid("expiry", "missing")
	case in.PIN.IsZero():
		return invalid("PIN", "missing")
	case in.PINTryLimit < 1 || in.PINTryLimit > 15:
		return invalid("PIN try limit", "must be 1 to 15")
	case in.IDNumber.IsZero() || len(in.IDNumber.Clear()) > 40 || !ascii(in.IDNumber.Clear()):
		return invalid("ID number", "must be 1 to 40 ASCII characters")
	case in.IDType > emv.IDTypeOther:
		return invalid("ID type", "unknown")
	case len(in.EmbossName) == 1 || len(in.EmbossName) > 45 || !ascii(in.EmbossName):
		return invalid("emboss name", "must be 2 to 45 ASCII characters")
	case len(in.PreferredName) > 16 || !ascii(in.PreferredName):
		return invalid("preferred name", "must be at most 16 ASCII characters")
	case len(in.Label) > 16 || !ascii(in.Label):
		return invalid("label", "must be at most 16 ASCII characters")
	case in.Bank == "" || in.Product == "":
		return invalid("bank/product", "missing")
	case len(in.KDD) != 0 && len(in.KDD) != gp.KDDLen:
		return invalid("KDD", "must be 10 bytes")
	}
	return nil
}

// lastDay is the last day of t's month.
func lastDay(t time.Time) time.Time {
	return time.Date(t.Year(), t.Month()+1, 0, 0, 0, 0, 0, time.UTC)
}

// Prepare builds one card's DGIs. It takes a fresh ICC key (from the
// WithKeyPool pool when one is ready, else generated now), signs its
// certificate with the issuer key, derives the application keys from the
// issuer master keys (EMV option A) and encodes the PIN.
func (p *Preparer) Prepare(ctx context.Context, in Input) (*Prepared, error) {
	if err := in.normalize(); err != nil {
		return nil, err
	}
	name, err := emv.EncodeGBK(in.LegalName)
	if err != nil || len(name) < 2 || len(name) > 40 {
		return nil, invalid("legal name", "must encode in GBK as 2 to 40 bytes")
	}
	pan := in.PAN.Digits()
	expiry := lastDay(in.Expiry)
	effective := in.Effective
	if effective.IsZero() {
		effective = p.now()
	}
	issuer, err := p.keys.IssuerKey(ctx, in.Bank, in.Product)
	if err != nil {
		return nil, fmt.Errorf("dataprep: prepare %s: %w", in.PAN, err)
	}
	icert := issuer.Certificate()
	masters, err := p.keys.MasterKeys(ctx, in.MasterKeyID)
	if err != nil {
		return nil, fmt.Errorf("dataprep: prepare %s: %w", in.PAN, err)
	}

	track2 := pan + "D" + expiry.Format("0601") + "220" + "0000000000"
	rec1 := []cardio.TLV{cardio.NewTLV("57", bcd(track2))}
	if e := in.EmbossName; e != "" {
		rec1 = append(rec1, cardio.NewTLV("5F20", []byte(e[:min(len(e), 26)])))
		if len(e) > 26 {
			rec1 = append(rec1, cardio.NewTLV("9F0B", []byte(e)))
		}
	}
	rec1 = append(rec1,
		cardio.NewTLV(emv.TagChineseName, name),
		cardio.NewTLV("9F61", []byte(in.IDNumber.Clear())),
		cardio.NewTLV("9F62", []byte{byte(in.IDType)}),
		cardio.NewTLV("5F30", []byte{0x02, 0x20}),
	)
	rec2 := []cardio.TLV{
		cardio.NewTLV("5A", bcd(pan)),
		cardio.NewTLV("5F24", bcd(expiry.Format("060102"))),
		cardio.NewTLV("5F25", bcd(effective.Format("060102"))),
		cardio.NewTLV("5F28", []byte{0x01, 0x56}),
		cardio.NewTLV("5F34", []byte{in.PSN}),
		cardio.NewTLV("8E", bcdHex("00000000 00000000 4103 4203 1E03 1F00")),
		cardio.NewTLV("9F07", []byte{0xFF, 0x00}),
		cardio.NewTLV("9F08", []byte{0x00, 0x30}),
		cardio.NewTLV("9F0D", bcdHex("D86084A800")),
		cardio.NewTLV("9F0E", bcdHex("0010000000")),
		cardio.NewTLV("9F0F", bcdHex("D86884F800")),
		cardio.NewTLV("8C", CDOL1),
		cardio.NewTLV("8D", CDOL2),
		cardio.NewTLV("9F14", []byte{LowerConsecutiveOfflineLimit}),
		cardio.NewTLV("9F23", []byte{UpperConsecutiveOfflineLimit}),
		cardio.NewTLV("9F49", DDOL),
		cardio.NewTLV("9F4A", []byte{0x82}),
	}
	rec3 := []cardio.TLV{
		cardio.NewTLV("8F", []byte{icert.CAIndex}),
		cardio.NewTLV("90", icert.Certificate),
		cardio.NewTLV("9F32", icert.Exponent),
	}
	if len(icert.Remainder) > 0 {
		rec3 = append(rec3, cardio.NewTLV("92", icert.Remainder))
	}
	records := make([]emv.Record, 0, 4)
	addRecord := func(sfi, num byte, tlvs []cardio.TLV) error {
		raw, err := cardio.EncodeTLV(cardio.NewTemplate("70", tlvs...))
		if err != nil || len(raw) > 254 {
			return invalid("record", fmt.Sprintf("SFI %d record %d does not fit 254 bytes", sfi, num))
		}
		records = append(records, emv.Record{SFI: sfi, Number: num, Raw: raw})
		return nil
	}
	for _, r := range []struct {
		sfi, num byte
		tlvs     []cardio.TLV
	}{{1, 1, rec1}, {2, 1, rec2}, {3, 1, rec3}} {
		if err := addRecord(r.sfi, r.num, r.tlvs); err != nil {
			return nil, err
		}
	}
	afl, err := cardio.ParseAFL(AFL)
	if err != nil {
		return nil, fmt.Errorf("dataprep: AFL: %w", err)
	}
	static, err := emv.StaticData(afl, records, []byte{0x82}, AIP)
	if err != nil {
		return nil, fmt.Errorf("dataprep: static data: %w", err)
	}
	if p.bits/8 > len(icert.Certificate) {
		return nil, invalid("ICC key size", "longer than the issuer key")
	}
	icc, err := p.iccKey()
	if err != nil {
		return nil, fmt.Errorf("dataprep: generate ICC key: %w", err)
	}
	if icc.Size() > len(icert.Certificate) {
		return nil, invalid("ICC key size", "longer than the issuer key")
	}
	var serial [3]byte
	if _, err := io.ReadFull(p.rand, serial[:]); err != nil {
		return nil, fmt.Errorf("dataprep: certificate serial: %w", err)
	}
	ccert, err := issuer.SignICCCertificate(ctx, emv.ICCCertTemplate{PAN: pan, Expiry: expiry, Serial: serial, Key: icc.Public(), StaticData: static})
	if err != nil {
		return nil, fmt.Errorf("dataprep: prepare %s: sign ICC certificate: %w", in.PAN, err)
	}
	rec4 := []cardio.TLV{cardio.NewTLV("9F46", ccert.Certificate), cardio.NewTLV("9F47", ccert.Exponent)}
	if len(ccert.Remainder) > 0 {
		rec4 = append(rec4, cardio.NewTLV("9F48", ccert.Remainder))
	}
	if err := addRecord(3, 2, rec4); err != nil {
		return nil, err
	}
	// The issuer certificate must name the PAN's BIN.
	if icert.IssuerID == "" || !strings.HasPrefix(pan, icert.IssuerID) {
		return nil, fmt.Errorf("dataprep: prepare %s: %w", in.PAN, ErrIssuerMismatch)
	}

	fci, err := cardio.EncodeTLV(
		cardio.NewTLV("50", []byte(in.Label)),
		cardio.NewTLV("87", []byte{0x01}),
		cardio.NewTLV("9F38", PDOL),
		cardio.NewTLV("5F2D", []byte("zhen")),
		cardio.NewTLV("9F11", []byte{0x01}),
		cardio.NewTLV("9F12", []byte(in.PreferredName)),
		cardio.NewTemplate("BF0C", cardio.NewTLV("9F4D", LogEntry)),
	)
	if err != nil {
		return nil, fmt.Errorf("dataprep: FCI: %w", err)
	}
	gpo, _ := cardio.EncodeTLV(cardio.NewTLV("82", AIP), cardio.NewTLV("94", AFL))
	getData, _ := cardio.EncodeTLV(cardio.NewTLV("9F13", []byte{0x00, 0x00}), cardio.NewTLV("9F4F", LogFormat))
	risk := append(append(append(append([]byte(nil), CIACDecline...), CIACOnline...), CIACDefault...), DKI, 0x01)

	ac, err := DeriveOptionA(masters.AC, pan, in.PSN)
	if err != nil {
		return nil, err
	}
	smi, err := DeriveOptionA(masters.SMI, pan, in.PSN)
	if err != nil {
		return nil, err
	}
	smc, err := DeriveOptionA(masters.SMC, pan, in.PSN)
	if err != nil {
		return nil, err
	}
	appKeys := append(append(append([]byte(nil), ac...), smi...), smc...)
	kcv := append(append(append([]byte(nil), ac.KCV()...), smi.KCV()...), smc.KCV()...)
	block, err := emv.PINBlock(in.PIN.digits)
	if err != nil {
		return nil, invalid("PIN", "must be 4 to 12 digits")
	}
	crt := crtParts(icc)

	dgis := []gp.DGI{
		{Tag: DGIRecordSFI1Rec1, Data: records[0].Raw},
		{Tag: DGIRecordSFI2Rec1, Data: records[1].Raw},
		{Tag: DGIRecordSFI3Rec1, Data: records[2].Raw},
		{Tag: DGIRecordSFI3Rec2, Data: records[3].Raw},
		{Tag: DGIFCI, Data: fci},
		{Tag: DGIGPO, Data: gpo},
		{Tag: DGIGetData, Data: getData},
		{Tag: DGIKeyKCV, Data: kcv},
		{Tag: DGIPINTry, Data: []byte{byte(in.PINTryLimit), byte(in.PINTryLimit)}},
		{Tag: DGICardRisk, Data: risk},
		{Tag: DGIAppKeys, Data: appKeys, Sensitive: true},
		{Tag: DGIPIN, Data: block, Sensitive: true},
		{Tag: DGIICCQInv, Data: crt[0], Sensitive: true},
		{Tag: DGIICCDQ, Data: crt[1], Sensitive: true},
		{Tag: DGIICCDP, Data: crt[2], Sensitive: true},
		{Tag: DGIICCPrimeQ, Data: crt[3], Sensitive: true},
		{Tag: DGIICCPrimeP, Data: crt[4], Sensitive: true},
	}
	return &Prepared{
		AID: append(cardio.Hex(nil), in.AID...), DGIs: dgis, PAN: in.PAN, PSN: in.PSN, Expiry: expiry,
		Records: records, ICCPublicKey: icc.Public(), KDD: append(cardio.Hex(nil), in.KDD...),
		legalName: in.LegalName, embossName: in.EmbossName, idNumber: in.IDNumber, idType: in.IDType,
	}, nil
}

func bcdHex(s string) []byte {
	b, _ := hex.DecodeString(strings.ReplaceAll(s, " ", ""))
	return b
}

// crtParts returns q^-1 mod p, d mod (q-1), d mod (p-1), q, p.
func crtParts(k *emv.PrivateKey) [5][]byte {
	p, q, d := new(big.Int).SetBytes(k.P), new(big.Int).SetBytes(k.Q), new(big.Int).SetBytes(k.D)
	one := big.NewInt(1)
	dp := new(big.Int).Mod(d, new(big.Int).Sub(p, one))
	dq := new(big.Int).Mod(d, new(big.Int).Sub(q, one))
	qinv := new(big.Int).ModInverse(q, p)
	return [5][]byte{qinv.Bytes(), dq.Bytes(), dp.Bytes(), q.Bytes(), p.Bytes()}
}

// DeriveOptionA derives a card master key from an issuer master key with
// EMV option A (EMV Book 2, A1.4.1): Y = the rightmost 16 digits of PAN ||
// PSN (left-padded with zeros), Z = 3DES(IMK)[Y] || 3DES(IMK)[Y xor FF..FF],
// with odd parity (emv.DeriveICCMasterKey, which the bank uses too).
func DeriveOptionA(imk gp.Key, pan string, psn byte) (gp.Key, error) {
	if err := imk.Validate(); err != nil {
		return nil, fmt.Errorf("dataprep: option A: %w", err)
	}
	k, err := emv.DeriveICCMasterKey(imk, pan, psn)
	if err != nil {
		return nil, invalid("PAN", "not digits")
	}
	return gp.Key(k), nil
}
