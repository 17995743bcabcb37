package checkin_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/volcard/volcard/issuance"
	"github.com/volcard/volcard/issuance/checkin"
	"github.com/volcard/volcard/issuance/store"
	"github.com/volcard/volcard/issuance/store/storetest"
)

// TestTapExpiredCard: the default card (expiry 3012, its ICC certificate
// lapsing with it) issued to the holder is refused at check-in with
// ErrCardExpired, never as not genuine: in the hours after the month ended
// in China while the certificate still verifies (UTC), by its date before
// the daily job has marked it; after the certificate lapsed, by verifying
// it as at its last valid second; and once marked expired. An offline tap
// made before the end still counts; a forged card stays not genuine.
func TestTapExpiredCard(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		cf := newCheckinFixture(t, st, checkin.Config{MaxOfflineAge: 90 * 24 * time.Hour})
		app, err := cf.Svc.Apply(ctx, cf.Sys, cf.holder.ID, "MZ-VC-CCB", issuance.ChannelBranch)
		require.NoError(t, err)
		card := &issuance.Card{ApplicationID: app.ID, PANToken: cf.Svc.PANToken(defaultCardPAN), PANSealed: []byte("sealed"),
			LastFour: "2349", Expiry: "3012", State: issuance.BankCardActive, CreatedAt: cf.Clock.Now()}
		require.NoError(t, st.CreateCard(ctx, card))

		cf.Clock.T = time.Date(2030, 12, 31, 23, 0, 0, 0, cst) // last hour of validity
		res, err := cf.tap(t, "default.json")
		require.NoError(t, err)
		require.Equal(t, checkin.TapIn, res.Kind)

		cf.Clock.T = time.Date(2031, 1, 1, 0, 0, 0, 0, cst) // expired; the certificate (UTC) still verifies
		_, err = cf.tap(t, "default.json")
		require.ErrorIs(t, err, checkin.ErrCardExpired)
		require.False(t, errors.Is(err, checkin.ErrCardNotGenuine))

		cf.Clock.T = time.Date(2031, 1, 2, 9, 0, 0, 0, cst) // the certificate has lapsed too
		_, err = cf.tap(t, "default.json")
		require.ErrorIs(t, err, checkin.ErrCardExpired, "a lapsed certificate of a genuine expired card is the expiry, not a forgery")
		require.False(t, errors.Is(err, checkin.ErrCardNotGenuine))
		require.NotContains(t, err.Error(), defaultCardPAN)

		// An offline tap made before the end, sent after it, counts.
		un := []byte{9, 9, 9, 9}
		cf.seq++
		off, err := cf.ck.Tap(ctx, cf.terminal, checkin.TapInput{ActivityID: cf.act.ID, TerminalID: "T1", Seq: cf.seq,
			Offline: true, At: time.Date(2030, 12, 31, 23, 30, 0, 0, cst), Evidence: tapEvidence(t, "default.json", un)})
		require.NoError(t, err)
		require.Equal(t, checkin.TapOut, off.Kind)
		// One made after the end does not.
		cf.seq++
		_, err = cf.ck.Tap(ctx, cf.terminal, checkin.TapInput{ActivityID: cf.act.ID, TerminalID: "T1", Seq: cf.seq,
			Offline: true, At: time.Date(2031, 1, 1, 8, 0, 0, 0, cst), Evidence: tapEvidence(t, "default.json", []byte{8, 8, 8, 8})})
		require.ErrorIs(t, err, checkin.ErrCardExpired)

		// Marked expired by the job: still the expiry reason.
		n, err := cf.Svc.ExpireCards(ctx, cf.Sys)
		require.NoError(t, err)
		require.Equal(t, 1, n)
		_, err = cf.tap(t, "default.json")
		require.ErrorIs(t, err, checkin.ErrCardExpired)

		// The benefit check refuses it alike.
		ch, err := cf.ck.IssueChallenge(ctx, cf.terminal)
		require.NoError(t, err)
		_, err = cf.ck.CheckBenefits(ctx, cf.terminal, checkin.BenefitsInput{ChallengeID: ch.ID, Evidence: tapEvidence(t, "default.json", ch.UN)})
		require.ErrorIs(t, err, checkin.ErrCardExpired)

		// A forged card stays not genuine.
		_, err = cf.tap(t, "forged.json")
		require.ErrorIs(t, err, checkin.ErrCardNotGenuine)
	})
}
