package cardsim

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"slices"

	"github.com/volcard/volcard/cardio"
	"github.com/volcard/volcard/cardio/emv"
)

// ErrInvalidImage means a card image is inconsistent or malformed.
var ErrInvalidImage = errors.New("cardsim: invalid card image")

// DefaultATR is used when an image has no ATR: T=0, historical bytes
// ending in "VOLCARD".
var DefaultATR = cardio.Hex{0x3B, 0x6C, 0x00, 0x00, 0x80, 0x73, 0xC8, 0x21, 0x13, 0x56, 0x4F, 0x4C, 0x43, 0x41, 0x52, 0x44}

// Image is the content of a software card, stored as JSON.
type Image struct {
	// Description says what the card is for (tests, docs).
	Description string `json:"description"`
	// ATR is the answer to reset; DefaultATR when empty.
	ATR cardio.Hex `json:"atr,omitempty"`
	// PPSE makes the card answer SELECT 2PAY.SYS.DDF01 with a directory of
	// its applications.
	PPSE bool `json:"ppse"`
	// PSE makes the card answer SELECT 1PAY.SYS.DDF01 and serve its
	// directory records (one application per record) in PSESFI.
	PSE bool `json:"pse"`
	// PSESFI is the SFI of the PSE directory file; 1 when zero.
	PSESFI int `json:"pseSFI,omitempty"`
	// PIN is the offline PIN (4 to 12 digits); empty means no VERIFY support.
	PIN string `json:"pin,omitempty"`
	// PINTryLimit is the PIN try limit (PBOC: 3).
	PINTryLimit int `json:"pinTryLimit,omitempty"`
	// PINTryCounter is the initial PIN try counter; the limit when nil.
	PINTryCounter *int `json:"pinTryCounter,omitempty"`
	// ATC is the initial application transaction counter.
	ATC int `json:"atc"`
	// Applications are the payment applications.
	Applications []Application `json:"applications"`
	// OtherAIDs are non-payment applications that answer SELECT with a bare FCI.
	OtherAIDs []cardio.Hex `json:"otherAIDs,omitempty"`
	// Kind is "" for a personalized card (the fields above say everything)
	// or KindBlank for a blank card: no application data yet, a security
	// domain (GP) that accepts personalization (see blank.go).
	Kind string `json:"kind,omitempty"`
	// GP is the GlobalPlatform security domain; required for a blank card,
	// kept (with its live sequence counter) on a card personalized from one.
	GP *GPImage `json:"gp,omitempty"`
}

// Application is one payment application of an image.
type Application struct {
	// AID is the application identifier (DF name, 84).
	AID cardio.Hex `json:"aid"`
	// FCI is the content of the FCI proprietary template A5: 50 label,
	// 87 priority, 9F38 PDOL, 5F2D language, 9F11, 9F12, BF0C.
	FCI []Field `json:"fci"`
	// GPOFormat is 1 (tag 80) or 2 (tag 77) for the GPO response.
	GPOFormat int `json:"gpoFormat"`
	// AIP is the application interchange profile (82).
	AIP cardio.Hex `json:"aip"`
	// AFL is the application file locator (94).
	AFL cardio.Hex `json:"afl"`
	// Records are the records the AFL points at.
	Records []Record `json:"records"`
	// Data are extra GET DATA objects; 9F36 (ATC) and 9F17 (PIN try
	// counter) are always served from the live counters.
	Data []Field `json:"data,omitempty"`
	// ICCKey is the ICC private key for DDA; nil means the card does not
	// support INTERNAL AUTHENTICATE (6D00).
	ICCKey *emv.PrivateKey `json:"iccPrivateKey,omitempty"`
	// DDAFormat is 1 (80) or 2 (77 with 9F4B) for INTERNAL AUTHENTICATE; 2 when zero.
	DDAFormat int `json:"ddaFormat,omitempty"`
	// Payment holds the application's card master keys, card risk
	// management parameters and live payment state (GENERATE AC, EXTERNAL
	// AUTHENTICATE, transaction log); nil means the application does not
	// support GENERATE AC or EXTERNAL AUTHENTICATE (6D00). The GENERATE AC
	// response uses GPOFormat (1: tag 80, 2: template 77).
	Payment *Payment `json:"payment,omitempty"`
}

// Payment is the payment part of an application (docs/card-profile.md,
// "GENERATE AC"): personalized keys and parameters, and the state the card
// keeps across transactions, exported live by Card.Image.
type Payment struct {
	// AC, SMI and SMC are the card master keys MK-AC, MK-SMI and MK-SMC
	// (16 bytes each), derived from the issuer master keys by EMV option A.
	// Only AC is used (application cryptograms, ARPC); SMI and SMC are kept
	// for issuer scripts. TEST keys in committed images.
	AC  cardio.Hex `json:"ac"`
	SMI cardio.Hex `json:"smi,omitempty"`
	SMC cardio.Hex `json:"smc,omitempty"`
	// DKI is the derivation key index written in 9F10.
	DKI int `json:"dki"`
	// CIACDecline, CIACOnline and CIACDefault are the card issuer action
	// codes, 3 bytes each, matched against the CVR (card risk management).
	CIACDecline cardio.Hex `json:"ciacDecline"`
	CIACOnline  cardio.Hex `json:"ciacOnline"`
	CIACDefault cardio.Hex `json:"ciacDefault"`
	// IssuerAuthRequired makes the card answer the second GENERATE AC of an
	// online transaction with an AAC unless EXTERNAL AUTHENTICATE succeeded.
	IssuerAuthRequired bool `json:"issuerAuthRequired,omitempty"`

	// LastOnlineATC is the last online ATC register (GET DATA 9F13): the
	// ATC of the last online transaction whose issuer authentication succeeded.
	LastOnlineATC int `json:"lastOnlineATC"`
	// IssuerAuthFailed records that issuer authentication failed (or was
	// required and not done) on the last online transaction.
	IssuerAuthFailed bool `json:"issuerAuthFailed,omitempty"`
	// OnlineIncomplete records an ARQC that got no second GENERATE AC.
	OnlineIncomplete bool `json:"onlineIncomplete,omitempty"`
	// Log is the transaction log, newest first: one record per transaction
	// the card approved (TC), each the values named by the log format 9F4F.
	Log []cardio.Hex `json:"log,omitempty"`
}

// clone returns a deep copy.
func (p *Payment) clone() *Payment {
	if p == nil {
		return nil
	}
	q := *p
	q.AC, q.SMI, q.SMC = slices.Clone(p.AC), slices.Clone(p.SMI), slices.Clone(p.SMC)
	q.CIACDecline, q.CIACOnline, q.CIACDefault = slices.Clone(p.CIACDecline), slices.Clone(p.CIACOnline), slices.Clone(p.CIACDefault)
	q.Log = make([]cardio.Hex, len(p.Log))
	for i, r := range p.Log {
		q.Log[i] = slices.Clone(r)
	}
	if len(q.Log) == 0 {
		q.Log = nil
	}
	return &q
}

// Record is one record of an application file.
type Record struct {
	SFI    int     `json:"sfi"`
	Number int     `json:"number"`
	Fields []Field `json:"fields"`
	// Note explains what the record holds.
	Note string `json:"note,omitempty"`
}

// Field is one BER-TLV data object: a primitive (Value) or a template
// (Fields).
type Field struct {
	Tag    string     `json:"tag"`
	Value  cardio.Hex `json:"value,omitempty"`
	Fields []Field    `json:"fields,omitempty"`
	// Note is a human-readable rendering of Value (not used by the card).
	Note string `json:"note,omitempty"`
}

// TLV converts f (recursively) to a cardio.TLV.
func (f Field) TLV() cardio.TLV {
	if len(f.Fields) > 0 {
		kids := make([]cardio.TLV, len(f.Fields))
		for i, k := range f.Fields {
			kids[i] = k.TLV()
		}
		return cardio.NewTemplate(f.Tag, kids...)
	}
	return cardio.NewTLV(f.Tag, f.Value)
}

// Encode returns the BER-TLV encoding of fields.
func Encode(fields []Field) ([]byte, error) {
	tlvs := make([]cardio.TLV, len(fields))
	for i, f := range fields {
		tlvs[i] = f.TLV()
	}
	return cardio.EncodeTLV(tlvs...)
}

// Find returns the first field with tag (searching templates too).
func Find(fields []Field, tag string) (Field, bool) {
	for _, f := range fields {
		if f.Tag == tag {
			return f, true
		}
		if g, ok := Find(f.Fields, tag); ok {
			return g, true
		}
	}
	return Field{}, false
}

// Load reads a JSON card image and builds the card.
func Load(path string) (*Card, error) {
	img, err := LoadImage(path)
	if err != nil {
		return nil, err
	}
	return New(img)
}

// LoadImage reads a JSON card image without building a card (tests tweak
// images before calling New).
func LoadImage(path string) (Image, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return Image{}, fmt.Errorf("cardsim: load image: %w", err)
	}
	var img Image
	if err := json.Unmarshal(b, &img); err != nil {
		return Image{}, fmt.Errorf("cardsim: load image %s: %v: %w", path, err, ErrInvalidImage)
	}
	return img, nil
}

// Save writes img as indented JSON.
func (img Image) Save(path string) error {
	b, err := json.MarshalIndent(img, "", "  ")
	if err != nil {
		return fmt.Errorf("cardsim: save image: %w", err)
	}
	if err := os.WriteFile(path, append(b, '\n'), 0o644); err != nil {
		return fmt.Errorf("cardsim: save image: %w", err)
	}
	return nil
}
