package terminal_test

import (
	"context"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/volcard/volcard/cardio"
	"github.com/volcard/volcard/cardio/cardsim"
	"github.com/volcard/volcard/client"
	"github.com/volcard/volcard/client/terminal"
	"github.com/volcard/volcard/issuance"
	"github.com/volcard/volcard/issuance/checkin"
	"github.com/volcard/volcard/issuance/store/storetest"
	"github.com/volcard/volcard/wire"
)

// notices collects a terminal's operator notices.
type notices struct {
	mu sync.Mutex
	b  strings.Builder
}

func (n *notices) Write(p []byte) (int, error) { n.mu.Lock(); defer n.mu.Unlock(); return n.b.Write(p) }
func (n *notices) String() string              { n.mu.Lock(); defer n.mu.Unlock(); return n.b.String() }

// station is one terminal with its own queue file, reader and notices.
type station struct {
	term    *terminal.Terminal
	queue   *terminal.Queue
	readers *cardsim.Readers
	notes   *notices
	clock   *clock
}

func newStation(t *testing.T, s *server, token string, activityID int64) *station {
	t.Helper()
	cl, err := client.New(s.ts.URL, token)
	require.NoError(t, err)
	q, err := terminal.OpenQueue(t.Context(), filepath.Join(t.TempDir(), "queue.db"), []byte(token))
	require.NoError(t, err)
	t.Cleanup(func() { q.Close() })
	st := &station{queue: q, readers: cardsim.NewReaders(loadCard(t, "default.json")), notes: &notices{},
		clock: &clock{t: s.clock.Now()}}
	st.term, err = terminal.New(terminal.Config{API: cl, Queue: q, ActivityID: activityID, Readers: st.readers,
		Reader: cardsim.ReaderName, Notices: st.notes, Now: st.clock.Now, SyncInterval: time.Hour})
	require.NoError(t, err)
	return st
}

// tap taps the station's card once.
func (st *station) tap(t *testing.T) terminal.Outcome {
	t.Helper()
	card, err := st.readers.Connect(t.Context(), cardsim.ReaderName, cardio.ShareExclusive)
	require.NoError(t, err)
	defer card.Disconnect(context.Background())
	o, err := st.term.TapCard(t.Context(), card)
	if o.Status == terminal.StatusOK || o.Status == terminal.StatusQueued {
		require.NoError(t, err)
	}
	return o
}

// TestStartChecksTokenAndActivity runs the start-up check against the real
// API: a good token and activity pass and name the activity; an unknown
// token, a token of another role, an unknown activity and another
// organisation's activity are each refused with their own error; an
// unreachable server is an error the terminal may go on from (offline).
func TestStartChecksTokenAndActivity(t *testing.T) {
	ctx := t.Context()
	s := newServer(t, storetest.Postgres(t))
	sys := issuance.SystemActor()
	mz, err := s.svc.GetOrg(ctx, sys, s.act.OrgID)
	require.NoError(t, err)
	admin, _, err := s.svc.CreateToken(ctx, sys, issuance.NewToken{Name: "mz admin", Role: issuance.RoleOrgAdmin, OrgID: mz.ID})
	require.NoError(t, err)
	gz, err := s.svc.CreateOrg(ctx, sys, issuance.NewOrg{ParentID: mz.ParentID, Kind: issuance.OrgCity, Name: "广州市", RegionCode: "440100"})
	require.NoError(t, err)
	gzAct, err := s.ck.CreateActivity(ctx, sys, checkin.NewActivity{OrgID: gz.ID, Title: "广州义工",
		StartsAt: s.act.StartsAt, EndsAt: s.act.EndsAt})
	require.NoError(t, err)

	t.Run("good token and activity", func(t *testing.T) {
		info, err := newStation(t, s, s.token, s.act.ID).term.Start(ctx)
		require.NoError(t, err)
		require.Equal(t, s.act.ID, info.Activity.ID)
		require.Equal(t, "客家文化节志愿服务", info.Activity.Title)
		require.Zero(t, info.LastSeq)
		require.Zero(t, info.SkippedTo)
	})
	for _, tc := range []struct {
		name     string
		token    string
		activity int64
		want     error
	}{
		{"unknown token", "vc_" + strings.Repeat("0", 43), s.act.ID, terminal.ErrTokenRefused},
		{"not a terminal token", admin, s.act.ID, terminal.ErrNotTerminalToken},
		{"unknown activity", s.token, 999999, terminal.ErrActivityUnknown},
		{"another organisation's activity", s.token, gzAct.ID, terminal.ErrActivityUnknown},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := newStation(t, s, tc.token, tc.activity).term.Start(ctx)
			require.ErrorIs(t, err, tc.want)
			require.False(t, client.Retryable(err))
		})
	}
	t.Run("server unreachable", func(t *testing.T) {
		s.mode.Store(modeDown)
		defer s.mode.Store(modeUp)
		_, err := newStation(t, s, s.token, s.act.ID).term.Start(ctx)
		require.Error(t, err)
		require.True(t, client.Retryable(err), "the terminal may start offline: %v", err)
	})
}

// TestTwoTerminalsOnOneToken runs three terminals on one token, each with
// its own queue file. A terminal that starts after another has tapped goes
// on past the server's numbers; one that did not check at start and takes
// a number already used gets sequence-reused, moves past, taps again with a
// new challenge and records the tap, saying why; one whose queued offline
// taps clash renumbers them in order and sends them all. Every tap counts
// once and the hours come out right (the order of a check-in and its
// check-out survives the renumbering).
func TestTwoTerminalsOnOneToken(t *testing.T) {
	ctx := t.Context()
	s := newServer(t, storetest.Postgres(t))
	at := func(hh, mm int) time.Time { return time.Date(2026, 11, 23, hh, mm, 0, 0, cst) }

	a := newStation(t, s, s.token, s.act.ID)
	_, err := a.term.Start(ctx)
	require.NoError(t, err)
	s.clock.set(at(9, 0))
	in := a.tap(t)
	require.Equal(t, terminal.StatusOK, in.Status, in.Message)
	require.Equal(t, int64(1), in.Seq)

	t.Run("a second terminal starting goes on past the server's numbers", func(t *testing.T) {
		b := newStation(t, s, s.token, s.act.ID)
		info, err := b.term.Start(ctx)
		require.NoError(t, err)
		require.Equal(t, int64(1), info.LastSeq)
		require.Equal(t, int64(1001), info.SkippedTo)
		require.Contains(t, b.notes.String(), "another terminal uses the same token, or this queue file is new")
		next, err := b.queue.NextSeq(ctx)
		require.NoError(t, err)
		require.Greater(t, next, int64(1001))
	})

	t.Run("a taken number online: moves past and taps again", func(t *testing.T) {
		c := newStation(t, s, s.token, s.act.ID) // no start-up check: it numbers from 1
		s.clock.set(at(9, 30))
		out := c.tap(t)
		require.Equal(t, terminal.StatusOK, out.Status, out.Message)
		require.Equal(t, wire.KindCheckOut, out.Result.Kind)
		require.Equal(t, "✓ 张晓明 签退 0.5 h", out.Message)
		require.Greater(t, out.Seq, int64(1001))
		require.Equal(t, 16, out.APDUs, "the card was read twice: the refused tap and the one recorded")
		require.Contains(t, c.notes.String(), "#1 was already used by another terminal with this token")
		require.Equal(t, int64(1), s.tapCount(t, 1))
		require.Equal(t, int64(1), s.tapCount(t, out.Seq))
	})

	t.Run("taken numbers in the queue: renumbered in order, all sent", func(t *testing.T) {
		d := newStation(t, s, s.token, s.act.ID) // no start-up check: it numbers from 1
		s.mode.Store(modeDown)
		var seqs []int64
		for _, tm := range []time.Time{at(10, 0), at(10, 30)} {
			d.clock.set(tm)
			o := d.tap(t)
			require.Equal(t, terminal.StatusQueued, o.Status, o.Message)
			seqs = append(seqs, o.Seq)
		}
		require.Equal(t, []int64{1, 2}, seqs, "number 1 is already the first terminal's")
		s.mode.Store(modeUp)
		s.clock.set(at(11, 0))
		sent, err := d.term.Sync(ctx)
		require.NoError(t, err)
		require.Equal(t, 2, sent)
		left, err := d.queue.Len(ctx)
		require.NoError(t, err)
		require.Zero(t, left)
		require.Contains(t, d.notes.String(), "the 2 queued tap(s) are numbered again")
		require.Equal(t, int64(1), s.tapCount(t, 1), "the first terminal's tap, untouched")

		rec, err := s.ck.ServiceRecord(ctx, issuance.SystemActor(), s.holder.ID)
		require.NoError(t, err)
		require.Equal(t, int64(60), rec.LifetimeMinutes, "09:00–09:30 and 10:00–10:30: the queued check-in came before its check-out")
		require.Len(t, rec.Attendances, 2)
	})
}
