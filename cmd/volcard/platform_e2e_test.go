package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/volcard/volcard/client"
	"github.com/volcard/volcard/client/importer"
	"github.com/volcard/volcard/issuance"
	"github.com/volcard/volcard/issuance/reports"
	"github.com/volcard/volcard/platform/platformsim"
	"github.com/volcard/volcard/wire"
)

// withPlatformSim starts the platform simulator on loopback TCP and points
// the cluster's serve processes at it.
func withPlatformSim(t *testing.T, c *cluster) *platformsim.Sim {
	sim, err := platformsim.New(platformsim.Config{Token: "platform-test-token", Logger: slog.New(slog.DiscardHandler)})
	require.NoError(t, err)
	require.NoError(t, sim.Start("127.0.0.1:0", nil))
	t.Cleanup(sim.Close)
	c.env = append(c.env, envPlatformURL+"=http://"+sim.Addr(), envPlatformToken+"=platform-test-token",
		envPlatformPoll+"=50ms")
	return sim
}

// callAs makes one API request with token and decodes a JSON answer.
func callAs(p *serveProc, token, method, path string, body, out any) (int, error) {
	j, err := json.Marshal(body)
	if err != nil {
		return 0, err
	}
	req, err := http.NewRequest(method, p.base+path, bytes.NewReader(j))
	if err != nil {
		return 0, err
	}
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, err
	}
	defer res.Body.Close()
	if out != nil && res.StatusCode < 300 {
		return res.StatusCode, json.NewDecoder(res.Body).Decode(out)
	}
	return res.StatusCode, nil
}

// TestBranchVolunteerReachesPlatform: bank staff register a person at a
// branch through serve's API (PostgreSQL); serve's worker sends the person
// to the platform simulator over HTTP, and the platform's number comes
// back on the volunteer. A person the platform already holds is matched,
// not registered twice.
func TestBranchVolunteerReachesPlatform(t *testing.T) {
	c := newCluster(t)
	sim := withPlatformSim(t, c)
	p := c.start("a")
	ctx := t.Context()
	brs, err := c.svc.ListBranches(ctx, "BOC", 2)
	require.NoError(t, err)
	require.NotEmpty(t, brs)
	staff, _, err := c.svc.CreateToken(ctx, issuance.SystemActor(), issuance.NewToken{Name: "柜员", Role: issuance.RoleBankStaff,
		BankCode: "BOC", BranchID: brs[0].ID})
	require.NoError(t, err)

	register := func(n int, name string) int64 {
		var v struct {
			ID     int64
			Source string
		}
		code, err := callAs(p, staff, "POST", "/v1/volunteers", map[string]any{"name": name, "id_number": residentID(n),
			"phone": "13812345678", "org_id": 2}, &v)
		require.NoError(t, err)
		require.Equal(t, http.StatusCreated, code)
		require.Equal(t, "branch", v.Source)
		return v.ID
	}
	numberOf := func(id int64) string {
		var v struct {
			VolunteerNumber string `json:"volunteer_number"`
		}
		var got string
		require.Eventually(t, func() bool {
			code, err := c.call(p, "GET", fmt.Sprintf("/v1/volunteers/%d", id), nil, &v)
			got = v.VolunteerNumber
			return err == nil && code == http.StatusOK && got != ""
		}, 20*time.Second, 50*time.Millisecond, "the platform's number comes back")
		return got
	}

	id := register(1701, "柜台登记")
	number := numberOf(id)
	want, ok := sim.Lookup("resident_id", residentID(1701))
	require.True(t, ok, "the person reached the platform")
	require.Equal(t, want, number)

	held := sim.Add("resident_id", residentID(1702), "平台老用户")
	before := sim.Registered()
	id2 := register(1702, "平台老用户")
	require.Equal(t, held, numberOf(id2), "matched, not duplicated")
	require.Equal(t, before, sim.Registered())

	var list struct {
		Items []struct {
			VolunteerID int64  `json:"volunteer_id"`
			State       string `json:"state"`
			Matched     bool   `json:"matched"`
		} `json:"items"`
	}
	code, err := c.call(p, "GET", "/v1/admin/platform-requests", nil, &list)
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, code)
	require.Len(t, list.Items, 2)
	require.Equal(t, id2, list.Items[0].VolunteerID)
	require.True(t, list.Items[0].Matched)
	require.Equal(t, "done", list.Items[1].State)
}

// writeImportFile writes n volunteers as JSONL, every 97th row with a bad
// ID number (rejected), and returns how many are bad.
func writeImportFile(t *testing.T, path string, n int) int {
	f, err := os.Create(path)
	require.NoError(t, err)
	w := bufio.NewWriter(f)
	bad := 0
	for i := range n {
		id := residentID(100000 + i)
		if i%97 == 5 {
			id = id[:17] + map[bool]string{true: "1", false: "2"}[id[17] != '1'] // a wrong check character
			bad++
		}
		b, _ := json.Marshal(map[string]any{"volunteer_number": fmt.Sprintf("IMP%08d", i), "name": fmt.Sprintf("导入者%d", i),
			"id_number": id, "phone": "13912345678", "org_id": 2, "league_member": i%3 == 0})
		_, _ = w.Write(append(b, '\n'))
	}
	require.NoError(t, w.Flush())
	require.NoError(t, f.Close())
	return bad
}

// TestImportSurvivesKill: `volcard import volunteers` streams a file to
// serve (PostgreSQL); serve is killed with SIGKILL in the middle and
// started again on the same address; the import carries on and ends with
// every valid row once (no row lost, none doubled: batches created
// exactly the valid rows, nothing was updated, the counters agree), every
// bad row in the report, and a re-run skips every batch.
func TestImportSurvivesKill(t *testing.T) {
	c := newCluster(t)
	withPlatformSim(t, c)
	addr := freeAddr(t)
	p := c.startAt("a", addr)
	const n = 20000
	path := filepath.Join(c.dir, "volunteers.jsonl")
	bad := writeImportFile(t, path, n)
	api, err := client.New(p.base, c.token, client.WithHTTPClient(&http.Client{Timeout: time.Minute}))
	require.NoError(t, err)
	var report, progress bytes.Buffer
	var calls atomic.Int64
	counting := countingAPI{API: api, calls: &calls}
	type outcome struct {
		sum importer.Summary
		err error
	}
	done := make(chan outcome, 1)
	go func() {
		sum, err := importer.Run(context.Background(), importer.Config{API: counting, Kind: importer.Volunteers, Path: path,
			BatchSize: 250, Rejected: &report, Progress: &progress, Every: 5000, RetryFor: 2 * time.Minute})
		done <- outcome{sum, err}
	}()
	require.Eventually(t, func() bool { return calls.Load() >= 20 }, time.Minute, 10*time.Millisecond, "import under way")
	p.kill(t)
	var mid int64
	require.NoError(t, c.st.DB(t.Context()).Raw("SELECT COUNT(*) FROM volunteers WHERE source = 'platform'").Scan(&mid).Error)
	require.Greater(t, mid, int64(0))
	require.Less(t, mid, int64(n-bad), "killed in the middle")
	c.startAt("a2", addr)
	var out outcome
	select {
	case out = <-done:
	case <-time.After(3 * time.Minute):
		t.Fatal("import did not finish")
	}
	require.NoError(t, out.err)
	require.Equal(t, n, out.sum.Records)
	require.Equal(t, n-bad, out.sum.Created, "every valid row created once")
	require.Zero(t, out.sum.Updated, "no batch applied twice")
	require.Equal(t, bad, out.sum.Rejected)
	require.Greater(t, calls.Load(), int64(n/250), "batches in flight at the kill were sent again")

	var count, distinct int64
	db := c.st.DB(t.Context())
	require.NoError(t, db.Raw("SELECT COUNT(*), COUNT(DISTINCT volunteer_number) FROM volunteers WHERE source = 'platform'").
		Row().Scan(&count, &distinct))
	require.Equal(t, int64(n-bad), count)
	require.Equal(t, count, distinct)
	var batches int64
	require.NoError(t, db.Raw("SELECT COUNT(*) FROM import_batches WHERE import_id = ?", out.sum.ImportID).Scan(&batches).Error)
	require.Equal(t, int64(n/250), batches)
	rs, err := reports.New(c.svc, c.st)
	require.NoError(t, err)
	diffs, err := rs.CheckCounters(t.Context(), issuance.SystemActor())
	require.NoError(t, err)
	require.Empty(t, diffs, "the targets counters count each imported volunteer once")
	lines := strings.Split(strings.TrimSpace(report.String()), "\n")
	require.Len(t, lines, bad+1, "header and one line per bad row")
	require.Contains(t, lines[1], "id_number,check character does not match")
	require.NotContains(t, report.String(), residentID(100005)[:17], "no ID number in the report")
	require.Contains(t, progress.String(), "records")

	again, err := importer.Run(t.Context(), importer.Config{API: api2(t, addr, c.token), Kind: importer.Volunteers, Path: path,
		BatchSize: 250})
	require.NoError(t, err)
	require.Equal(t, n/250, again.Skipped, "a re-run skips every batch")
	require.Zero(t, again.Created+again.Updated)
	require.Equal(t, bad, again.Rejected, "the report is whole again")
}

func api2(t *testing.T, addr, token string) *client.Client {
	c, err := client.New("http://"+addr, token)
	require.NoError(t, err)
	return c
}

// countingAPI counts batches sent.
type countingAPI struct {
	importer.API
	calls *atomic.Int64
}

func (a countingAPI) ImportVolunteers(ctx context.Context, b wireBatch) (wireResult, error) {
	a.calls.Add(1)
	return a.API.ImportVolunteers(ctx, b)
}

type (
	wireBatch  = wire.ImportVolunteersBatch
	wireResult = wire.ImportBatchResult
)
