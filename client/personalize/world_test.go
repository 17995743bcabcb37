package personalize_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/volcard/volcard/api"
	"github.com/volcard/volcard/bankgw"
	"github.com/volcard/volcard/bankgw/banksim"
	"github.com/volcard/volcard/bankgw/outbox"
	"github.com/volcard/volcard/cardio/cardsim"
	"github.com/volcard/volcard/cardio/emv"
	"github.com/volcard/volcard/client"
	"github.com/volcard/volcard/issuance"
	"github.com/volcard/volcard/issuance/store"
	"github.com/volcard/volcard/issuance/store/storetest"
	"github.com/volcard/volcard/personalization"
	"github.com/volcard/volcard/personalization/dataprep"
	"github.com/volcard/volcard/pii"
)

const (
	keysDir     = "../../testdata/keys"
	productCode = "GD-RV-BOC"
	// productBIN differs from both the key store's default issuer BIN
	// (621785) and banksim's default (621660): only the product's BIN,
	// handed to both, makes the PAN and the issuer certificate agree.
	productBIN    = "621666"
	terminalID    = "VOLCARD1"
	institutionID = "VOLCARD00000001"
)

var quiet = slog.New(slog.DiscardHandler)

// world is a volcard server on PostgreSQL over real HTTP, with the bank
// outbox draining to banksim over TCP, and personalization enabled.
type world struct {
	t      testing.TB
	st     *store.Store
	svc    *issuance.Service
	sim    *banksim.Sim
	ts     *httptest.Server
	url    string // the server's base URL (ts's, or a server process's)
	ks     *dataprep.SoftKeyStore
	ca     emv.CAKeys
	kmc    dataprep.KMC
	admin  string // province_admin token
	staff  string // bank_staff token of BOC
	city   issuance.Org
	api    *client.Client
	logBuf *syncBuffer

	mu  sync.Mutex
	seq int
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func newWorld(t testing.TB) *world {
	t.Helper()
	return newWorldPolling(t, 10*time.Millisecond)
}

// newWorldPolling is newWorld with the outbox worker polling every poll.
func newWorldPolling(t testing.TB, poll time.Duration) *world {
	t.Helper()
	ctx := context.Background()
	st := storetest.Postgres(t)
	buf := &syncBuffer{}
	log := slog.New(slog.NewJSONHandler(buf, &slog.HandlerOptions{Level: slog.LevelDebug}))
	keys, err := pii.New(bytes.Repeat([]byte{7}, pii.DataKeySize))
	require.NoError(t, err)
	svc, err := issuance.NewService(st, keys, issuance.WithBankOutbox(st), issuance.WithLogger(log))
	require.NoError(t, err)
	w := &world{t: t, st: st, svc: svc, logBuf: buf}
	sys := issuance.SystemActor()
	province, err := svc.CreateOrg(ctx, sys, issuance.NewOrg{Kind: issuance.OrgProvince, Name: "广东省", RegionCode: "440000"})
	require.NoError(t, err)
	w.city, err = svc.CreateOrg(ctx, sys, issuance.NewOrg{ParentID: province.ID, Kind: issuance.OrgCity, Name: "广州市", RegionCode: "440100"})
	require.NoError(t, err)
	require.NoError(t, svc.PutBank(ctx, sys, issuance.Bank{Code: "BOC", Name: "中国银行"}))
	require.NoError(t, svc.PutProduct(ctx, sys, issuance.Product{Code: productCode, Name: "注册志愿者证（中国银行）",
		BankCode: "BOC", BIN: productBIN, AID: "A000000333010101", Kind: issuance.CardDebit, OrgID: province.ID}))
	require.NoError(t, svc.PutBranch(ctx, sys, &issuance.Branch{BankCode: "BOC", OrgID: w.city.ID, Name: "中国银行广州分行"}))

	// The bank: banksim over TCP, the gateway client and the outbox worker.
	w.sim, err = banksim.New(banksim.Config{Logger: quiet,
		ProductBINs: map[string]string{issuance.BankProductCode(productCode): productBIN}})
	require.NoError(t, err)
	require.NoError(t, w.sim.Start("127.0.0.1:0"))
	t.Cleanup(w.sim.Close)
	handlers, err := outbox.NewHandlers(svc, st, quiet)
	require.NoError(t, err)
	stan, err := st.STAN(terminalID)
	require.NoError(t, err)
	gcfg := bankgw.DefaultConfig([]string{w.sim.Addr()}, terminalID, institutionID)
	gcfg.STAN, gcfg.Logger = stan, quiet
	gcfg.AdviceHandler, gcfg.LateResponseHandler = handlers.Advice, handlers.LateResponse
	gw, err := bankgw.NewClient(gcfg)
	require.NoError(t, err)
	require.NoError(t, gw.Connect(ctx))
	t.Cleanup(func() { _ = gw.Close(context.Background()) })
	worker, err := outbox.New(outbox.Config{Gateway: gw, Service: svc, Outbox: st, Workers: 1, Batch: 64,
		PollInterval: poll, Lease: 5 * time.Second, Logger: quiet})
	require.NoError(t, err)
	wctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { defer close(done); _ = worker.Run(wctx) }()
	t.Cleanup(func() { cancel(); <-done })

	// Keys: the product's BIN drives the issuer certificate.
	w.ks, err = dataprep.LoadSoftKeyStore(dataprep.SoftKeyStoreConfig{Dir: keysDir, ProductBINs: map[string]string{productCode: productBIN}})
	require.NoError(t, err)
	w.ca, err = emv.LoadCAKeys(keysDir + "/ca-public.json")
	require.NoError(t, err)
	w.kmc, err = w.ks.KMC(ctx, 0)
	require.NoError(t, err)
	// As serve does: ICC keys generated ahead of need (VOLCARD_ICC_KEY_POOL).
	pool, err := dataprep.NewKeyPool(t.Context(), dataprep.KeyPoolConfig{})
	require.NoError(t, err)
	prep, err := dataprep.New(w.ks, dataprep.WithClock(svc.Now), dataprep.WithKeyPool(pool))
	require.NoError(t, err)
	perso, err := personalization.New(personalization.Config{Issuance: svc, Keys: w.ks, CAKeys: w.ca, Preparer: prep})
	require.NoError(t, err)
	srv, err := api.New(api.Options{Service: svc, Logger: log})
	require.NoError(t, err)
	require.NoError(t, srv.EnablePersonalization(perso))
	w.ts = httptest.NewServer(srv)
	w.url = w.ts.URL
	t.Cleanup(w.ts.Close)

	w.admin, _, err = svc.CreateToken(ctx, sys, issuance.NewToken{Name: "admin", Role: issuance.RoleProvinceAdmin})
	require.NoError(t, err)
	w.staff, _, err = svc.CreateToken(ctx, sys, issuance.NewToken{Name: "BOC counter 3", Role: issuance.RoleBankStaff, BankCode: "BOC"})
	require.NoError(t, err)
	w.api, err = client.New(w.url, w.staff)
	require.NoError(t, err)
	return w
}

// call does an authenticated JSON request and decodes the answer.
func (w *world) call(method, path, token string, body, out any) {
	w.t.Helper()
	rd := io.Reader(http.NoBody)
	if body != nil {
		b, err := json.Marshal(body)
		require.NoError(w.t, err)
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, w.url+path, rd)
	require.NoError(w.t, err)
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	res, err := http.DefaultClient.Do(req)
	require.NoError(w.t, err)
	defer res.Body.Close()
	raw, err := io.ReadAll(res.Body)
	require.NoError(w.t, err)
	require.Less(w.t, res.StatusCode, 300, "%s %s: %s", method, path, raw)
	if out != nil {
		require.NoError(w.t, json.Unmarshal(raw, out))
	}
}

func residentID(n int) string {
	birth := time.Date(1995, 1, 1, 0, 0, 0, 0, time.UTC).AddDate(0, 0, n)
	body := fmt.Sprintf("440106%s%03d", birth.Format("20060102"), 100+n%900)
	return body + string(issuance.ResidentIDCheckChar(body))
}

// volunteer is one applicant.
type volunteer struct {
	Name, IDNumber string
	AppID          int64
	AppNumber      string
}

// apply registers a volunteer and applies over HTTP, and approves with
// the admin token. The outbox then sends the application to banksim.
func (w *world) apply(name string) volunteer {
	w.t.Helper()
	w.mu.Lock()
	w.seq++
	n := w.seq
	w.mu.Unlock()
	v := volunteer{Name: name, IDNumber: residentID(n)}
	var vol struct {
		ID int64 `json:"id"`
	}
	w.call(http.MethodPost, "/v1/volunteers", w.admin, map[string]any{"name": name, "id_number": v.IDNumber,
		"phone": "13812345678", "org_id": w.city.ID, "clothing_size": "M"}, &vol)
	var app struct {
		ID     int64  `json:"id"`
		Number string `json:"number"`
	}
	w.call(http.MethodPost, "/v1/applications", w.admin, map[string]any{"volunteer_id": vol.ID, "product": productCode, "channel": "branch"}, &app)
	w.call(http.MethodPost, "/v1/applications/"+strconv.FormatInt(app.ID, 10)+"/approve", w.admin, map[string]any{}, nil)
	v.AppID, v.AppNumber = app.ID, app.Number
	return v
}

// status asks the server (in this process or a server process) over HTTP.
func (w *world) status(id int64) issuance.Status {
	w.t.Helper()
	var app struct {
		Status issuance.Status `json:"status"`
	}
	w.call(http.MethodGet, "/v1/applications/"+strconv.FormatInt(id, 10), w.admin, nil, &app)
	return app.Status
}

// waitBankApproved waits until the outbox has the bank's answer for every
// application (not a timed assertion: a generous bound against hangs).
func (w *world) waitBankApproved(vs ...volunteer) {
	w.t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for _, v := range vs {
		for w.status(v.AppID) != issuance.StatusBankApproved {
			require.True(w.t, time.Now().Before(deadline), "application %d stuck in %s", v.AppID, w.status(v.AppID))
			time.Sleep(5 * time.Millisecond)
		}
	}
}

// bankPAN returns the PAN banksim issued for an application.
func (w *world) bankPAN(v volunteer) string {
	w.t.Helper()
	cards := w.sim.Ledger().CardsFor(v.AppNumber)
	require.Len(w.t, cards, 1)
	return cards[0].PAN
}

func (w *world) blankCard(serial uint32) *cardsim.Card {
	w.t.Helper()
	c, err := cardsim.New(w.blankImage(serial))
	require.NoError(w.t, err)
	return c
}

// blankImage is the image of a blank card for the world's KMC.
func (w *world) blankImage(serial uint32) cardsim.Image {
	w.t.Helper()
	img, err := cardsim.NewBlankImage(cardsim.BlankOptions{KMC: w.kmc.Key, Diversification: w.kmc.Diversification, KeyVersion: w.kmc.Version, Serial: serial})
	require.NoError(w.t, err)
	return img
}
