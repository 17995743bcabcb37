package store_test

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/volcard/volcard/issuance"
	"github.com/volcard/volcard/issuance/checkin"
	"github.com/volcard/volcard/issuance/feed"
	"github.com/volcard/volcard/issuance/store"
	"github.com/volcard/volcard/issuance/store/storetest"
)

// settle waits until every event committed is readable (another test's
// transaction in the same PostgreSQL cluster holds the feed back while it
// runs).
func settle(t *testing.T, st *store.Store) {
	t.Helper()
	require.Eventually(t, func() bool {
		ok, err := st.FeedSettled(context.Background())
		require.NoError(t, err)
		return ok
	}, 60*time.Second, 5*time.Millisecond, "feed settled")
}

// readAll pages the whole feed visible to sc, once every committed event
// is readable.
func readAll(t *testing.T, st *store.Store, sc issuance.Scope, types ...string) []feed.Event {
	t.Helper()
	settle(t, st)
	var out []feed.Event
	var c feed.Cursor
	for {
		p, err := st.ListFeed(context.Background(), feed.Query{After: c, Scope: sc, Types: types, Limit: 3})
		require.NoError(t, err)
		out = append(out, p.Events...)
		if len(p.Events) == 0 {
			return out
		}
		c = p.Next
	}
}

func typesOf(es []feed.Event) []string {
	out := make([]string, len(es))
	for i, e := range es {
		out[i] = e.Type
	}
	return out
}

// TestFeedRecordsChanges: the store writes one feed event per change in
// the change's transaction (a rolled-back change leaves none), scoped by
// org path and bank, with payloads free of personal data.
func TestFeedRecordsChanges(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		_, city, v := base(t, st)
		a := newApp(v, "GD-F-1")
		e := issuance.Event{To: issuance.StatusSubmitted, ActorRole: issuance.RolePlatform, Channel: issuance.ChannelOnline, At: now}
		require.NoError(t, st.InTx(ctx, func(ctx context.Context) error {
			return st.CreateApplicationWithEvent(ctx, &a, &e)
		}))
		require.NoError(t, st.InTx(ctx, func(ctx context.Context) error {
			a.Status = issuance.StatusApproved
			if err := st.UpdateApplicationStatus(ctx, &a, issuance.StatusSubmitted); err != nil {
				return err
			}
			return st.AppendEvent(ctx, &issuance.Event{ApplicationID: a.ID, From: issuance.StatusSubmitted,
				To: issuance.StatusApproved, ActorRole: issuance.RoleOrgAdmin, Channel: issuance.ChannelConsole, At: now})
		}))
		// A change rolled back leaves no event.
		err := st.InTx(ctx, func(ctx context.Context) error {
			if err := st.AppendEvent(ctx, &issuance.Event{ApplicationID: a.ID, From: issuance.StatusApproved,
				To: issuance.StatusRejected, ActorRole: issuance.RoleOrgAdmin, At: now}); err != nil {
				return err
			}
			return fmt.Errorf("roll back")
		})
		require.Error(t, err)
		c := issuance.Card{ApplicationID: a.ID, PANToken: []byte("tok-1"), PANSealed: []byte{9}, LastFour: "4321",
			Expiry: "3112", PSN: "01", State: issuance.BankCardIssued, CreatedAt: now}
		require.NoError(t, st.CreateCard(ctx, &c))
		require.NoError(t, st.ActivateCard(ctx, c.ID, now))
		require.NoError(t, st.ActivateCard(ctx, c.ID, now)) // idempotent: no second event
		c.State, c.UpdatedAt = issuance.BankCardBlocked, now
		require.NoError(t, st.UpdateCard(ctx, &c))

		all := readAll(t, st, issuance.Scope{})
		require.Equal(t, []string{"volunteer.created", "application.submitted", "application.approved",
			"card.issued", "card.activated", "card.blocked"}, typesOf(all))
		for i := 1; i < len(all); i++ {
			require.Greater(t, all[i].ID, all[i-1].ID)
		}
		var app map[string]any
		require.NoError(t, json.Unmarshal(all[2].Data, &app))
		require.Equal(t, "approved", app["status"])
		require.Equal(t, "submitted", app["from"])
		require.Equal(t, "CCB", app["bank"])
		require.Equal(t, float64(a.ID), app["application_id"])
		var card map[string]any
		require.NoError(t, json.Unmarshal(all[5].Data, &card))
		require.Equal(t, "4321", card["last_four"])
		require.Equal(t, "active", card["from"])
		for _, e := range all {
			require.NotContains(t, string(e.Data), "张三")
		}
		// Scope: the city sees it all; another subtree nothing; the bank
		// its own bank's events only (no volunteer.created).
		require.Len(t, readAll(t, st, issuance.Scope{PathPrefix: city.Path}), 6)
		require.Empty(t, readAll(t, st, issuance.Scope{PathPrefix: "/99/"}))
		require.Len(t, readAll(t, st, issuance.Scope{BankCode: "CCB"}), 5)
		require.Empty(t, readAll(t, st, issuance.Scope{BankCode: "BOC"}))
		require.Equal(t, []string{"card.activated"}, typesOf(readAll(t, st, issuance.Scope{}, "card.activated")))

		// RecordEvent, the helper for later features.
		require.NoError(t, st.InTx(ctx, func(ctx context.Context) error {
			return st.RecordEvent(ctx, store.FeedEvent{Type: "card.expired", Subject: feed.Subject{Type: feed.SubjectCard, ID: c.ID},
				OrderKey: fmt.Sprintf("application:%d", a.ID), OrgPath: a.OrgPath, BankCode: a.BankCode,
				Data: map[string]any{"card_id": c.ID}, At: now})
		}))
		require.Error(t, st.RecordEvent(ctx, store.FeedEvent{Type: "Card Expired", Subject: feed.Subject{Type: "card"}, Data: map[string]any{}}))
		require.Error(t, st.RecordEvent(ctx, store.FeedEvent{Type: "card.x", Subject: feed.Subject{Type: "card"}, Data: []int{1}}))
		last := readAll(t, st, issuance.Scope{})
		require.Equal(t, "card.expired", last[len(last)-1].Type)
	})
}

// TestWebhookDeliveriesQueueAndClaimInOrder: an event queues one delivery
// per matching endpoint (type, org scope, bank) in its transaction; a claim
// takes only the first pending delivery of each order key, so a subject's
// events go out in order while other subjects proceed; a disabled endpoint's
// deliveries wait; a failure pattern disables the endpoint.
func TestWebhookDeliveriesQueueAndClaimInOrder(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		_, city, v := base(t, st)
		mk := func(types []string, path, bank string) feed.Endpoint {
			e := feed.Endpoint{URL: "http://127.0.0.1:1/hook", SecretSealed: []byte{1}, Types: types, ScopePath: path,
				BankCode: bank, Enabled: true, CreatedAt: now, UpdatedAt: now}
			require.NoError(t, st.CreateEndpoint(ctx, &e))
			return e
		}
		all := mk(nil, "", "")
		onlyCards := mk([]string{"card.activated"}, "", "")
		otherCity := mk(nil, "/99/", "")
		otherBank := mk(nil, "", "BOC")
		cityEP := mk(nil, city.Path, "CCB")

		var apps []issuance.Application
		for i := range 2 {
			vi := v
			if i == 1 {
				vi.ID, vi.IDNumberIndex = 0, []byte("idx-2")
				require.NoError(t, st.CreateVolunteer(ctx, &vi))
			}
			a := newApp(vi, fmt.Sprintf("GD-Q-%d", i))
			e := issuance.Event{To: issuance.StatusSubmitted, ActorRole: issuance.RolePlatform, At: now}
			require.NoError(t, st.InTx(ctx, func(ctx context.Context) error { return st.CreateApplicationWithEvent(ctx, &a, &e) }))
			apps = append(apps, a)
			if i == 0 {
				// a second event for the same application
				require.NoError(t, st.InTx(ctx, func(ctx context.Context) error {
					return st.AppendEvent(ctx, &issuance.Event{ApplicationID: a.ID, From: issuance.StatusSubmitted,
						To: issuance.StatusSubmitted, Reason: "note", At: now})
				}))
			}
		}
		count := func(ep feed.Endpoint) int {
			ds, err := st.ListDeliveries(ctx, feed.DeliveryQuery{EndpointID: ep.ID, Limit: 100})
			require.NoError(t, err)
			return len(ds)
		}
		// 3 application events and the second volunteer (no bank: not for
		// the bank-scoped endpoints).
		require.Equal(t, 4, count(all))
		require.Equal(t, 0, count(onlyCards))
		require.Equal(t, 0, count(otherCity))
		require.Equal(t, 0, count(otherBank))
		require.Equal(t, 3, count(cityEP))

		// Disable all but one endpoint to look at one queue.
		for _, ep := range []feed.Endpoint{cityEP, onlyCards, otherCity, otherBank} {
			ep.Enabled, ep.DisabledReason, ep.UpdatedAt = false, "test", now
			require.NoError(t, st.UpdateEndpoint(ctx, &ep))
		}
		claim := func(owner string) []feed.Job {
			jobs, err := st.ClaimWebhookDeliveries(ctx, feed.Claim{Owner: owner, Now: now, Lease: time.Minute, Limit: 10})
			require.NoError(t, err)
			return jobs
		}
		first := claim("w1")
		require.Len(t, first, 3, "the head of each subject's queue")
		require.Equal(t, "application.submitted", first[0].Event.Type)
		require.Equal(t, "volunteer.created", first[1].Event.Type)
		require.Equal(t, "application.submitted", first[2].Event.Type)
		// Deliver the volunteer's event at once.
		require.NoError(t, st.FinishWebhookDeliveries(ctx, "w1", now, []feed.Outcome{
			{DeliveryID: first[1].DeliveryID, EndpointID: all.ID, OK: true, Status: 200}}, feed.DisablePolicy{}))
		require.Empty(t, claim("w2"), "heads are leased, the rest wait behind them")
		// Deliver the first application's head: its next event is due.
		require.NoError(t, st.FinishWebhookDeliveries(ctx, "w1", now, []feed.Outcome{
			{DeliveryID: first[0].DeliveryID, EndpointID: all.ID, OK: true, Status: 204}}, feed.DisablePolicy{}))
		next := claim("w2")
		require.Len(t, next, 1)
		require.Equal(t, "application.noted", next[0].Event.Type)
		require.Equal(t, first[0].Event.Subject, next[0].Event.Subject)
		// A wrong owner's outcome is ignored.
		require.NoError(t, st.FinishWebhookDeliveries(ctx, "w1", now, []feed.Outcome{
			{DeliveryID: next[0].DeliveryID, EndpointID: all.ID, OK: true, Status: 200}}, feed.DisablePolicy{}))
		d, err := st.GetDelivery(ctx, next[0].DeliveryID)
		require.NoError(t, err)
		require.Equal(t, feed.DeliveryPending, d.State)
		// Failures: retried later, then the endpoint is disabled.
		p := feed.DisablePolicy{Failures: 2, After: time.Minute}
		require.NoError(t, st.FinishWebhookDeliveries(ctx, "w2", now, []feed.Outcome{
			{DeliveryID: next[0].DeliveryID, EndpointID: all.ID, Status: 500, Error: "HTTP 500", NextAt: now.Add(time.Hour)}}, p))
		d, err = st.GetDelivery(ctx, next[0].DeliveryID)
		require.NoError(t, err)
		require.Equal(t, feed.DeliveryPending, d.State)
		require.Equal(t, 500, d.LastStatus)
		require.Equal(t, 1, d.Attempts)
		require.Empty(t, claim("w3"), "not due yet; the other head is still leased by w1")
		later := now.Add(2 * time.Hour)
		jobs, err := st.ClaimWebhookDeliveries(ctx, feed.Claim{Owner: "w3", Now: later, Lease: time.Minute, Limit: 10})
		require.NoError(t, err)
		require.Len(t, jobs, 2, "the retry is due, the other lease expired")
		outs := []feed.Outcome{}
		for _, j := range jobs {
			outs = append(outs, feed.Outcome{DeliveryID: j.DeliveryID, EndpointID: all.ID, Status: 0, Error: "connection refused",
				NextAt: later.Add(time.Hour)})
		}
		require.NoError(t, st.FinishWebhookDeliveries(ctx, "w3", later, outs, p))
		ep, err := st.GetEndpoint(ctx, all.ID)
		require.NoError(t, err)
		require.False(t, ep.Enabled, "3 failures spanning 2 h")
		require.Equal(t, 3, ep.Failures)
		jobs, err = st.ClaimWebhookDeliveries(ctx, feed.Claim{Owner: "w4", Now: later.Add(3 * time.Hour), Lease: time.Minute, Limit: 10})
		require.NoError(t, err)
		require.Empty(t, jobs, "a disabled endpoint's deliveries wait")
		ep.Enabled, ep.DisabledReason = true, ""
		require.NoError(t, st.UpdateEndpoint(ctx, &ep))
		ep, err = st.GetEndpoint(ctx, all.ID)
		require.NoError(t, err)
		require.Zero(t, ep.Failures)
		jobs, err = st.ClaimWebhookDeliveries(ctx, feed.Claim{Owner: "w4", Now: later.Add(3 * time.Hour), Lease: time.Minute, Limit: 10})
		require.NoError(t, err)
		require.Len(t, jobs, 2)
		// Redelivery of a delivered one queues a new row for the same event.
		re, err := st.Redeliver(ctx, first[0].DeliveryID, now)
		require.NoError(t, err)
		require.Equal(t, first[0].Event.ID, re.EventID)
		require.Equal(t, first[0].DeliveryID, re.RedeliveryOf)
		require.Equal(t, feed.DeliveryPending, re.State)
	})
}

// TestFeedGapFreeUnderInterleavedCommits: on PostgreSQL a transaction that
// took its event id first but commits last must not be skipped by a reader
// that already read past the later ids. T1 writes an event and stays open;
// T2 writes one and commits; a reader sees nothing yet (T1 holds the
// horizon); T1 commits; the reader then gets both, T1's first.
func TestFeedGapFreeUnderInterleavedCommits(t *testing.T) {
	st := storetest.Postgres(t)
	ctx := context.Background()
	_, city, _ := base(t, st)
	settle(t, st)
	start, err := st.ListFeed(ctx, feed.Query{})
	require.NoError(t, err)
	rec := func(ctx context.Context, n int) error {
		return st.RecordEvent(ctx, store.FeedEvent{Type: "volunteer.noted", Subject: feed.Subject{Type: "volunteer", ID: int64(n)},
			OrgPath: city.Path, Data: map[string]any{"n": n}, At: now})
	}
	t1Written, t1Commit, t1Done := make(chan struct{}), make(chan struct{}), make(chan error, 1)
	go func() {
		t1Done <- st.InTx(ctx, func(ctx context.Context) error {
			if err := rec(ctx, 1); err != nil {
				return err
			}
			close(t1Written)
			<-t1Commit
			return nil
		})
	}()
	<-t1Written
	require.NoError(t, st.InTx(ctx, func(ctx context.Context) error { return rec(ctx, 2) }))
	p, err := st.ListFeed(ctx, feed.Query{After: start.Next})
	require.NoError(t, err)
	require.Empty(t, p.Events, "T2 committed but T1, older, is still open: nothing is readable past the horizon")
	close(t1Commit)
	require.NoError(t, <-t1Done)
	settle(t, st)
	p, err = st.ListFeed(ctx, feed.Query{After: start.Next})
	require.NoError(t, err)
	require.Len(t, p.Events, 2)
	require.Equal(t, int64(1), p.Events[0].Subject.ID, "T1's event first: it is of the older transaction")
	require.Equal(t, int64(2), p.Events[1].Subject.ID)
	require.Less(t, p.Events[0].ID, p.Events[1].ID)

	// The other interleaving: T1 takes the later id and commits first. A
	// reader paging by id alone would skip T2's lower id; the horizon makes
	// it wait for T2 instead.
	mark := p.Next
	t3Written, t3Commit, t3Done := make(chan struct{}), make(chan struct{}), make(chan error, 1)
	go func() {
		t3Done <- st.InTx(ctx, func(ctx context.Context) error {
			if err := rec(ctx, 3); err != nil {
				return err
			}
			close(t3Written)
			<-t3Commit
			return nil
		})
	}()
	<-t3Written
	require.NoError(t, st.InTx(ctx, func(ctx context.Context) error { return rec(ctx, 4) }))
	p, err = st.ListFeed(ctx, feed.Query{After: mark})
	require.NoError(t, err)
	require.Empty(t, p.Events)
	close(t3Commit)
	require.NoError(t, <-t3Done)
	settle(t, st)
	p, err = st.ListFeed(ctx, feed.Query{After: mark})
	require.NoError(t, err)
	require.Len(t, p.Events, 2)
	p2, err := st.ListFeed(ctx, feed.Query{After: p.Next})
	require.NoError(t, err)
	require.Empty(t, p2.Events)
}

// TestFeedRecordsTaps: a tap written in one statement (WriteTap, on
// PostgreSQL) or statement by statement (RecordTap, both stores) records
// checkin.tap_recorded and queues its delivery; a tap refused because the
// attendance was closed meanwhile records nothing.
func TestFeedRecordsTaps(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		_, city, v := base(t, st)
		ep := feed.Endpoint{URL: "http://127.0.0.1:1/h", SecretSealed: []byte{1}, Types: []string{"checkin.tap_recorded"},
			Enabled: true, CreatedAt: now, UpdatedAt: now}
		require.NoError(t, st.CreateEndpoint(ctx, &ep))
		act := checkin.Activity{OrgID: city.ID, OrgPath: city.Path, Title: "义诊", StartsAt: now, EndsAt: now.Add(5 * time.Hour), CreatedAt: now}
		require.NoError(t, st.CreateActivity(ctx, &act))
		rec := func(seq int64, kind checkin.TapKind) checkin.TapRecord {
			return checkin.TapRecord{TerminalID: "T", Seq: seq, ActivityID: act.ID, VolunteerID: v.ID, Kind: kind, At: now,
				PANToken: []byte("tok"), Fingerprint: []byte{byte(seq)}, EvidenceHash: []byte{byte(seq)}, CreatedAt: now,
				ActivityTitle: act.Title, VolunteerName: v.Name, CheckedInAt: now, SessionMinutes: 30}
		}
		att := checkin.Attendance{ActivityID: act.ID, VolunteerID: v.ID, OrgPath: act.OrgPath, InAt: now, Year: 2026}
		r1 := rec(1, checkin.TapIn)
		require.NoError(t, st.InTx(ctx, func(ctx context.Context) error { return st.RecordTap(ctx, &att, false, &r1) }))
		wantKinds := []string{"check_in"}
		if st.CanWriteTap() {
			open, err := st.OpenAttendance(ctx, act.ID, v.ID)
			require.NoError(t, err)
			open.OutAt, open.Minutes = now.Add(30*time.Minute), 30
			_, err = st.WriteTap(ctx, checkin.TapWrite{Attendance: open, CheckOut: true, Tap: rec(2, checkin.TapOut)})
			require.NoError(t, err)
			_, err = st.WriteTap(ctx, checkin.TapWrite{Attendance: open, CheckOut: true, Tap: rec(3, checkin.TapOut)})
			var ce *issuance.ConflictError
			require.ErrorAs(t, err, &ce, "closed meanwhile")
			wantKinds = append(wantKinds, "check_out")
		}
		evs := readAll(t, st, issuance.Scope{PathPrefix: city.Path}, "checkin.tap_recorded")
		require.Len(t, evs, len(wantKinds))
		for i, e := range evs {
			var d map[string]any
			require.NoError(t, json.Unmarshal(e.Data, &d))
			require.Equal(t, wantKinds[i], d["kind"])
			require.Equal(t, float64(v.ID), d["volunteer_id"])
			require.Equal(t, feed.Subject{Type: "attendance", ID: att.ID}, e.Subject)
		}
		ds, err := st.ListDeliveries(ctx, feed.DeliveryQuery{EndpointID: ep.ID, Limit: 10})
		require.NoError(t, err)
		require.Len(t, ds, len(wantKinds), "one delivery per tap, none for the refused one")
	})
}

// TestFeedOrdersTransactionIDsAsNumbers pages through events whose
// transaction ids cross powers of ten (9 → 10, 99 → 100; ids this low are
// below any running transaction's, so readable): the feed's order is
// the ids' numeric order, so no page repeats an event of another (ordered
// as text, "1000" sorted before "999" and the next page read it again).
func TestFeedOrdersTransactionIDsAsNumbers(t *testing.T) {
	st := storetest.Postgres(t)
	ctx := context.Background()
	settle(t, st)
	for _, tx := range []string{"100", "99", "10", "9"} {
		require.NoError(t, st.DB(ctx).Exec(`INSERT INTO feed_events (tx, type, subject_type, subject_id, order_key, payload, at)
			VALUES (?::xid8, 'volunteer.noted', 'volunteer', 1, 'volunteer:1', '{}', now())`, tx).Error)
	}
	var txs []uint64
	after := feed.Cursor{}
	for range 10 {
		p, err := st.ListFeed(ctx, feed.Query{After: after, Limit: 1})
		require.NoError(t, err)
		if len(p.Events) == 0 {
			break
		}
		if p.Events[0].Cursor.TX <= 100 {
			txs = append(txs, p.Events[0].Cursor.TX)
		}
		after = p.Next
	}
	require.Equal(t, []uint64{9, 10, 99, 100}, txs)
}
