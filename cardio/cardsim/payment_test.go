package cardsim_test

import (
	"context"
	"encoding/binary"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/volcard/volcard/cardio"
	"github.com/volcard/volcard/cardio/cardsim"
	"github.com/volcard/volcard/cardio/emv"
)

// issuer verifies cryptograms as the bank does: the card key from the
// issuer master key by PAN and PSN, the session key from the ATC.
type issuer struct {
	t   *testing.T
	imk []byte
}

func (is issuer) sessionKey(f *emv.CardFacts, atc uint16) []byte {
	psn := byte(0)
	if f.PSN != "" {
		b, err := cardio.ParseHex(f.PSN)
		require.NoError(is.t, err)
		psn = b[0]
	}
	mk, err := emv.DeriveICCMasterKey(is.imk, f.PAN.Digits(), psn)
	require.NoError(is.t, err)
	sk, err := emv.SessionKeyPBOC(mk, atc)
	require.NoError(is.t, err)
	return sk
}

// check recomputes the cryptogram of r over the CDOL values.
func (is issuer) check(f *emv.CardFacts, values map[string][]byte, r emv.ACResponse) []byte {
	iad, err := emv.ParseIssuerApplicationData(r.IAD)
	require.NoError(is.t, err)
	require.Equal(is.t, emv.CVNPBOC, iad.CVN)
	in, err := emv.CryptogramInput(values, f.AIP[:], r.ATC, iad)
	require.NoError(is.t, err)
	sk := is.sessionKey(f, r.ATC)
	mac, err := emv.CryptogramMAC(sk, in)
	require.NoError(is.t, err)
	require.Equal(is.t, mac, r.Cryptogram, "the issuer recomputes the %s", r.Type())
	return sk
}

type txnResult struct {
	first, second emv.ACResponse
	extAuthErr    error
}

// transact runs one transaction on a freshly read card: GENERATE AC asking
// for want; on an ARQC the issuer answers arc (with a good ARPC unless
// badARPC), EXTERNAL AUTHENTICATE and the second GENERATE AC asking for a
// TC (or an AAC when arc declines).
func transact(t *testing.T, card cardio.Card, is issuer, amount int64, want emv.CryptogramType, arc string, badARPC bool) txnResult {
	t.Helper()
	ctx := context.Background()
	now := time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)
	term := map[string][]byte{"9F02": bcdAmount(amount), "9F37": {0xCA, 0xFE, 0xBA, 0xBE}}
	f, err := emv.Read(ctx, card, emv.Options{SkipODA: true, Fast: true, Now: func() time.Time { return now }, Terminal: term})
	require.NoError(t, err)
	data, err := emv.Options{Terminal: term}.TerminalData(now)
	require.NoError(t, err)
	cdol1 := dol(t, f, "8C")
	var res txnResult
	res.first, err = emv.GenerateAC(ctx, card, want, cdol1.Build(data))
	require.NoError(t, err)
	v1, err := cdol1.Split(cdol1.Build(data))
	require.NoError(t, err)
	sk := is.check(f, v1, res.first)
	if res.first.Type() != emv.ARQC {
		return res
	}
	second := emv.TC
	if emv.ARCUnableOnline([]byte(arc)) {
		res.extAuthErr = errNotOnline // no issuer, no EXTERNAL AUTHENTICATE
	} else {
		arpc, err := emv.ARPCMethod1(sk, res.first.Cryptogram, []byte(arc))
		require.NoError(t, err)
		if badARPC {
			arpc[0] ^= 1
		}
		res.extAuthErr = emv.ExternalAuthenticate(ctx, card, append(arpc, arc...))
		if !emv.ARCApproves([]byte(arc)) {
			second = emv.AAC
		}
	}
	data["8A"] = []byte(arc)
	cdol2 := dol(t, f, "8D")
	res.second, err = emv.GenerateAC(ctx, card, second, cdol2.Build(data))
	require.NoError(t, err)
	v2, err := cdol2.Split(cdol2.Build(data))
	require.NoError(t, err)
	is.check(f, v2, res.second)
	require.Equal(t, res.first.ATC, res.second.ATC, "one ATC per transaction")
	return res
}

var errNotOnline = errors.New("terminal could not go online")

func bcdAmount(n int64) []byte {
	b := make([]byte, 6)
	for i := 5; i >= 0; i-- {
		b[i] = byte(n%10) | byte(n/10%10)<<4
		n /= 100
	}
	return b
}

func dol(t *testing.T, f *emv.CardFacts, tag string) cardio.DOL {
	t.Helper()
	raw, ok := f.Tag(tag)
	require.True(t, ok, tag)
	d, err := cardio.ParseDOL(raw)
	require.NoError(t, err)
	return d
}

func testIssuer(t *testing.T) issuer {
	return issuer{t: t, imk: loadMasterKeys(t).AC}
}

func connectCard(t *testing.T, c *cardsim.Card) cardio.Card {
	t.Helper()
	conn, err := cardsim.NewReaders(c).Connect(context.Background(), cardsim.ReaderName, cardio.ShareExclusive)
	require.NoError(t, err)
	return conn
}

func TestGenerateACAndIssuerAuthentication(t *testing.T) {
	is := testIssuer(t)
	ctx := context.Background()
	for _, file := range []string{"default.json", "pse-only.json"} { // GENERATE AC in format 1 and format 2
		t.Run(file, func(t *testing.T) {
			sc := load(t, file)
			card := connectCard(t, sc)

			// A new card goes online even when the terminal would approve offline.
			r := transact(t, card, is, 1234, emv.TC, "00", false)
			require.Equal(t, emv.ARQC, r.first.Type(), "new card: CIAC-online")
			require.NoError(t, r.extAuthErr)
			require.Equal(t, emv.TC, r.second.Type())
			atc, err := emv.ATC(ctx, card)
			require.NoError(t, err)
			require.Equal(t, int(r.first.ATC), atc)
			last := getData(t, card, "9F13")
			require.Equal(t, r.first.ATC, binary.BigEndian.Uint16(last), "last online ATC set by the authenticated online transaction")

			// The next one is approved offline (within the lower consecutive offline limit).
			r2 := transact(t, card, is, 500, emv.TC, "", false)
			require.Equal(t, emv.TC, r2.first.Type())
			require.Equal(t, r.first.ATC+1, r2.first.ATC)

			// Both approved transactions are in the log, newest first.
			fci, err := emv.Read(ctx, card, emv.Options{SkipODA: true, Fast: true})
			require.NoError(t, err)
			entry, ok := fci.Tag("9F4D")
			require.True(t, ok)
			log, err := emv.TransactionLog(ctx, card, entry)
			require.NoError(t, err)
			require.Len(t, log, 2)
			require.Equal(t, bcdAmount(500), log[0]["9F02"])
			require.Equal(t, []byte{byte(r2.first.ATC >> 8), byte(r2.first.ATC)}, log[0]["9F36"])
			require.Equal(t, bcdAmount(1234), log[1]["9F02"])

			// The state survives an export and a reload.
			img, err := sc.Image()
			require.NoError(t, err)
			require.Len(t, img.Applications[len(img.Applications)-1].Payment.Log, 2)
			again, err := cardsim.New(img)
			require.NoError(t, err)
			card2 := connectCard(t, again)
			_, err = emv.Read(ctx, card2, emv.Options{SkipODA: true, Fast: true})
			require.NoError(t, err)
			log2, err := emv.TransactionLog(ctx, card2, entry)
			require.NoError(t, err)
			require.Equal(t, log, log2)
			require.Equal(t, last, getData(t, card2, "9F13"))
		})
	}
}

func TestGenerateACDeclines(t *testing.T) {
	is := testIssuer(t)
	t.Run("issuer declines", func(t *testing.T) {
		card := connectCard(t, load(t, "default.json"))
		r := transact(t, card, is, 100, emv.ARQC, "05", false)
		require.NoError(t, r.extAuthErr, "a genuine ARPC for a decline still authenticates the issuer")
		require.Equal(t, emv.AAC, r.second.Type())
	})
	t.Run("wrong ARPC", func(t *testing.T) {
		card := connectCard(t, load(t, "default.json"))
		r := transact(t, card, is, 100, emv.ARQC, "00", true)
		require.ErrorIs(t, r.extAuthErr, emv.ErrIssuerAuthentication)
		require.Equal(t, emv.AAC, r.second.Type(), "issuer authentication is required")
		iad, err := emv.ParseIssuerApplicationData(r.second.IAD)
		require.NoError(t, err)
		require.NotZero(t, iad.CVR[0]&0x08, "CVR: issuer authentication failed")
		// The next transaction must go online (issuer authentication
		// failed on the last online transaction).
		r2 := transact(t, card, is, 100, emv.TC, "00", false)
		require.Equal(t, emv.ARQC, r2.first.Type())
		require.Equal(t, emv.TC, r2.second.Type())
	})
	t.Run("terminal asks for an AAC", func(t *testing.T) {
		card := connectCard(t, load(t, "default.json"))
		r := transact(t, card, is, 100, emv.AAC, "", false)
		require.Equal(t, emv.AAC, r.first.Type())
	})
	t.Run("new card cannot go online", func(t *testing.T) {
		card := connectCard(t, load(t, "default.json"))
		r := transact(t, card, is, 100, emv.TC, "Y3", false)
		require.Equal(t, emv.ARQC, r.first.Type())
		require.ErrorIs(t, r.extAuthErr, errNotOnline)
		require.Equal(t, emv.AAC, r.second.Type(), "CIAC-default declines a new card offline")
	})
	t.Run("PIN try limit exceeded", func(t *testing.T) {
		sc := load(t, "default.json")
		card := connectCard(t, sc)
		ctx := context.Background()
		_, err := emv.Read(ctx, card, emv.Options{SkipODA: true, Fast: true})
		require.NoError(t, err)
		for range 3 {
			_ = emv.VerifyPIN(ctx, card, "000000")
		}
		require.Zero(t, sc.PINTries())
		r := transact(t, card, is, 100, emv.ARQC, "00", false)
		require.Equal(t, emv.AAC, r.first.Type(), "CIAC-decline")
	})
}

func getData(t *testing.T, card cardio.Card, tag string) []byte {
	t.Helper()
	tb, err := cardio.TagBytes(tag)
	require.NoError(t, err)
	r, err := cardio.Transmit(context.Background(), card, cardio.Command{CLA: 0x80, INS: cardio.INSGetData, P1: tb[0], P2: tb[1], Le: 256})
	require.NoError(t, err)
	tlvs, err := cardio.DecodeTLV(r.Data)
	require.NoError(t, err)
	v, ok := cardio.FindValue(tlvs, tag)
	require.True(t, ok)
	return v
}
