package dataprep_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/volcard/volcard/cardio"
	"github.com/volcard/volcard/cardio/cardsim"
	"github.com/volcard/volcard/cardio/emv"
	"github.com/volcard/volcard/cardio/gp"
	"github.com/volcard/volcard/personalization/dataprep"
)

const keysDir = "../../testdata/keys"

var testNow = time.Date(2026, time.March, 10, 9, 30, 0, 0, time.UTC)

func luhn(s string) string {
	sum, double := 0, true
	for i := len(s) - 1; i >= 0; i-- {
		d := int(s[i] - '0')
		if double {
			if d *= 2; d > 9 {
				d -= 9
			}
		}
		sum += d
		double = !double
	}
	return s + fmt.Sprint((10-sum%10)%10)
}

func gb11643(s string) string {
	w := []int{7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2}
	sum := 0
	for i, c := range s {
		sum += int(c-'0') * w[i]
	}
	return s + string("10X98765432"[sum%11])
}

type env struct {
	keys *dataprep.SoftKeyStore
	prep *dataprep.Preparer
	ca   emv.CAKeys
	kmc  dataprep.KMC
}

func newEnv(t testing.TB) env {
	t.Helper()
	ks, err := dataprep.LoadSoftKeyStore(dataprep.SoftKeyStoreConfig{Dir: keysDir})
	require.NoError(t, err)
	p, err := dataprep.New(ks, dataprep.WithClock(func() time.Time { return testNow }))
	require.NoError(t, err)
	ca, err := emv.LoadCAKeys(keysDir + "/ca-public.json")
	require.NoError(t, err)
	kmc, err := ks.KMC(context.Background(), 0)
	require.NoError(t, err)
	return env{keys: ks, prep: p, ca: ca, kmc: kmc}
}

func input(t testing.TB, pin string) dataprep.Input {
	t.Helper()
	pan, err := emv.NewPAN(luhn("621785000012345"))
	require.NoError(t, err)
	p, err := dataprep.NewPIN(pin)
	require.NoError(t, err)
	return dataprep.Input{
		Bank: "boc", Product: "volunteer-debit",
		LegalName: "李小红", EmbossName: "LI XIAOHONG",
		IDType: emv.IDTypeResidentCard, IDNumber: emv.NewIDNumber(gb11643("44140219990808662")),
		PIN: p, PAN: pan, PSN: 0x01,
		Expiry: time.Date(2031, time.June, 1, 0, 0, 0, 0, time.UTC), Effective: time.Date(2026, time.March, 1, 0, 0, 0, 0, time.UTC),
	}
}

func blankCard(t testing.TB, kmc dataprep.KMC, serial uint32) *cardsim.Card {
	t.Helper()
	img, err := cardsim.NewBlankImage(cardsim.BlankOptions{KMC: kmc.Key, Diversification: kmc.Diversification, KeyVersion: kmc.Version, Serial: serial})
	require.NoError(t, err)
	c, err := cardsim.New(img)
	require.NoError(t, err)
	return c
}

// send relays commands as the branch client will: in order, stopping at
// the first failure. It returns the responses received.
func send(ctx context.Context, card cardio.Card, cmds []cardio.Command) ([]cardio.Response, error) {
	var out []cardio.Response
	for _, c := range cmds {
		r, err := cardio.Transmit(ctx, card, c)
		if err != nil && !errors.Is(err, &cardio.StatusError{SW: r.SW}) && r.SW == 0 {
			return out, err // transport failure (card removed)
		}
		out = append(out, r)
		if err != nil {
			return out, err
		}
	}
	return out, nil
}

// result of one personalization attempt.
type result struct {
	batch     *dataprep.Batch
	responses []cardio.Response
	facts     *emv.CardFacts
	chip      string
}

// personalize runs the two batches against the card in the sim reader.
func personalize(ctx context.Context, t testing.TB, e env, readers *cardsim.Readers, p *dataprep.Prepared) (*result, error) {
	conn, err := readers.Connect(ctx, cardsim.ReaderName, cardio.ShareExclusive)
	if err != nil {
		return nil, err
	}
	defer func() { _ = conn.Disconnect(ctx) }()
	s, first, err := dataprep.FirstBatch(ctx, e.keys, dataprep.SessionOptions{})
	require.NoError(t, err)
	r1, err := send(ctx, conn, first)
	if err != nil {
		return nil, err
	}
	cplc, err := gp.ParseCPLC(r1[1].Data)
	require.NoError(t, err)
	b, err := dataprep.SecondBatch(s, r1[2].Data, p, testNow, []byte{0x12, 0x34, 0x56, 0x78})
	if err != nil {
		return nil, err
	}
	r2, err := send(ctx, conn, b.Commands)
	res := &result{batch: b, responses: r2, chip: cplc.ChipSerial()}
	if err != nil {
		return res, err
	}
	res.facts, err = dataprep.CheckReadBack(ctx, p, b, r2, e.ca)
	return res, err
}

// readCard reads the card with a fresh connection, as a check-in terminal would.
func readCard(ctx context.Context, t testing.TB, e env, readers *cardsim.Readers) (*emv.CardFacts, cardio.Card, error) {
	conn, err := readers.Connect(ctx, cardsim.ReaderName, cardio.ShareExclusive)
	require.NoError(t, err)
	f, err := emv.Read(ctx, conn, emv.Options{CAKeys: e.ca, Now: func() time.Time { return testNow }})
	return f, conn, err
}

func TestPersonalizeEndToEnd(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	in := input(t, "246810")
	p, err := e.prep.Prepare(ctx, in)
	require.NoError(t, err)
	card := blankCard(t, e.kmc, 0x00C0FFEE)
	readers := cardsim.NewReaders(card)

	res, err := personalize(ctx, t, e, readers, p)
	require.NoError(t, err)
	require.True(t, card.Personalized())
	require.Equal(t, "47905168"+"00C0FFEE", res.chip)
	apdus := card.APDUCount()
	t.Logf("personalization: %d APDUs (batch 1: 3, batch 2: %d of which %d STORE DATA and %d read-back), 2 round trips",
		apdus, len(res.batch.Commands), res.batch.ReadBack-2, len(res.batch.Commands)-res.batch.ReadBack)
	require.Equal(t, 3+len(res.batch.Commands), apdus, "no GET RESPONSE needed")
	require.Equal(t, "621785******3455"[:6], res.facts.PAN.String()[:6])

	// An independent read, as a check-in terminal would do it.
	f, conn, err := readCard(ctx, t, e, readers)
	require.NoError(t, err)
	require.Equal(t, "李小红", f.CardholderName)
	require.Equal(t, "LI XIAOHONG", f.CardholderNameLatin)
	require.Empty(t, f.CardholderNameExtended, "9F0B only for names longer than 26")
	require.Equal(t, in.IDNumber.Clear(), f.IDNumber.Clear())
	require.Equal(t, in.PAN.String(), f.PAN.String())
	require.Equal(t, "01", f.PSN)
	require.Equal(t, emv.ODADDA, f.ODA.Method)
	require.True(t, f.ODA.Verified, f.ODA.Failure)
	require.Equal(t, 156, f.IssuerCountry)

	// PIN: a wrong one decrements the counter, the chosen one verifies.
	err = emv.VerifyPIN(ctx, conn, "111111")
	var pe *cardio.PINError
	require.ErrorAs(t, err, &pe)
	require.Equal(t, 2, pe.TriesLeft)
	n, err := emv.PINTryCounter(ctx, conn)
	require.NoError(t, err)
	require.Equal(t, 2, n)
	require.NoError(t, emv.VerifyPIN(ctx, conn, "246810"))
	n, err = emv.PINTryCounter(ctx, conn)
	require.NoError(t, err)
	require.Equal(t, 3, n)

	// The exported image is a normal personalized card.
	img, err := card.Image()
	require.NoError(t, err)
	require.Empty(t, img.Kind)
	require.Empty(t, img.GP.Instances)
	again, err := cardsim.New(img)
	require.NoError(t, err)
	f2, _, err := readCard(ctx, t, e, cardsim.NewReaders(again))
	require.NoError(t, err)
	require.True(t, f2.ODA.Verified)

	// Saved to a card file and loaded back: the same card, its application
	// keys (DGI 8000) and card risk management parameters (DGI 9200) in
	// the payment part included, with the counters as they stand.
	pay := img.Applications[0].Payment
	require.NotNil(t, pay)
	found := map[uint16]bool{}
	for _, d := range p.DGIs {
		switch d.Tag {
		case 0x8000:
			require.Equal(t, []byte(d.Data), append(append(append([]byte{}, pay.AC...), pay.SMI...), pay.SMC...))
		case cardsim.DGICardRisk:
			risk := append(append(append([]byte{}, pay.CIACDecline...), pay.CIACOnline...), pay.CIACDefault...)
			flags := byte(0)
			if pay.IssuerAuthRequired {
				flags = 1
			}
			require.Equal(t, []byte(d.Data), append(risk, byte(pay.DKI), flags))
		default:
			continue
		}
		found[d.Tag] = true
	}
	require.True(t, found[0x8000] && found[cardsim.DGICardRisk], "DGI 8000 and 9200 prepared")
	path := filepath.Join(t.TempDir(), "card.json")
	require.NoError(t, card.Save(path))
	saved, err := cardsim.Load(path)
	require.NoError(t, err)
	back, err := saved.Image()
	require.NoError(t, err)
	require.Equal(t, img, back)
	f3, conn3, err := readCard(ctx, t, e, cardsim.NewReaders(saved))
	require.NoError(t, err)
	require.True(t, f3.ODA.Verified, f3.ODA.Failure)
	require.Equal(t, "李小红", f3.CardholderName)
	require.NoError(t, emv.VerifyPIN(ctx, conn3, "246810"))

	t.Run("second personalization refused", func(t *testing.T) {
		res, err := personalize(ctx, t, e, readers, p)
		require.ErrorIs(t, err, cardio.ErrConditionsNotSatisfied)
		require.Len(t, res.responses, 2, "INSTALL [for personalization] is refused")
		f, _, err := readCard(ctx, t, e, readers)
		require.NoError(t, err)
		require.True(t, f.ODA.Verified)
	})
	t.Run("read-back only", func(t *testing.T) {
		conn, err := readers.Connect(ctx, cardsim.ReaderName, cardio.ShareExclusive)
		require.NoError(t, err)
		b, err := dataprep.ReadBackBatch(p, testNow, []byte{9, 8, 7, 6})
		require.NoError(t, err)
		r, err := send(ctx, conn, b.Commands)
		require.NoError(t, err)
		_, err = dataprep.CheckReadBack(ctx, p, b, r, e.ca)
		require.NoError(t, err)
		in := input(t, "1357")
		in.LegalName = "李小兰"
		other, err := e.prep.Prepare(ctx, in)
		require.NoError(t, err)
		_, err = dataprep.CheckReadBack(ctx, other, b, r, e.ca)
		require.ErrorIs(t, err, dataprep.ErrReadBack, "another card's data does not match")
	})
}

func TestPersonalizeRefusals(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	p, err := e.prep.Prepare(ctx, input(t, "2468"))
	require.NoError(t, err)

	// run opens a session on a fresh blank card and returns the wrapped
	// commands of the second batch, for tampering.
	run := func(t *testing.T, tamper func(s *gp.Session, b *dataprep.Batch) []cardio.Command) (*cardsim.Card, []cardio.Response, error) {
		card := blankCard(t, e.kmc, 42)
		conn, err := cardsim.NewReaders(card).Connect(ctx, cardsim.ReaderName, cardio.ShareExclusive)
		require.NoError(t, err)
		s, first, err := dataprep.FirstBatch(ctx, e.keys, dataprep.SessionOptions{})
		require.NoError(t, err)
		r1, err := send(ctx, conn, first)
		require.NoError(t, err)
		b, err := dataprep.SecondBatch(s, r1[2].Data, p, testNow, []byte{1, 2, 3, 4})
		require.NoError(t, err)
		r, err := send(ctx, conn, tamper(s, b))
		return card, r, err
	}
	t.Run("bad MAC", func(t *testing.T) {
		card, r, err := run(t, func(_ *gp.Session, b *dataprep.Batch) []cardio.Command {
			cmds := append([]cardio.Command(nil), b.Commands...)
			d := append([]byte(nil), cmds[4].Data...)
			d[len(d)-1] ^= 0x01
			cmds[4].Data = d
			return cmds
		})
		require.ErrorIs(t, err, cardio.ErrSecurityNotSatisfied)
		require.Len(t, r, 5)
		require.False(t, card.Personalized())
	})
	t.Run("block out of sequence", func(t *testing.T) {
		card := blankCard(t, e.kmc, 44)
		conn, err := cardsim.NewReaders(card).Connect(ctx, cardsim.ReaderName, cardio.ShareExclusive)
		require.NoError(t, err)
		s, first, err := dataprep.FirstBatch(ctx, e.keys, dataprep.SessionOptions{})
		require.NoError(t, err)
		r1, err := send(ctx, conn, first)
		require.NoError(t, err)
		_, err = s.Open(r1[2].Data)
		require.NoError(t, err)
		ea, err := s.ExternalAuthenticate()
		require.NoError(t, err)
		inst, err := gp.InstallForPersonalization(p.AID)
		require.NoError(t, err)
		inst, err = s.Wrap(inst)
		require.NoError(t, err)
		// A correctly MACed block 1 where block 0 is expected.
		sd, err := s.Wrap(cardio.Command{CLA: 0x80, INS: 0xE2, P1: 0x00, P2: 0x01, Data: []byte{0x01, 0x01, 0x01, 0x00}})
		require.NoError(t, err)
		_, err = send(ctx, conn, []cardio.Command{ea, inst, sd})
		require.ErrorIs(t, err, cardio.ErrConditionsNotSatisfied)
		require.False(t, card.Personalized())
	})
	t.Run("STORE DATA before EXTERNAL AUTHENTICATE", func(t *testing.T) {
		card, _, err := run(t, func(_ *gp.Session, b *dataprep.Batch) []cardio.Command {
			return []cardio.Command{b.Commands[2]}
		})
		require.ErrorIs(t, err, cardio.ErrConditionsNotSatisfied)
		require.False(t, card.Personalized())
	})
	t.Run("missing mandatory DGI", func(t *testing.T) {
		short := *p
		short.DGIs = nil
		for _, d := range p.DGIs {
			if d.Tag != dataprep.DGIPIN {
				short.DGIs = append(short.DGIs, d)
			}
		}
		card := blankCard(t, e.kmc, 43)
		_, err := personalize(ctx, t, e, cardsim.NewReaders(card), &short)
		require.ErrorIs(t, err, cardio.ErrConditionsNotSatisfied)
		require.False(t, card.Personalized())
	})
	t.Run("wrong KMC", func(t *testing.T) {
		other, err := cardsim.NewBlankImage(cardsim.BlankOptions{KMC: bytes.Repeat([]byte{0x42}, 16), Diversification: gp.DiversifyEMV, KeyVersion: e.kmc.Version})
		require.NoError(t, err)
		card, err := cardsim.New(other)
		require.NoError(t, err)
		_, err = personalize(ctx, t, e, cardsim.NewReaders(card), p)
		require.ErrorIs(t, err, gp.ErrCardCryptogram)
	})
}

// TestPersonalizeTear pulls the card after k APDUs for every k of a
// personalization: before the last STORE DATA the card stays blank and a
// second full run succeeds; after it the card is completely personalized.
// Never half valid.
func TestPersonalizeTear(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	p, err := e.prep.Prepare(ctx, input(t, "908172"))
	require.NoError(t, err)

	probe := blankCard(t, e.kmc, 1)
	res, err := personalize(ctx, t, e, cardsim.NewReaders(probe), p)
	require.NoError(t, err)
	total := probe.APDUCount()
	commitAfter := 3 + res.batch.ReadBack // APDUs up to and including the last STORE DATA
	t.Logf("tear test over %d APDUs; the card commits at APDU %d", total, commitAfter)

	for k := 0; k < total; k++ {
		t.Run(fmt.Sprintf("k=%d", k), func(t *testing.T) {
			card := blankCard(t, e.kmc, uint32(100+k))
			readers := cardsim.NewReaders(card)
			card.RemoveAfter(k)
			_, err := personalize(ctx, t, e, readers, p)
			require.ErrorIs(t, err, cardio.ErrCardRemoved)
			readers.Insert(card) // put back: power-on reset
			if k < commitAfter {
				require.False(t, card.Personalized())
				_, _, err := readCard(ctx, t, e, readers)
				require.ErrorIs(t, err, emv.ErrNotFinancialCard)
				_, err = personalize(ctx, t, e, readers, p)
				require.NoError(t, err, "retry on the same card")
			}
			require.True(t, card.Personalized())
			f, _, err := readCard(ctx, t, e, readers)
			require.NoError(t, err)
			require.True(t, f.ODA.Verified)
			require.Equal(t, "李小红", f.CardholderName)
		})
	}
}

func TestPrepareValidation(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	tests := []struct {
		name   string
		mutate func(*dataprep.Input)
	}{
		{"bad PAN check digit", func(in *dataprep.Input) { in.PAN, _ = emv.NewPAN("6217850000123450") }},
		{"no PIN", func(in *dataprep.Input) { in.PIN = dataprep.PIN{} }},
		{"name too long", func(in *dataprep.Input) {
			in.LegalName = "一二三四五六七八九十一二三四五六七八九十一"
		}},
		{"emboss name too long", func(in *dataprep.Input) { in.EmbossName = strings.Repeat("A", 46) }},
		{"emboss name of one letter", func(in *dataprep.Input) { in.EmbossName = "A" }},
		{"Chinese preferred name", func(in *dataprep.Input) { in.PreferredName = "志愿者借记卡" }},
		{"non-ASCII emboss name", func(in *dataprep.Input) { in.EmbossName = "李" }},
		{"no expiry", func(in *dataprep.Input) { in.Expiry = time.Time{} }},
		{"try limit", func(in *dataprep.Input) { in.PINTryLimit = 16 }},
		{"no bank", func(in *dataprep.Input) { in.Bank = "" }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			in := input(t, "123456")
			tc.mutate(&in)
			_, err := e.prep.Prepare(ctx, in)
			require.ErrorIs(t, err, dataprep.ErrInvalidInput)
			require.NotContains(t, err.Error(), "621785000012345")
			require.NotContains(t, err.Error(), "123456")
		})
	}
	t.Run("PAN outside the issuer BIN", func(t *testing.T) {
		in := input(t, "123456")
		in.PAN, _ = emv.NewPAN(luhn("625908000000567"))
		_, err := e.prep.Prepare(ctx, in)
		require.ErrorIs(t, err, dataprep.ErrIssuerMismatch)
		require.NotContains(t, err.Error(), "625908000000567")
	})
}

func TestPreparedNeverPrintsSecrets(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	in := input(t, "864209")
	p, err := e.prep.Prepare(ctx, in)
	require.NoError(t, err)
	for _, s := range []string{fmt.Sprint(p), fmt.Sprintf("%v %+v %s", p.DGIs, p.DGIs, in.PIN), fmt.Sprintf("%#v", in.PIN)} {
		require.NotContains(t, s, "864209")
		require.NotContains(t, s, in.PAN.Digits())
	}
	require.Len(t, p.DGIs, 17)
	sensitive := 0
	for _, d := range p.DGIs {
		if d.Sensitive {
			sensitive++
			require.Equal(t, uint16(0x8000), d.Tag&0x8000, "sensitive DGIs are 8xxx")
		}
	}
	require.Equal(t, 7, sensitive)
}

func TestDeriveOptionA(t *testing.T) {
	imk, err := gp.ParseKey("0123456789ABCDEFFEDCBA9876543210")
	require.NoError(t, err)
	k1, err := dataprep.DeriveOptionA(imk, "6217850000123455", 0x01)
	require.NoError(t, err)
	k2, err := dataprep.DeriveOptionA(imk, "6217850000123455", 0x02)
	require.NoError(t, err)
	require.NotEqual(t, []byte(k1), []byte(k2))
	for _, b := range k1 {
		n := 0
		for i := range 8 {
			n += int(b>>i) & 1
		}
		require.Equal(t, 1, n%2, "odd parity")
	}
	// Y is the rightmost 16 digits of PAN || PSN: a 19-digit PAN drops its
	// first five digits.
	k3, err := dataprep.DeriveOptionA(imk, "999996217850000123455", 0x01)
	require.NoError(t, err)
	k4, err := dataprep.DeriveOptionA(imk, "000006217850000123455", 0x01)
	require.NoError(t, err)
	require.Equal(t, []byte(k3), []byte(k4))
	_ = rand.Reader
}
