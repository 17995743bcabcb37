package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/spf13/pflag"
	"github.com/stretchr/testify/require"

	"github.com/volcard/volcard/cardio"
	"github.com/volcard/volcard/cardio/cardsim"
	"github.com/volcard/volcard/cardio/emv"
	"github.com/volcard/volcard/cardio/pcsc"
	"github.com/volcard/volcard/cardio/pcsc/pcsctest"
	"github.com/volcard/volcard/client"
	"github.com/volcard/volcard/client/terminal"
	"github.com/volcard/volcard/issuance"
	"github.com/volcard/volcard/issuance/checkin"
	"github.com/volcard/volcard/wire"
)

// TestBenefitsOfflinePINThroughPCSCD is issue #18's benefits check with the
// offline PIN through the real pcscd with vpcd, on PostgreSQL with banksim
// over TCP. A blank software card is personalized by "volcard personalize
// --batch --pin-file" (PIN 2468, written at personalization), saved, and
// put back in the reader (a "volcard card-sim --save" run) for each tap at
// the university's benefits terminal (terminal.Merchant on its own PC/SC
// context). The university's admin has made a card-holder offer and one
// that requires the PIN. Right PIN: both granted. Wrong PIN: the PIN offer
// refused with the tries left, and the card's counter, read back through
// pcscd with GET DATA 9F17 while the card is in and from the saved card,
// one less. The third wrong PIN blocks it; then even the right PIN is
// refused without being asked for, and VERIFY answers 6983. The terminal is
// the bookshop's till (RedeemOffer): the redemption is recorded on the
// server once, with offline_pin, after the right PIN only.
func TestBenefitsOfflinePINThroughPCSCD(t *testing.T) {
	hand := &simReader{t: t, slot: pcsctest.Slot(t)}
	hand.readers = pcsctest.Start(t) // first: under CI=true a missing pcscd fails at once
	ctx := t.Context()
	w := newIssueWorld(t)
	const name = "黄一"
	sess := w.onsiteBatch(t, []string{name})

	dir := t.TempDir()
	var out bytes.Buffer
	require.NoError(t, runCardSimBlanks(blanksOptions{count: 1, serial: "00C00001", out: dir, kmc: filepath.Join(e2eKeys, "kmc.json")}, &out))
	blank, saved := filepath.Join(dir, "blank-00C00001.json"), filepath.Join(dir, "card-00C00001.json")
	pinFile := filepath.Join(dir, "pin")
	require.NoError(t, os.WriteFile(pinFile, []byte("2468\n"), 0o600))
	stderr := &lineWriter{ch: make(chan string, 1024)}
	walked := make(chan error, 1)
	go func() {
		walked <- runPersonalize(ctx, personalizeOptions{server: w.url, token: w.tokens["staff"], reader: hand.slot.Reader,
			branch: "梅州分行营业部", pinFile: pinFile, batch: sess.ID}, strings.NewReader(""), &lockedBuffer{}, stderr)
	}()
	stderr.waitLine(t, "1/1 "+name)
	hand.put(blank, saved)
	stderr.waitLine(t, "done: ")
	hand.take()
	select {
	case err := <-walked:
		require.NoError(t, err, "stderr:\n%s", stderr.String())
	case <-time.After(60 * time.Second):
		t.Fatalf("the walk did not end; stderr:\n%s", stderr.String())
	}
	img, err := cardsim.LoadImage(saved)
	require.NoError(t, err)
	require.NotNil(t, img.PINTryCounter)
	require.Equal(t, 3, *img.PINTryCounter, "personalized with the PBOC try limit")

	// The university (the merchant's organisation) makes its offers.
	uni, err := client.New(w.url, w.tokens["uni"])
	require.NoError(t, err)
	_, err = uni.CreateOffer(ctx, wire.NewOffer{OrgID: w.university.ID, Tier: "card_holder", Title: "食堂九折"})
	require.NoError(t, err)
	books, err := uni.CreateOffer(ctx, wire.NewOffer{OrgID: w.university.ID, Tier: "card_holder", Title: "书店八折", RequiresPIN: true})
	require.NoError(t, err)

	gate, err := client.New(w.url, w.tokens["gate"])
	require.NoError(t, err)
	termReaders, err := pcsc.New(ctx) // the terminal's own PC/SC context
	require.NoError(t, err)
	t.Cleanup(func() { termReaders.Close() })
	var typed []string
	pad := terminal.PINPadFunc(func(context.Context) (string, error) {
		if len(typed) == 0 {
			return "", fmt.Errorf("asked for a PIN the test did not expect")
		}
		pin := typed[0]
		typed = typed[1:]
		return pin, nil
	})
	var shown bytes.Buffer
	// The bookshop's till: it redeems the offer that requires the PIN.
	m, err := terminal.NewMerchant(terminal.MerchantConfig{API: gate, PINPad: pad, Out: &shown, RedeemOffer: books.ID})
	require.NoError(t, err)
	require.NoError(t, m.Start(ctx))

	// tap puts the saved card in, checks it with the PINs given, reads the
	// try counter back through pcscd (GET DATA 9F17 on the selected
	// application) and takes the card out, saving it.
	tap := func(pins ...string) (terminal.BenefitsOutcome, int) {
		t.Helper()
		typed = pins
		hand.put(saved, saved)
		defer hand.take()
		card, err := termReaders.Connect(ctx, hand.slot.Reader, cardio.ShareExclusive)
		require.NoError(t, err)
		defer card.Disconnect(context.Background())
		o, err := m.Check(ctx, card)
		require.NoError(t, err)
		require.Equal(t, terminal.StatusOK, o.Status, o.Message)
		require.Empty(t, typed, "every PIN given was asked for")
		_, err = emv.Read(ctx, card, emv.Options{Fast: true, SkipODA: true})
		require.NoError(t, err)
		tries, err := emv.PINTryCounter(ctx, card)
		require.NoError(t, err)
		return o, tries
	}
	savedTries := func() int {
		img, err := cardsim.LoadImage(saved)
		require.NoError(t, err)
		return *img.PINTryCounter
	}
	granted := func(o terminal.BenefitsOutcome) []string {
		var g []string
		for _, off := range o.Offers {
			if off.Granted {
				g = append(g, off.Title)
			}
		}
		return g
	}

	o, tries := tap("2468")
	require.Equal(t, terminal.PINVerified, o.PIN)
	require.Equal(t, []string{"食堂九折", "书店八折"}, granted(o))
	require.Equal(t, 3, tries)
	require.Equal(t, "黄*", o.Name)
	require.NotNil(t, o.Redeemed)
	require.Equal(t, wire.CVMOfflinePIN, o.Redeemed.CVM)
	require.Contains(t, o.Message, fmt.Sprintf("已核销：书店八折（#%d）", o.Redeemed.ID))

	o, tries = tap("1357")
	require.Equal(t, terminal.PINWrong, o.PIN)
	require.Equal(t, []string{"食堂九折"}, granted(o))
	require.Equal(t, 2, *o.PINTriesLeft)
	require.Equal(t, 2, tries, "GET DATA 9F17 through pcscd: one less")
	require.Equal(t, 2, savedTries(), "and so in the saved card")
	require.Contains(t, o.Message, "✗ 书店八折（需验证 PIN：PIN 错误，还可尝试 2 次")

	o, tries = tap("1357")
	require.Equal(t, 1, *o.PINTriesLeft)
	require.Equal(t, 1, tries)
	o, tries = tap("1357")
	require.Equal(t, terminal.PINBlocked, o.PIN, "the third wrong PIN blocks it")
	require.Equal(t, 0, tries)
	require.Equal(t, 0, savedTries())

	o, tries = tap() // the right PIN would be 2468: not even asked for
	require.Equal(t, terminal.PINBlocked, o.PIN)
	require.Equal(t, []string{"食堂九折"}, granted(o))
	require.Equal(t, 0, tries)
	require.Contains(t, o.Message, "✗ 书店八折（需验证 PIN：PIN 已锁定")
	require.Nil(t, o.Redeemed)
	require.Contains(t, o.Message, "未核销：书店八折")

	// On the server: the one redemption, after the right PIN.
	reds, err := uni.Redemptions(ctx, books.ID)
	require.NoError(t, err)
	require.Len(t, reds.Items, 1)
	require.Equal(t, wire.CVMOfflinePIN, reds.Items[0].CVM)

	// The card itself refuses the right PIN now: 6983.
	hand.put(saved, saved)
	card, err := termReaders.Connect(ctx, hand.slot.Reader, cardio.ShareExclusive)
	require.NoError(t, err)
	_, err = emv.Read(ctx, card, emv.Options{Fast: true, SkipODA: true})
	require.NoError(t, err)
	require.ErrorIs(t, emv.VerifyPIN(ctx, card, "2468"), cardio.ErrBlocked)
	require.NoError(t, card.Disconnect(context.Background()))
	hand.take()

	lines := shown.String()
	t.Log(lines)
	for _, pin := range []string{"2468", "1357"} {
		require.NotContains(t, lines, pin, "a PIN is never shown")
	}
}

// TestBenefitsTerminalCommand runs "volcard terminal --mode benefits"
// (runBenefitsTerminal) with the in-process software card (--reader sim,
// PIN 123456) against the API on PostgreSQL: with --pin-file holding the
// right PIN the offer that requires it is granted; with a wrong one it is
// refused with the tries left; with no keypad (standard input not a
// terminal, no --pin-file) a warning at start and the offer refused. With
// --offer the offer granted is redeemed (recorded on the server with
// offline_pin), and not when refused. The PIN is never printed. A bad --mode and benefits mode without a token are
// exit 2.
func TestBenefitsTerminalCommand(t *testing.T) {
	w := newIssueWorld(t)
	ctx := t.Context()
	sys := issuance.SystemActor()
	_, err := w.svc.RegisterVolunteer(ctx, sys, issuance.NewVolunteer{OrgID: w.university.ID, Name: "张晓明",
		IDNumber: "441402200001011232", Phone: "13812345678"}) // 9F61 of testdata/cards/default.json
	require.NoError(t, err)
	_, err = w.ck.CreateOffer(ctx, sys, checkin.NewOffer{OrgID: w.university.ID, Title: "食堂九折", Tier: checkin.TierCardHolder})
	require.NoError(t, err)
	books, err := w.ck.CreateOffer(ctx, sys, checkin.NewOffer{OrgID: w.university.ID, Title: "书店八折",
		Tier: checkin.TierCardHolder, RequiresPIN: true})
	require.NoError(t, err)
	dir := t.TempDir()
	run := func(t *testing.T, pin string) (string, string) {
		t.Helper()
		o := terminalOptions{mode: modeBenefits, server: w.url, token: w.tokens["gate"], reader: cardsim.ReaderName,
			simImage: filepath.Join("..", "..", "testdata", "cards", "default.json"), offer: books.ID}
		if pin != "" {
			o.pinFile = filepath.Join(dir, "pin")
			require.NoError(t, os.WriteFile(o.pinFile, []byte(pin+"\n"), 0o600))
		}
		rctx, cancel := context.WithTimeout(ctx, 60*time.Second) // a bound against a hang
		defer cancel()
		stdout := &cancelOn{when: "核销", cancel: cancel} // the last line of a check with --offer
		var stderr lockedBuffer
		require.NoError(t, runBenefitsTerminal(rctx, o, strings.NewReader(""), stdout, &stderr))
		out := stdout.String()
		require.NotContains(t, out+stderr.String(), "123456", "the PIN is never printed")
		require.NotContains(t, out+stderr.String(), "654321")
		return out, stderr.String()
	}
	t.Run("right PIN", func(t *testing.T) {
		out, stderr := run(t, "123456")
		require.Contains(t, stderr, "Benefits terminal: waiting for cards")
		require.Contains(t, out, "✓ 张*明 持卡志愿者\n  ✓ 食堂九折\n  ✓ 书店八折（PIN 已验证 / PIN verified）\n  已核销：书店八折（#")
	})
	t.Run("wrong PIN", func(t *testing.T) {
		out, _ := run(t, "654321")
		require.Contains(t, out, "  ✗ 书店八折（需验证 PIN：PIN 错误，还可尝试 2 次 / wrong PIN, 2 tries left）\n  未核销：书店八折")
	})
	t.Run("no keypad", func(t *testing.T) {
		out, stderr := run(t, "")
		require.Contains(t, stderr, "warning: no keypad")
		require.Contains(t, out, "  ✗ 书店八折（需验证 PIN：未输入有效 PIN")
	})
	rs, err := w.ck.Redemptions(ctx, sys, books.ID)
	require.NoError(t, err)
	require.Len(t, rs, 1, "redeemed after the right PIN only")
	require.Equal(t, checkin.CVMOfflinePIN, rs[0].CVM)
	t.Run("flags", func(t *testing.T) {
		cmd, _, err := rootCmd.Find([]string{"terminal"})
		require.NoError(t, err)
		t.Cleanup(func() { // the command's flags outlive Execute: back to their defaults
			cmd.Flags().VisitAll(func(f *pflag.Flag) { _ = f.Value.Set(f.DefValue); f.Changed = false })
		})
		for _, tc := range []struct {
			args []string
			want string
		}{
			{[]string{"terminal", "--mode", "shop"}, "--mode must be checkin or benefits"},
			{[]string{"terminal", "--mode", "benefits", "--server", w.url, "--token", ""}, "--server and --token (or VOLCARD_TOKEN) are required"},
		} {
			t.Setenv("VOLCARD_TOKEN", "")
			var out bytes.Buffer
			rootCmd.SetArgs(tc.args)
			rootCmd.SetOut(&out)
			rootCmd.SetErr(&out)
			err := rootCmd.Execute()
			rootCmd.SetArgs(nil)
			rootCmd.SetOut(nil)
			rootCmd.SetErr(nil)
			require.Error(t, err)
			require.Equal(t, exitUsage, exitCode(err))
			require.Contains(t, err.Error(), tc.want)
		}
	})
}
