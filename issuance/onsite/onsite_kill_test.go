package onsite_test

import (
	"context"
	"os"
	"os/exec"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/volcard/volcard/issuance/onsite"

	"github.com/stretchr/testify/require"

	"github.com/volcard/volcard/issuance"
	"github.com/volcard/volcard/issuance/issuancetest"
	"github.com/volcard/volcard/issuance/store"
	"github.com/volcard/volcard/issuance/store/storetest"
)

// Environment of the kill test's child process.
const (
	envKillChild   = "VOLCARD_ONSITE_KILL_CHILD"
	envKillDB      = "VOLCARD_ONSITE_KILL_DB"
	envKillSession = "VOLCARD_ONSITE_KILL_SESSION"
	envKillActor   = "VOLCARD_ONSITE_KILL_ACTOR"
)

// TestUploadRosterKilled runs a roster upload in a child process (this test
// binary re-executed), kills it with SIGKILL once some chunks are
// committed, then uploads the same file again: every row is stored exactly
// once (one volunteer, one application with one creation event, one queue
// entry per accepted row).
func TestUploadRosterKilled(t *testing.T) {
	if os.Getenv(envKillChild) == "1" {
		killChild(t)
		return
	}
	ctx := context.Background()
	dbURL := storetest.PostgresDatabaseURL(t)
	st, err := store.Open(ctx, dbURL, store.Options{MaxOpenConns: 4})
	require.NoError(t, err)
	t.Cleanup(func() { _ = st.Close() })
	f := newOnsiteFixture(t, st)
	s := f.session(t, 45)

	cmd := exec.Command(os.Args[0], "-test.run=^TestUploadRosterKilled$", "-test.count=1")
	cmd.Env = append(os.Environ(), envKillChild+"=1", envKillDB+"="+dbURL,
		envKillSession+"="+strconv.FormatInt(s.ID, 10), envKillActor+"="+strconv.FormatInt(f.bocStaff.TokenID, 10))
	require.NoError(t, cmd.Start())
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()

	// Kill once at least 10 rows are committed (chunks of 5, slowed down).
	deadline := time.Now().Add(60 * time.Second)
	for count(t, st, "onsite_entries") < 10 {
		select {
		case err := <-exited:
			t.Fatalf("the child finished before it was killed: %v", err)
		default:
		}
		require.True(t, time.Now().Before(deadline), "the child stored nothing in time")
		time.Sleep(5 * time.Millisecond)
	}
	require.NoError(t, cmd.Process.Signal(syscall.SIGKILL))
	<-exited
	stored := count(t, st, "onsite_entries")
	require.Less(t, stored, int64(40), "killed midway")

	rep, err := f.On.UploadRoster(ctx, f.bocStaff, s.ID, onsite.RosterInput{Data: fixtureFile(t, "onsite-45-gb18030.csv")})
	require.NoError(t, err)
	checkReport(t, rep)
	require.Equal(t, int(stored), rep.AlreadyStored)
	require.Equal(t, 40-int(stored), rep.Stored)
	require.EqualValues(t, 40, count(t, st, "onsite_entries"))
	require.EqualValues(t, 40, count(t, st, "volunteers"))
	require.EqualValues(t, 40, count(t, st, "applications"))
	require.EqualValues(t, 40, count(t, st, "application_events"))
	var distinct int64
	require.NoError(t, st.DB(ctx).Raw("SELECT COUNT(DISTINCT volunteer_id) FROM applications").Scan(&distinct).Error)
	require.EqualValues(t, 40, distinct)
}

// killChild is the child side: it uploads the fixture in chunks of 5,
// pausing after each, until the parent kills it.
func killChild(t *testing.T) {
	ctx := context.Background()
	st, err := store.Open(ctx, os.Getenv(envKillDB), store.Options{MaxOpenConns: 2})
	require.NoError(t, err)
	svc, err := issuance.NewService(st, issuancetest.Keys(t), issuance.WithClock(&issuancetest.Clock{T: issuancetest.Now}))
	require.NoError(t, err)
	on, err := onsite.New(svc, st)
	require.NoError(t, err)
	sessionID, _ := strconv.ParseInt(os.Getenv(envKillSession), 10, 64)
	tokenID, _ := strconv.ParseInt(os.Getenv(envKillActor), 10, 64)
	// The staff member's actor as Authenticate would resolve it.
	a := issuance.Actor{TokenID: tokenID, Role: issuance.RoleBankStaff, BankCode: "BOC"}
	_, err = on.UploadRoster(ctx, a, sessionID, onsite.RosterInput{
		Data: fixtureFile(t, "onsite-45-gb18030.csv"), ChunkSize: 5,
		OnChunk: func(done, total int) { time.Sleep(100 * time.Millisecond) },
	})
	require.NoError(t, err)
}
