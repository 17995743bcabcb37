package paytest

import (
	"context"
	"encoding/json"
	"log/slog"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/volcard/volcard/bankgw"
	"github.com/volcard/volcard/bankgw/banksim"
	"github.com/volcard/volcard/cardio"
	"github.com/volcard/volcard/cardio/cardsim"
	"github.com/volcard/volcard/cardio/emv"
	"github.com/volcard/volcard/cardio/gp"
	"github.com/volcard/volcard/cardio/pcsc/pcsctest"
	"github.com/volcard/volcard/personalization/dataprep"
)

const keysDir = "../../testdata/keys"

var testNow = time.Date(2026, time.November, 24, 10, 30, 0, 0, time.UTC)

// bench is a bank simulator holding the test issuer master key, a gateway
// client signed on to it, and the data preparation with the test keys.
type bench struct {
	sim    *banksim.Sim
	client *bankgw.Client
	keys   *dataprep.SoftKeyStore
	prep   *dataprep.Preparer
	cas    emv.CAKeys
}

func newBench(t *testing.T) *bench {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(keysDir, "issuer-master-keys.json"))
	require.NoError(t, err)
	var imk struct{ AC cardio.Hex }
	require.NoError(t, json.Unmarshal(raw, &imk))
	log := slog.New(slog.DiscardHandler)
	sim, err := banksim.New(banksim.Config{BIN: "621785", ProductBINs: map[string]string{"BOCVOL01": "621785"}, PANLength: 19,
		MasterKeyAC: imk.AC, AuthLimit: 100000, Logger: log, Now: func() time.Time { return testNow }})
	require.NoError(t, err)
	require.NoError(t, sim.Start("127.0.0.1:0"))
	t.Cleanup(sim.Close)
	cfg := bankgw.DefaultConfig([]string{sim.Addr()}, "VOLCARD1", "GDVOLCARD000001")
	cfg.MinConnections, cfg.Logger = 1, log
	client, err := bankgw.NewClient(cfg)
	require.NoError(t, err)
	require.NoError(t, client.Connect(t.Context()))
	t.Cleanup(func() { _ = client.Close(context.Background()) })

	keys, err := dataprep.LoadSoftKeyStore(dataprep.SoftKeyStoreConfig{Dir: keysDir})
	require.NoError(t, err)
	prep, err := dataprep.New(keys, dataprep.WithClock(func() time.Time { return testNow }))
	require.NoError(t, err)
	cas, err := emv.LoadCAKeys(filepath.Join(keysDir, "ca-public.json"))
	require.NoError(t, err)
	return &bench{sim: sim, client: client, keys: keys, prep: prep, cas: cas}
}

// issueCard applies for a card at the bank (0300), personalizes a blank
// software card with dataprep through pcscd and returns the card's
// connection and the application number.
func (b *bench) issueCard(t *testing.T, an, pin string) (cardio.Card, *cardsim.Card) {
	t.Helper()
	ctx := t.Context()
	res, err := b.client.Apply(ctx, bankgw.ApplicationRequest{ApplicationNumber: an, Applicant: bankgw.Applicant{
		Name: "李小红", EmbossName: "LI XIAOHONG", IDType: "01", IDNumber: "441402199908086625", Phone: "13800138000",
		Product: "BOCVOL01", Branch: "MZ0001"}})
	require.NoError(t, err)
	require.NotNil(t, res.Card)
	pan, err := emv.NewPAN(res.Card.PAN)
	require.NoError(t, err)
	expiry, err := time.Parse("0601", res.Card.Expiry)
	require.NoError(t, err)
	p, err := dataprep.NewPIN(pin)
	require.NoError(t, err)
	require.Equal(t, "001", res.Card.PSN)
	prepared, err := b.prep.Prepare(ctx, dataprep.Input{
		Bank: "boc", Product: "BOCVOL01", LegalName: "李小红", EmbossName: "LI XIAOHONG",
		IDType: emv.IDTypeResidentCard, IDNumber: emv.NewIDNumber("441402199908086625"), PIN: p,
		PAN: pan, PSN: 0x01, Expiry: expiry, Effective: testNow.AddDate(0, -1, 0),
	})
	require.NoError(t, err)

	kmc, err := b.keys.KMC(ctx, 0)
	require.NoError(t, err)
	img, err := cardsim.NewBlankImage(cardsim.BlankOptions{KMC: kmc.Key, Diversification: kmc.Diversification, KeyVersion: kmc.Version, Serial: 0x00C0FFEE})
	require.NoError(t, err)
	sc, err := cardsim.New(img)
	require.NoError(t, err)
	readers := pcsctest.Start(t)
	slot := pcsctest.Slot(t)
	pcsctest.Insert(t, slot, sc)
	card, err := readers.Connect(ctx, slot.Reader, cardio.ShareExclusive)
	require.NoError(t, err)
	t.Cleanup(func() { _ = card.Disconnect(context.Background()) })

	s, first, err := dataprep.FirstBatch(ctx, b.keys, dataprep.SessionOptions{})
	require.NoError(t, err)
	r1 := send(t, card, first)
	_, err = gp.ParseCPLC(r1[1].Data)
	require.NoError(t, err)
	batch, err := dataprep.SecondBatch(s, r1[2].Data, prepared, testNow, []byte{1, 2, 3, 4})
	require.NoError(t, err)
	_, err = dataprep.CheckReadBack(ctx, prepared, batch, send(t, card, batch.Commands), b.cas)
	require.NoError(t, err)
	return card, sc
}

func send(t *testing.T, card cardio.Card, cmds []cardio.Command) []cardio.Response {
	t.Helper()
	var out []cardio.Response
	for _, c := range cmds {
		r, err := cardio.Transmit(t.Context(), card, c)
		require.NoError(t, err)
		out = append(out, r)
	}
	return out
}

// seq is an endless source of distinct unpredictable numbers.
type seq struct{ n byte }

func (s *seq) Read(p []byte) (int, error) {
	for i := range p {
		s.n++
		p[i] = s.n
	}
	return len(p), nil
}

// TestPaymentThroughPCSCD: a card issued by the bank simulator and
// personalized by dataprep, read and used by a terminal through pcscd: the
// first purchase goes online (new card, over the floor limit) and is
// approved with issuer authentication; the next ones are approved offline
// until the lower consecutive offline limit sends one online again; the
// card logs every approved purchase.
func TestPaymentThroughPCSCD(t *testing.T) {
	b := newBench(t)
	card, sc := b.issueCard(t, "GD2026112400001", "246810")
	ctx := t.Context()
	k := &kernel{card: card, cas: b.cas, bank: b.client, now: testNow, rand: &seq{}, pin: "246810", floor: 10000}

	// Online purchase: 123.45 CNY.
	before := sc.APDUCount()
	o, err := k.transact(ctx, 12345)
	require.NoError(t, err)
	t.Logf("purchase 1: %s, %d APDUs", o, sc.APDUCount()-before)
	require.Equal(t, 14, sc.APDUCount()-before, "docs/card-profile.md section 7")
	require.True(t, o.facts.ODA.Verified, "DDA")
	require.Equal(t, emv.ODADDA, o.facts.ODA.Method)
	require.Equal(t, []byte{0x01, 0x03, 0x02}, o.cvmResults, "offline plaintext PIN verified")
	require.True(t, o.tvr.has(tvrNewCard) && o.tvr.has(tvrFloorLimit), "terminal risk management: new card, floor limit")
	require.Equal(t, emv.ARQC, o.first.Type())
	require.True(t, o.online)
	require.Equal(t, "00", o.auth.ResponseCode)
	require.Len(t, o.auth.IssuerAuthData, 10)
	require.NoError(t, o.issuerAuthErr, "the card accepts the bank's ARPC")
	require.Equal(t, emv.TC, o.second.Type())
	require.True(t, o.approved)
	auths := b.sim.Authorizations()
	require.Len(t, auths, 1)
	require.True(t, auths[0].CryptogramOK, "the bank verified the ARQC")
	require.Equal(t, o.first.ATC, auths[0].ATC)

	// Offline purchases under the floor limit: TC from the card, until the
	// ATC passes the last online ATC by more than 9F14 (3).
	var kinds []string
	for i := range 4 {
		before := sc.APDUCount()
		o, err := k.transact(ctx, 1000+int64(i))
		require.NoError(t, err)
		t.Logf("purchase %d: %s, %d APDUs", i+2, o, sc.APDUCount()-before)
		if i < 3 {
			require.Equal(t, 12, sc.APDUCount()-before, "an offline approval")
		}
		require.True(t, o.approved)
		kinds = append(kinds, o.first.Type().String())
		if i == 3 {
			require.True(t, o.tvr.has(tvrLCOLExceeded), "velocity checking")
			require.True(t, o.online)
		} else {
			require.Equal(t, tvr{}, o.tvr, "nothing for the issuer to look at")
		}
	}
	require.Equal(t, []string{"TC", "TC", "TC", "ARQC"}, kinds)

	// The transaction log holds the five approved purchases, newest first,
	// and the ATC is readable with GET DATA.
	f, err := emv.Read(ctx, card, emv.Options{SkipODA: true, Fast: true})
	require.NoError(t, err)
	entry, ok := f.Tag("9F4D")
	require.True(t, ok)
	log, err := emv.TransactionLog(ctx, card, entry)
	require.NoError(t, err)
	require.Len(t, log, 5)
	require.Equal(t, bcdAmount(1003), log[0]["9F02"])
	require.Equal(t, bcdAmount(12345), log[4]["9F02"])
	require.Equal(t, []byte("VOLCARD TEST SHOP\x00\x00\x00"), log[0]["9F4E"])
	atc, err := emv.ATC(ctx, card)
	require.NoError(t, err)
	require.Equal(t, int(o.first.ATC)+5, atc, "one per purchase and one for this read's GPO")

	// The card's state (ATC, log, last online ATC) is in its image.
	img, err := sc.Image()
	require.NoError(t, err)
	pay := img.Applications[0].Payment
	require.NotNil(t, pay)
	require.Len(t, pay.Log, 5)
	require.Equal(t, atc-1, pay.LastOnlineATC, "purchase 5 went online; this read took one more ATC")
	require.False(t, pay.IssuerAuthFailed || pay.OnlineIncomplete)
}

// TestPaymentDeclinesThroughPCSCD: declines end in an AAC — by the issuer
// (over the limit, then a blocked card), with a genuine ARPC the card
// accepts, and by the card itself once the PIN is blocked.
func TestPaymentDeclinesThroughPCSCD(t *testing.T) {
	b := newBench(t)
	card, _ := b.issueCard(t, "GD2026112400002", "135790")
	ctx := t.Context()
	k := &kernel{card: card, cas: b.cas, bank: b.client, now: testNow, rand: &seq{}, pin: "135790", floor: 10000}

	o, err := k.transact(ctx, 150000) // over the bank's 1,000 CNY limit
	require.NoError(t, err)
	t.Logf("over the limit: %s", o)
	require.Equal(t, emv.ARQC, o.first.Type())
	require.Equal(t, bankgw.CodeInsufficientFunds, o.auth.ResponseCode)
	require.NoError(t, o.issuerAuthErr)
	require.Equal(t, emv.AAC, o.second.Type())
	require.False(t, o.approved)

	_, err = b.client.ChangeStatus(ctx, bankgw.StatusChangeRequest{ApplicationNumber: "GD2026112400002", Change: bankgw.StatusBlock})
	require.NoError(t, err)
	o, err = k.transact(ctx, 15000) // over the floor limit: online
	require.NoError(t, err)
	t.Logf("blocked card: %s", o)
	require.Equal(t, emv.ARQC, o.first.Type())
	require.Equal(t, bankgw.CodeDoNotHonour, o.auth.ResponseCode)
	require.Equal(t, emv.AAC, o.second.Type())

	// Wrong PIN three times: the PIN is blocked; the card declines by
	// itself (CIAC-decline: PIN try limit exceeded) and the bank sees nothing.
	k.pin = "000000"
	before := len(b.sim.Authorizations())
	o, err = k.transact(ctx, 100)
	require.NoError(t, err)
	t.Logf("wrong PIN: %s", o)
	require.Equal(t, byte(0x1E), o.cvmResults[0], "the PIN failed, the next CVM (signature) applies")
	require.Equal(t, emv.ARQC, o.first.Type(), "CIAC-online: offline PIN failed")
	require.Equal(t, bankgw.CodeDoNotHonour, o.auth.ResponseCode, "the issuer sees the failed PIN in the CVR")
	require.Equal(t, emv.AAC, o.second.Type())
	for range 2 {
		o, err = k.transact(ctx, 100)
		require.NoError(t, err)
	}
	t.Logf("PIN blocked: %s", o)
	require.True(t, o.tvr.has(tvrPINLimitExceeded))
	require.Equal(t, emv.AAC, o.first.Type())
	require.Nil(t, o.second)
	require.False(t, o.approved)
	require.Len(t, b.sim.Authorizations(), before+2, "the two wrong-PIN purchases before the block went online (and were declined)")
	n := len(b.sim.Authorizations())
	o, err = k.transact(ctx, 100)
	require.NoError(t, err)
	require.Equal(t, emv.AAC, o.first.Type())
	require.Len(t, b.sim.Authorizations(), n, "a blocked PIN declines offline")

	// Nothing was approved: the log is empty.
	f, err := emv.Read(ctx, card, emv.Options{SkipODA: true, Fast: true})
	require.NoError(t, err)
	entry, _ := f.Tag("9F4D")
	log, err := emv.TransactionLog(ctx, card, entry)
	require.NoError(t, err)
	require.Empty(t, log)
}
