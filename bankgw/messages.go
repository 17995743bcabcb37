package bankgw

import (
	"fmt"
	"slices"
	"time"

	"github.com/moov-io/iso8583"
)

// MTIs of docs/bank-interface.md.
const (
	MTINetworkRequest      = "0800"
	MTINetworkResponse     = "0810"
	MTIFileUpdateRequest   = "0300"
	MTIFileUpdateRepeat    = "0301"
	MTIFileUpdateResponse  = "0310"
	MTIAdvice              = "0220"
	MTIAdviceRepeat        = "0221"
	MTIAdviceResponse      = "0230"
	MTIReversalRequest     = "0420"
	MTIReversalRepeat      = "0421"
	MTIReversalResponse    = "0430"
	MTIAuthRequest         = "0100"
	MTIAuthResponse        = "0110"
	networkSignOn          = "001"
	networkSignOff         = "002"
	networkEcho            = "301"
	processingSpending     = "000000"
	processingRefund       = "200000"
	processingActivation   = "900000"
	currencyCNY            = "156"
	fileNameApplications   = "VOLCARD.APP"
	originalDataZeroFiller = "0000000000000000000000"
)

// Network management codes (field 70).
const (
	NetworkSignOn  = networkSignOn
	NetworkSignOff = networkSignOff
	NetworkEcho    = networkEcho
)

// Processing codes of advices (field 3).
const (
	ProcessingSpending   = processingSpending
	ProcessingRefund     = processingRefund
	ProcessingActivation = processingActivation
)

// CurrencyCNY is the ISO 4217 numeric code of the renminbi (field 49).
const CurrencyCNY = currencyCNY

// FileName is the value of field 101 in every file update.
const FileName = fileNameApplications

// knownMTIs are the MTIs a frame may carry.
var knownMTIs = []string{
	MTINetworkRequest, MTINetworkResponse, MTIFileUpdateRequest, MTIFileUpdateRepeat,
	MTIFileUpdateResponse, MTIAdvice, MTIAdviceRepeat, MTIAdviceResponse,
	MTIReversalRequest, MTIReversalRepeat, MTIReversalResponse, MTIAuthRequest, MTIAuthResponse,
}

// KnownMTI reports whether mti is one of the MTIs of the specification.
func KnownMTI(mti string) bool { return slices.Contains(knownMTIs, mti) }

// Header holds the fields every message carries and every response echoes:
// they make up the matching key (docs/bank-interface.md, section 5).
type Header struct {
	MTI                  string `iso8583:"0"`
	TransmissionDateTime string `iso8583:"7"`
	STAN                 string `iso8583:"11"`
	TerminalID           string `iso8583:"41"`
	InstitutionID        string `iso8583:"42"`
}

// NetworkMessage is a 0800 network management request or its 0810
// response.
type NetworkMessage struct {
	Header
	ResponseCode string `iso8583:"39"`
	NetworkCode  string `iso8583:"70"`
}

// FileUpdateMessage is a 0300 card application file update, its 0301
// repeat or the 0310 response.
type FileUpdateMessage struct {
	Header
	PAN            string `iso8583:"2"`
	Expiry         string `iso8583:"14"`
	PSN            string `iso8583:"23"`
	RRN            string `iso8583:"37"`
	ResponseCode   string `iso8583:"39"`
	PrivateData    string `iso8583:"48"`
	FileUpdateCode string `iso8583:"91"`
	FileName       string `iso8583:"101"`
}

// AdviceMessage is a 0220 advice from the bank, its 0221 repeat, or the
// 0230 response.
type AdviceMessage struct {
	Header
	PAN            string `iso8583:"2"`
	ProcessingCode string `iso8583:"3"`
	Amount         string `iso8583:"4"`
	LocalTime      string `iso8583:"12"`
	LocalDate      string `iso8583:"13"`
	MCC            string `iso8583:"18"`
	RRN            string `iso8583:"37"`
	AuthCode       string `iso8583:"38"`
	ResponseCode   string `iso8583:"39"`
	AcceptorName   string `iso8583:"43"`
	PrivateData    string `iso8583:"48"`
	Currency       string `iso8583:"49"`
}

// ReversalMessage is a 0420 reversal, its 0421 repeat, or the 0430
// response. In requests ResponseCode is the reversal reason.
type ReversalMessage struct {
	Header
	RRN            string `iso8583:"37"`
	ResponseCode   string `iso8583:"39"`
	PrivateData    string `iso8583:"48"`
	OriginalData   string `iso8583:"90"`
	FileUpdateCode string `iso8583:"91"`
	FileName       string `iso8583:"101"`
}

// AuthorizationMessage is a 0100 authorization request of a chip card
// transaction (the card's ARQC in field 55) or its 0110 response (the
// issuer authentication data in field 55).
type AuthorizationMessage struct {
	Header
	PAN            string `iso8583:"2"`
	ProcessingCode string `iso8583:"3"`
	Amount         string `iso8583:"4"`
	LocalTime      string `iso8583:"12"`
	LocalDate      string `iso8583:"13"`
	Expiry         string `iso8583:"14"`
	PSN            string `iso8583:"23"`
	RRN            string `iso8583:"37"`
	AuthCode       string `iso8583:"38"`
	ResponseCode   string `iso8583:"39"`
	Currency       string `iso8583:"49"`
	ICCData        []byte `iso8583:"55"`
}

// NewMessage returns a message of Spec holding the fields of v, one of the
// *XxxMessage structs of this package. Empty strings are left out.
func NewMessage(v any) (*iso8583.Message, error) {
	msg := iso8583.NewMessage(Spec)
	if err := msg.Marshal(v); err != nil {
		return nil, fmt.Errorf("marshal %T: %w", v, err)
	}
	return msg, nil
}

// Pack packs v (one of the *XxxMessage structs) with Spec, without the
// length header and without a MAC.
func Pack(v any) ([]byte, error) {
	msg, err := NewMessage(v)
	if err != nil {
		return nil, err
	}
	b, err := msg.Pack()
	if err != nil {
		return nil, fmt.Errorf("pack %T: %w", v, err)
	}
	return b, nil
}

// Unpack parses a packed message (no length header) with Spec and checks
// what the library does not: a known MTI and digits in every n field. The
// error never holds field values.
func Unpack(b []byte) (*iso8583.Message, error) {
	msg := iso8583.NewMessage(Spec)
	if err := msg.Unpack(b); err != nil {
		return nil, unpackFailure(b, err)
	}
	if err := validate(msg); err != nil {
		return nil, &FrameError{Length: len(b), MTI: mtiOf(b), Reason: err.Error()}
	}
	return msg, nil
}

// Decode copies the fields of msg into v, one of the *XxxMessage structs.
func Decode(msg *iso8583.Message, v any) error {
	if err := msg.Unmarshal(v); err != nil {
		return fmt.Errorf("unmarshal into %T: %w", v, err)
	}
	return nil
}

func validate(msg *iso8583.Message) error {
	mti, err := msg.GetMTI()
	if err != nil || !KnownMTI(mti) {
		return ErrUnknownMTI
	}
	if bm := msg.Bitmap(); bm != nil && bm.Len() > 128 {
		return fmt.Errorf("tertiary bitmap: %w", ErrFormat)
	}
	fields := msg.GetFields()
	for _, id := range numericFields {
		f, ok := fields[id]
		if !ok {
			continue
		}
		s, err := f.String()
		if err != nil {
			return fmt.Errorf("field %d: %w", id, ErrFormat)
		}
		if !isDigits(s) {
			return fmt.Errorf("field %d not numeric: %w", id, ErrFormat)
		}
	}
	return nil
}

func isDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// mtiOf returns the first four bytes of a frame when they are digits, for
// logging an unreadable frame.
func mtiOf(b []byte) string {
	if len(b) >= 4 && isDigits(string(b[:4])) {
		return string(b[:4])
	}
	return "????"
}

// beijing is China Standard Time (UTC+08:00), the zone of fields 12 and 13.
var beijing = time.FixedZone("CST", 8*3600)

// TransmissionDateTime formats t as field 7 (MMDDhhmmss, UTC).
func TransmissionDateTime(t time.Time) string { return t.UTC().Format("0102150405") }

// matchKey is the request/response matching key of section 5: MTI class,
// STAN, terminal id, institution id, transmission date-time.
func matchKey(msg *iso8583.Message) (string, error) {
	mti, err := msg.GetMTI()
	if err != nil || len(mti) != 4 {
		return "", fmt.Errorf("match key: %w", ErrUnknownMTI)
	}
	fields := msg.GetFields()
	get := func(id int) string {
		if f, ok := fields[id]; ok {
			v, _ := f.String()
			return v
		}
		return ""
	}
	stan := get(FieldSTAN)
	if stan == "" {
		return "", fmt.Errorf("match key: %w", ErrMissingSTAN)
	}
	return mti[1:2] + "|" + stan + "|" + get(FieldTerminalID) + "|" + get(FieldInstitutionID) + "|" + get(FieldTransmissionDateTime), nil
}

// MatchKey returns the request/response matching key of a message
// (docs/bank-interface.md, section 5).
func MatchKey(msg *iso8583.Message) (string, error) { return matchKey(msg) }

// OriginalData builds field 90 from the original MTI, STAN and field 7.
func OriginalData(mti, stan, transmission string) string {
	return mti + stan + transmission + originalDataZeroFiller
}
