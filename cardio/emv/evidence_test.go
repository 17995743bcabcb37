package emv_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/volcard/volcard/cardio"
	"github.com/volcard/volcard/cardio/emv"
	"github.com/volcard/volcard/evidence"
)

// cardEvidence reads a software card as a terminal does (fast read without
// ODA, then INTERNAL AUTHENTICATE over un) and returns the evidence.
func cardEvidence(t testing.TB, name string, un []byte) evidence.Card {
	t.Helper()
	card, _ := connect(t, image(t, name))
	f, err := emv.Read(ctxT(t), card, emv.Options{Fast: true, SkipODA: true})
	require.NoError(t, err)
	ddol := emv.DefaultDDOL
	if raw, ok := f.Tag("9F49"); ok {
		ddol, err = cardio.ParseDOL(raw)
		require.NoError(t, err)
	}
	data := ddol.Build(map[string][]byte{"9F37": un})
	sdad, err := emv.InternalAuthenticate(ctxT(t), card, data)
	require.NoError(t, err)
	return evidence.Card{AID: f.AID, PAN: f.PAN.Digits(), AIP: f.AIP[:], AFL: cardio.EncodeAFL(f.AFL),
		Records: f.Records(), DDOLData: data, SDAD: sdad}
}

func TestEvidenceVerifier(t *testing.T) {
	un := []byte{1, 2, 3, 4}
	v := emv.EvidenceVerifier{CAs: caKeys(t)}
	ev := cardEvidence(t, "default.json", un)

	id, err := v.Verify(ev, un, testNow)
	require.NoError(t, err)
	require.Equal(t, ev.PAN, id.PAN)
	require.Equal(t, "441402200001011232", id.IDNumber)
	require.Equal(t, "张晓明", id.Name)
	require.Equal(t, un, id.UN)
	require.Len(t, id.SignatureHash, 32)

	// Another challenge than the one signed: not genuine, not malformed.
	_, err = v.Verify(ev, []byte{9, 9, 9, 9}, testNow)
	require.ErrorIs(t, err, emv.ErrNotOverChallenge)

	// A forged signature: an ODA error.
	bad := ev
	bad.SDAD = bytes.Clone(ev.SDAD)
	bad.SDAD[10] ^= 0xFF
	_, err = v.Verify(bad, un, testNow)
	var oda *emv.ODAError
	require.ErrorAs(t, err, &oda)

	// No trusted CA: not genuine.
	_, err = emv.EvidenceVerifier{}.Verify(ev, un, testNow)
	require.ErrorAs(t, err, &oda)
	require.ErrorIs(t, err, emv.ErrCAKeyUnknown)

	// Malformed evidence names the field.
	for field, mutate := range map[string]func(*evidence.Card){
		"aid":       func(c *evidence.Card) { c.AID = c.AID[:2] },
		"aip":       func(c *evidence.Card) { c.AIP = nil },
		"afl":       func(c *evidence.Card) { c.AFL = c.AFL[:3] },
		"records":   func(c *evidence.Card) { c.Records = nil },
		"sdad":      func(c *evidence.Card) { c.SDAD = nil },
		"ddol_data": func(c *evidence.Card) { c.DDOLData = c.DDOLData[:2] },
		"pan":       func(c *evidence.Card) { c.PAN = "6217850000000000000" },
	} {
		c := ev
		mutate(&c)
		_, err := v.Verify(c, un, testNow)
		var fe *evidence.FieldError
		require.ErrorAs(t, err, &fe, field)
		require.Equal(t, field, fe.Field)
		require.NotContains(t, err.Error(), ev.PAN)
	}
}

// FuzzEvidenceVerify feeds the verifier mutated evidence (as JSON, the
// form it arrives in): it never panics, never accepts what it cannot
// verify, and never names the PAN in an error.
func FuzzEvidenceVerify(f *testing.F) {
	un := []byte{1, 2, 3, 4}
	v := emv.EvidenceVerifier{CAs: caKeys(f)}
	ev := cardEvidence(f, "default.json", un)
	seed, err := json.Marshal(ev)
	require.NoError(f, err)
	f.Add(seed)
	f.Add([]byte(`{}`))
	f.Add([]byte(`{"aid":"A000000333010101","aip":"3C00","afl":"08010100","records":[{"sfi":1,"number":1,"raw":"7000"}],"ddol_data":"01020304","sdad":"00"}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		var c evidence.Card
		if json.Unmarshal(b, &c) != nil {
			return
		}
		id, err := v.Verify(c, un, testNow)
		if err == nil {
			// Only a signature of the card's own key over the challenge
			// verifies: it is the test card's, over un.
			require.Equal(t, ev.PAN, id.PAN)
			require.Equal(t, un, id.UN)
			return
		}
		var fe *evidence.FieldError
		var oda *emv.ODAError
		if !errors.As(err, &fe) && !errors.As(err, &oda) && !errors.Is(err, emv.ErrNotOverChallenge) {
			t.Fatalf("unexpected error kind %T: %v", err, err)
		}
		if len(id.PAN) >= 12 && strings.Contains(err.Error(), id.PAN) {
			t.Fatal("error names the PAN")
		}
	})
}
