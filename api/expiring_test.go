package api

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/volcard/volcard/issuance"
	"github.com/volcard/volcard/issuance/checkin"
	"github.com/volcard/volcard/wire"
)

// TestCheckinErrorExpired: an expired card is its own problem (403
// card-expired) saying what to do, never card-not-genuine.
func TestCheckinErrorExpired(t *testing.T) {
	err := checkinError(errors.Join(errors.New("tap"), checkin.ErrCardExpired))
	var e *Error
	require.True(t, errors.As(err, &e))
	require.Equal(t, KindCardExpired, e.Kind)
	require.Equal(t, http.StatusForbidden, kinds[KindCardExpired].status)
	require.Contains(t, e.Detail, "renewed card")
}

// TestExpiredCardAPI: a card the bank issued (over ISO 8583 to banksim)
// whose expiry month has ended is in its city's expiring list (not in
// another city's: 404), is refused at a check-in tap with 403 card-expired,
// and after the expire-cards work shows expired with its event and leaves
// the list.
func TestExpiredCardAPI(t *testing.T) {
	ctx := context.Background()
	h := newCardHarness(t)
	sys := issuance.SystemActor()
	app, err := h.svc.Apply(ctx, sys, h.holder.ID, "GD-RV-BOC", issuance.ChannelOnline)
	require.NoError(t, err)
	_, err = h.svc.Approve(ctx, sys, app.ID)
	require.NoError(t, err)
	require.Eventually(t, func() bool {
		a, err := h.svc.GetApplication(ctx, sys, app.ID)
		require.NoError(t, err)
		return a.Status == issuance.StatusBankApproved
	}, 30*time.Second, 10*time.Millisecond)
	for _, to := range []issuance.Status{issuance.StatusPersonalized, issuance.StatusIssued} {
		_, err = h.svc.Transition(ctx, sys, app.ID, to, "handed over")
		require.NoError(t, err)
	}
	c, err := h.st.GetCardByApplication(ctx, app.ID)
	require.NoError(t, err)
	require.NoError(t, h.st.DB(ctx).Exec(`UPDATE cards SET expiry = '2510' WHERE id = ?`, c.ID).Error)

	list := func(token string, org int64) ExpiringCardList {
		t.Helper()
		res := h.do(http.MethodGet, "/v1/orgs/"+strconv.FormatInt(org, 10)+"/cards/expiring?within=30d", token, nil)
		require.Equal(t, http.StatusOK, res.status, "%s", res.body)
		require.NotContains(t, string(res.body), "6217850000000012349")
		var out ExpiringCardList
		res.json(t, &out)
		return out
	}
	got := list("mz", h.meizhou.ID)
	require.Len(t, got.Items, 1)
	require.Equal(t, c.ID, got.Items[0].ID)
	require.Equal(t, "2025-10-31", got.Items[0].ValidThrough)
	require.Equal(t, "621785*********2349", got.Items[0].MaskedPAN)
	require.Len(t, list("admin", h.province.ID).Items, 1)
	require.Empty(t, list("gz", h.guangzhou.ID).Items)
	require.Equal(t, http.StatusNotFound, h.do(http.MethodGet, "/v1/orgs/"+strconv.FormatInt(h.meizhou.ID, 10)+"/cards/expiring", "gz", nil).status)
	res := h.do(http.MethodGet, "/v1/orgs/"+strconv.FormatInt(h.meizhou.ID, 10)+"/cards/expiring?within=2y", "mz", nil)
	require.Equal(t, http.StatusBadRequest, res.status)

	ch := h.challenge(t, "terminal")
	res = h.do(http.MethodPost, h.tapPath(), "terminal", wire.TapRequest{Seq: 1, ChallengeID: ch.ID, Card: cardEvidence(t, "default.json", ch.UN)})
	require.Equal(t, http.StatusForbidden, res.status, "%s", res.body)
	require.Equal(t, KindCardExpired.TypeURI(), res.problem(t).Type)

	n, err := h.svc.ExpireCards(ctx, sys)
	require.NoError(t, err)
	require.Equal(t, 1, n)
	require.Equal(t, "expired", h.card(t, c.ID, "mz").State)
	res = h.do(http.MethodGet, "/v1/cards/"+strconv.FormatInt(c.ID, 10)+"/events", "mz", nil)
	require.Equal(t, http.StatusOK, res.status)
	var ev CardEventList
	res.json(t, &ev)
	require.Equal(t, "expired", ev.Items[len(ev.Items)-1].Kind)
	require.Empty(t, list("mz", h.meizhou.ID).Items)
}
