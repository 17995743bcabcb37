package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/volcard/volcard/bankgw/banksim"
	"github.com/volcard/volcard/issuance"
	"github.com/volcard/volcard/issuance/seed"
	"github.com/volcard/volcard/issuance/store/storetest"
)

// fourBanks is serve on PostgreSQL with one bank simulator per seeded
// bank, each on its own loopback port with its own MAC key and field 41/42
// identities, configured through a bank links file.
type fourBanks struct {
	t       *testing.T
	base    string
	token   string
	sims    map[string]*banksim.Sim
	macKeys map[string][]byte
	meizhou int64
	seq     int
}

// fourBankProducts are the seeded products by bank.
var fourBankProducts = map[string]seed.Product{}

func init() {
	for _, p := range seed.Products {
		fourBankProducts[p.Bank] = p
	}
}

func (f *fourBanks) startSim(bank, addr string, firstSeq int) {
	p := fourBankProducts[bank]
	sim, err := banksim.New(banksim.Config{BIN: p.BIN, ProductBINs: map[string]string{issuance.BankProductCode(p.Code): p.BIN},
		MACKey: f.macKeys[bank], FirstCardSeq: firstSeq, Logger: slog.New(slog.DiscardHandler)})
	require.NoError(f.t, err)
	require.NoError(f.t, sim.Start(addr))
	f.t.Cleanup(sim.Close)
	f.sims[bank] = sim
}

func newFourBanks(t *testing.T) *fourBanks {
	dbURL := storetest.PostgresDatabaseURL(t)
	key := make([]byte, 32)
	_, _ = rand.Read(key)
	f := &fourBanks{t: t, sims: map[string]*banksim.Sim{}, macKeys: map[string][]byte{}}
	var toml strings.Builder
	banks := slices.Sorted(func(yield func(string) bool) {
		for b := range fourBankProducts {
			if !yield(b) {
				return
			}
		}
	})
	require.Equal(t, []string{"BOC", "CCB", "CEB", "PSBC"}, banks)
	for i, bank := range banks {
		mac := make([]byte, 32)
		_, _ = rand.Read(mac)
		f.macKeys[bank] = mac
		t.Setenv("VOLCARD_TEST_"+bank+"_MAC_KEY", hex.EncodeToString(mac))
		f.startSim(bank, "127.0.0.1:0", 1)
		fmt.Fprintf(&toml, "[bank.%s]\naddrs = [%q]\nterminal_id = \"VOLCARD%d\"\ninstitution_id = \"VOLCARD0000000%d\"\nmac_key_env = \"VOLCARD_TEST_%s_MAC_KEY\"\nworkers = 1\n\n",
			bank, f.sims[bank].Addr(), i+1, i+1, bank)
	}
	dir := t.TempDir()
	file := filepath.Join(dir, "banks.toml")
	require.NoError(t, os.WriteFile(file, []byte(toml.String()), 0o600))
	env := map[string]string{envDatabaseURL: dbURL, envDataKey: hex.EncodeToString(key), envBanksFile: file,
		envBankPoll: "20ms", envBankTimeout: "2s"}
	cfg, err := configFromEnv(func(k string) string { return env[k] })
	require.NoError(t, err)
	cfg.DataDir, cfg.Listen = filepath.Join(dir, "data"), freeAddr(t)

	ctx, cancel := context.WithCancel(context.Background())
	var stdout, stderr lockedBuffer
	done := make(chan error, 1)
	go func() { done <- runServe(ctx, cfg, true, &stdout, &stderr) }()
	t.Cleanup(func() {
		cancel()
		require.NoError(t, <-done)
	})
	f.base = "http://" + cfg.Listen
	require.Eventually(t, func() bool {
		res, err := http.Get(f.base + "/readyz")
		if err != nil {
			return false
		}
		res.Body.Close()
		return res.StatusCode == http.StatusOK
	}, 30*time.Second, 50*time.Millisecond, "serve did not start: %s", &stderr)
	b, err := os.ReadFile(filepath.Join(cfg.DataDir, adminTokenFile))
	require.NoError(t, err)
	f.token = strings.TrimSpace(string(b))

	var orgs []struct {
		ID         int64  `json:"id"`
		RegionCode string `json:"region_code"`
	}
	var page struct {
		Items json.RawMessage `json:"items"`
	}
	require.Equal(t, http.StatusOK, f.call("GET", "/v1/orgs?parent=1", nil, &page))
	require.NoError(t, json.Unmarshal(page.Items, &orgs))
	for _, o := range orgs {
		if o.RegionCode == "441400" {
			f.meizhou = o.ID
		}
	}
	require.NotZero(t, f.meizhou, "no Meizhou in the seeded orgs")
	return f
}

func (f *fourBanks) call(method, path string, body, out any) int {
	f.t.Helper()
	var rd io.Reader = http.NoBody
	if body != nil {
		j, _ := json.Marshal(body)
		rd = bytes.NewReader(j)
	}
	req, _ := http.NewRequest(method, f.base+path, rd)
	req.Header.Set("Authorization", "Bearer "+f.token)
	req.Header.Set("Content-Type", "application/json")
	res, err := http.DefaultClient.Do(req)
	require.NoError(f.t, err)
	defer res.Body.Close()
	if out != nil {
		require.NoError(f.t, json.NewDecoder(res.Body).Decode(out))
	}
	return res.StatusCode
}

// apply registers a new volunteer (in Meizhou for the Meizhou products),
// applies for bank's product and approves; it returns the application's
// id and number.
func (f *fourBanks) apply(bank string) (int64, string) {
	f.t.Helper()
	f.seq++
	p := fourBankProducts[bank]
	org := int64(2)
	if p.CityCode == "441400" {
		org = f.meizhou
	}
	body := fmt.Sprintf("4401021990%02d%02d%03d", 1+f.seq%12, 1+f.seq%28, f.seq)
	var vol struct{ ID int64 }
	require.Equal(f.t, http.StatusCreated, f.call("POST", "/v1/volunteers", map[string]any{
		"name": "志愿者" + fmt.Sprint(f.seq), "id_number": body + string(issuance.ResidentIDCheckChar(body)),
		"phone": "13812345678", "org_id": org, "clothing_size": "M"}, &vol))
	var app struct {
		ID     int64  `json:"id"`
		Number string `json:"number"`
	}
	require.Equal(f.t, http.StatusCreated, f.call("POST", "/v1/applications",
		map[string]any{"volunteer_id": vol.ID, "product": p.Code, "channel": "online"}, &app))
	require.Equal(f.t, http.StatusOK, f.call("POST", fmt.Sprintf("/v1/applications/%d/approve", app.ID), nil, nil))
	return app.ID, app.Number
}

func (f *fourBanks) status(id int64) string {
	var app struct{ Status string }
	f.call("GET", fmt.Sprintf("/v1/applications/%d", id), nil, &app)
	return app.Status
}

func (f *fourBanks) waitApproved(ids ...int64) {
	f.t.Helper()
	require.Eventually(f.t, func() bool {
		for _, id := range ids {
			if f.status(id) != "bank_approved" {
				return false
			}
		}
		return true
	}, 90*time.Second, 25*time.Millisecond)
}

// ledgerNumbers returns the application numbers a simulator has seen.
func ledgerNumbers(s *banksim.Sim) []string {
	return slices.Sorted(func(yield func(string) bool) {
		for an := range s.Ledger().Applications {
			if !yield(an) {
				return
			}
		}
	})
}

func (f *fourBanks) metrics() string {
	res, err := http.Get(f.base + "/metrics")
	require.NoError(f.t, err)
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	require.NoError(f.t, err)
	return string(b)
}

// TestServeFourBanks runs serve with a bank links file naming four bank
// simulators on loopback (real TCP, a MAC key each): each product's
// application reaches its own bank and no other; with PSBC down the other
// three keep issuing while PSBC's request waits (shown per bank in the API
// and /metrics), and it goes out when PSBC returns.
func TestServeFourBanks(t *testing.T) {
	f := newFourBanks(t)
	banks := []string{"BOC", "CCB", "CEB", "PSBC"}

	// Each bank sees exactly its own product's application.
	ids, numbers := map[string]int64{}, map[string]string{}
	for _, b := range banks {
		ids[b], numbers[b] = f.apply(b)
	}
	f.waitApproved(ids["BOC"], ids["CCB"], ids["CEB"], ids["PSBC"])
	for _, b := range banks {
		require.Equal(t, []string{numbers[b]}, ledgerNumbers(f.sims[b]), "bank %s", b)
	}
	m := f.metrics()
	for _, b := range banks {
		require.Contains(t, m, fmt.Sprintf(`volcard_bank_requests_total{bank=%q,mti="0300",rc="00"} 1`, b))
		require.Contains(t, m, fmt.Sprintf(`volcard_bank_link_signed_on{bank=%q} 1`, b))
		require.Contains(t, m, fmt.Sprintf(`volcard_bank_queue_depth{bank=%q} 0`, b))
	}

	// PSBC goes down: its request waits, the other three keep issuing.
	psbcAddr := f.sims["PSBC"].Addr()
	f.sims["PSBC"].Close()
	downAt := time.Now()
	var links struct {
		Items []struct {
			Bank       string `json:"bank"`
			SignedOn   int    `json:"signed_on"`
			QueueDepth int64  `json:"queue_depth"`
		}
	}
	require.Eventually(t, func() bool {
		require.Equal(t, http.StatusOK, f.call("GET", "/v1/admin/banks", nil, &links))
		for _, l := range links.Items {
			if l.Bank == "PSBC" {
				return l.SignedOn == 0
			}
		}
		return false
	}, 30*time.Second, 25*time.Millisecond)
	held, heldNumber := f.apply("PSBC")
	more := map[string]int64{}
	for _, b := range []string{"BOC", "CCB", "CEB"} {
		more[b], numbers[b] = f.apply(b)
	}
	f.waitApproved(more["BOC"], more["CCB"], more["CEB"])
	require.Equal(t, "bank_pending", f.status(held))
	require.Equal(t, http.StatusOK, f.call("GET", "/v1/admin/banks", nil, &links))
	require.Len(t, links.Items, 4)
	for _, l := range links.Items {
		if l.Bank == "PSBC" {
			require.Equal(t, 0, l.SignedOn)
			require.Equal(t, int64(1), l.QueueDepth)
		} else {
			require.Equal(t, 1, l.SignedOn, l.Bank)
			require.Zero(t, l.QueueDepth, l.Bank)
		}
	}
	require.Contains(t, f.metrics(), `volcard_bank_queue_depth{bank="PSBC"} 1`)
	var rows struct {
		Items []struct {
			ApplicationNumber string `json:"application_number"`
			State             string `json:"state"`
			Attempts          int    `json:"attempts"`
		} `json:"items"`
	}
	// The PSBC link tried its request and holds it (not lost, not failed).
	require.Eventually(t, func() bool {
		require.Equal(t, http.StatusOK, f.call("GET", "/v1/admin/bank-requests?bank=PSBC", nil, &rows))
		require.Len(t, rows.Items, 2)
		require.Equal(t, heldNumber, rows.Items[0].ApplicationNumber)
		require.Contains(t, []string{"pending", "in_flight"}, rows.Items[0].State)
		return rows.Items[0].Attempts >= 2
	}, 30*time.Second, 25*time.Millisecond)
	require.Equal(t, "bank_pending", f.status(held))

	// PSBC returns on the same address (its card numbers continue): the
	// held request goes out to it, and to no other bank.
	down := time.Since(downAt)
	back := time.Now()
	f.startSim("PSBC", psbcAddr, 1000)
	f.waitApproved(held)
	t.Logf("PSBC down for %v; its held request was approved %v after it returned", down.Round(time.Millisecond),
		time.Since(back).Round(time.Millisecond))
	require.Equal(t, []string{heldNumber}, ledgerNumbers(f.sims["PSBC"]))
	for _, b := range []string{"BOC", "CCB", "CEB"} {
		require.NotContains(t, ledgerNumbers(f.sims[b]), heldNumber)
		require.Len(t, f.sims[b].Ledger().Applications, 2, b)
	}
}
