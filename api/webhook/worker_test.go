package webhook_test

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/volcard/volcard/api/webhook"
	"github.com/volcard/volcard/issuance/feed"
	"github.com/volcard/volcard/issuance/store"
	"github.com/volcard/volcard/issuance/store/storetest"
	"github.com/volcard/volcard/pii"
)

// TestWorkerRetriesDisablesAndGivesUp runs the worker against a real HTTP
// receiver on both stores: failures are retried and logged; an endpoint
// failing past the policy is disabled and its deliveries wait; enabled
// again they are delivered, signed, in order; a delivery still failing
// after GiveUpAfter ends failed.
func TestWorkerRetriesDisablesAndGivesUp(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		keys, err := pii.New(bytes.Repeat([]byte{3}, pii.DataKeySize))
		require.NoError(t, err)
		const secret = "whsec_worker"
		var failing atomic.Bool
		failing.Store(true)
		var (
			mu  sync.Mutex
			got []int64
		)
		recv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			body, err := io.ReadAll(r.Body)
			require.NoError(t, err)
			if failing.Load() {
				w.WriteHeader(http.StatusServiceUnavailable)
				return
			}
			require.NoError(t, webhook.Verify(secret, r.Header.Get(webhook.SignatureHeader), body, time.Now(), 0))
			id, err := strconv.ParseInt(r.Header.Get(webhook.EventIDHeader), 10, 64)
			require.NoError(t, err)
			mu.Lock()
			got = append(got, id)
			mu.Unlock()
			w.WriteHeader(http.StatusOK)
		}))
		t.Cleanup(recv.Close)
		sealed, err := keys.Seal(feed.PurposeSecret, secret)
		require.NoError(t, err)
		now := time.Now()
		ep := feed.Endpoint{URL: recv.URL, SecretSealed: sealed, Enabled: true, CreatedAt: now, UpdatedAt: now}
		require.NoError(t, st.CreateEndpoint(ctx, &ep))
		for i := range 3 {
			require.NoError(t, st.InTx(ctx, func(ctx context.Context) error {
				return st.RecordEvent(ctx, store.FeedEvent{Type: "application.noted", Subject: feed.Subject{Type: "application", ID: 9},
					Data: map[string]any{"i": i}, At: now})
			}))
		}
		w, err := webhook.NewWorker(st, keys, webhook.Options{Owner: "w", Logger: slog.New(slog.DiscardHandler), Rounds: 1,
			Addrs: loopback(t), Backoff: func(int) time.Duration { return 0 }, Disable: feed.DisablePolicy{Failures: 3, After: time.Nanosecond}})
		require.NoError(t, err)
		for range 5 {
			_, err := w.RunOnce(ctx)
			require.NoError(t, err)
		}
		e, err := st.GetEndpoint(ctx, ep.ID)
		require.NoError(t, err)
		require.False(t, e.Enabled, "disabled after 3 failures")
		require.GreaterOrEqual(t, e.Failures, 3)
		ds, err := st.ListDeliveries(ctx, feed.DeliveryQuery{EndpointID: ep.ID, Limit: 10})
		require.NoError(t, err)
		require.Len(t, ds, 3)
		head := ds[2] // newest first
		require.Equal(t, feed.DeliveryPending, head.State)
		require.Equal(t, 3, head.Attempts, "only the subject's first event was tried")
		require.Equal(t, 503, head.LastStatus)
		require.Equal(t, "HTTP 503", head.LastError)
		require.Zero(t, ds[0].Attempts)
		n, err := w.RunOnce(ctx)
		require.NoError(t, err)
		require.Zero(t, n, "a disabled endpoint's deliveries wait")

		failing.Store(false)
		e.Enabled, e.DisabledReason = true, ""
		require.NoError(t, st.UpdateEndpoint(ctx, &e))
		for range 4 {
			_, err := w.RunOnce(ctx)
			require.NoError(t, err)
		}
		mu.Lock()
		require.Equal(t, []int64{head.EventID, ds[1].EventID, ds[0].EventID}, got, "in order, once each")
		mu.Unlock()

		// Give up: an event older than GiveUpAfter that fails ends failed.
		failing.Store(true)
		require.NoError(t, st.InTx(ctx, func(ctx context.Context) error {
			return st.RecordEvent(ctx, store.FeedEvent{Type: "application.noted", Subject: feed.Subject{Type: "application", ID: 10},
				Data: map[string]any{}, At: now.Add(-73 * time.Hour)})
		}))
		w2, err := webhook.NewWorker(st, keys, webhook.Options{Owner: "w2", Logger: slog.New(slog.DiscardHandler), Rounds: 1,
			Addrs: loopback(t)})
		require.NoError(t, err)
		_, err = w2.RunOnce(ctx)
		require.NoError(t, err)
		failed, err := st.ListDeliveries(ctx, feed.DeliveryQuery{EndpointID: ep.ID, State: feed.DeliveryFailed, Limit: 10})
		require.NoError(t, err)
		require.Len(t, failed, 1)
	})
}

// loopback allows the test receivers on this host.
func loopback(t testing.TB) feed.AddrPolicy {
	p, err := feed.ParseAddrPolicy("127.0.0.0/8,::1")
	require.NoError(t, err)
	return p
}

// TestWorkerRefusesInternalAddresses: with no allowed addresses the worker
// reaches neither a literal loopback address nor a name that resolves to
// one (the check runs after resolution), and the stored reason is a fixed
// phrase without the address; allowed, the same receiver gets the events;
// a closed port is "connection refused".
func TestWorkerRefusesInternalAddresses(t *testing.T) {
	storetest.Each(t, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		keys, err := pii.New(bytes.Repeat([]byte{3}, pii.DataKeySize))
		require.NoError(t, err)
		var hits atomic.Int32
		recv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			hits.Add(1)
			w.WriteHeader(http.StatusOK)
		}))
		t.Cleanup(recv.Close)
		closed := httptest.NewServer(http.NotFoundHandler())
		closedURL := closed.URL
		closed.Close()
		u, err := url.Parse(recv.URL)
		require.NoError(t, err)
		byName := "http://localhost:" + u.Port() + "/hook"
		sealed, err := keys.Seal(feed.PurposeSecret, "whsec_x")
		require.NoError(t, err)
		now := time.Now()
		eps := map[string]int64{}
		for i, target := range []string{recv.URL + "/hook", byName, closedURL + "/hook"} {
			ep := feed.Endpoint{URL: target, SecretSealed: sealed, Enabled: true, CreatedAt: now, UpdatedAt: now}
			require.NoError(t, st.CreateEndpoint(ctx, &ep))
			eps[[]string{"literal", "name", "closed"}[i]] = ep.ID
		}
		require.NoError(t, st.InTx(ctx, func(ctx context.Context) error {
			return st.RecordEvent(ctx, store.FeedEvent{Type: "application.noted", Subject: feed.Subject{Type: "application", ID: 1},
				Data: map[string]any{}, At: now})
		}))
		last := func(name string) feed.Delivery {
			ds, err := st.ListDeliveries(ctx, feed.DeliveryQuery{EndpointID: eps[name], Limit: 1})
			require.NoError(t, err)
			require.Len(t, ds, 1)
			return ds[0]
		}
		w, err := webhook.NewWorker(st, keys, webhook.Options{Owner: "w", Logger: slog.New(slog.DiscardHandler), Rounds: 1,
			Backoff: func(int) time.Duration { return 0 }})
		require.NoError(t, err)
		_, err = w.RunOnce(ctx)
		require.NoError(t, err)
		require.Zero(t, hits.Load(), "nothing reached the loopback receiver")
		for _, name := range []string{"literal", "name", "closed"} {
			d := last(name)
			require.Equal(t, feed.DeliveryPending, d.State, name)
			require.Equal(t, "address not allowed", d.LastError, name)
			require.NotContains(t, d.LastError, "127.0.0.1")
		}

		w, err = webhook.NewWorker(st, keys, webhook.Options{Owner: "w", Logger: slog.New(slog.DiscardHandler), Rounds: 1,
			Addrs: loopback(t), Backoff: func(int) time.Duration { return 0 }})
		require.NoError(t, err)
		_, err = w.RunOnce(ctx)
		require.NoError(t, err)
		require.EqualValues(t, 2, hits.Load(), "allowed: by address and by name")
		require.Equal(t, feed.DeliveryDelivered, last("literal").State)
		require.Equal(t, feed.DeliveryDelivered, last("name").State)
		require.Equal(t, "connection refused", last("closed").LastError)
	})
}
