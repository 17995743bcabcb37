package checkin_test

import (
	"context"
	"encoding/json"
	"slices"
	"sync"
	"testing"

	"github.com/volcard/volcard/issuance/checkin"

	"github.com/google/go-cmp/cmp"
	"github.com/pressly/goose/v3"
	"github.com/stretchr/testify/require"

	"github.com/volcard/volcard/internal/ci"
	"github.com/volcard/volcard/issuance/store"
	"github.com/volcard/volcard/issuance/store/storetest"
)

// oneRuleConfig has star thresholds other than the defaults (1 h and
// 2.5 h, the second the top): were the rule kept anywhere but in Go, with
// its own copy of the defaults, the two stores would answer differently.
var oneRuleConfig = checkin.Config{StarThresholds: []float64{1, 2.5}}

// starChange is a stars_changed event's detail.
type starChange struct {
	From     int   `json:"from"`
	To       int   `json:"to"`
	Lifetime int64 `json:"lifetime_minutes"`
}

// starChanges returns the volunteer's stars_changed events.
func starChanges(t *testing.T, cf *checkinFixture) []starChange {
	t.Helper()
	evs, err := cf.ck.Events(context.Background(), cf.Sys, cf.holder.ID)
	require.NoError(t, err)
	out := []starChange{}
	for _, e := range evs {
		if e.Kind == checkin.EventStarsChanged {
			var d starChange
			require.NoError(t, json.Unmarshal([]byte(e.Detail), &d))
			out = append(out, d)
		}
	}
	return out
}

// TestStarRuleAlikeOnBothStores runs one tap sequence crossing both star
// thresholds on PostgreSQL (one-statement write, TapWriter) and SQLite
// (step by step in a transaction): the results, the star changes recorded
// and the replays are the same on both, and are the Go rule's.
func TestStarRuleAlikeOnBothStores(t *testing.T) {
	results := map[string][]checkin.TapResult{}
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		cf := newCheckinFixture(t, st, oneRuleConfig)
		var inputs []checkin.TapInput
		var got []checkin.TapResult
		for _, hm := range [][2]int{{9, 0}, {10, 10}, {10, 20}, {11, 50}} {
			cf.at(hm[0], hm[1])
			ch, err := cf.ck.IssueChallenge(ctx, cf.terminal)
			require.NoError(t, err)
			cf.seq++
			in := checkin.TapInput{ActivityID: cf.act.ID, TerminalID: "T1", Seq: cf.seq, ChallengeID: ch.ID,
				Evidence: tapEvidence(t, "default.json", ch.UN)}
			res, err := cf.ck.Tap(ctx, cf.terminal, in)
			require.NoError(t, err)
			inputs, got = append(inputs, in), append(got, res)
		}
		// 70 minutes reach the first threshold (60), 160 the top (150).
		type levels struct {
			Kind                checkin.TapKind
			Session, Year, Life int64
			StarsBefore, Stars  int
			Tier                checkin.BenefitTier
		}
		var seen []levels
		for _, r := range got {
			seen = append(seen, levels{r.Kind, r.SessionMinutes, r.YearMinutes, r.LifetimeMinutes, r.StarsBefore,
				r.Stars, r.Tier})
		}
		require.Equal(t, []levels{
			{checkin.TapIn, 0, 0, 0, 0, 0, checkin.TierCardHolder},
			{checkin.TapOut, 70, 70, 70, 0, 1, checkin.TierStar},
			{checkin.TapIn, 0, 70, 70, 1, 1, checkin.TierStar},
			{checkin.TapOut, 90, 160, 160, 1, 2, checkin.TierFiveStar},
		}, seen)
		require.Equal(t, []starChange{{0, 1, 70}, {1, 2, 160}}, starChanges(t, cf), "one event per level reached")
		ys, err := st.HoursByYear(ctx, cf.holder.ID)
		require.NoError(t, err)
		require.Equal(t, []checkin.YearMinutes{{Year: 0, Minutes: 160, Stars: 2}, {Year: 2026, Minutes: 160}}, ys)

		for i, in := range inputs {
			again, err := cf.ck.Tap(ctx, cf.terminal, in)
			require.NoError(t, err)
			require.True(t, again.Replayed)
			again.Replayed = false
			require.Empty(t, cmp.Diff(got[i], again), "replay of tap %d", in.Seq)
		}
		require.Len(t, starChanges(t, cf), 2, "replays record nothing")
		results[t.Name()] = got
	})
	pg, sq := results[t.Name()+"/postgres"], results[t.Name()+"/sqlite"]
	if pg == nil || sq == nil {
		if ci.Enabled() {
			t.Fatal("both stores must run in CI")
		}
		t.Skip("needs both stores")
	}
	require.Empty(t, cmp.Diff(pg, sq), "PostgreSQL and SQLite answer alike")
}

// TestConcurrentStarCrossing taps one volunteer out of many activities at
// once on PostgreSQL, with check-ins elsewhere among them, the sum crossing
// a star threshold: the totals the taps report chain without a gap (each
// write is atomic), exactly one tap reports the crossing, exactly one
// stars_changed event is recorded, and the stored level is the rule's.
func TestConcurrentStarCrossing(t *testing.T) {
	ctx := context.Background()
	cf := newCheckinFixture(t, storetest.Postgres(t), checkin.Config{StarThresholds: []float64{4, 100}})
	const outs, ins = 16, 4 // 16 sessions of 30 min: 480 min, the 4 h threshold at the 8th
	acts := make([]checkin.Activity, outs+ins)
	for i := range acts {
		var err error
		acts[i], err = cf.ck.CreateActivity(ctx, cf.MzAdmin, checkin.NewActivity{OrgID: cf.Meizhou.ID,
			Title: "分会场", StartsAt: cf.act.StartsAt, EndsAt: cf.act.EndsAt})
		require.NoError(t, err)
	}
	input := func(act checkin.Activity) checkin.TapInput {
		ch, err := cf.ck.IssueChallenge(ctx, cf.terminal)
		require.NoError(t, err)
		cf.seq++
		return checkin.TapInput{ActivityID: act.ID, TerminalID: "T1", Seq: cf.seq, ChallengeID: ch.ID,
			Evidence: tapEvidence(t, "default.json", ch.UN)}
	}
	cf.at(9, 0)
	for _, act := range acts[:outs] {
		_, err := cf.ck.Tap(ctx, cf.terminal, input(act))
		require.NoError(t, err)
	}
	cf.at(9, 30)
	var burst []checkin.TapInput
	for _, act := range acts {
		burst = append(burst, input(act))
	}

	results := make([]checkin.TapResult, len(burst))
	errs := make([]error, len(burst))
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i, in := range burst {
		wg.Go(func() {
			<-start
			results[i], errs[i] = cf.ck.Tap(ctx, cf.terminal, in)
		})
	}
	close(start)
	wg.Wait()
	for i, err := range errs {
		require.NoError(t, err, "tap %d", i)
	}

	crossings := 0
	var spans [][2]int64
	for i, r := range results {
		if i >= outs {
			require.Equal(t, checkin.TapIn, r.Kind)
			require.Equal(t, r.Stars, r.StarsBefore, "a check-in adds nothing")
			continue
		}
		require.Equal(t, checkin.TapOut, r.Kind)
		require.Equal(t, int64(30), r.SessionMinutes)
		spans = append(spans, [2]int64{r.LifetimeMinutes - r.SessionMinutes, r.LifetimeMinutes})
		if r.StarsBefore == 0 && r.Stars == 1 {
			crossings++
			require.Equal(t, checkin.TierStar, r.Tier)
		}
	}
	slices.SortFunc(spans, func(a, b [2]int64) int { return int(a[0] - b[0]) })
	for i, s := range spans {
		require.Equal(t, int64(30*i), s[0], "the totals chain: tap %d of %d starts where the last ended", i, outs)
	}
	require.Equal(t, 1, crossings, "exactly one tap reports the crossing")
	changes := starChanges(t, cf)
	require.Len(t, changes, 1, "exactly one stars_changed event")
	require.Equal(t, 0, changes[0].From)
	require.Equal(t, 1, changes[0].To)
	ys, err := cf.St.HoursByYear(ctx, cf.holder.ID)
	require.NoError(t, err)
	require.Equal(t, []checkin.YearMinutes{{Year: 0, Minutes: 30 * outs, Stars: 1}, {Year: 2026, Minutes: 30 * outs}}, ys)
}

// TestOldTapRowsReplay checks that taps stored before migration 00110, with
// the whole result (star levels and tier included) in the result column,
// replay with the result first given: the migration is undone, the rows are
// put back in the old form, and the migration is applied again.
func TestOldTapRowsReplay(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		cf := newCheckinFixture(t, st, oneRuleConfig)
		var inputs []checkin.TapInput
		var first []checkin.TapResult
		for _, hm := range [][2]int{{9, 0}, {10, 10}} {
			cf.at(hm[0], hm[1])
			ch, err := cf.ck.IssueChallenge(ctx, cf.terminal)
			require.NoError(t, err)
			cf.seq++
			in := checkin.TapInput{ActivityID: cf.act.ID, TerminalID: "T1", Seq: cf.seq, ChallengeID: ch.ID,
				Evidence: tapEvidence(t, "default.json", ch.UN)}
			res, err := cf.ck.Tap(ctx, cf.terminal, in)
			require.NoError(t, err)
			inputs, first = append(inputs, in), append(first, res)
		}
		require.Equal(t, 1, first[1].Stars)

		fsys, err := store.Migrations(st.Dialect())
		require.NoError(t, err)
		dialect := goose.DialectPostgres
		if st.Dialect() == store.SQLite {
			dialect = goose.DialectSQLite3
		}
		p, err := goose.NewProvider(dialect, st.SQLDB(), fsys)
		require.NoError(t, err)
		_, err = p.DownTo(ctx, 100)
		require.NoError(t, err)
		for i, r := range first {
			// What the code before stored: the result without its tap id.
			r.TapID = 0
			old, err := json.Marshal(r)
			require.NoError(t, err)
			require.NoError(t, st.DB(ctx).Exec(`UPDATE taps SET result = ? WHERE terminal_id = 'T1' AND seq = ?`,
				string(old), inputs[i].Seq).Error)
		}
		_, err = p.Up(ctx)
		require.NoError(t, err)

		for i, in := range inputs {
			again, err := cf.ck.Tap(ctx, cf.terminal, in)
			require.NoError(t, err)
			require.True(t, again.Replayed)
			again.Replayed = false
			require.Empty(t, cmp.Diff(first[i], again), "replay of tap %d", in.Seq)
		}
	})
}
