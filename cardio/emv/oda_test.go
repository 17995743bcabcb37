package emv_test

import (
	"context"
	"crypto/rand"
	"errors"
	"math/big"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/volcard/volcard/cardio"
	"github.com/volcard/volcard/cardio/cardsim"
	"github.com/volcard/volcard/cardio/emv"
)

func flip(b []byte, i int) []byte {
	out := append([]byte(nil), b...)
	out[i] ^= 0x01
	return out
}

func TestODAFailures(t *testing.T) {
	tests := []struct {
		name   string
		file   string
		tweak  func(t *testing.T, img *cardsim.Image, o *emv.Options)
		method emv.ODAMethod
		reason error
		cause  error
	}{
		{"forged card (ICC key does not match certificate)", "forged.json", nil, emv.ODADDA, emv.ErrSignature, emv.ErrCertificateFormat},
		{"tampered ICC certificate", "default.json", func(t *testing.T, img *cardsim.Image, _ *emv.Options) {
			setField(t, img, "9F46", flip(getField(t, *img, "9F46"), 40))
		}, emv.ODADDA, emv.ErrICCCertificate, nil},
		{"tampered ICC key remainder", "default.json", func(t *testing.T, img *cardsim.Image, _ *emv.Options) {
			setField(t, img, "9F48", flip(getField(t, *img, "9F48"), 0))
		}, emv.ODADDA, emv.ErrICCCertificate, emv.ErrHashMismatch},
		{"tampered signed record (cardholder name)", "default.json", func(t *testing.T, img *cardsim.Image, _ *emv.Options) {
			setField(t, img, "5F20", []byte("LI SI"))
		}, emv.ODADDA, emv.ErrICCCertificate, emv.ErrHashMismatch},
		{"tampered issuer certificate", "default.json", func(t *testing.T, img *cardsim.Image, _ *emv.Options) {
			setField(t, img, "90", flip(getField(t, *img, "90"), 7))
		}, emv.ODADDA, emv.ErrIssuerCertificate, nil},
		{"unknown CA index", "default.json", func(t *testing.T, img *cardsim.Image, _ *emv.Options) {
			setField(t, img, "8F", []byte{0x09})
		}, emv.ODADDA, emv.ErrCAKeyUnknown, nil},
		{"no CA keys configured", "default.json", func(_ *testing.T, _ *cardsim.Image, o *emv.Options) {
			o.CAKeys = nil
		}, emv.ODADDA, emv.ErrCAKeyUnknown, nil},
		{"ICC certificate expired", "default.json", func(_ *testing.T, _ *cardsim.Image, o *emv.Options) {
			o.Now = func() time.Time { return time.Date(2031, 1, 1, 0, 0, 0, 0, time.UTC) }
		}, emv.ODADDA, emv.ErrICCCertificate, emv.ErrCertificateExpired},
		{"tampered SDA signature", "sda-only.json", func(t *testing.T, img *cardsim.Image, _ *emv.Options) {
			setField(t, img, "93", flip(getField(t, *img, "93"), 10))
		}, emv.ODASDA, emv.ErrSignature, nil},
		{"tampered SDA record", "sda-only.json", func(t *testing.T, img *cardsim.Image, _ *emv.Options) {
			setField(t, img, "5F28", []byte{0x03, 0x44})
		}, emv.ODASDA, emv.ErrSignature, emv.ErrHashMismatch},
		{"card refuses INTERNAL AUTHENTICATE", "default.json", nil, emv.ODADDA, emv.ErrSignature, cardio.ErrINSNotSupported},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			img := image(t, tc.file)
			o := opts(t)
			o.Fast = true
			if tc.tweak != nil {
				tc.tweak(t, &img, &o)
			}
			card, sc := connect(t, img)
			if tc.name == "card refuses INTERNAL AUTHENTICATE" {
				sc.FailCommand([]byte{0x00, 0x88}, 0x6D00)
			}
			f, err := emv.Read(ctxT(t), card, o)
			var oe *emv.ODAError
			require.ErrorAs(t, err, &oe)
			require.Equal(t, tc.method, oe.Method)
			require.ErrorIs(t, err, tc.reason)
			if tc.cause != nil {
				require.ErrorIs(t, err, tc.cause)
			}
			require.NotNil(t, f, "facts come back with an ODA error")
			require.False(t, f.ODA.Verified)
			require.Equal(t, tc.method, f.ODA.Method)
			require.NotContains(t, err.Error(), f.PAN.Digits())
		})
	}
}

func TestCertificates(t *testing.T) {
	ca, err := emv.LoadPrivateKey("../../testdata/keys/ca-private.json")
	require.NoError(t, err)
	issuer, err := emv.LoadPrivateKey("../../testdata/keys/issuer-private.json")
	require.NoError(t, err)
	caKey := emv.CAKey{RID: emv.RIDUnionPay, Index: 0x80, PublicKey: ca.Public()}
	pan := "6217850000000012349"
	dec2030 := time.Date(2030, 12, 1, 0, 0, 0, 0, time.UTC)

	icc, err := emv.GenerateKey(rand.Reader, 512, 3)
	require.NoError(t, err)
	bigICC, err := emv.GenerateKey(rand.Reader, 1152, 3)
	require.NoError(t, err)

	t.Run("issuer round trip", func(t *testing.T) {
		c, err := emv.SignIssuerCertificate(ca, emv.IssuerCertTemplate{IssuerID: "621785", Expiry: dec2030, Serial: [3]byte{1, 2, 3}, Key: issuer.Public()})
		require.NoError(t, err)
		require.Len(t, c.Certificate, 144)
		require.Len(t, c.Remainder, 128-(144-36))
		got, err := emv.RecoverIssuerKey(caKey, c, pan, testNow)
		require.NoError(t, err)
		require.Equal(t, issuer.Public(), got.Key)
		require.Equal(t, "621785", got.IssuerID)
		require.Equal(t, [3]byte{1, 2, 3}, got.Serial)

		_, err = emv.RecoverIssuerKey(caKey, c, "6222000000000000000", testNow)
		require.ErrorIs(t, err, emv.ErrPANMismatch)
		_, err = emv.RecoverIssuerKey(caKey, c, pan, time.Date(2031, 1, 1, 0, 0, 0, 0, time.UTC))
		require.ErrorIs(t, err, emv.ErrCertificateExpired)
		_, err = emv.RecoverIssuerKey(caKey, emv.SignedCertificate{Certificate: c.Certificate, Remainder: c.Remainder[1:], Exponent: c.Exponent}, pan, testNow)
		require.ErrorIs(t, err, emv.ErrIssuerCertificate)
		_, err = emv.RecoverIssuerKey(caKey, emv.SignedCertificate{Certificate: c.Certificate[1:], Exponent: c.Exponent}, pan, testNow)
		require.ErrorIs(t, err, emv.ErrCertificateFormat)
	})
	t.Run("short ICC key has no remainder", func(t *testing.T) {
		c, err := emv.SignICCCertificate(issuer, emv.ICCCertTemplate{PAN: pan, Expiry: dec2030, Key: icc.Public(), StaticData: []byte("static")})
		require.NoError(t, err)
		require.Empty(t, c.Remainder)
		got, err := emv.RecoverICCKey(issuer.Public(), c, []byte("static"), pan, testNow)
		require.NoError(t, err)
		require.Equal(t, icc.Public(), got.Key)
		_, err = emv.RecoverICCKey(issuer.Public(), c, []byte("Static"), pan, testNow)
		require.ErrorIs(t, err, emv.ErrHashMismatch)
		_, err = emv.RecoverICCKey(issuer.Public(), c, []byte("static"), "6217850000000012340", testNow)
		require.ErrorIs(t, err, emv.ErrPANMismatch)
	})
	t.Run("ICC key longer than issuer key is refused", func(t *testing.T) {
		_, err := emv.SignICCCertificate(issuer, emv.ICCCertTemplate{PAN: pan, Expiry: dec2030, Key: bigICC.Public()})
		require.ErrorIs(t, err, emv.ErrInvalidKey)
	})
	t.Run("bad inputs", func(t *testing.T) {
		_, err := emv.SignIssuerCertificate(ca, emv.IssuerCertTemplate{IssuerID: "62", Expiry: dec2030, Key: issuer.Public()})
		require.ErrorIs(t, err, emv.ErrMalformedData)
		_, err = emv.SignICCCertificate(issuer, emv.ICCCertTemplate{PAN: "62178X", Expiry: dec2030, Key: icc.Public()})
		require.ErrorIs(t, err, emv.ErrMalformedData)
		_, err = emv.SignDynamicData(icc, []byte{1}, nil)
		require.ErrorIs(t, err, emv.ErrMalformedData)
		_, err = emv.SignIssuerCertificate(&emv.PrivateKey{}, emv.IssuerCertTemplate{})
		require.ErrorIs(t, err, emv.ErrInvalidKey)
	})
	t.Run("SDA and DDA round trip", func(t *testing.T) {
		ssad, err := emv.SignStaticData(issuer, [2]byte{0xDA, 0xC1}, []byte("records"))
		require.NoError(t, err)
		dac, err := emv.VerifyStaticData(issuer.Public(), ssad, []byte("records"))
		require.NoError(t, err)
		require.Equal(t, []byte{0xDA, 0xC1}, dac)
		sdad, err := emv.SignDynamicData(icc, []byte{1, 2, 3, 4}, []byte{9, 9, 9, 9})
		require.NoError(t, err)
		dn, err := emv.VerifyDynamicData(icc.Public(), sdad, []byte{9, 9, 9, 9})
		require.NoError(t, err)
		require.Equal(t, []byte{1, 2, 3, 4}, dn)
		_, err = emv.VerifyDynamicData(icc.Public(), sdad, []byte{9, 9, 9, 8})
		require.ErrorIs(t, err, emv.ErrSignature)
		var oe *emv.ODAError
		require.True(t, errors.As(err, &oe))
	})
}

func TestAuthenticateWithoutRead(t *testing.T) {
	_, err := emv.Authenticate(context.Background(), nil, &emv.CardFacts{}, emv.Options{})
	require.ErrorIs(t, err, emv.ErrODAData)
}

// TestNewCRTKey rebuilds a key from its CRT parts as a card does in
// personalization: the result signs like the original, and parts that do
// not belong together are refused.
func TestNewCRTKey(t *testing.T) {
	k, err := emv.GenerateKey(rand.Reader, 768, 3)
	require.NoError(t, err)
	p, q, d := new(big.Int).SetBytes(k.P), new(big.Int).SetBytes(k.Q), new(big.Int).SetBytes(k.D)
	one := big.NewInt(1)
	dp := new(big.Int).Mod(d, new(big.Int).Sub(p, one)).Bytes()
	dq := new(big.Int).Mod(d, new(big.Int).Sub(q, one)).Bytes()
	qinv := new(big.Int).ModInverse(q, p).Bytes()

	got, err := emv.NewCRTKey(k.Exponent, k.P, k.Q, dp, dq, qinv)
	require.NoError(t, err)
	require.Equal(t, k.Modulus, got.Modulus)
	require.NoError(t, got.Validate())
	ddol := []byte{1, 2, 3, 4}
	sdad, err := emv.SignDynamicData(got, []byte{0, 1, 2, 3}, ddol)
	require.NoError(t, err)
	_, err = emv.VerifyDynamicData(k.Public(), sdad, ddol)
	require.NoError(t, err)

	bump := func(b []byte) []byte { return new(big.Int).Add(new(big.Int).SetBytes(b), big.NewInt(2)).Bytes() }
	for name, parts := range map[string][6][]byte{
		"dP":              {k.Exponent, k.P, k.Q, bump(dp), dq, qinv},
		"dQ":              {k.Exponent, k.P, k.Q, dp, bump(dq), qinv},
		"qInv":            {k.Exponent, k.P, k.Q, dp, dq, bump(qinv)},
		"p and q swapped": {k.Exponent, k.Q, k.P, dp, dq, qinv},
		"exponent":        {{0x01, 0x00, 0x01}, k.P, k.Q, dp, dq, qinv},
		"prime of 1":      {k.Exponent, {1}, k.Q, dp, dq, qinv},
		"short modulus":   {k.Exponent, k.P[:8], k.Q[:8], dp, dq, qinv},
	} {
		_, err := emv.NewCRTKey(parts[0], parts[1], parts[2], parts[3], parts[4], parts[5])
		require.ErrorIs(t, err, emv.ErrInvalidKey, name)
	}
}
