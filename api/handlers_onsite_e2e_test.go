package api

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"golang.org/x/text/encoding/simplifiedchinese"

	"github.com/volcard/volcard/bankgw"
	"github.com/volcard/volcard/bankgw/banksim"
	"github.com/volcard/volcard/bankgw/outbox"
	"github.com/volcard/volcard/issuance"
	"github.com/volcard/volcard/issuance/onsite"
	"github.com/volcard/volcard/issuance/roster"
	"github.com/volcard/volcard/issuance/roster/rostertest"
	"github.com/volcard/volcard/issuance/store"
	"github.com/volcard/volcard/issuance/store/storetest"
	"github.com/volcard/volcard/pii"
	"github.com/volcard/volcard/wire"
)

// enableOnsite serves the on-site routes from s, over the core service and
// store of the test.
func enableOnsite(t testing.TB, s *Server, svc *issuance.Service, st *store.Store) {
	t.Helper()
	on, err := onsite.New(svc, st)
	require.NoError(t, err)
	require.NoError(t, s.EnableOnsite(on))
}

// onsiteEnv is the API over PostgreSQL with the bank outbox drained to a
// banksim over TCP, plus the on-site fixtures: 嘉应学院 under Meizhou, a
// BOC branch in Meizhou with a contact, tokens "uni" (org_admin of the
// university) and "bocmz" (bank_staff of that branch).
type onsiteEnv struct {
	*harness
	sim        *banksim.Sim
	university issuance.Org
	branch     issuance.Branch
}

// newOnsiteEnv builds an onsiteEnv. Each configure function runs on the
// service and server before the server starts (to enable personalization,
// say).
func newOnsiteEnv(t *testing.T, configure ...func(*issuance.Service, *Server)) *onsiteEnv {
	t.Helper()
	ctx := context.Background()
	st := storetest.Postgres(t)
	quiet := slog.New(slog.DiscardHandler)
	keys, err := pii.New(testDataKey)
	require.NoError(t, err)
	svc, err := issuance.NewService(st, keys, issuance.WithLogger(quiet), issuance.WithBankOutbox(st))
	require.NoError(t, err)
	idem, err := store.NewIdempotencyKeys(st, nil)
	require.NoError(t, err)
	srv, err := New(Options{Service: svc, Idempotency: idem, Ready: st.Ping, Logger: quiet})
	require.NoError(t, err)
	enableOnsite(t, srv, svc, st)
	for _, f := range configure {
		f(svc, srv)
	}
	ts := httptest.NewServer(srv)
	t.Cleanup(ts.Close)
	h := &harness{t: t, st: st, svc: svc, srv: srv, ts: ts, client: ts.Client(), tokens: map[string]string{}}
	h.fixtures()
	e := &onsiteEnv{harness: h}
	sys := issuance.SystemActor()
	e.university, err = svc.CreateOrg(ctx, sys, issuance.NewOrg{ParentID: h.meizhou.ID, Kind: issuance.OrgUniversity, Name: "嘉应学院"})
	require.NoError(t, err)
	e.branch = issuance.Branch{BankCode: "BOC", OrgID: h.meizhou.ID, Name: "中国银行梅州分行",
		Contact: issuance.Contact{Name: "陈经理", Phone: pii.Phone("0753-2188888")}}
	require.NoError(t, svc.PutBranch(ctx, sys, &e.branch))
	for name, in := range map[string]issuance.NewToken{
		"uni":   {Name: "jyu admin", Role: issuance.RoleOrgAdmin, OrgID: e.university.ID},
		"bocmz": {Name: "boc meizhou", Role: issuance.RoleBankStaff, BankCode: "BOC", BranchID: e.branch.ID},
	} {
		plain, _, err := svc.CreateToken(ctx, sys, in)
		require.NoError(t, err)
		h.tokens[name] = plain
	}

	// The bank: banksim on loopback, the gateway client, the outbox worker.
	e.sim, err = banksim.New(banksim.Config{BIN: "621661", Logger: quiet})
	require.NoError(t, err)
	require.NoError(t, e.sim.Start("127.0.0.1:0"))
	t.Cleanup(e.sim.Close)
	handlers, err := outbox.NewHandlers(svc, st, quiet)
	require.NoError(t, err)
	stan, err := st.STAN("VOLCARD1")
	require.NoError(t, err)
	cfg := bankgw.DefaultConfig([]string{e.sim.Addr()}, "VOLCARD1", "VOLCARD00000001")
	cfg.STAN, cfg.Logger = stan, quiet
	cfg.AdviceHandler, cfg.LateResponseHandler = handlers.Advice, handlers.LateResponse
	gw, err := bankgw.NewClient(cfg)
	require.NoError(t, err)
	require.NoError(t, gw.Connect(ctx))
	t.Cleanup(func() { _ = gw.Close(context.Background()) })
	w, err := outbox.New(outbox.Config{Gateway: gw, Service: svc, Outbox: st, Workers: 2, Batch: 16,
		PollInterval: 10 * time.Millisecond, Lease: 5 * time.Second, RetryBase: 20 * time.Millisecond,
		RetryMax: 200 * time.Millisecond, Logger: quiet})
	require.NoError(t, err)
	wctx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- w.Run(wctx) }()
	t.Cleanup(func() { cancel(); <-done })
	return e
}

// upload posts a file as token with a raw body of media type mt, or as
// multipart when mt is "multipart".
func (e *onsiteEnv) upload(token string, id int64, data []byte, mt string) response {
	e.t.Helper()
	body, ct := io.Reader(bytes.NewReader(data)), mt
	if mt == "multipart" {
		var buf bytes.Buffer
		mw := multipart.NewWriter(&buf)
		fw, err := mw.CreateFormFile("file", "roster.xlsx")
		require.NoError(e.t, err)
		_, _ = fw.Write(data)
		require.NoError(e.t, mw.Close())
		body, ct = &buf, mw.FormDataContentType()
	}
	req, err := http.NewRequest(http.MethodPost, e.ts.URL+"/v1/onsite-sessions/"+strconv.FormatInt(id, 10)+"/roster", body)
	require.NoError(e.t, err)
	req.Header.Set("Content-Type", ct)
	req.Header.Set("Authorization", "Bearer "+e.tokens[token])
	res, err := e.client.Do(req)
	require.NoError(e.t, err)
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	require.NoError(e.t, err)
	return response{status: res.StatusCode, header: res.Header, body: b}
}

func readFixture(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "testdata", "rosters", name))
	require.NoError(t, err)
	return b
}

func (e *onsiteEnv) tableCount(table string) int64 {
	e.t.Helper()
	var n int64
	require.NoError(e.t, e.st.DB(context.Background()).Table(table).Count(&n).Error)
	return n
}

// TestOnsiteEndToEnd is issue 7's flow on PostgreSQL through HTTP with the
// bank outbox and banksim: 29 refused, 45 accepted; the GB18030 roster
// uploaded → 40 accepted, 5 rejected with the right reasons; uploaded again
// → nothing changes; bulk approval → banksim issues 40 cards; the report's
// counts exact.
func TestOnsiteEndToEnd(t *testing.T) {
	e := newOnsiteEnv(t)
	date := time.Now().AddDate(0, 0, 10).Format(time.DateOnly)
	req := wire.NewOnsiteSession{OrgID: e.university.ID, Site: "嘉应学院体育馆", Date: date, ExpectedCount: 29, Product: "GD-RV-BOC"}

	r := e.do(http.MethodPost, "/v1/onsite-sessions", "uni", req)
	require.Equal(t, http.StatusBadRequest, r.status, "29 refused: %s", r.body)
	p := r.problem(t)
	require.Contains(t, p.Detail, "bank branch or online")
	require.Equal(t, "expected_count", p.Errors[0].Field)

	req.ExpectedCount = 45
	r = e.do(http.MethodPost, "/v1/onsite-sessions", "uni", req)
	require.Equal(t, http.StatusCreated, r.status, "%s", r.body)
	var sess wire.OnsiteSession
	r.json(t, &sess)
	require.Equal(t, "requested", sess.Status)
	require.Equal(t, e.branch.ID, sess.Branch.ID)
	require.Equal(t, "陈经理", sess.Branch.ContactName)
	require.Equal(t, date, sess.Date)
	require.Equal(t, "0753-2188888", sess.Branch.ContactPhone)
	id := strconv.FormatInt(sess.ID, 10)

	// Another city's admin does not see it; the university admin cannot schedule.
	require.Equal(t, http.StatusNotFound, e.do(http.MethodGet, "/v1/onsite-sessions/"+id, "gz", nil).status)
	require.Equal(t, http.StatusForbidden, e.do(http.MethodPost, "/v1/onsite-sessions/"+id+"/schedule", "uni", nil).status)
	r = e.do(http.MethodPost, "/v1/onsite-sessions/"+id+"/complete", "bocmz", nil)
	require.Equal(t, http.StatusConflict, r.status)
	require.Equal(t, KindIllegalTransition.TypeURI(), r.problem(t).Type)
	for _, action := range []string{"schedule", "start"} {
		r = e.do(http.MethodPost, "/v1/onsite-sessions/"+id+"/"+action, "bocmz", nil)
		require.Equal(t, http.StatusOK, r.status, "%s: %s", action, r.body)
	}

	// Upload the GB18030 roster as bank staff.
	data := readFixture(t, "onsite-45-gb18030.csv")
	r = e.upload("bocmz", sess.ID, data, "text/csv")
	require.Equal(t, http.StatusOK, r.status, "%s", r.body)
	var rep wire.RosterReport
	r.json(t, &rep)
	require.Equal(t, 45, rep.Rows)
	require.Equal(t, 40, rep.Accepted)
	require.Equal(t, 5, rep.Rejected)
	require.Equal(t, "gb18030", rep.Encoding)
	require.Len(t, rep.Items, 45)
	reasons := map[int]string{}
	for _, it := range rep.Items {
		if it.Status == "rejected" {
			reasons[it.Line] = it.Reasons[0].Code
		}
	}
	require.Equal(t, map[int]string{
		rostertest.BadChecksumRow + 1: "bad_checksum", rostertest.UnderAgeRow + 1: "under_age",
		rostertest.DuplicateRow + 1: "duplicate_in_file", rostertest.BadPhoneRow + 1: "bad_phone",
		rostertest.MissingNameRow + 1: "missing_field",
	}, reasons)

	counts := func() [4]int64 {
		return [4]int64{e.tableCount("volunteers"), e.tableCount("applications"), e.tableCount("onsite_entries"), e.tableCount("application_events")}
	}
	before := counts()
	require.EqualValues(t, 40, before[2])

	// The same file again (as multipart this time): nothing changes.
	r = e.upload("bocmz", sess.ID, data, "multipart")
	require.Equal(t, http.StatusOK, r.status, "%s", r.body)
	var rep2 wire.RosterReport
	r.json(t, &rep2)
	require.True(t, rep2.Repeated)
	require.Equal(t, 40, rep2.AlreadyStored)
	require.Zero(t, rep2.Stored)
	require.Equal(t, before, counts())

	// The rejected rows as CSV, UTF-8 with BOM and GB18030.
	r = e.do(http.MethodGet, "/v1/onsite-sessions/"+id+"/rejected.csv", "bocmz", nil)
	require.Equal(t, http.StatusOK, r.status)
	require.True(t, bytes.HasPrefix(r.body, []byte("\ufeff行号,姓名,身份证号")), "%s", r.body[:40])
	require.Equal(t, 6, strings.Count(string(r.body), "\r\n"))
	require.Contains(t, string(r.body), "[bad_checksum]")
	r = e.do(http.MethodGet, "/v1/onsite-sessions/"+id+"/rejected.csv?encoding=gb18030", "uni", nil)
	require.Equal(t, http.StatusOK, r.status)
	text, err := simplifiedchinese.GB18030.NewDecoder().Bytes(r.body)
	require.NoError(t, err)
	require.Contains(t, string(text), "原因")
	require.Contains(t, string(text), "**********", "ID numbers masked for the org admin")

	// A file-level error: a missing column.
	r = e.upload("bocmz", sess.ID, []byte("姓名,手机号\n张三,13800138000\n"), "text/csv")
	require.Equal(t, http.StatusBadRequest, r.status)
	require.Contains(t, r.problem(t).Detail, "身份证号/id_number")

	// Approve all in one action; the outbox sends them; banksim issues 40 cards.
	require.Equal(t, http.StatusForbidden, e.do(http.MethodPost, "/v1/onsite-sessions/"+id+"/approve", "bocmz", nil).status)
	r = e.do(http.MethodPost, "/v1/onsite-sessions/"+id+"/approve", "uni", nil)
	require.Equal(t, http.StatusOK, r.status, "%s", r.body)
	var ap wire.OnsiteApproval
	r.json(t, &ap)
	require.Equal(t, wire.OnsiteApproval{SessionID: sess.ID, Approved: 40, Sent: 40}, ap)

	var report wire.OnsiteReport
	deadline := time.Now().Add(30 * time.Second)
	for {
		r = e.do(http.MethodGet, "/v1/onsite-sessions/"+id+"/report", "uni", nil)
		require.Equal(t, http.StatusOK, r.status)
		report = wire.OnsiteReport{}
		r.json(t, &report)
		if report.BankApproved == 40 || time.Now().After(deadline) {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	require.Equal(t, 40, e.sim.CardsIssued())
	require.Equal(t, 45, report.UploadedRows, "the one upload's rows")
	require.Len(t, report.Uploads, 1)
	require.Equal(t, "first", report.Uploads[0].Mode)
	report.Uploads, report.UploadedRows = nil, 0
	require.Equal(t, wire.OnsiteReport{SessionID: sess.ID, Status: "in_progress", Requested: 45, Accepted: 40,
		Rejected: 5, Sent: 40, BankApproved: 40}, report)

	// The queue in roster order for `volcard personalize --batch`.
	r = e.do(http.MethodGet, "/v1/onsite-sessions/"+id+"/queue", "bocmz", nil)
	require.Equal(t, http.StatusOK, r.status)
	var q wire.OnsiteQueue
	r.json(t, &q)
	require.Len(t, q.Items, 40)
	require.Equal(t, 1, q.Items[0].Position)
	require.Equal(t, "bank_approved", q.Items[0].Status)
	require.Equal(t, "pending", q.Items[0].Personalize)
	people := rostertest.Fixture45(0)
	require.Equal(t, people[0].Name, q.Items[0].Name)

	// The personalization hook: mark the first entry failed, then the report counts it.
	r = e.do(http.MethodPost, "/v1/onsite-sessions/"+id+"/queue/"+strconv.FormatInt(q.Items[0].EntryID, 10), "bocmz",
		wire.QueueMark{State: "failed", Note: "card mute"})
	require.Equal(t, http.StatusOK, r.status, "%s", r.body)
	r = e.do(http.MethodPost, "/v1/onsite-sessions/"+id+"/queue/"+strconv.FormatInt(q.Items[0].EntryID, 10), "uni",
		wire.QueueMark{State: "skipped"})
	require.Equal(t, http.StatusForbidden, r.status)
	r = e.do(http.MethodGet, "/v1/onsite-sessions/"+id+"/report", "uni", nil)
	report = wire.OnsiteReport{}
	r.json(t, &report)
	require.Equal(t, 1, report.Failed)

	r = e.do(http.MethodPost, "/v1/onsite-sessions/"+id+"/complete", "bocmz", nil)
	require.Equal(t, http.StatusOK, r.status)
	r = e.upload("bocmz", sess.ID, data, "text/csv")
	require.Equal(t, http.StatusConflict, r.status, "closed session refuses uploads")
}

// TestOnsiteXLSXUpload uploads the 45-row XLSX fixture as an org admin:
// IDs and phones come back masked.
func TestOnsiteXLSXUpload(t *testing.T) {
	e := newOnsiteEnv(t)
	r := e.do(http.MethodPost, "/v1/onsite-sessions", "uni", wire.NewOnsiteSession{OrgID: e.university.ID, Site: "图书馆",
		Date: time.Now().AddDate(0, 0, 3).Format(time.DateOnly), ExpectedCount: 45, Product: "GD-RV-BOC"})
	require.Equal(t, http.StatusCreated, r.status, "%s", r.body)
	var sess wire.OnsiteSession
	r.json(t, &sess)
	r = e.upload("uni", sess.ID, readFixture(t, "onsite-45.xlsx"), roster.MediaXLSX)
	require.Equal(t, http.StatusOK, r.status, "%s", r.body)
	var rep wire.RosterReport
	r.json(t, &rep)
	require.Equal(t, "xlsx", rep.Format)
	require.Equal(t, 40, rep.Accepted)
	require.Equal(t, 5, rep.Rejected)
	require.Contains(t, rep.Items[0].IDNumber, "*")
	require.Contains(t, rep.Items[0].Phone, "*")

	t.Run("too large", func(t *testing.T) {
		r := e.upload("uni", sess.ID, bytes.Repeat([]byte("a"), int(RosterBodyLimit)+1), "text/csv")
		require.Equal(t, http.StatusRequestEntityTooLarge, r.status)
	})
	t.Run("unsupported media type", func(t *testing.T) {
		r := e.upload("uni", sess.ID, []byte("{}"), "application/json")
		require.Equal(t, http.StatusUnsupportedMediaType, r.status)
	})
	t.Run("zip bomb", func(t *testing.T) {
		r := e.upload("uni", sess.ID, zipBomb(t), roster.MediaXLSX)
		require.Equal(t, http.StatusRequestEntityTooLarge, r.status, "%s", r.body)
	})
}

// zipBomb is a small XLSX-looking zip whose sheet inflates to 100 MiB.
func zipBomb(t testing.TB) []byte {
	t.Helper()
	x, err := rostertest.XLSX(rostertest.People(1, 0))
	require.NoError(t, err)
	b, err := rostertest.Inflate(x, "xl/worksheets/sheet1.xml", 100<<20)
	require.NoError(t, err)
	require.Less(t, len(b), 1<<20)
	return b
}
