package main

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/volcard/volcard/internal/jobs"
	"github.com/volcard/volcard/issuance"
	"github.com/volcard/volcard/issuance/issuancetest"
	"github.com/volcard/volcard/issuance/store/storetest"
)

// TestExpireCardsJob: serve's expire-cards job, tried by the job runners of
// two processes on one PostgreSQL (at once, then again within the day),
// runs once and marks the card past its expiry month expired once, with one
// event; the card still valid is left.
func TestExpireCardsJob(t *testing.T) {
	ctx := context.Background()
	st := storetest.Postgres(t)
	f := issuancetest.New(t, st) // 2026-11-23
	log := slog.New(slog.DiscardHandler)
	var job jobs.Job
	for _, j := range serveJobs(f.Svc, st, nil, log) {
		if j.Name == "expire-cards" {
			job = j
		}
	}
	require.Equal(t, 24*time.Hour, job.Every, "serve schedules expire-cards daily")

	card := func(expiry, pan string) issuance.Card {
		v := f.Volunteer(t, f.Sys, f.Guangzhou, "志愿者")
		app, err := f.Svc.Apply(ctx, f.Sys, v.ID, "GD-RV-BOC", issuance.ChannelBranch)
		require.NoError(t, err)
		c := issuance.Card{ApplicationID: app.ID, PANToken: f.Svc.PANToken(pan), PANSealed: []byte("sealed"),
			LastFour: pan[len(pan)-4:], Expiry: expiry, State: issuance.BankCardActive, CreatedAt: f.Clock.Now()}
		require.NoError(t, st.CreateCard(ctx, &c))
		return c
	}
	past := card("2610", "6217850000000001111")
	valid := card("2611", "6217850000000002222")

	var runners []*jobs.Runner
	for range 2 {
		m, err := st.Join(ctx, "", log)
		require.NoError(t, err)
		t.Cleanup(func() { _ = m.Close() })
		r, err := jobs.New(jobs.Config{Locker: m, Ledger: st, Owner: m.ID(), Logger: log})
		require.NoError(t, err)
		runners = append(runners, r)
	}
	var wg sync.WaitGroup
	errs := make([]error, len(runners))
	for i, r := range runners {
		wg.Go(func() { _, errs[i] = r.Try(ctx, job) })
	}
	wg.Wait()
	require.NoError(t, errors.Join(errs...))
	for _, r := range runners {
		ran, err := r.Try(ctx, job)
		require.NoError(t, err)
		require.False(t, ran, "ran today already")
	}
	last, err := st.LastJobRun(ctx, "expire-cards")
	require.NoError(t, err)
	require.EqualValues(t, 1, last.Runs)
	require.Empty(t, last.Error)

	got, err := st.GetCard(ctx, past.ID)
	require.NoError(t, err)
	require.Equal(t, issuance.BankCardExpired, got.State)
	ev, err := st.CardEvents(ctx, past.ID)
	require.NoError(t, err)
	require.Len(t, ev, 1)
	require.Equal(t, issuance.CardEventExpired, ev[0].Kind)
	got, err = st.GetCard(ctx, valid.ID)
	require.NoError(t, err)
	require.Equal(t, issuance.BankCardActive, got.State)
	ev, err = st.CardEvents(ctx, valid.ID)
	require.NoError(t, err)
	require.Empty(t, ev)
}
