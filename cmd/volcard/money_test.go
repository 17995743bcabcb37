package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/spf13/cobra"
	"github.com/stretchr/testify/require"

	"github.com/volcard/volcard/bankgw"
	"github.com/volcard/volcard/bankgw/banksim"
	"github.com/volcard/volcard/issuance"
	"github.com/volcard/volcard/issuance/insurance"
	"github.com/volcard/volcard/issuance/rebates"
	"github.com/volcard/volcard/issuance/store/storetest"
)

// TestInsuranceAndRebatesEndToEnd runs serve on PostgreSQL against the
// bank simulator over TCP: the holder's card, activated by the bank's
// advice, insures the holder (the API's report and the insurer's file say
// so); spending and refund advices from the bank give, once their month has
// ended, a statement with exact totals that reconciles advice by advice;
// the card's expiry (serve's job function, on a second process of the
// cluster) ends the cover, and the day's file terminates it.
func TestInsuranceAndRebatesEndToEnd(t *testing.T) {
	ctx := context.Background()
	dbURL := storetest.PostgresDatabaseURL(t)
	sim, err := banksim.New(banksim.Config{BIN: "621785", Logger: slog.New(slog.DiscardHandler)})
	require.NoError(t, err)
	require.NoError(t, sim.Start("127.0.0.1:0"))
	t.Cleanup(sim.Close)
	key := make([]byte, 32)
	_, _ = rand.Read(key)
	env := map[string]string{envDatabaseURL: dbURL, envDataKey: hex.EncodeToString(key), envBankAddr: sim.Addr()}
	cfg, err := configFromEnv(func(k string) string { return env[k] })
	require.NoError(t, err)
	cfg.DataDir = filepath.Join(t.TempDir(), "data")
	s := startServe(t, cfg)
	t.Cleanup(func() { require.NoError(t, s.stop()) })
	volunteerID := s.applyToBankApproved(t, "44010219900307123")

	// A second process of the cluster (the CLI's): personalization is not
	// under test here (TestIssueEndToEnd), so the card is marked issued.
	svc, st, err := cfg.openService(ctx, slog.New(slog.DiscardHandler))
	require.NoError(t, err)
	t.Cleanup(func() { _ = st.Close() })
	var app struct {
		ID     int64
		Number string
		OrgID  int64
	}
	require.NoError(t, st.DB(ctx).Raw("SELECT id, number, org_id FROM applications WHERE volunteer_id = ?", volunteerID).Scan(&app).Error)
	sys := issuance.SystemActor()
	for _, to := range []issuance.Status{issuance.StatusPersonalized, issuance.StatusIssued} {
		_, err := svc.Transition(ctx, sys, app.ID, to, "")
		require.NoError(t, err)
	}
	cards := sim.Ledger().CardsFor(app.Number)
	require.Len(t, cards, 1)
	pan := cards[0].PAN

	var report struct {
		Insured, Ended int64
	}
	orgInsurance := fmt.Sprintf("/v1/orgs/%d/insurance", app.OrgID)
	require.Equal(t, http.StatusOK, s.call(t, "GET", orgInsurance, nil, &report))
	require.Zero(t, report.Insured, "issued, not yet activated")

	push := func(kind bankgw.AdviceKind, sk bankgw.SpendingKind, pan string, amount int64) {
		t.Helper()
		rc, _, err := sim.PushAdvice(ctx, banksim.AdviceRequest{Kind: kind, Spending: sk, PAN: pan, Amount: amount})
		require.NoError(t, err)
		require.Equal(t, bankgw.CodeApproved, rc)
	}
	push(bankgw.AdviceActivation, "", pan, 0)
	require.Equal(t, http.StatusOK, s.call(t, "GET", orgInsurance, nil, &report))
	require.Equal(t, int64(1), report.Insured)

	today := insurance.Day(time.Now())
	file := func() insurance.File {
		t.Helper()
		req, _ := http.NewRequest("GET", s.base+"/v1/admin/insurance/files/"+today, nil)
		req.Header.Set("Authorization", "Bearer "+s.token)
		res, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		defer res.Body.Close()
		require.Equal(t, http.StatusOK, res.StatusCode)
		require.Equal(t, "no-store", res.Header.Get("Cache-Control"))
		b, err := io.ReadAll(res.Body)
		require.NoError(t, err)
		f, err := insurance.ParseFile(bytes.NewReader(b))
		require.NoError(t, err)
		return f
	}
	f := file()
	require.Equal(t, 1, f.Additions)
	require.Equal(t, "440102199003071234"[:17], f.Records[0].IDNumber[:17])
	require.Equal(t, "张三", f.Records[0].Name)
	require.Equal(t, int64(10_000_000), f.Records[0].CoverFen)

	// Spending, a refund, and a purchase with a card that is not ours.
	push(bankgw.AdviceSpending, "", pan, 12345)
	push(bankgw.AdviceSpending, "", pan, 10001)
	push(bankgw.AdviceSpending, bankgw.SpendingRefund, pan, 2345)
	push(bankgw.AdviceSpending, "", "6228480000000000018", 777)

	// The statement of a month exists once the month has ended: this
	// month's is refused; the advices are then moved to last month.
	month := time.Now().In(time.FixedZone("CST", 8*3600)).Format("2006-01")
	require.Equal(t, http.StatusBadRequest, s.call(t, "POST", "/v1/admin/rebates/statements", map[string]any{"month": month}, nil))
	last := rebates.PreviousMonth(time.Now())
	require.NoError(t, st.DB(ctx).Exec("UPDATE card_spending SET china_date = ?", last+"-15").Error)
	require.Equal(t, http.StatusConflict, s.call(t, "POST", "/v1/admin/rebates/statements", map[string]any{"month": last}, nil),
		"no rate set yet")
	require.Equal(t, http.StatusCreated, s.call(t, "POST", "/v1/admin/rebates/rates", map[string]any{"bank_code": "BOC",
		"product_code": "GD-RV-BOC", "rate_bp": 50, "foundation_bp": 2000, "effective_from": "2017-01-01"}, nil))
	type amounts struct {
		Advices, SpendingFen, RefundFen, NetFen, DonationFen, FoundationFen, ReturnedFen int64
	}
	var gen struct {
		Advices, Unattributed int64
		Generated             bool
		Items                 []struct {
			OrgID  int64 `json:"org_id"`
			Totals struct {
				Advices       int64 `json:"advices"`
				SpendingFen   int64 `json:"spending_fen"`
				RefundFen     int64 `json:"refund_fen"`
				NetFen        int64 `json:"net_fen"`
				DonationFen   int64 `json:"donation_fen"`
				FoundationFen int64 `json:"foundation_fen"`
				ReturnedFen   int64 `json:"returned_fen"`
			}
		}
	}
	require.Equal(t, http.StatusCreated, s.call(t, "POST", "/v1/admin/rebates/statements", map[string]any{"month": last}, &gen))
	require.True(t, gen.Generated)
	require.Equal(t, int64(4), gen.Advices)
	require.Equal(t, int64(1), gen.Unattributed)
	require.Len(t, gen.Items, 1)
	tot := gen.Items[0].Totals
	// net 12345 + 10001 − 2345 = 20001; donation round(20001 × 0.5%) =
	// round(100.005) = 100; foundation 20% = 20; returned 80.
	require.Equal(t, amounts{3, 22346, 2345, 20001, 100, 20, 80}, amounts{tot.Advices, tot.SpendingFen, tot.RefundFen,
		tot.NetFen, tot.DonationFen, tot.FoundationFen, tot.ReturnedFen})
	require.Equal(t, http.StatusOK, s.call(t, "POST", "/v1/admin/rebates/statements", map[string]any{"month": last}, &gen))
	require.False(t, gen.Generated, "generated once")
	reb, err := rebates.New(svc, st)
	require.NoError(t, err)
	mis, err := reb.CheckMonth(ctx, sys, last)
	require.NoError(t, err)
	require.Empty(t, mis, "the statement reconciles with its advices")

	req, _ := http.NewRequest("GET", s.base+"/v1/rebates/statements/export?format=csv&month="+last, nil)
	req.Header.Set("Authorization", "Bearer "+s.token)
	res, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	csvBody, err := io.ReadAll(res.Body)
	res.Body.Close()
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, res.StatusCode)
	require.Contains(t, string(csvBody), ",TOTAL,,,,3,22346,2345,0,20001,100,20,80\n")

	// The card expires: serve's expire-cards job function, run by the
	// second process, ends the cover in its transaction.
	require.NoError(t, st.DB(ctx).Exec("UPDATE cards SET expiry = '2501'").Error)
	n, err := svc.ExpireCards(ctx, sys)
	require.NoError(t, err)
	require.Equal(t, 1, n)
	require.Equal(t, http.StatusOK, s.call(t, "GET", orgInsurance, nil, &report))
	require.Equal(t, int64(0), report.Insured)
	require.Equal(t, int64(1), report.Ended)
	f = file()
	require.Equal(t, 1, f.Additions)
	require.Equal(t, 1, f.Terminations)
	// The cover ended with January 2025, before it started today: the
	// file gives the start day as the last covered day.
	require.Equal(t, f.Records[1].StartDate, f.Records[1].LastDate)
	require.Equal(t, "expired", f.Records[1].Reason)

	// The CLI writes the same file 0600.
	out := filepath.Join(t.TempDir(), "ins.txt")
	ins, err := insurance.New(svc, st)
	require.NoError(t, err)
	_, _, err = writeInsuranceFile(ctx, ins, today, out)
	require.NoError(t, err)
	fi, err := os.Stat(out)
	require.NoError(t, err)
	require.Equal(t, os.FileMode(0o600), fi.Mode().Perm())
	require.NotContains(t, s.stderr.String(), f.Records[0].IDNumber, "the ID number is never logged")
	require.False(t, strings.Contains(s.stderr.String(), pan), "nor the PAN")
}

func runMoneyCmd(t *testing.T, cmd *cobra.Command, args ...string) (string, error) {
	t.Helper()
	var out bytes.Buffer
	cmd.SetArgs(args)
	cmd.SetOut(&out)
	cmd.SetErr(&bytes.Buffer{})
	cmd.SilenceUsage, cmd.SilenceErrors = true, true
	err := cmd.Execute()
	return out.String(), err
}

// TestMoneyCommands runs the CLI on an embedded SQLite data directory: bad
// flags exit 2; a month is generated once and checks clean; the insurer's
// file is written 0600 and parses; serve's insurance-file job writes the
// seven missing days once.
func TestMoneyCommands(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	t.Setenv(envDataDir, dir)
	t.Setenv(envDatabaseURL, "")
	for _, args := range [][]string{
		{"statements", "--month", "2026-13"},
		{"check", "--month", "26-11"},
	} {
		_, err := runMoneyCmd(t, newRebatesCmd(), args...)
		require.Error(t, err)
		require.Equal(t, exitUsage, exitCode(err), "%v: %v", args, err)
	}
	_, err := runMoneyCmd(t, newInsuranceCmd(), "file", "--date", "23/11/2026")
	require.Equal(t, exitUsage, exitCode(err), "%v", err)

	out, err := runMoneyCmd(t, newRebatesCmd(), "statements", "--month", "2020-01")
	require.NoError(t, err)
	require.Contains(t, out, "month 2020-01 (generated now): 0 advices, 0 unattributed, 0 statements")
	out, err = runMoneyCmd(t, newRebatesCmd(), "statements", "--month", "2020-01", "--out", filepath.Join(t.TempDir(), "s.csv"))
	require.NoError(t, err)
	require.Contains(t, out, "(stored before)")
	out, err = runMoneyCmd(t, newRebatesCmd(), "check", "--month", "2020-01")
	require.NoError(t, err)
	require.Contains(t, out, "every statement reconciles")
	_, err = runMoneyCmd(t, newRebatesCmd(), "statements", "--month", "2200-12")
	require.Equal(t, exitFailure, exitCode(err), "a month not ended: %v", err)

	path := filepath.Join(t.TempDir(), "f.txt")
	out, err = runMoneyCmd(t, newInsuranceCmd(), "file", "--date", "2026-11-23", "--out", path)
	require.NoError(t, err)
	require.Contains(t, out, "0 additions, 0 terminations")
	fi, err := os.Stat(path)
	require.NoError(t, err)
	require.Equal(t, os.FileMode(0o600), fi.Mode().Perm())
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	f, err := insurance.ParseFile(bytes.NewReader(b))
	require.NoError(t, err)
	require.Equal(t, "20261123", f.Date)

	cfg, err := configFromEnv(os.Getenv)
	require.NoError(t, err)
	svc, st, err := cfg.openService(context.Background(), slog.New(slog.DiscardHandler))
	require.NoError(t, err)
	defer st.Close()
	ins, err := insurance.New(svc, st)
	require.NoError(t, err)
	jobDir := filepath.Join(t.TempDir(), "insurance")
	now := time.Date(2026, 12, 8, 3, 0, 0, 0, time.UTC)
	require.NoError(t, insuranceFiles(context.Background(), ins, jobDir, "a", now, slog.New(slog.DiscardHandler)))
	entries, err := os.ReadDir(jobDir)
	require.NoError(t, err)
	require.Len(t, entries, insuranceLookback)
	require.Equal(t, "VOLCARD-INS-20261201.txt", entries[0].Name())
	require.Equal(t, "VOLCARD-INS-20261207.txt", entries[6].Name())
	di, err := os.Stat(jobDir)
	require.NoError(t, err)
	require.Equal(t, os.FileMode(0o700), di.Mode().Perm())

	// A second serve process with its own directory: the days are
	// recorded written in the shared database, so it writes none; the
	// next day is written once, by whichever runs first.
	otherDir := filepath.Join(t.TempDir(), "insurance")
	require.NoError(t, insuranceFiles(context.Background(), ins, otherDir, "b", now, slog.New(slog.DiscardHandler)))
	_, err = os.Stat(otherDir)
	require.True(t, os.IsNotExist(err), "process b wrote nothing")
	require.NoError(t, insuranceFiles(context.Background(), ins, otherDir, "b", now.AddDate(0, 0, 1), slog.New(slog.DiscardHandler)))
	require.NoError(t, insuranceFiles(context.Background(), ins, jobDir, "a", now.AddDate(0, 0, 1), slog.New(slog.DiscardHandler)))
	others, err := os.ReadDir(otherDir)
	require.NoError(t, err)
	require.Len(t, others, 1)
	require.Equal(t, "VOLCARD-INS-20261208.txt", others[0].Name())
	entries, err = os.ReadDir(jobDir)
	require.NoError(t, err)
	require.Len(t, entries, insuranceLookback, "a did not write 2026-12-08 again, no temporary file left")
	var written []struct {
		Day   string
		Owner string
	}
	require.NoError(t, st.DB(context.Background()).Raw("SELECT day, owner FROM insurance_files WHERE written_at_ms > 0 ORDER BY day").
		Scan(&written).Error)
	require.Len(t, written, insuranceLookback+1)
	require.Equal(t, "b", written[insuranceLookback].Owner)
}
