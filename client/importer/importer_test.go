package importer

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/volcard/volcard/client"
	"github.com/volcard/volcard/wire"
)

// fakeAPI is an in-process server of import batches: it commits each
// batch once, rejects rows whose name is "bad", answers from its record
// when a batch comes again, and can drop answers (the batch committed,
// the client told the server is unreachable).
type fakeAPI struct {
	mu        sync.Mutex
	committed map[int]wire.ImportBatchResult
	rows      map[string]int // platform number → times created
	dropNext  int
	calls     int
}

func (a *fakeAPI) ImportVolunteers(_ context.Context, b wire.ImportVolunteersBatch) (wire.ImportBatchResult, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.calls++
	res, ok := a.committed[b.Seq]
	if ok {
		res.Replayed = true
	} else {
		res = wire.ImportBatchResult{ImportID: b.ImportID, Seq: b.Seq, Rows: len(b.Rows), Rejects: []wire.ImportReject{}}
		for _, r := range b.Rows {
			if r.Name == "bad" {
				res.Rejects = append(res.Rejects, wire.ImportReject{Line: r.Line, Field: "name", Reason: "bad name"})
				continue
			}
			a.rows[r.VolunteerNumber]++
			res.Created++
		}
		a.committed[b.Seq] = res
	}
	if a.dropNext > 0 {
		a.dropNext--
		return wire.ImportBatchResult{}, fmt.Errorf("%w: connection reset", client.ErrUnreachable)
	}
	return res, nil
}

func (a *fakeAPI) ImportHours(context.Context, wire.ImportHoursBatch) (wire.ImportBatchResult, error) {
	panic("not used")
}

func (a *fakeAPI) ImportStatus(_ context.Context, id string) (wire.ImportStatus, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	st := wire.ImportStatus{ImportID: id}
	for _, r := range a.committed {
		st.Batches = append(st.Batches, r)
	}
	return st, nil
}

func writeFile(t *testing.T, n int) string {
	var b strings.Builder
	for i := range n {
		name := fmt.Sprintf("志愿者%d", i)
		if i%10 == 3 {
			name = "bad"
		}
		if i%25 == 7 {
			b.WriteString("{broken\n")
			continue
		}
		fmt.Fprintf(&b, `{"volunteer_number":"N%d","name":"%s","id_number":"x","phone":"1","org_id":1}`+"\n", i, name)
	}
	p := filepath.Join(t.TempDir(), "v.jsonl")
	require.NoError(t, os.WriteFile(p, []byte(b.String()), 0o600))
	return p
}

// TestRunResumesAndReports: lost answers are sent again and answered from
// the record (nothing doubled); a second run skips every batch; the report
// lists every rejected row in line order, both times.
func TestRunResumesAndReports(t *testing.T) {
	path := writeFile(t, 1000)
	api := &fakeAPI{committed: map[int]wire.ImportBatchResult{}, rows: map[string]int{}, dropNext: 3}
	var rep, prog bytes.Buffer
	sum, err := Run(context.Background(), Config{API: api, Kind: Volunteers, Path: path, BatchSize: 64, Rejected: &rep,
		Progress: &prog, Every: 200, RetryFor: time.Minute})
	require.NoError(t, err)
	require.Equal(t, 1000, sum.Records)
	require.Equal(t, 16, sum.Batches)
	require.Equal(t, 16+3, api.calls, "three batches sent twice")
	bad, broken := 0, 0
	for i := range 1000 {
		switch {
		case i%25 == 7:
			broken++
		case i%10 == 3:
			bad++
		}
	}
	require.Equal(t, 1000-bad-broken, sum.Created)
	require.Equal(t, bad+broken, sum.Rejected)
	for n, times := range api.rows {
		require.Equal(t, 1, times, "%s created once", n)
	}
	lines := strings.Split(strings.TrimSpace(rep.String()), "\n")
	require.Equal(t, "line,field,reason", lines[0])
	require.Len(t, lines, 1+bad+broken)
	require.Equal(t, "4,name,bad name", lines[1])
	require.Equal(t, "8,,not a JSON object", lines[2])
	require.Contains(t, prog.String(), "import volunteers: 256 records")
	require.Contains(t, prog.String(), "import volunteers: 1000 records")

	var rep2 bytes.Buffer
	again, err := Run(context.Background(), Config{API: api, Kind: Volunteers, Path: path, BatchSize: 64, Rejected: &rep2})
	require.NoError(t, err)
	require.Equal(t, sum.ImportID, again.ImportID, "the same file resumes the same import")
	require.Equal(t, 16, again.Skipped)
	require.Zero(t, again.Created)
	require.Equal(t, rep.String(), rep2.String(), "the report is whole again")
}

// TestRunGivesUp: a server that stays away ends the run with the error
// after RetryFor; what was committed is kept.
func TestRunGivesUp(t *testing.T) {
	path := writeFile(t, 100)
	api := &fakeAPI{committed: map[int]wire.ImportBatchResult{}, rows: map[string]int{}, dropNext: 1 << 30}
	_, err := Run(context.Background(), Config{API: api, Kind: Volunteers, Path: path, BatchSize: 50, RetryFor: 300 * time.Millisecond})
	require.ErrorIs(t, err, client.ErrUnreachable)
}
