package cardsim_test

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/volcard/volcard/cardio"
	"github.com/volcard/volcard/cardio/cardsim"
	"github.com/volcard/volcard/cardio/emv"
)

// update regenerates testdata/cards/*.json (and missing keys under
// testdata/keys): go test ./cardio/cardsim -run TestImages -update
var update = flag.Bool("update", false, "regenerate card images (and missing test keys)")

const (
	cardsDir = "../../testdata/cards"
	keysDir  = "../../testdata/keys"
	// CAIndex is the test CA public key index (8F) under RID A000000333.
	caIndex = 0x80
)

// profile is the personal data of one generated card.
type profile struct {
	file, description string
	pan               string
	psn               byte
	name              string // Chinese name (DF20, GBK); "" for none
	nameLatin         string // 5F20 (first 26 characters) and, when longer, 9F0B
	idNumber          string
	idType            byte
	ppse, pse         bool
	apps              []appProfile
	gpoFormat         int
	ddaFormat         int
	aip               string
	iccKey            string // key file name under testdata/keys; "" = no DDA
	forgeKey          string // when set, the card signs with this key instead (forged card)
	sda               bool   // put signed static data (93)
	pdol              string
	pin               string
	otherAIDs         []string
}

type appProfile struct {
	aid       string
	label     string
	preferred string // 9F12, ISO 8859-1 (9F11 = 01)
	priority  byte
}

func hx(s string) cardio.Hex {
	b, err := cardio.ParseHex(s)
	if err != nil {
		panic(err)
	}
	return b
}

func luhnDigit(s string) string {
	sum, double := 0, true
	for i := len(s) - 1; i >= 0; i-- {
		d := int(s[i] - '0')
		if double {
			d *= 2
			if d > 9 {
				d -= 9
			}
		}
		sum += d
		double = !double
	}
	return fmt.Sprint((10 - sum%10) % 10)
}

// gb11643 appends the GB 11643 check character to 17 digits.
func gb11643(s string) string {
	w := []int{7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2}
	sum := 0
	for i, c := range s {
		sum += int(c-'0') * w[i]
	}
	return s + string("10X98765432"[sum%11])
}

func gbk(t testing.TB, s string) cardio.Hex {
	if strings.Trim(s, " -~") == "" {
		return cardio.Hex(s)
	}
	b, err := emv.EncodeGBK(s)
	require.NoError(t, err)
	return b
}

func profiles() []profile {
	debit := appProfile{aid: "A000000333010101", label: "PBOC DEBIT", preferred: "VOLUNTEER DEBIT", priority: 1}
	fullPDOL := "9F6604 9F0206 9F0306 9F1A02 9505 5F2A02 9A03 9C01 9F3704 9F2103"
	return []profile{
		{
			file: "default.json", description: "Volunteer debit card (Bank-of-China-like PBOC 3.0 debit, DDA, PPSE+PSE, Chinese name, resident ID). PIN 123456, 3 tries.",
			pan: "621785000000001234", psn: 0x01, name: "张晓明", nameLatin: "ZHANG XIAOMING",
			idNumber: gb11643("44140220000101123"), idType: 0x00, ppse: true, pse: true,
			apps: []appProfile{debit}, gpoFormat: 1, ddaFormat: 2, aip: "7C00", iccKey: "icc-default.json",
			pdol: fullPDOL, pin: "123456",
		},
		{
			file: "pse-only.json", description: "Contact-only card: no PPSE, PSE directory with a credit (priority 2) and a debit (priority 1) application; GPO format 2; DDA format 1.",
			pan: "625908000000005678", psn: 0x00, nameLatin: "LI/SI",
			idNumber: gb11643("44010619851231456"), idType: 0x00, pse: true,
			apps: []appProfile{
				{aid: "A000000333010102", label: "PBOC CREDIT", preferred: "UNIONPAY CREDIT", priority: 2},
				{aid: "A000000333010101", label: "PBOC DEBIT", preferred: "UNIONPAY DEBIT", priority: 1},
			},
			gpoFormat: 2, ddaFormat: 1, aip: "7C00", iccKey: "icc-pse.json",
			pdol: "9F6604 9F0206 9F3704 5F2A02 9A03", pin: "8888",
		},
		{
			file: "sda-only.json", description: "SDA-only card: AIP 5C00, signed static application data (93), no ICC key (INTERNAL AUTHENTICATE answers 6D00).",
			pan: "621785000000009876", psn: 0x00, name: "王芳", nameLatin: "WANG FANG",
			idNumber: gb11643("44142119990909246"), idType: 0x00, ppse: true,
			apps: []appProfile{debit}, gpoFormat: 1, aip: "5C00", sda: true,
			pdol: fullPDOL, pin: "1234",
		},
		{
			file: "forged.json", description: "Forged card: certificates copied from a genuine card, but the ICC private key does not match the ICC certificate (DDA must fail with ErrSignature).",
			pan: "621785000000001234", psn: 0x01, name: "张晓明", nameLatin: "ZHANG XIAOMING",
			idNumber: gb11643("44140220000101123"), idType: 0x00, ppse: true, pse: true,
			apps: []appProfile{debit}, gpoFormat: 1, ddaFormat: 2, aip: "7C00", iccKey: "icc-default.json", forgeKey: "icc-forged.json",
			pdol: fullPDOL, pin: "123456",
		},
		{
			file: "non-financial.json", description: "Non-financial card (e.g. a transit or campus card): no PPSE, no PSE, no payment application.",
			otherAIDs: []string{"D15600000501000000000000"},
		},
	}
}

// loadOrMakeKey loads a test key, generating it only with -update.
func loadOrMakeKey(t *testing.T, name string, bits int) *emv.PrivateKey {
	t.Helper()
	path := filepath.Join(keysDir, name)
	k, err := emv.LoadPrivateKey(path)
	if err == nil {
		return k
	}
	require.True(t, *update, "test key %s missing: run with -update", name)
	k, err = emv.GenerateKey(rand.Reader, bits, 3)
	require.NoError(t, err)
	b, err := json.MarshalIndent(k, "", "  ")
	require.NoError(t, err)
	require.NoError(t, os.MkdirAll(keysDir, 0o755))
	require.NoError(t, os.WriteFile(path, append(b, '\n'), 0o644))
	return k
}

// masterKeys are the test issuer master keys (issuer-master-keys.json).
type masterKeys struct{ AC, SMI, SMC []byte }

func loadMasterKeys(t *testing.T) masterKeys {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(keysDir, "issuer-master-keys.json"))
	require.NoError(t, err)
	var f struct{ AC, SMI, SMC cardio.Hex }
	require.NoError(t, json.Unmarshal(b, &f))
	return masterKeys{AC: f.AC, SMI: f.SMI, SMC: f.SMC}
}

func month(y int, m time.Month) time.Time { return time.Date(y, m, 1, 0, 0, 0, 0, time.UTC) }

// buildImage makes the card image for p, signing with the issuer key.
func buildImage(t *testing.T, p profile, issuer *emv.PrivateKey, issuerCert emv.SignedCertificate, imk masterKeys) cardsim.Image {
	img := cardsim.Image{Format: cardsim.CurrentFormat, Description: p.description, PPSE: p.ppse, PSE: p.pse, ATR: cardsim.DefaultATR, ATC: 0x0010}
	for _, o := range p.otherAIDs {
		img.OtherAIDs = append(img.OtherAIDs, hx(o))
	}
	if len(p.apps) == 0 {
		return img
	}
	img.PIN, img.PINTryLimit = p.pin, 3
	pan := p.pan + luhnDigit(p.pan)
	panHex := pan
	if len(panHex)%2 == 1 {
		panHex += "F"
	}
	track2 := pan + "D3012220" + "0000000000"
	if len(track2)%2 == 1 {
		track2 += "F"
	}
	for _, ap := range p.apps {
		a := cardsim.Application{
			AID: hx(ap.aid), GPOFormat: p.gpoFormat, DDAFormat: p.ddaFormat,
			AIP: hx(p.aip), AFL: hx("08010101 10010101 18010200"),
			FCI: []cardsim.Field{
				{Tag: "50", Value: cardio.Hex(ap.label), Note: ap.label},
				{Tag: "87", Value: cardio.Hex{ap.priority}},
				{Tag: "9F38", Value: hx(p.pdol), Note: "PDOL"},
				{Tag: "5F2D", Value: cardio.Hex("zhen"), Note: "zhen"},
				{Tag: "9F11", Value: cardio.Hex{0x01}, Note: "issuer code table index 1: 9F12 is ISO 8859-1"},
				{Tag: "9F12", Value: cardio.Hex(ap.preferred), Note: ap.preferred},
				{Tag: "BF0C", Fields: []cardsim.Field{{Tag: "9F4D", Value: hx("0B0A"), Note: "log entry: SFI 11, 10 records"}}},
			},
			Data: []cardsim.Field{
				{Tag: "9F13", Value: hx("0000"), Note: "last online ATC (served live from payment.lastOnlineATC)"},
				{Tag: "9F4F", Value: hx("9A03 9F2103 9F0206 9F0306 9F1A02 5F2A02 9F4E14 9C01 9F3602"), Note: "log format"},
			},
		}
		mk, err := emv.DeriveICCMasterKey(imk.AC, pan, p.psn)
		require.NoError(t, err)
		smi, err := emv.DeriveICCMasterKey(imk.SMI, pan, p.psn)
		require.NoError(t, err)
		smc, err := emv.DeriveICCMasterKey(imk.SMC, pan, p.psn)
		require.NoError(t, err)
		a.Payment = &cardsim.Payment{
			AC: mk, SMI: smi, SMC: smc, DKI: 1,
			CIACDecline: hx("004000"), CIACOnline: hx("02B800"), CIACDefault: hx("02B800"), IssuerAuthRequired: true,
		}
		holder := []cardsim.Field{
			{Tag: "57", Value: hx(track2), Note: "track-2 equivalent data"},
			{Tag: "5F20", Value: cardio.Hex(p.nameLatin[:min(len(p.nameLatin), 26)]), Note: "cardholder name (ans)"},
		}
		if len(p.nameLatin) > 26 {
			holder = append(holder, cardsim.Field{Tag: "9F0B", Value: cardio.Hex(p.nameLatin), Note: "cardholder name extended (ans 27-45)"})
		}
		if p.name != "" {
			holder = append(holder, cardsim.Field{Tag: emv.TagChineseName, Value: gbk(t, p.name), Note: p.name + " (GBK, volcard tag)"})
		}
		rec1 := cardsim.Record{SFI: 1, Number: 1, Note: "cardholder data (signed for ODA)", Fields: append(holder,
			cardsim.Field{Tag: "9F61", Value: cardio.Hex(p.idNumber), Note: "cardholder ID number"},
			cardsim.Field{Tag: "9F62", Value: cardio.Hex{p.idType}, Note: "ID type 00: resident identity card"},
			cardsim.Field{Tag: "5F30", Value: hx("0220"), Note: "service code 220"},
		)}
		rec2 := cardsim.Record{SFI: 2, Number: 1, Note: "application data (signed for ODA)", Fields: []cardsim.Field{
			{Tag: "5A", Value: hx(panHex), Note: "PAN"},
			{Tag: "5F24", Value: hx("301231"), Note: "expiry 2030-12-31"},
			{Tag: "5F25", Value: hx("201201"), Note: "effective 2020-12-01"},
			{Tag: "5F28", Value: hx("0156"), Note: "issuer country China"},
			{Tag: "5F34", Value: cardio.Hex{p.psn}, Note: "PAN sequence number"},
			{Tag: "8E", Value: hx("00000000 00000000 4103 4203 1E03 1F00"), Note: "CVM list: offline plaintext PIN, online PIN, signature, no CVM"},
			{Tag: "9F07", Value: hx("FF00"), Note: "application usage control"},
			{Tag: "9F08", Value: hx("0030"), Note: "application version 0030"},
			{Tag: "9F0D", Value: hx("D86084A800"), Note: "IAC default"},
			{Tag: "9F0E", Value: hx("0010000000"), Note: "IAC denial"},
			{Tag: "9F0F", Value: hx("D86884F800"), Note: "IAC online"},
			{Tag: "8C", Value: hx("9F0206 9F0306 9F1A02 9505 5F2A02 9A03 9C01 9F3704 9F2103 9F4E14"), Note: "CDOL1"},
			{Tag: "8D", Value: hx("8A02 9F0206 9F0306 9F1A02 9505 5F2A02 9A03 9C01 9F3704"), Note: "CDOL2"},
			{Tag: "9F14", Value: cardio.Hex{3}, Note: "lower consecutive offline limit"},
			{Tag: "9F23", Value: cardio.Hex{5}, Note: "upper consecutive offline limit"},
			{Tag: "9F49", Value: hx("9F3704"), Note: "DDOL: unpredictable number"},
			{Tag: "9F4A", Value: hx("82"), Note: "SDA tag list: AIP"},
		}}
		rec3 := cardsim.Record{SFI: 3, Number: 1, Note: "issuer public key certificate", Fields: []cardsim.Field{
			{Tag: "8F", Value: cardio.Hex{caIndex}, Note: "CA public key index (test CA)"},
			{Tag: "90", Value: issuerCert.Certificate, Note: "issuer public key certificate"},
			{Tag: "9F32", Value: issuerCert.Exponent, Note: "issuer public key exponent"},
			{Tag: "92", Value: issuerCert.Remainder, Note: "issuer public key remainder"},
		}}
		var records []emv.Record
		for _, r := range []cardsim.Record{rec1, rec2} {
			raw, err := cardsim.Encode([]cardsim.Field{{Tag: "70", Fields: r.Fields}})
			require.NoError(t, err)
			records = append(records, emv.Record{SFI: byte(r.SFI), Number: byte(r.Number), Raw: raw})
		}
		afl, err := cardio.ParseAFL(a.AFL)
		require.NoError(t, err)
		sd, err := emv.StaticData(afl, records, []byte{0x82}, a.AIP)
		require.NoError(t, err)
		rec4 := cardsim.Record{SFI: 3, Number: 2}
		if p.iccKey != "" {
			icc := loadOrMakeKey(t, p.iccKey, 768)
			cert, err := emv.SignICCCertificate(issuer, emv.ICCCertTemplate{
				PAN: pan, Expiry: month(2030, time.December), Serial: [3]byte{0x00, 0x00, 0x01}, Key: icc.Public(), StaticData: sd,
			})
			require.NoError(t, err)
			rec4.Note = "ICC public key certificate"
			rec4.Fields = []cardsim.Field{
				{Tag: "9F46", Value: cert.Certificate, Note: "ICC public key certificate"},
				{Tag: "9F47", Value: cert.Exponent, Note: "ICC public key exponent"},
				{Tag: "9F48", Value: cert.Remainder, Note: "ICC public key remainder"},
			}
			a.ICCKey = icc
			if p.forgeKey != "" {
				a.ICCKey = loadOrMakeKey(t, p.forgeKey, 768)
			}
		}
		if p.sda {
			ssad, err := emv.SignStaticData(issuer, [2]byte{0xDA, 0xC1}, sd)
			require.NoError(t, err)
			rec4.Note = "signed static application data"
			rec4.Fields = []cardsim.Field{{Tag: "93", Value: ssad, Note: "signed static application data (DAC DAC1)"}}
		}
		a.Records = []cardsim.Record{rec1, rec2, rec3, rec4}
		img.Applications = append(img.Applications, a)
	}
	return img
}

// TestImagesUpToDate rebuilds every card image from the committed keys and
// checks it equals the committed file (with -update, rewrites the files).
func TestImagesUpToDate(t *testing.T) {
	ca := loadOrMakeKey(t, "ca-private.json", 1152)
	issuer := loadOrMakeKey(t, "issuer-private.json", 1024)
	caPub := emv.CAKeys{{RID: emv.RIDUnionPay, Index: caIndex, PublicKey: ca.Public(), Note: "volcard TEST CA (index 80 under RID A000000333): test only, never trust in production"}}
	pubJSON, err := json.MarshalIndent(caPub, "", "  ")
	require.NoError(t, err)
	pubJSON = append(pubJSON, '\n')
	issuerCert, err := emv.SignIssuerCertificate(ca, emv.IssuerCertTemplate{
		IssuerID: "621785", Expiry: month(2032, time.December), Serial: [3]byte{0x12, 0x34, 0x56}, Key: issuer.Public(),
	})
	require.NoError(t, err)
	// The PSE-only card has a different BIN: its issuer certificate names 6259.
	issuerCert2, err := emv.SignIssuerCertificate(ca, emv.IssuerCertTemplate{
		IssuerID: "6259", Expiry: month(2032, time.December), Serial: [3]byte{0x12, 0x34, 0x57}, Key: issuer.Public(),
	})
	require.NoError(t, err)

	imk := loadMasterKeys(t)
	files := map[string][]byte{filepath.Join(keysDir, "ca-public.json"): pubJSON}
	for _, p := range profiles() {
		ic := issuerCert
		if strings.HasPrefix(p.pan, "6259") {
			ic = issuerCert2
		}
		img := buildImage(t, p, issuer, ic, imk)
		_, err := cardsim.New(img)
		require.NoError(t, err, p.file)
		b, err := json.MarshalIndent(img, "", "  ")
		require.NoError(t, err)
		files[filepath.Join(cardsDir, p.file)] = append(b, '\n')
	}
	for path, want := range files {
		if *update {
			require.NoError(t, os.MkdirAll(filepath.Dir(path), 0o755))
			require.NoError(t, os.WriteFile(path, want, 0o644))
			continue
		}
		got, err := os.ReadFile(path)
		require.NoError(t, err, "run go test ./cardio/cardsim -run TestImagesUpToDate -update")
		require.True(t, bytes.Equal(want, got), "%s is stale: run go test ./cardio/cardsim -run TestImagesUpToDate -update", path)
	}
	_ = hex.EncodeToString
}
