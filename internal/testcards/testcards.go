// Package testcards makes genuine software cards for tests and benchmarks:
// copies of testdata/cards/default.json for other holders, re-signed by the
// test issuer, so that many volunteers can tap (the check-in benchmarks and
// the soak).
package testcards

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/volcard/volcard/cardio"
	"github.com/volcard/volcard/cardio/cardsim"
	"github.com/volcard/volcard/cardio/emv"
	"github.com/volcard/volcard/issuance"
)

// Root returns the module's root directory (where go.mod is), found from the
// test's working directory.
func Root(t testing.TB) string {
	t.Helper()
	dir, err := os.Getwd()
	require.NoError(t, err)
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("testcards: go.mod not found above the working directory")
		}
		dir = parent
	}
}

// Clone derives a genuine card from default.json for another holder:
// new PAN (same issuer BIN 621785), ID number and name in the signed
// records, and an ICC certificate re-signed by the test issuer key over
// the new static data (the ICC key stays the same).
func Clone(t testing.TB, n int) (*cardsim.Card, string) {
	t.Helper()
	img, err := cardsim.LoadImage(filepath.Join(Root(t), "testdata", "cards", "default.json"))
	require.NoError(t, err)
	issuer, err := emv.LoadPrivateKey(filepath.Join(Root(t), "testdata", "keys", "issuer-private.json"))
	require.NoError(t, err)
	body := fmt.Sprintf("621785%012d", 100000+n)
	pan := body + luhn(body)
	id := fmt.Sprintf("44140219900101%03d", n%1000)
	id += string(issuance.ResidentIDCheckChar(id))
	a := &img.Applications[0]
	set := func(rec int, tag string, v []byte) {
		for i, f := range a.Records[rec].Fields {
			if f.Tag == tag {
				a.Records[rec].Fields[i].Value = v
				return
			}
		}
		t.Fatalf("tag %s not in record %d", tag, rec)
	}
	panHex := pan
	if len(panHex)%2 == 1 {
		panHex += "F"
	}
	track2 := pan + "D30122200000000000"
	if len(track2)%2 == 1 {
		track2 += "F"
	}
	set(0, "57", hexBytes(t, track2))
	set(0, "9F61", []byte(id))
	set(1, "5A", hexBytes(t, panHex))
	var records []emv.Record
	for _, r := range a.Records[:2] {
		raw, err := cardsim.Encode([]cardsim.Field{{Tag: "70", Fields: r.Fields}})
		require.NoError(t, err)
		records = append(records, emv.Record{SFI: byte(r.SFI), Number: byte(r.Number), Raw: raw})
	}
	afl, err := cardio.ParseAFL(a.AFL)
	require.NoError(t, err)
	sd, err := emv.StaticData(afl, records, []byte{0x82}, a.AIP)
	require.NoError(t, err)
	cert, err := emv.SignICCCertificate(issuer, emv.ICCCertTemplate{PAN: pan,
		Expiry: time.Date(2030, 12, 1, 0, 0, 0, 0, time.UTC), Serial: [3]byte{0, 0, byte(n)}, Key: a.ICCKey.Public(), StaticData: sd})
	require.NoError(t, err)
	a.Records[3].Fields = []cardsim.Field{{Tag: "9F46", Value: cert.Certificate}, {Tag: "9F47", Value: cert.Exponent},
		{Tag: "9F48", Value: cert.Remainder}}
	c, err := cardsim.New(img)
	require.NoError(t, err)
	return c, id
}

func luhn(s string) string {
	sum := 0
	for i := len(s) - 1; i >= 0; i-- {
		d := int(s[i] - '0')
		if (len(s)-1-i)%2 == 0 {
			d *= 2
			if d > 9 {
				d -= 9
			}
		}
		sum += d
	}
	return string(rune('0' + (10-sum%10)%10))
}

func hexBytes(t testing.TB, s string) []byte {
	var h cardio.Hex
	require.NoError(t, h.UnmarshalText([]byte(s)))
	return h
}
