package main

import (
	"bytes"
	"fmt"
	"log/slog"
	"net/http"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/volcard/volcard/bankgw/banksim"
)

func runTestBankCmd(t *testing.T, s *servedProcess, args ...string) (string, error) {
	t.Helper()
	cmd := newTestBankCmd()
	var out bytes.Buffer
	cmd.SetArgs(append(args, "--server", s.base, "--token", s.token))
	cmd.SetOut(&out)
	cmd.SetErr(&bytes.Buffer{})
	cmd.SilenceUsage, cmd.SilenceErrors = true, true
	err := cmd.Execute()
	return out.String(), err
}

// servedCard runs serve with cfg and takes one application to
// bank_approved; it returns serve and the application's card id.
func servedCard(t *testing.T, cfg config) (*servedProcess, string) {
	t.Helper()
	cfg.DataDir = filepath.Join(t.TempDir(), "data")
	s := startServe(t, cfg)
	t.Cleanup(func() { require.NoError(t, s.stop()) })
	vol := s.applyToBankApproved(t, "44010219900307123")
	var cards struct{ Items []struct{ ID int64 } }
	require.Equal(t, http.StatusOK, s.call(t, "GET", fmt.Sprintf("/v1/volunteers/%d/cards", vol), nil, &cards))
	require.Len(t, cards.Items, 1)
	return s, strconv.FormatInt(cards.Items[0].ID, 10)
}

func cardState(t *testing.T, s *servedProcess, id string) string {
	t.Helper()
	var c struct{ State string }
	require.Equal(t, http.StatusOK, s.call(t, "GET", "/v1/cards/"+id, nil, &c))
	return c.State
}

// TestTestBankCommands: volcard test-bank activate and spend against serve
// with its embedded bank simulators: the advices travel over the link and
// are recorded (the card active); bad flags are usage errors. With a real
// bank configured (VOLCARD_BANK_ADDR), the helpers are refused and the
// card is left as it was.
func TestTestBankCommands(t *testing.T) {
	t.Run("embedded bank", func(t *testing.T) {
		cfg, err := configFromEnv(func(string) string { return "" })
		require.NoError(t, err)
		s, card := servedCard(t, cfg)
		require.Equal(t, "issued", cardState(t, s, card))

		out, err := runTestBankCmd(t, s, "activate", "--card", card)
		require.NoError(t, err)
		require.Regexp(t, `^card \d+: activation advice sent, RRN S\d{11}, answered 00\n$`, out)
		require.Equal(t, "active", cardState(t, s, card))

		out, err = runTestBankCmd(t, s, "spend", "--card", card, "--amount-fen", "12345", "--merchant", "爱心商户 梅州")
		require.NoError(t, err)
		require.Contains(t, out, "purchase advice sent")
		require.Contains(t, out, "answered 00")
		out, err = runTestBankCmd(t, s, "spend", "--card", card, "--amount-fen", "2000", "--kind", "refund")
		require.NoError(t, err)
		require.Contains(t, out, "refund advice sent")

		for _, args := range [][]string{{"activate"}, {"spend", "--card", card}, {"spend", "--card", card, "--amount-fen", "5", "--kind", "gift"}} {
			_, err := runTestBankCmd(t, s, args...)
			require.Equal(t, exitUsage, exitCode(err), "%v: %v", args, err)
		}
		_, err = runTestBankCmd(t, s, "activate", "--card", "999999")
		require.Equal(t, exitFailure, exitCode(err))
	})

	t.Run("real bank: refused, nothing changed", func(t *testing.T) {
		sim, err := banksim.New(banksim.Config{BIN: "621785", Logger: slog.New(slog.DiscardHandler)})
		require.NoError(t, err)
		require.NoError(t, sim.Start("127.0.0.1:0"))
		t.Cleanup(sim.Close)
		cfg, err := configFromEnv(func(k string) string { return map[string]string{envBankAddr: sim.Addr()}[k] })
		require.NoError(t, err)
		s, card := servedCard(t, cfg)
		for _, args := range [][]string{{"activate", "--card", card}, {"spend", "--card", card, "--amount-fen", "100"}} {
			_, err = runTestBankCmd(t, s, args...)
			require.Equal(t, exitFailure, exitCode(err))
			require.ErrorContains(t, err, "the card's bank is a real bank")
		}
		require.Equal(t, "issued", cardState(t, s, card))
		var problem struct{ Type, Detail string }
		require.Equal(t, http.StatusConflict, s.call(t, "POST", "/v1/test/cards/"+card+"/activate", map[string]any{}, &problem))
		require.Equal(t, "https://volcard.example/problems/test-bank-unavailable", problem.Type)
	})
}
