package cardsim

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"

	"github.com/volcard/volcard/cardio"
	"github.com/volcard/volcard/cardio/emv"
)

// ErrInvalidImage means a card image is inconsistent or malformed.
var ErrInvalidImage = errors.New("cardsim: invalid card image")

// ErrNewerFormat means a card file was written in a format version newer
// than this program knows (Image.Format above CurrentFormat): loading it
// would drop state it does not understand.
var ErrNewerFormat = errors.New("cardsim: card file written by a newer volcard")

// ErrOldFormat means a card file of an older format holds state this
// program cannot carry on: a format 1 card personalized before volcard's
// cards ran payments (application keys without the payment part).
var ErrOldFormat = errors.New("cardsim: card file of an older volcard")

// CurrentFormat is the card file format version this package reads and
// writes. Adding a field with a zero value that means "none yet" (an empty
// log, a counter at zero) keeps the version; a change that older programs
// would misread raises it.
//
// Format 1 kept a personalized application's DGI 8000 keys in "keys";
// format 2 keeps them in "payment" with the card risk management
// parameters (DGI 9200) and the payment state. Format 1 files load unless
// they hold "keys" (ErrOldFormat): such a card lacks the payment data and
// must be personalized again from a blank card.
const CurrentFormat = 2

// DefaultATR is used when an image has no ATR: T=0, historical bytes
// ending in "VOLCARD".
var DefaultATR = cardio.Hex{0x3B, 0x6C, 0x00, 0x00, 0x80, 0x73, 0xC8, 0x21, 0x13, 0x56, 0x4F, 0x4C, 0x43, 0x41, 0x52, 0x44}

// Image is the content of a software card, stored as JSON: a card file.
// The same format holds a blank card, a personalized card and a card saved
// after use (Card.Image, Card.Save): everything the card keeps across a
// power-off is in it — files (records, FCI, GET DATA objects), keys (ICC
// private key, security domain keys, and the application keys in
// Application.Payment), counters (ATC, PIN try counter, SCP02 sequence
// counter), the payment state (last online ATC, issuer authentication
// flags, transaction log) and the security domain's remaining instances.
//
// To add persistent state: add the field here or to Application (with
// omitempty, zero meaning "none yet", so older files still load), have
// build or compileApp read it, and have Card.Image export its live value;
// TestSaveRoundTrip compares a used card with its saved and reloaded copy.
type Image struct {
	// Format is the card file format version; 0 (absent) means 1. Load
	// refuses files newer than CurrentFormat; Card.Image and NewBlankImage
	// write CurrentFormat.
	Format int `json:"format,omitempty"`
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

// Load reads a card file (a JSON card image) and builds the card.
func Load(path string) (*Card, error) {
	img, err := LoadImage(path)
	if err != nil {
		return nil, err
	}
	return New(img)
}

// LoadImage reads a card file without building a card (tests tweak images
// before calling New). Unknown fields are refused rather than dropped, and
// so is a format newer than CurrentFormat: a card saved again after such a
// load would lose state.
func LoadImage(path string) (Image, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return Image{}, fmt.Errorf("cardsim: load image: %w", err)
	}
	img, err := ParseImage(b)
	if err != nil {
		return Image{}, fmt.Errorf("cardsim: load image %s: %w", path, err)
	}
	return img, nil
}

// ParseImage decodes a card file's content (see LoadImage).
func ParseImage(b []byte) (Image, error) {
	// The version first, so that a newer file is refused as newer rather
	// than for the fields it adds, and a format 1 personalized card (keys
	// in "keys") with a message saying what to do.
	var head struct {
		Format       int `json:"format"`
		Applications []struct {
			Keys json.RawMessage `json:"keys"`
		} `json:"applications"`
	}
	if json.Unmarshal(b, &head) == nil {
		if head.Format > CurrentFormat {
			return Image{}, fmt.Errorf("format %d, this program knows %d: %w", head.Format, CurrentFormat, ErrNewerFormat)
		}
		for _, a := range head.Applications {
			if head.Format <= 1 && a.Keys != nil {
				return Image{}, fmt.Errorf("format 1 card personalized without the payment part (DGI 9200): personalize a new blank card: %w", ErrOldFormat)
			}
		}
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	var img Image
	if err := dec.Decode(&img); err != nil {
		return Image{}, fmt.Errorf("%v: %w", err, ErrInvalidImage)
	}
	if dec.More() {
		return Image{}, fmt.Errorf("data after the card image: %w", ErrInvalidImage)
	}
	if img.Format > CurrentFormat {
		return Image{}, fmt.Errorf("format %d, this program knows %d: %w", img.Format, CurrentFormat, ErrNewerFormat)
	}
	if img.Format < 0 {
		return Image{}, fmt.Errorf("format %d: %w", img.Format, ErrInvalidImage)
	}
	return img, nil
}

// Save writes img as indented JSON, atomically: a new file in the same
// directory renamed over path, so a crash leaves the old card or the new
// one, never half of either. The file is private to its owner (0600): it
// holds the card's keys.
func (img Image) Save(path string) error {
	b, err := json.MarshalIndent(img, "", "  ")
	if err != nil {
		return fmt.Errorf("cardsim: save image: %w", err)
	}
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return fmt.Errorf("cardsim: save image: %w", err)
	}
	tmp := f.Name()
	_, err = f.Write(append(b, '\n'))
	if err == nil {
		err = f.Chmod(0o600)
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		_ = os.Remove(tmp)
		return fmt.Errorf("cardsim: save image: %w", err)
	}
	return nil
}
