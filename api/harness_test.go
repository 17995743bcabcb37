package api

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"github.com/volcard/volcard/issuance/platformlink"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/volcard/volcard/bankgw/outbox"
	"github.com/volcard/volcard/issuance"
	"github.com/volcard/volcard/issuance/feed"
	"github.com/volcard/volcard/issuance/insurance"
	"github.com/volcard/volcard/issuance/onsite"
	"github.com/volcard/volcard/issuance/rebates"
	"github.com/volcard/volcard/issuance/reconcile"
	"github.com/volcard/volcard/issuance/reports"
	"github.com/volcard/volcard/issuance/store"
	"github.com/volcard/volcard/pii"
	"github.com/volcard/volcard/wire"
)

// testDataKey is the PII key of test servers (not secret).
var testDataKey = bytes.Repeat([]byte{0x42}, pii.DataKeySize)

// harness is a real API server over a real store, reached through HTTP.
type harness struct {
	t      testing.TB
	st     *store.Store
	svc    *issuance.Service
	on     *onsite.Service
	rs     *reports.Service
	fd     *feed.Service
	srv    *Server
	ts     *httptest.Server
	client *http.Client

	// fixtures
	province, guangzhou, meizhou issuance.Org
	tokens                       map[string]string // name → plaintext
}

// syncBuffer is a goroutine-safe log sink.
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

// newOutboxHarness is newHarness over a quiet Service that queues its bank
// requests in st's outbox.
func newOutboxHarness(t testing.TB, st *store.Store, opts ...func(*Options)) *harness {
	t.Helper()
	keys, err := pii.New(testDataKey)
	require.NoError(t, err)
	svc, err := issuance.NewService(st, keys, issuance.WithBankOutbox(st),
		issuance.WithLogger(slog.New(slog.NewTextHandler(io.Discard, nil))))
	require.NoError(t, err)
	h := newHarness(t, st, nil, append([]func(*Options){func(o *Options) { o.Service = svc }}, opts...)...)
	h.svc = svc
	return h
}

// newHarness starts a server on st with fixtures: the province, Guangzhou
// and Meizhou, Bank of China with the provincial card, and tokens "admin"
// (province_admin), "gz" and "mz" (org_admin of each city), "platform" and
// "boc" (bank_staff of BOC). log may be nil (discard).
func newHarness(t testing.TB, st *store.Store, log *slog.Logger, opts ...func(*Options)) *harness {
	t.Helper()
	if log == nil {
		log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	keys, err := pii.New(testDataKey)
	require.NoError(t, err)
	svc, err := issuance.NewService(st, keys, issuance.WithLogger(log))
	require.NoError(t, err)
	idem, err := store.NewIdempotencyKeys(st, nil)
	require.NoError(t, err)
	o := Options{Service: svc, Idempotency: idem, Ready: st.Ping, Logger: log}
	for _, f := range opts {
		f(&o)
	}
	srv, err := New(o)
	require.NoError(t, err)
	admin, err := outbox.NewAdmin(o.Service, st, log)
	require.NoError(t, err)
	require.NoError(t, srv.EnableBankRequests(admin))
	links, err := outbox.NewBanks(nil, st, log)
	require.NoError(t, err)
	require.NoError(t, srv.EnableBankLinks(links))
	on, err := onsite.New(svc, st)
	require.NoError(t, err)
	require.NoError(t, srv.EnableOnsite(on))
	rs, err := reports.New(svc, st)
	require.NoError(t, err)
	require.NoError(t, srv.EnableReports(rs))
	rec, err := reconcile.New(o.Service, st)
	require.NoError(t, err)
	require.NoError(t, srv.EnableReconciliations(rec))
	pl, err := platformlink.New(svc, st)
	require.NoError(t, err)
	require.NoError(t, srv.EnablePlatform(pl))
	ins, err := insurance.New(o.Service, st)
	require.NoError(t, err)
	require.NoError(t, srv.EnableInsurance(ins))
	reb, err := rebates.New(o.Service, st)
	require.NoError(t, err)
	require.NoError(t, srv.EnableRebates(reb))
	fd, err := feed.New(o.Service, st)
	require.NoError(t, err)
	require.NoError(t, srv.EnableEvents(fd))
	ts := httptest.NewServer(srv)
	t.Cleanup(ts.Close)
	h := &harness{t: t, st: st, svc: svc, on: on, rs: rs, fd: fd, srv: srv, ts: ts, client: ts.Client(), tokens: map[string]string{}}
	h.fixtures()
	return h
}

func (h *harness) fixtures() {
	t, ctx, sys := h.t, context.Background(), issuance.SystemActor()
	var err error
	h.province, err = h.svc.CreateOrg(ctx, sys, issuance.NewOrg{Kind: issuance.OrgProvince, Name: "广东省", RegionCode: "440000", ResidentPopulation: 126_840_000, PopulationYear: 2023})
	require.NoError(t, err)
	h.guangzhou, err = h.svc.CreateOrg(ctx, sys, issuance.NewOrg{ParentID: h.province.ID, Kind: issuance.OrgCity, Name: "广州市", RegionCode: "440100"})
	require.NoError(t, err)
	h.meizhou, err = h.svc.CreateOrg(ctx, sys, issuance.NewOrg{ParentID: h.province.ID, Kind: issuance.OrgCity, Name: "梅州市", RegionCode: "441400"})
	require.NoError(t, err)
	require.NoError(t, h.svc.PutBank(ctx, sys, issuance.Bank{Code: "BOC", Name: "中国银行"}))
	require.NoError(t, h.svc.PutProduct(ctx, sys, issuance.Product{Code: "GD-RV-BOC", Name: "广东省注册志愿者证（中国银行）",
		BankCode: "BOC", BIN: "621661", AID: "A000000333010101", Kind: issuance.CardDebit, OrgID: h.province.ID}))
	for name, in := range map[string]issuance.NewToken{
		"admin":    {Name: "test admin", Role: issuance.RoleProvinceAdmin},
		"gz":       {Name: "guangzhou", Role: issuance.RoleOrgAdmin, OrgID: h.guangzhou.ID},
		"mz":       {Name: "meizhou", Role: issuance.RoleOrgAdmin, OrgID: h.meizhou.ID},
		"platform": {Name: "izyz", Role: issuance.RolePlatform},
		"boc":      {Name: "boc staff", Role: issuance.RoleBankStaff, BankCode: "BOC"},
		"terminal": {Name: "terminal", Role: issuance.RoleTerminal, OrgID: h.meizhou.ID},
	} {
		plain, _, err := h.svc.CreateToken(ctx, sys, in)
		require.NoError(t, err)
		h.tokens[name] = plain
	}
}

// response is a decoded HTTP response.
type response struct {
	status int
	header http.Header
	body   []byte
}

func (r response) json(t testing.TB, v any) {
	t.Helper()
	require.NoError(t, json.Unmarshal(r.body, v), "body: %s", r.body)
}

func (r response) problem(t testing.TB) wire.Problem {
	t.Helper()
	require.Equal(t, wire.ProblemContentType, r.header.Get("Content-Type"), "body: %s", r.body)
	var p wire.Problem
	r.json(t, &p)
	require.Equal(t, r.status, p.Status)
	return p
}

// do sends a request as token (a fixture name, or "" for none) with body
// (nil, a string, or a value to encode) and optional header pairs.
func (h *harness) do(method, path, token string, body any, headers ...string) response {
	h.t.Helper()
	var r io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		r = strings.NewReader(b)
	case []byte:
		r = bytes.NewReader(b)
	default:
		j, err := json.Marshal(b)
		require.NoError(h.t, err)
		r = bytes.NewReader(j)
	}
	req, err := http.NewRequest(method, h.ts.URL+path, r)
	require.NoError(h.t, err)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		tok, ok := h.tokens[token]
		require.True(h.t, ok, "unknown token fixture %q", token)
		req.Header.Set("Authorization", "Bearer "+tok)
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	res, err := h.client.Do(req)
	require.NoError(h.t, err)
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	require.NoError(h.t, err)
	return response{status: res.StatusCode, header: res.Header, body: b}
}

// residentID returns a valid GB 11643 number for region, birth date
// (yyyymmdd) and sequence (0–999).
func residentID(region, birth string, seq int) string {
	body := fmt.Sprintf("%s%s%03d", region, birth, seq)
	return body + string(issuance.ResidentIDCheckChar(body))
}
