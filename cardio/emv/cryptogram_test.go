package emv_test

import (
	"bytes"
	"crypto/cipher"
	"crypto/des"
	"errors"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/volcard/volcard/cardio"
	"github.com/volcard/volcard/cardio/emv"
)

// tdesECB encrypts one block under a 2-key triple-DES key, written apart
// from the package's own code so that the tests check it against the
// definitions rather than against itself.
func tdesECB(t *testing.T, key, block []byte) []byte {
	t.Helper()
	c, err := des.NewTripleDESCipher(append(append([]byte(nil), key...), key[:8]...))
	require.NoError(t, err)
	out := make([]byte, 8)
	c.Encrypt(out, block)
	return out
}

// testMK is a made-up card master key.
var testMK = []byte{0x01, 0x23, 0x45, 0x67, 0x89, 0xAB, 0xCD, 0xEF, 0xFE, 0xDC, 0xBA, 0x98, 0x76, 0x54, 0x32, 0x10}

func TestDeriveICCMasterKey(t *testing.T) {
	imk := mustHex(t, "0123456789ABCDEFFEDCBA9876543210")
	got, err := emv.DeriveICCMasterKey(imk, "6217850000123455", 0x01)
	require.NoError(t, err)
	yv := mustHex(t, "1785000012345501") // "6217850000123455" ‖ "01", rightmost 16 digits
	yx := make([]byte, 8)
	for i := range yv {
		yx[i] = ^yv[i]
	}
	want := append(tdesECB(t, imk, yv), tdesECB(t, imk, yx)...)
	for i := range want { // odd parity
		b, n := want[i], 0
		for j := 1; j < 8; j++ {
			n += int(b>>j) & 1
		}
		if n%2 == 0 {
			want[i] = b | 1
		} else {
			want[i] = b &^ 1
		}
	}
	require.Equal(t, want, got)

	short, err := emv.DeriveICCMasterKey(imk, "621785000012", 0x00)
	require.NoError(t, err)
	padded, err := emv.DeriveICCMasterKey(imk, "0000621785000012", 0x00)
	require.NoError(t, err)
	require.Equal(t, short, padded, "short PAN ‖ PSN is left-padded with zeros")

	_, err = emv.DeriveICCMasterKey(imk, "62178500001234A5", 0x01)
	require.ErrorIs(t, err, emv.ErrCryptoInput)
	_, err = emv.DeriveICCMasterKey(imk[:8], "6217850000123455", 0x01)
	require.ErrorIs(t, err, emv.ErrCryptoInput)
}

func TestSessionKeys(t *testing.T) {
	pboc, err := emv.SessionKeyPBOC(testMK, 0x0012)
	require.NoError(t, err)
	require.Equal(t, append(tdesECB(t, testMK, mustHex(t, "0000000000000012")), tdesECB(t, testMK, mustHex(t, "000000000000FFED"))...), pboc)
	csk, err := emv.SessionKeyEMV(testMK, 0x0012)
	require.NoError(t, err)
	require.Equal(t, append(tdesECB(t, testMK, mustHex(t, "0012F00000000000")), tdesECB(t, testMK, mustHex(t, "00120F0000000000"))...), csk)
	require.NotEqual(t, pboc, csk)
	_, err = emv.SessionKeyPBOC(testMK[:15], 1)
	require.ErrorIs(t, err, emv.ErrCryptoInput)
}

// retailMAC is ISO 9797-1 MAC algorithm 3 written as the standard words it:
// DES-CBC under K1 over the padded data, the last output block then
// decrypted under K2 and encrypted under K1.
func retailMAC(t *testing.T, key, data []byte) []byte {
	t.Helper()
	p := append(append([]byte(nil), data...), 0x80)
	for len(p)%8 != 0 {
		p = append(p, 0)
	}
	k1, err := des.NewCipher(key[:8])
	require.NoError(t, err)
	k2, err := des.NewCipher(key[8:])
	require.NoError(t, err)
	out := make([]byte, len(p))
	cipher.NewCBCEncrypter(k1, make([]byte, 8)).CryptBlocks(out, p)
	h := out[len(out)-8:]
	k2.Decrypt(h, h)
	k1.Encrypt(h, h)
	return h
}

func TestCryptogramMACAndARPC(t *testing.T) {
	for _, n := range []int{0, 7, 8, 37, 64} {
		data := bytes.Repeat([]byte{0xA5}, n)
		got, err := emv.CryptogramMAC(testMK, data)
		require.NoError(t, err)
		require.Equal(t, retailMAC(t, testMK, data), got, "length %d", n)
	}
	arqc := mustHex(t, "1122334455667788")
	arpc, err := emv.ARPCMethod1(testMK, arqc, []byte("00"))
	require.NoError(t, err)
	require.Equal(t, tdesECB(t, testMK, mustHex(t, "2112334455667788")), arpc, "ARQC xor 3030000000000000")
	_, err = emv.ARPCMethod1(testMK, arqc[:7], []byte("00"))
	require.ErrorIs(t, err, emv.ErrCryptoInput)
}

func TestCryptogramInput(t *testing.T) {
	values := map[string][]byte{
		"9F02": mustHex(t, "000000000100"), "9F03": mustHex(t, "000000000000"), "9F1A": mustHex(t, "0156"),
		"95": mustHex(t, "0000000000"), "5F2A": mustHex(t, "0156"), "9A": mustHex(t, "261123"), "9C": {0x00},
		"9F37": mustHex(t, "11223344"), "9F21": mustHex(t, "093000"),
	}
	iad := emv.IssuerApplicationData{DKI: 1, CVN: emv.CVNPBOC, CVR: [3]byte{0xA0, 0x10, 0x02}, Algorithm: 1}
	in, err := emv.CryptogramInput(values, []byte{0x7C, 0x00}, 0x0011, iad)
	require.NoError(t, err)
	require.Equal(t, mustHex(t, "000000000100 000000000000 0156 0000000000 0156 261123 00 11223344 7C00 0011 03A01002"), cardio.Hex(in))
	delete(values, "9F37")
	_, err = emv.CryptogramInput(values, []byte{0x7C, 0x00}, 1, iad)
	require.ErrorIs(t, err, emv.ErrCryptoInput)
	require.Equal(t, mustHex(t, "07010103A0100201"), cardio.Hex(iad.Encode()))
	back, err := emv.ParseIssuerApplicationData(iad.Encode())
	require.NoError(t, err)
	require.Equal(t, iad, back)
}

func TestGenerateACResponseFormats(t *testing.T) {
	r := emv.ACResponse{CID: byte(emv.ARQC), ATC: 0x0102, Cryptogram: mustHex(t, "0102030405060708"), IAD: mustHex(t, "07010103A0000001")}
	for _, format := range []int{1, 2} {
		b, err := r.Encode(format)
		require.NoError(t, err)
		got, err := emv.ParseGenerateACResponse(b)
		require.NoError(t, err)
		r.Format = format
		require.Equal(t, r, got)
		require.Equal(t, emv.ARQC, got.Type())
	}
	f1, _ := r.Encode(1)
	require.Equal(t, mustHex(t, "8013 80 0102 0102030405060708 07010103A0000001"), cardio.Hex(f1))
	for name, in := range map[string]string{
		"format 1 too short":          "800A800102010203040506",
		"format 2 without cryptogram": "770A9F2701809F3602010200",
		"unknown template":            "7103800102",
		"two objects":                 "8001008001 00",
	} {
		_, err := emv.ParseGenerateACResponse(mustHex(t, in))
		require.Error(t, err, name)
		require.True(t, errors.Is(err, emv.ErrMalformedData) || errors.Is(err, emv.ErrMissingData), name)
	}
}

// FuzzParseGenerateACResponse: any GENERATE AC response data parses into
// a response that encodes back to data that parses to the same values,
// or fails with ErrMalformedData or ErrMissingData.
func FuzzParseGenerateACResponse(f *testing.F) {
	for _, s := range []string{
		"8013800102010203040506070807010103A0000001",
		"801B40001189ABCDEF0123456707010103A0100201",
		"771E9F2701809F360201029F26080102030405060708 9F100807010103A0000001",
		"770E9F2701009F3602FFFF9F2602AABB",
		"800B00000000000000000000",
		"77039F2700",
	} {
		f.Add([]byte(mustHex(f, s)))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		r, err := emv.ParseGenerateACResponse(b)
		if err != nil {
			if !errors.Is(err, emv.ErrMalformedData) && !errors.Is(err, emv.ErrMissingData) {
				t.Fatalf("error %v is neither ErrMalformedData nor ErrMissingData", err)
			}
			return
		}
		if len(r.Cryptogram) != 8 || len(r.IAD) > 32 || r.Format != 1 && r.Format != 2 {
			t.Fatalf("parsed %+v", r)
		}
		enc, err := r.Encode(r.Format)
		if err != nil {
			t.Fatalf("encode: %v", err)
		}
		again, err := emv.ParseGenerateACResponse(enc)
		if err != nil || again.CID != r.CID || again.ATC != r.ATC || !bytes.Equal(again.Cryptogram, r.Cryptogram) || !bytes.Equal(again.IAD, r.IAD) {
			t.Fatalf("round trip: %+v != %+v (%v)", again, r, err)
		}
	})
}

// FuzzParseIssuerApplicationData: 9F10 parses or fails with
// ErrMalformedData; what parses encodes to its own first 8 bytes.
func FuzzParseIssuerApplicationData(f *testing.F) {
	for _, s := range []string{"07010103A0000001", "07010103A00000010A01000000000000000000", "06010A03A00000", "0701010400000001", ""} {
		f.Add([]byte(mustHex(f, s)))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		d, err := emv.ParseIssuerApplicationData(b)
		if err != nil {
			if !errors.Is(err, emv.ErrMalformedData) {
				t.Fatalf("error %v is not ErrMalformedData", err)
			}
			return
		}
		if !bytes.Equal(d.Encode()[1:], b[1:8]) {
			t.Fatalf("re-encoded %X from %X", d.Encode(), b)
		}
	})
}

// FuzzParseLogRecord: the log entry (9F4D) and log records cut by a log
// format (9F4F) parse or fail with ErrMalformedData; a record's values
// rebuild it.
func FuzzParseLogRecord(f *testing.F) {
	format := "9A03 9F2103 9F0206 9F0306 9F1A02 5F2A02 9F4E14 9C01 9F3602"
	f.Add([]byte(mustHex(f, format)), []byte(mustHex(f, "261123 093000 000000000100 000000000000 0156 0156 5445535420534850000000000000000000000000 00 0012")), []byte{0x0B, 0x0A})
	f.Add([]byte(mustHex(f, "9A03")), []byte{1, 2}, []byte{0x0A, 0x01})
	f.Add([]byte{}, []byte{}, []byte{0x1E, 0xFF})
	f.Fuzz(func(t *testing.T, rawFormat, rec, entry []byte) {
		if le, err := emv.ParseLogEntry(entry); err == nil {
			if le.SFI < 11 || le.SFI > 30 || le.Records < 1 {
				t.Fatalf("log entry %+v", le)
			}
		} else if !errors.Is(err, emv.ErrMalformedData) {
			t.Fatalf("log entry error %v", err)
		}
		d, err := cardio.ParseDOL(rawFormat)
		if err != nil {
			return
		}
		r, err := emv.ParseLogRecord(d, rec)
		if err != nil {
			if !errors.Is(err, emv.ErrMalformedData) {
				t.Fatalf("log record error %v", err)
			}
			return
		}
		seen := map[string]bool{}
		for _, e := range d {
			if seen[e.Tag] {
				return // a tag named twice keeps its last value only
			}
			seen[e.Tag] = true
		}
		var again []byte
		for _, e := range d {
			again = append(again, r[e.Tag]...)
		}
		if len(again) != len(rec) {
			t.Fatalf("values of %d bytes from a record of %d", len(again), len(rec))
		}
	})
}
