package banksim

import (
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/volcard/volcard/bankgw"
)

// changeSim returns a simulator with renewal rule rule, its clock at now,
// and one approved application "A1" with its card.
func changeSim(t testing.TB, rule RenewalRule, now time.Time) (*Sim, *CardRecord) {
	s, err := New(Config{BIN: "621785", Renewal: rule, Logger: slog.New(slog.DiscardHandler), Now: func() time.Time { return now }})
	require.NoError(t, err)
	code, card := s.add("A1", bankgw.PrivateData{bankgw.TagName: "张三", bankgw.TagEmbossName: "ZHANG SAN", bankgw.TagIDType: "01",
		bankgw.TagIDNumber: "44010219900307123X", bankgw.TagPhone: "13812345678", bankgw.TagProduct: "GDRVBOC",
		bankgw.TagBranch: "BOC0001"}, "add")
	require.Equal(t, bankgw.CodeApproved, code)
	return s, card
}

// TestRenewAndClose: ST N under both renewal rules, its repeat, and ST C.
func TestRenewAndClose(t *testing.T) {
	now := time.Date(2031, 1, 5, 10, 0, 0, 0, time.UTC)
	for _, rule := range []RenewalRule{RenewSamePAN, RenewNewPAN} {
		t.Run(string(rule), func(t *testing.T) {
			s, first := changeSim(t, rule, now)
			firstPAN := first.PAN
			change := func(key string, pd bankgw.PrivateData) (string, *CardRecord) {
				pd[bankgw.TagApplicationNumber] = "A1"
				return s.change("A1", pd, "", key)
			}
			code, _ := change("k0", bankgw.PrivateData{bankgw.TagStatus: "N"})
			require.Equal(t, bankgw.CodeFormatError, code, "N without RS")
			code, card := change("k1", bankgw.PrivateData{bankgw.TagStatus: "N", bankgw.TagReplaceSeq: "1"})
			require.Equal(t, bankgw.CodeApproved, code)
			require.Equal(t, "3601", card.Expiry, "five years on")
			require.Equal(t, bankgw.CardIssued, card.State)
			require.Equal(t, 1, card.ReplaceSeq)
			if rule == RenewSamePAN {
				require.Equal(t, firstPAN, card.PAN)
				require.Equal(t, "002", card.PSN)
				require.Len(t, s.Ledger().CardsFor("A1"), 1)
			} else {
				require.NotEqual(t, firstPAN, card.PAN)
				require.Equal(t, "001", card.PSN)
				require.Equal(t, bankgw.CardReplaced, s.cards[firstPAN].State)
				require.Len(t, s.Ledger().CardsFor("A1"), 2)
			}
			renewed := *card
			// Asked again with the same RS (a new request): the same card.
			code, again := change("k2", bankgw.PrivateData{bankgw.TagStatus: "N", bankgw.TagReplaceSeq: "1"})
			require.Equal(t, bankgw.CodeApproved, code)
			require.Equal(t, renewed, *again)

			code, card = change("k3", bankgw.PrivateData{bankgw.TagStatus: "C"})
			require.Equal(t, bankgw.CodeApproved, code)
			require.Equal(t, bankgw.CardCancelled, card.State)
			code, _ = change("k4", bankgw.PrivateData{bankgw.TagStatus: "C"})
			require.Equal(t, bankgw.CodeApproved, code, "closing a closed card is 00")
			code, _ = change("k5", bankgw.PrivateData{bankgw.TagStatus: "N", bankgw.TagReplaceSeq: "2"})
			require.Equal(t, bankgw.CodeNotPermitted, code, "a closed card is not renewed")
			code, _ = change("k6", bankgw.PrivateData{bankgw.TagStatus: "B"})
			require.Equal(t, bankgw.CodeNotPermitted, code, "nor blocked")
			code, _ = change("k7", bankgw.PrivateData{bankgw.TagStatus: "X"})
			require.Equal(t, bankgw.CodeInvalidTxn, code)
		})
	}
	_, err := New(Config{Renewal: "sometimes"})
	require.ErrorIs(t, err, ErrInvalidConfig)
}

// FuzzChange feeds the change handler field 48 as the bank receives it
// (seeds: testdata/change_*.txt) under both renewal rules: whatever the
// data, it answers one of the codes of docs/bank-interface.md section 7.1,
// and the application's current card is never a replaced one.
func FuzzChange(f *testing.F) {
	seeds, _ := filepath.Glob(filepath.Join("testdata", "change_*.txt"))
	for _, p := range seeds {
		b, err := os.ReadFile(p)
		require.NoError(f, err)
		f.Add(strings.TrimRight(string(b), "\n"), false)
		f.Add(strings.TrimRight(string(b), "\n"), true)
	}
	codes := map[string]bool{bankgw.CodeApproved: true, bankgw.CodeInvalidTxn: true, bankgw.CodeRecordNotFound: true,
		bankgw.CodeFormatError: true, bankgw.CodeNotPermitted: true}
	now := time.Date(2031, 1, 5, 10, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, field48 string, newPAN bool) {
		pd, err := bankgw.ParsePrivateData(field48)
		if err != nil {
			return
		}
		rule := RenewSamePAN
		if newPAN {
			rule = RenewNewPAN
		}
		s, _ := changeSim(t, rule, now)
		for i := range 3 { // the same data thrice: repeats and follow-ups
			code, card := s.change("A1", pd, "", fmt.Sprint("k", i))
			if !codes[code] {
				t.Fatalf("answer %q to %q", code, field48)
			}
			if card != nil && card.ApplicationNumber != "A1" {
				t.Fatalf("card of another application")
			}
			if cur := s.cards[s.apps["A1"].PAN]; cur == nil || cur.State == bankgw.CardReplaced {
				t.Fatalf("current card missing or replaced after %q", field48)
			}
		}
	})
}
