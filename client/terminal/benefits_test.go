package terminal_test

import (
	"bytes"
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/volcard/volcard/cardio"
	"github.com/volcard/volcard/cardio/cardsim"
	"github.com/volcard/volcard/client"
	"github.com/volcard/volcard/client/terminal"
	"github.com/volcard/volcard/issuance"
	"github.com/volcard/volcard/issuance/checkin"
	"github.com/volcard/volcard/issuance/store/storetest"
)

// pinScript is a PIN pad that types the PINs given, one per ask, and
// counts the asks; an empty PIN is "nothing typed".
type pinScript struct {
	pins  []string
	asked int
}

func (p *pinScript) PIN(context.Context) (string, error) {
	p.asked++
	if len(p.pins) == 0 {
		return "", errors.New("no PIN typed")
	}
	pin := p.pins[0]
	p.pins = p.pins[1:]
	if pin == "" {
		return "", errors.New("no PIN typed")
	}
	return pin, nil
}

// TestMerchantOfflinePIN runs the benefits terminal (terminal.Merchant)
// against the API over real HTTP on SQLite with the in-process software
// card (PIN 123456, 3 tries): an offer that requires the PIN is granted
// after the right PIN; a wrong PIN refuses it, keeps the others, says the
// tries left and takes one from the card's counter; the third wrong PIN
// blocks it, and the next tap refuses at once without asking for the PIN
// (GET DATA 9F17 reads 0). Nothing typed, and a card without a PIN, are
// clear refusals that leave the counter as it was. The PINs typed never
// appear in what the terminal shows.
func TestMerchantOfflinePIN(t *testing.T) {
	s := newServer(t, storetest.SQLite(t))
	ctx := context.Background()
	sys := issuance.SystemActor()
	for _, o := range []checkin.NewOffer{
		{Title: "公交九折", Tier: checkin.TierCardHolder},
		{Title: "超市九折", Description: "每单限一次", Tier: checkin.TierCardHolder, RequiresPIN: true},
	} {
		o.OrgID = s.holder.OrgID
		_, err := s.ck.CreateOffer(ctx, sys, o)
		require.NoError(t, err)
	}
	api, err := client.New(s.ts.URL, s.token)
	require.NoError(t, err)
	img, err := cardsim.LoadImage(filepath.Join("..", "..", "testdata", "cards", "default.json"))
	require.NoError(t, err)
	card, err := cardsim.New(img)
	require.NoError(t, err)
	pad := &pinScript{}
	var shown bytes.Buffer
	m, err := terminal.NewMerchant(terminal.MerchantConfig{API: api, PINPad: pad, Out: &shown, Now: s.clock.Now})
	require.NoError(t, err)
	require.NoError(t, m.Start(ctx))

	check := func(t *testing.T, c *cardsim.Card, pins ...string) terminal.BenefitsOutcome {
		t.Helper()
		pad.pins, pad.asked = pins, 0
		conn, err := cardsim.NewReaders(c).Connect(ctx, cardsim.ReaderName, cardio.ShareExclusive)
		require.NoError(t, err)
		defer conn.Disconnect(ctx)
		o, err := m.Check(ctx, conn)
		require.NoError(t, err)
		require.Equal(t, terminal.StatusOK, o.Status, o.Message)
		require.Equal(t, "张*明", o.Name)
		require.Len(t, o.Offers, 2)
		require.True(t, o.Offers[0].Granted, "an offer without PIN is granted whatever the PIN check did")
		return o
	}
	t.Run("right PIN", func(t *testing.T) {
		o := check(t, card, "123456")
		require.Equal(t, terminal.PINVerified, o.PIN)
		require.True(t, o.Offers[1].Granted)
		require.Equal(t, 1, pad.asked)
		require.Equal(t, 3, card.PINTries())
		require.Contains(t, o.Message, "✓ 超市九折 — 每单限一次（PIN 已验证 / PIN verified）")
		require.True(t, strings.HasPrefix(o.Message, "✓ 张*明 持卡志愿者\n"), o.Message)
	})
	t.Run("wrong PIN", func(t *testing.T) {
		o := check(t, card, "654321")
		require.Equal(t, terminal.PINWrong, o.PIN)
		require.False(t, o.Offers[1].Granted)
		require.NotNil(t, o.PINTriesLeft)
		require.Equal(t, 2, *o.PINTriesLeft)
		require.Equal(t, 2, card.PINTries(), "the card's counter is decremented")
		require.Contains(t, o.Message, "✗ 超市九折 — 每单限一次（需验证 PIN：PIN 错误，还可尝试 2 次")
	})
	t.Run("counter read back, then blocked", func(t *testing.T) {
		o := check(t, card, "111111")
		require.Equal(t, terminal.PINWrong, o.PIN)
		require.Equal(t, 1, *o.PINTriesLeft)
		o = check(t, card, "222222")
		require.Equal(t, terminal.PINBlocked, o.PIN, "the third wrong PIN blocks it")
		require.Equal(t, 0, *o.PINTriesLeft)
		require.Equal(t, 0, card.PINTries())
		o = check(t, card, "123456")
		require.Equal(t, terminal.PINBlocked, o.PIN)
		require.Equal(t, 0, pad.asked, "a blocked PIN is not asked for")
		require.False(t, o.Offers[1].Granted)
		require.Contains(t, o.Message, "PIN 已锁定")
	})
	t.Run("nothing typed", func(t *testing.T) {
		fresh, err := cardsim.New(img)
		require.NoError(t, err)
		o := check(t, fresh, "")
		require.Equal(t, terminal.PINNotEntered, o.PIN)
		require.False(t, o.Offers[1].Granted)
		require.Equal(t, 3, fresh.PINTries())
		o = check(t, fresh, "12") // not 4 to 12 digits: never sent to the card
		require.Equal(t, terminal.PINNotEntered, o.PIN)
		require.Equal(t, 3, fresh.PINTries())
	})
	t.Run("card without PIN", func(t *testing.T) {
		noPIN := img
		noPIN.PIN, noPIN.PINTryLimit = "", 0
		c, err := cardsim.New(noPIN)
		require.NoError(t, err)
		o := check(t, c, "123456")
		require.Equal(t, terminal.PINNone, o.PIN)
		require.False(t, o.Offers[1].Granted)
		require.Contains(t, o.Message, "此卡未设置 PIN")
	})
	for _, pin := range []string{"123456", "654321", "111111", "222222"} {
		require.NotContains(t, shown.String(), pin, "a PIN typed is never shown")
	}
}

// TestMerchantNoPINOffer: with no offer requiring the PIN the PIN pad is
// never asked; an unknown card is refused; a server that cannot be
// reached is a clear error (benefits are never checked offline).
func TestMerchantNoPINOffer(t *testing.T) {
	s := newServer(t, storetest.SQLite(t))
	ctx := context.Background()
	_, err := s.ck.CreateOffer(ctx, issuance.SystemActor(), checkin.NewOffer{OrgID: s.holder.OrgID, Title: "公交九折",
		Tier: checkin.TierCardHolder})
	require.NoError(t, err)
	api, err := client.New(s.ts.URL, s.token)
	require.NoError(t, err)
	pad := &pinScript{}
	m, err := terminal.NewMerchant(terminal.MerchantConfig{API: api, PINPad: pad, Now: s.clock.Now})
	require.NoError(t, err)
	run := func(image string) (terminal.BenefitsOutcome, error) {
		c, err := cardsim.Load(filepath.Join("..", "..", "testdata", "cards", image))
		require.NoError(t, err)
		conn, err := cardsim.NewReaders(c).Connect(ctx, cardsim.ReaderName, cardio.ShareExclusive)
		require.NoError(t, err)
		defer conn.Disconnect(ctx)
		return m.Check(ctx, conn)
	}
	o, err := run("default.json")
	require.NoError(t, err)
	require.Equal(t, terminal.PINNotNeeded, o.PIN)
	require.Equal(t, 0, pad.asked)
	require.Equal(t, "✓ 张*明 持卡志愿者\n  ✓ 公交九折", o.Message)

	o, err = run("forged.json")
	require.NoError(t, err)
	require.Equal(t, terminal.StatusRefused, o.Status)
	require.Equal(t, "card-not-genuine", o.Problem)

	s.mode.Store(modeDown)
	o, err = run("default.json")
	require.Error(t, err)
	require.Equal(t, terminal.StatusError, o.Status)
	require.Equal(t, "server-unreachable", o.Problem)
	require.Contains(t, o.Message, "无法连接服务器")
	s.mode.Store(modeUp)
}
