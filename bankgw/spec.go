package bankgw

import (
	"github.com/moov-io/iso8583"
	"github.com/moov-io/iso8583/encoding"
	"github.com/moov-io/iso8583/field"
	"github.com/moov-io/iso8583/prefix"
)

// Field numbers used by the specification (docs/bank-interface.md, 2.3).
const (
	FieldPAN                  = 2
	FieldProcessingCode       = 3
	FieldAmount               = 4
	FieldTransmissionDateTime = 7
	FieldSTAN                 = 11
	FieldLocalTime            = 12
	FieldLocalDate            = 13
	FieldExpiry               = 14
	FieldMCC                  = 18
	FieldPSN                  = 23
	FieldRRN                  = 37
	FieldAuthCode             = 38
	FieldResponseCode         = 39
	FieldTerminalID           = 41
	FieldInstitutionID        = 42
	FieldAcceptorName         = 43
	FieldPrivateData          = 48
	FieldCurrency             = 49
	FieldICCData              = 55
	FieldNetworkCode          = 70
	FieldOriginalData         = 90
	FieldFileUpdateCode       = 91
	FieldFileName             = 101
	FieldMAC                  = 128
)

// numericFields are the fields of format n; unpacking checks they hold only
// digits (the library's String field does not).
var numericFields = []int{0, FieldPAN, FieldProcessingCode, FieldAmount, FieldTransmissionDateTime,
	FieldSTAN, FieldLocalTime, FieldLocalDate, FieldExpiry, FieldMCC, FieldPSN, FieldCurrency,
	FieldNetworkCode, FieldOriginalData}

// fixedN returns a fixed-length numeric field. Values are always written
// at full width (zero-filled by the message constructors).
func fixedN(length int, desc string) field.Field {
	return field.NewString(&field.Spec{
		Length:      length,
		Description: desc,
		Enc:         encoding.ASCII,
		Pref:        prefix.ASCII.Fixed,
	})
}

func fixedAN(length int, desc string) field.Field {
	return field.NewString(&field.Spec{
		Length:      length,
		Description: desc,
		Enc:         encoding.ASCII,
		Pref:        prefix.ASCII.Fixed,
	})
}

func varASCII(pref prefix.Prefixer, maxLen int, desc string) field.Field {
	return field.NewString(&field.Spec{
		Length:      maxLen,
		Description: desc,
		Enc:         encoding.ASCII,
		Pref:        pref,
	})
}

func varUTF8(pref prefix.Prefixer, maxLen int, desc string) field.Field {
	return field.NewString(&field.Spec{
		Length:      maxLen,
		Description: desc,
		Enc:         encoding.Binary,
		Pref:        pref,
	})
}

// Spec is the ISO 8583 message specification of docs/bank-interface.md:
// ASCII MTI, 8-byte binary bitmaps (a secondary bitmap only when a field
// 65–128 is present), ASCII fields and ASCII length prefixes. Fields 43 and
// 48 carry UTF-8 bytes, field 55 binary BER-TLV.
var Spec = &iso8583.MessageSpec{
	Name: "volcard bank interface v1",
	Fields: map[int]field.Field{
		0: fixedN(4, "Message Type Indicator"),
		1: field.NewBitmap(&field.Spec{
			Length:      8,
			Description: "Bitmap",
			Enc:         encoding.Binary,
			Pref:        prefix.Binary.Fixed,
		}),
		FieldPAN:                  varASCII(prefix.ASCII.LL, 19, "Primary Account Number"),
		FieldProcessingCode:       fixedN(6, "Processing Code"),
		FieldAmount:               fixedN(12, "Amount, Transaction"),
		FieldTransmissionDateTime: fixedN(10, "Transmission Date and Time"),
		FieldSTAN:                 fixedN(6, "System Trace Audit Number"),
		FieldLocalTime:            fixedN(6, "Time, Local Transaction"),
		FieldLocalDate:            fixedN(4, "Date, Local Transaction"),
		FieldExpiry:               fixedN(4, "Date, Expiration"),
		FieldMCC:                  fixedN(4, "Merchant Type"),
		FieldPSN:                  fixedN(3, "Card Sequence Number"),
		FieldRRN:                  fixedAN(12, "Retrieval Reference Number"),
		FieldAuthCode:             fixedAN(6, "Authorization Identification Response"),
		FieldResponseCode:         fixedAN(2, "Response Code"),
		FieldTerminalID:           fixedAN(8, "Card Acceptor Terminal Identification"),
		FieldInstitutionID:        fixedAN(15, "Card Acceptor Identification Code"),
		FieldAcceptorName:         varUTF8(prefix.ASCII.LL, 99, "Card Acceptor Name/Location"),
		FieldPrivateData:          varUTF8(prefix.ASCII.LLL, 999, "Additional Data - Private (TLV)"),
		FieldCurrency:             fixedN(3, "Currency Code, Transaction"),
		FieldICCData: field.NewBinary(&field.Spec{
			Length:      MaxICCData,
			Description: "ICC System Related Data (BER-TLV)",
			Enc:         encoding.Binary,
			Pref:        prefix.ASCII.LLL,
		}),
		FieldNetworkCode:    fixedN(3, "Network Management Information Code"),
		FieldOriginalData:   fixedN(42, "Original Data Elements"),
		FieldFileUpdateCode: fixedAN(1, "File Update Code"),
		FieldFileName:       varASCII(prefix.ASCII.LL, 17, "File Name"),
		FieldMAC: field.NewBinary(&field.Spec{
			Length:      8,
			Description: "Message Authentication Code",
			Enc:         encoding.Binary,
			Pref:        prefix.Binary.Fixed,
		}),
	},
}
