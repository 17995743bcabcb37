package checkin_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/volcard/volcard/issuance"
	"github.com/volcard/volcard/issuance/checkin"
	"github.com/volcard/volcard/issuance/store"
	"github.com/volcard/volcard/issuance/store/storetest"
)

// TestTapClosedCard: a card closed at the bank is refused at check-in and
// at the benefit check with ErrCardClosed (not blocked, not unknown), and
// the directory says why; the same card active is accepted.
func TestTapClosedCard(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		cf := newCheckinFixture(t, st, checkin.Config{})
		app, err := cf.Svc.Apply(ctx, cf.Sys, cf.holder.ID, "MZ-VC-CCB", issuance.ChannelBranch)
		require.NoError(t, err)
		card := &issuance.Card{ApplicationID: app.ID, PANToken: cf.Svc.PANToken(defaultCardPAN), PANSealed: []byte("sealed"),
			LastFour: "2349", Expiry: "3012", State: issuance.BankCardActive, CreatedAt: cf.Clock.Now()}
		require.NoError(t, st.CreateCard(ctx, card))
		res, err := cf.tap(t, "default.json")
		require.NoError(t, err)
		require.Equal(t, checkin.TapIn, res.Kind)

		card.State = issuance.BankCardClosed
		require.NoError(t, st.UpdateCard(ctx, card))
		_, err = cf.tap(t, "default.json")
		require.ErrorIs(t, err, checkin.ErrCardClosed)
		require.NotContains(t, err.Error(), defaultCardPAN)

		ch, err := cf.ck.IssueChallenge(ctx, cf.terminal)
		require.NoError(t, err)
		_, err = cf.ck.CheckBenefits(ctx, cf.terminal, checkin.BenefitsInput{ChallengeID: ch.ID, Evidence: tapEvidence(t, "default.json", ch.UN)})
		require.ErrorIs(t, err, checkin.ErrCardClosed)

		status, reason := checkin.DirectoryStatus(issuance.BankCardClosed, "")
		require.Equal(t, checkin.CardClosed, status)
		require.Equal(t, "card closed at the bank", reason)
	})
}
