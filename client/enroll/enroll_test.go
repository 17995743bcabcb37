package enroll_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/volcard/volcard/client"
	"github.com/volcard/volcard/client/enroll"
	"github.com/volcard/volcard/wire"
)

// fakeAPI records uploads and answers with canned values.
type fakeAPI struct {
	uploaded    []byte
	contentType string
	report      wire.RosterReport
	err         error
	filters     []client.OnsiteSessionFilter
}

func (f *fakeAPI) RequestOnsiteSession(_ context.Context, in wire.NewOnsiteSession) (wire.OnsiteSession, error) {
	return wire.OnsiteSession{ID: 7, Site: in.Site, Date: in.Date, ExpectedCount: in.ExpectedCount, Status: "requested"}, f.err
}
func (f *fakeAPI) OnsiteSession(context.Context, int64) (wire.OnsiteSession, error) {
	return wire.OnsiteSession{ID: 7, Status: "scheduled"}, f.err
}
func (f *fakeAPI) ListOnsiteSessions(_ context.Context, q client.OnsiteSessionFilter) (wire.OnsiteSessionPage, error) {
	f.filters = append(f.filters, q)
	if q.Cursor == "" {
		return wire.OnsiteSessionPage{Items: []wire.OnsiteSessionItem{{OnsiteSession: wire.OnsiteSession{ID: 8,
			OrgID: 3, Site: "嘉应学院体育馆", Date: "2026-05-01", ExpectedCount: 45, Status: "scheduled", Product: "GD-RV-BOC"},
			OrgName: "嘉应学院", Accepted: 40, Rejected: 5}}, NextCursor: "c2"}, f.err
	}
	return wire.OnsiteSessionPage{Items: []wire.OnsiteSessionItem{{OnsiteSession: wire.OnsiteSession{ID: 7,
		OrgID: 3, Site: "礼堂", Date: "2026-04-01", ExpectedCount: 30, Status: "completed"}}}}, f.err
}
func (f *fakeAPI) UploadRosterMode(_ context.Context, _ int64, _ string, body io.Reader, size int64, ct string) (wire.RosterReport, error) {
	b, _ := io.ReadAll(body)
	if int64(len(b)) != size {
		return wire.RosterReport{}, fmt.Errorf("size %d != %d", len(b), size)
	}
	f.uploaded, f.contentType = b, ct
	return f.report, f.err
}
func (f *fakeAPI) RejectedCSV(_ context.Context, _ int64, _ string, w io.Writer) error {
	_, err := w.Write([]byte("\ufeff行号,姓名,原因\r\n"))
	return err
}
func (f *fakeAPI) ApproveOnsiteSession(context.Context, int64) (wire.OnsiteApproval, error) {
	return wire.OnsiteApproval{SessionID: 7, Approved: 40, Sent: 40}, f.err
}
func (f *fakeAPI) OnsiteReport(context.Context, int64) (wire.OnsiteReport, error) {
	return wire.OnsiteReport{SessionID: 7, Requested: 45, Accepted: 40, Rejected: 5}, f.err
}

func (f *fakeAPI) TransitionOnsiteSession(context.Context, int64, string, string) (wire.OnsiteSession, error) {
	return wire.OnsiteSession{}, f.err
}

func TestUpload(t *testing.T) {
	dir := t.TempDir()
	csvPath := filepath.Join(dir, "roster.csv")
	require.NoError(t, os.WriteFile(csvPath, []byte("姓名\n"), 0o600))
	xlsxPath := filepath.Join(dir, "roster.xlsx")
	require.NoError(t, os.WriteFile(xlsxPath, []byte("PK\x03\x04rest"), 0o600))
	rep := wire.RosterReport{SessionID: 7, Rows: 2, Accepted: 1, Stored: 1, Rejected: 1, Format: "csv", Encoding: "gb18030",
		Items: []wire.RosterRow{{Line: 2, Status: "accepted"}, {Line: 3, Status: "rejected",
			Reasons: []wire.RowReason{{Code: "bad_phone", Message: "phone must be an 11-digit mainland mobile number"}}}}}
	tests := []struct {
		name     string
		path     string
		json     bool
		progress bool
		wantCT   string
		want     []string
	}{
		{name: "csv text", path: csvPath, wantCT: "text/csv", want: []string{"accepted: 1", "rejected: 1", "3", "11-digit", "saved to"}},
		{name: "xlsx with progress", path: xlsxPath, progress: true, wantCT: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", want: []string{"rejected: 1"}},
		{name: "json", path: csvPath, json: true, wantCT: "text/csv", want: []string{`"rejected": 1`, `"bad_phone"`}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			api := &fakeAPI{report: rep}
			var out, errw bytes.Buffer
			r := &enroll.Runner{API: api, Out: &out, Err: &errw, JSON: tc.json, Progress: tc.progress}
			rejected := filepath.Join(dir, tc.name+"-rejected.csv")
			require.NoError(t, r.Upload(context.Background(), 7, tc.path, rejected, ""))
			require.Equal(t, tc.wantCT, api.contentType)
			for _, w := range tc.want {
				require.Contains(t, out.String(), w)
			}
			if tc.json {
				var got wire.RosterReport
				require.NoError(t, json.Unmarshal(out.Bytes(), &got))
				require.Equal(t, rep, got)
			}
			if tc.progress {
				require.Contains(t, errw.String(), "uploading roster.xlsx")
			}
			b, err := os.ReadFile(rejected)
			require.NoError(t, err)
			require.Contains(t, string(b), "原因")
		})
	}
	t.Run("missing file", func(t *testing.T) {
		r := &enroll.Runner{API: &fakeAPI{}, Out: io.Discard, Err: io.Discard}
		require.ErrorIs(t, r.Upload(context.Background(), 7, filepath.Join(dir, "nope.csv"), "", ""), enroll.ErrInput)
	})
}

func TestRequestAndReport(t *testing.T) {
	var out bytes.Buffer
	r := &enroll.Runner{API: &fakeAPI{}, Out: &out, Err: io.Discard}
	err := r.Request(context.Background(), wire.NewOnsiteSession{Date: "next week"})
	require.ErrorIs(t, err, enroll.ErrInput)
	require.NoError(t, r.Request(context.Background(), wire.NewOnsiteSession{Site: "体育馆", Date: "2026-12-01", ExpectedCount: 45}))
	require.Contains(t, out.String(), "On-site session 7: requested")
	out.Reset()
	require.NoError(t, r.Report(context.Background(), 7))
	require.Contains(t, out.String(), "requested:")
	require.Contains(t, out.String(), "45")
}

func TestExplain(t *testing.T) {
	tests := []struct {
		name string
		err  error
		want string
	}{
		{name: "problem", err: &client.ProblemError{Status: 400, Type: "validation", Detail: "expected_count: smaller groups apply at a bank branch or online", RequestID: "r1"},
			want: "the server refused the request (400 validation): expected_count: smaller groups apply at a bank branch or online [request r1]"},
		{name: "unreachable", err: fmt.Errorf("%w: dial", client.ErrUnreachable), want: "cannot reach the server; check --server"},
		{name: "other", err: errors.New("boom"), want: "boom"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			require.Contains(t, enroll.Explain(tc.err), tc.want)
		})
	}
}

func TestList(t *testing.T) {
	tests := []struct {
		name    string
		all     bool
		json    bool
		calls   int
		want    []string
		notWant []string
	}{
		{name: "one page", calls: 1, want: []string{"ID", "ACCEPTED", "8", "scheduled", "45", "40", "5", "嘉应学院", "嘉应学院体育馆", "--cursor c2"},
			notWant: []string{"礼堂"}},
		{name: "all pages", all: true, calls: 2, want: []string{"嘉应学院体育馆", "礼堂", "#3", "completed"}, notWant: []string{"--cursor"}},
		{name: "json", json: true, calls: 1, want: []string{`"org_name": "嘉应学院"`, `"accepted": 40`, `"next_cursor": "c2"`}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			api := &fakeAPI{}
			var out bytes.Buffer
			r := &enroll.Runner{API: api, Out: &out, Err: io.Discard, JSON: tc.json}
			require.NoError(t, r.List(context.Background(), client.OnsiteSessionFilter{State: "scheduled", OrgID: 3}, tc.all))
			require.Len(t, api.filters, tc.calls)
			for _, f := range api.filters {
				require.Equal(t, "scheduled", f.State, "the filter is kept across pages")
				require.Equal(t, int64(3), f.OrgID)
			}
			for _, w := range tc.want {
				require.Contains(t, out.String(), w)
			}
			for _, w := range tc.notWant {
				require.NotContains(t, out.String(), w)
			}
		})
	}
}
