package personalize_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/volcard/volcard/pii"
	"github.com/volcard/volcard/wire"

	"github.com/stretchr/testify/require"

	"github.com/volcard/volcard/cardio"
	"github.com/volcard/volcard/cardio/cardsim"
	"github.com/volcard/volcard/cardio/emv"
	"github.com/volcard/volcard/cardio/pcsc/pcsctest"
	"github.com/volcard/volcard/client"
	"github.com/volcard/volcard/client/personalize"
	"github.com/volcard/volcard/issuance"
)

// TestPersonalizeEndToEndPCSC: apply → approve over HTTP → the outbox gets
// the card from banksim (bank_approved) → `volcard personalize`'s code path
// personalizes a blank cardsim card through the real pcscd/vpcd → cardio/emv
// reads it back through pcscd.
func TestPersonalizeEndToEndPCSC(t *testing.T) {
	w := newWorld(t)
	readers := pcsctest.Start(t)
	slot := pcsctest.Slot(t)
	ctx := t.Context()

	v := w.apply("李小红")
	w.waitBankApproved(v)
	bankPAN := w.bankPAN(v)
	require.True(t, strings.HasPrefix(bankPAN, productBIN), "banksim issues from the product's BIN")

	card := w.blankCard(0x00C0FFEE)
	pcsctest.Insert(t, slot, card)
	var ticks []int
	r := &personalize.Runner{API: w.api, Readers: readers, Reader: slot.Reader, Branch: "广州分行营业部",
		Progress: func(done, total int) { ticks = append(ticks, done); require.LessOrEqual(t, done, total) }}
	res, stats, err := r.Personalize(ctx, personalize.Request{ApplicationID: v.AppID, PIN: "246810"})
	require.NoError(t, err)
	t.Logf("personalized over pcscd: %d APDUs, %d HTTP round trips after opening, open %v, card time %v (I/O %v), total %v",
		stats.APDUs, stats.RoundTrips, stats.Open, stats.CardTime, stats.CardIO, stats.Total)
	require.Equal(t, 2, stats.RoundTrips, "two round trips after opening")
	require.Equal(t, stats.APDUs, card.APDUCount())
	require.Len(t, ticks, stats.APDUs)
	require.True(t, card.Personalized())

	// The result names the bank's card, masked, and the chip.
	require.Equal(t, string(issuance.StatusIssued), res.Status)
	require.Equal(t, pii.MaskPAN(bankPAN), res.MaskedPAN)
	require.Equal(t, "李小红", res.Name)
	require.Equal(t, "4790516800C0FFEE", res.ChipSerial)
	require.Equal(t, slot.Reader, res.Reader)
	require.Equal(t, "广州分行营业部", res.Branch)
	require.Equal(t, bankPAN[len(bankPAN)-4:], bankPAN[len(bankPAN)-4:])

	// Application and events: bank_approved → personalized → issued.
	require.Equal(t, issuance.StatusIssued, w.status(v.AppID))
	ev, err := w.svc.Events(ctx, issuance.SystemActor(), v.AppID)
	require.NoError(t, err)
	var path []issuance.Status
	for _, e := range ev {
		path = append(path, e.To)
	}
	require.Equal(t, []issuance.Status{issuance.StatusSubmitted, issuance.StatusApproved, issuance.StatusBankPending, issuance.StatusBankApproved,
		issuance.StatusPersonalized, issuance.StatusIssued}, path)
	require.Equal(t, issuance.RoleBankStaff, ev[len(ev)-1].ActorRole)
	rec, err := w.svc.PersonalizedCard(ctx, v.AppID)
	require.NoError(t, err)
	require.Equal(t, "4790516800C0FFEE", rec.ChipSerial)
	require.Equal(t, bankPAN[len(bankPAN)-4:], rec.LastFour)
	require.Equal(t, w.svc.PANToken(bankPAN), rec.PANToken)
	require.Equal(t, slot.Reader, rec.Reader)
	require.NotZero(t, rec.ActorTokenID)

	// cardio/emv reads the card back through pcscd, as a check-in terminal.
	conn, err := readers.Connect(ctx, slot.Reader, cardio.ShareExclusive)
	require.NoError(t, err)
	defer conn.Disconnect(context.Background())
	f, err := emv.Read(ctx, conn, emv.Options{CAKeys: w.ca})
	require.NoError(t, err)
	require.Equal(t, "李小红", f.CardholderName)
	require.Equal(t, v.IDNumber, f.IDNumber.Clear())
	require.Equal(t, pii.MaskPAN(bankPAN), f.PAN.String(), "masked PAN equals the bank's")
	require.Equal(t, bankPAN, f.PAN.Digits())
	require.Equal(t, emv.ODADDA, f.ODA.Method)
	require.True(t, f.ODA.Verified, f.ODA.Failure)
	// Another PIN decrements the try counter; the chosen one verifies and
	// resets it.
	err = emv.VerifyPIN(ctx, conn, "135790")
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

	t.Run("issued application cannot be personalized again", func(t *testing.T) {
		_, err := w.api.OpenPersonalization(ctx, v.AppID, wire.OpenPersonalization{Reader: "x", PIN: "1234"})
		var pe *client.ProblemError
		require.ErrorAs(t, err, &pe)
		require.Equal(t, 409, pe.Status)
	})
	t.Run("no secrets in logs", func(t *testing.T) {
		logs := w.logBuf.String()
		for _, secret := range []string{bankPAN, v.IDNumber, "246810", w.staff, w.admin} {
			require.NotContains(t, logs, secret)
		}
	})
}

// TestPersonalizeTear pulls the card after k APDUs for every k of a
// personalization, over the real HTTP server on PostgreSQL with the bank
// outbox, but with the card in cardsim's in-process reader ("sim"): through
// pcscd every removal costs a reader poll (~0.4-2 s) and the 30-odd
// rounds would take minutes. The client code path is the same
// (cardio.Readers). Even k retry with the same card, odd k with a new one.
func TestPersonalizeTear(t *testing.T) {
	w := newWorld(t)
	ctx := t.Context()

	// Probe: how many APDUs a personalization takes.
	probe := w.apply("王探针")
	w.waitBankApproved(probe)
	pc := w.blankCard(1)
	pr := &personalize.Runner{API: w.api, Readers: cardsim.NewReaders(pc), Reader: cardsim.ReaderName}
	_, stats, err := pr.Personalize(ctx, personalize.Request{ApplicationID: probe.AppID, PIN: "1234"})
	require.NoError(t, err)
	total := stats.APDUs
	t.Logf("tear test over %d APDUs", total)

	vs := make([]volunteer, total)
	for k := range vs {
		vs[k] = w.apply(fmt.Sprintf("张%s", string(rune('甲'+k))))
	}
	w.waitBankApproved(vs...)

	inconsistent, recoverable := 0, 0
	for k := 0; k < total; k++ {
		t.Run(fmt.Sprintf("k=%d", k), func(t *testing.T) {
			v := vs[k]
			card := w.blankCard(uint32(1000 + k))
			readers := cardsim.NewReaders(card)
			card.RemoveAfter(k)
			r := &personalize.Runner{API: w.api, Readers: readers, Reader: cardsim.ReaderName}
			_, _, err := r.Personalize(ctx, personalize.Request{ApplicationID: v.AppID, PIN: "2580"})
			require.ErrorIs(t, err, personalize.ErrCardRemoved)
			var lost *personalize.CardLostError
			require.ErrorAs(t, err, &lost)
			require.Equal(t, k, lost.APDUs)
			if w.status(v.AppID) != issuance.StatusBankApproved {
				inconsistent++
			}
			require.Equal(t, issuance.StatusBankApproved, w.status(v.AppID), "a pulled card leaves the application bank_approved")
			_, err = w.svc.PersonalizedCard(ctx, v.AppID)
			require.ErrorIs(t, err, issuance.ErrNotFound)

			written := card.Personalized() // pulled after its last STORE DATA
			if written {
				recoverable++
			}
			// Retry: the same card put back (even k) or a new blank card.
			retry := card
			if k%2 == 1 {
				retry = w.blankCard(uint32(5000 + k))
			}
			readers.Insert(retry)
			res, _, err := r.Personalize(ctx, personalize.Request{ApplicationID: v.AppID, PIN: "2580"})
			require.NoError(t, err)
			require.Equal(t, string(issuance.StatusIssued), res.Status)
			require.Equal(t, issuance.StatusIssued, w.status(v.AppID))
			require.True(t, retry.Personalized())
			rec, err := w.svc.PersonalizedCard(ctx, v.AppID)
			require.NoError(t, err)
			require.Equal(t, res.ChipSerial, rec.ChipSerial)
			require.Equal(t, written && k%2 == 0, res.Recovered, "a written card put back is checked by read-back only")

			// The issued card is whole: DDA verifies, the PIN works.
			conn, err := readers.Connect(ctx, cardsim.ReaderName, cardio.ShareExclusive)
			require.NoError(t, err)
			f, err := emv.Read(ctx, conn, emv.Options{CAKeys: w.ca})
			require.NoError(t, err)
			require.True(t, f.ODA.Verified, f.ODA.Failure)
			require.Equal(t, v.Name, f.CardholderName)
			require.Equal(t, w.bankPAN(v), f.PAN.Digits())
			require.NoError(t, emv.VerifyPIN(ctx, conn, "2580"))
		})
	}
	require.Zero(t, inconsistent)
	require.NotZero(t, recoverable, "some k pull the card after its last STORE DATA")
	t.Logf("%d of %d tears left a written card", recoverable, total)
}

// TestPersonalizeRefusals covers the server's answers to wrong cards.
func TestPersonalizeRefusals(t *testing.T) {
	w := newWorld(t)
	ctx := t.Context()
	vs := []volunteer{w.apply("赵一"), w.apply("赵二")}
	w.waitBankApproved(vs...)

	t.Run("card of another issuer (wrong KMC)", func(t *testing.T) {
		img, err := cardsim.NewBlankImage(cardsim.BlankOptions{KMC: make([]byte, 16), Diversification: w.kmc.Diversification, KeyVersion: w.kmc.Version, Serial: 7})
		require.NoError(t, err)
		card, err := cardsim.New(img)
		require.NoError(t, err)
		r := &personalize.Runner{API: w.api, Readers: cardsim.NewReaders(card), Reader: cardsim.ReaderName}
		_, _, err = r.Personalize(ctx, personalize.Request{ApplicationID: vs[0].AppID, PIN: "1234"})
		require.Equal(t, wire.ProblemCardRefused, client.ProblemType(err))
		require.Equal(t, issuance.StatusBankApproved, w.status(vs[0].AppID))
	})
	t.Run("card already personalized for someone else", func(t *testing.T) {
		card := w.blankCard(8)
		r := &personalize.Runner{API: w.api, Readers: cardsim.NewReaders(card), Reader: cardsim.ReaderName}
		_, _, err := r.Personalize(ctx, personalize.Request{ApplicationID: vs[0].AppID, PIN: "1234"})
		require.NoError(t, err)
		_, _, err = r.Personalize(ctx, personalize.Request{ApplicationID: vs[1].AppID, PIN: "1234"})
		require.Equal(t, wire.ProblemCardNotBlank, client.ProblemType(err))
		require.Equal(t, issuance.StatusBankApproved, w.status(vs[1].AppID))
	})
	t.Run("a new session supersedes the old one", func(t *testing.T) {
		s1, err := w.api.OpenPersonalization(ctx, vs[1].AppID, wire.OpenPersonalization{Reader: "r", PIN: "1234"})
		require.NoError(t, err)
		_, err = w.api.OpenPersonalization(ctx, vs[1].AppID, wire.OpenPersonalization{Reader: "r", PIN: "1234"})
		require.NoError(t, err)
		_, err = w.api.PostPersonalizationResponses(ctx, s1.SessionID, wire.PersonalizationResponses{Responses: []string{"9000"}})
		require.Equal(t, wire.ProblemSessionClosed, client.ProblemType(err))
	})
	t.Run("bad PIN and unknown session", func(t *testing.T) {
		_, err := w.api.OpenPersonalization(ctx, vs[1].AppID, wire.OpenPersonalization{Reader: "r", PIN: "12"})
		require.Equal(t, "validation", client.ProblemType(err))
		_, err = w.api.PostPersonalizationResponses(ctx, strings.Repeat("ab", 16), wire.PersonalizationResponses{Responses: []string{"9000"}})
		require.Equal(t, "not-found", client.ProblemType(err))
	})
	t.Run("another bank's staff gets 404", func(t *testing.T) {
		require.NoError(t, w.svc.PutBank(ctx, issuance.SystemActor(), issuance.Bank{Code: "CCB", Name: "中国建设银行"}))
		plain, _, err := w.svc.CreateToken(ctx, issuance.SystemActor(), issuance.NewToken{Name: "CCB", Role: issuance.RoleBankStaff, BankCode: "CCB"})
		require.NoError(t, err)
		other, err := client.New(w.ts.URL, plain)
		require.NoError(t, err)
		_, err = other.OpenPersonalization(ctx, vs[1].AppID, wire.OpenPersonalization{Reader: "r", PIN: "1234"})
		require.Equal(t, "not-found", client.ProblemType(err))
		// Nor can it continue a session opened by the bank's staff.
		s, err := w.api.OpenPersonalization(ctx, vs[1].AppID, wire.OpenPersonalization{Reader: "r", PIN: "1234"})
		require.NoError(t, err)
		_, err = other.PostPersonalizationResponses(ctx, s.SessionID, wire.PersonalizationResponses{Responses: []string{"9000"}})
		require.Equal(t, "not-found", client.ProblemType(err))
	})
}
