package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/volcard/volcard/api/webhook"
	"github.com/volcard/volcard/bankgw"
	"github.com/volcard/volcard/bankgw/banksim"
	"github.com/volcard/volcard/issuance"
	"github.com/volcard/volcard/wire"
)

// receiver is a platform's webhook receiver over real HTTP: it verifies
// every request with webhook.Verify (the documented check) and records
// the events it accepts. It can be taken down (its port refuses
// connections) and brought back on the same address.
type receiver struct {
	t     testing.TB
	addr  string
	delay time.Duration

	mu       sync.Mutex
	secret   string
	srv      *http.Server
	got      []receivedEvent // in arrival order, duplicates included
	seen     map[int64]int
	rejected int
	sample   struct {
		header string
		body   []byte
	}
}

type receivedEvent struct {
	wire.Event
	At time.Time
}

func newReceiver(t testing.TB) *receiver {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	r := &receiver{t: t, addr: ln.Addr().String(), seen: map[int64]int{}}
	r.serve(ln)
	t.Cleanup(r.down)
	return r
}

func (r *receiver) url() string { return "http://" + r.addr + "/volcard" }

func (r *receiver) serve(ln net.Listener) {
	srv := &http.Server{Handler: http.HandlerFunc(r.handle), ReadHeaderTimeout: 5 * time.Second}
	r.mu.Lock()
	r.srv = srv
	r.mu.Unlock()
	go func() { _ = srv.Serve(ln) }()
}

func (r *receiver) handle(w http.ResponseWriter, req *http.Request) {
	body, err := io.ReadAll(req.Body)
	if err != nil {
		http.Error(w, "read", http.StatusBadRequest)
		return
	}
	if r.delay > 0 {
		time.Sleep(r.delay)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	h := req.Header.Get(webhook.SignatureHeader)
	if err := webhook.Verify(r.secret, h, body, time.Now(), webhook.DefaultTolerance); err != nil {
		r.rejected++
		http.Error(w, "bad signature", http.StatusUnauthorized)
		return
	}
	var e wire.Event
	if err := json.Unmarshal(body, &e); err != nil || fmt.Sprint(e.ID) != req.Header.Get(webhook.EventIDHeader) {
		r.rejected++
		http.Error(w, "bad body", http.StatusBadRequest)
		return
	}
	r.got = append(r.got, receivedEvent{Event: e, At: time.Now()})
	r.seen[e.ID]++
	r.sample.header, r.sample.body = h, body
	w.WriteHeader(http.StatusNoContent)
}

// down closes the receiver: connections to its port are refused.
func (r *receiver) down() {
	r.mu.Lock()
	srv := r.srv
	r.srv = nil
	r.mu.Unlock()
	if srv != nil {
		_ = srv.Close()
	}
}

// up serves again on the same address.
func (r *receiver) up() {
	var ln net.Listener
	require.Eventually(r.t, func() bool {
		var err error
		ln, err = net.Listen("tcp", r.addr)
		return err == nil
	}, 10*time.Second, 50*time.Millisecond, "listen again on %s", r.addr)
	r.serve(ln)
}

func (r *receiver) setSecret(s string) { r.mu.Lock(); r.secret = s; r.mu.Unlock() }

// events returns the accepted events in arrival order and the duplicates.
func (r *receiver) events() ([]receivedEvent, int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	dup := 0
	for _, n := range r.seen {
		dup += n - 1
	}
	return append([]receivedEvent(nil), r.got...), dup
}

// appID is the application an event of an application or of its cards
// belongs to (0: none; a holder's insurance.* events name the application
// too, but go in the volunteer's order).
func appID(e wire.Event) int64 {
	if e.Subject.Type != "application" && e.Subject.Type != "card" {
		return 0
	}
	var d struct {
		ApplicationID int64 `json:"application_id"`
	}
	_ = json.Unmarshal(e.Data, &d)
	return d.ApplicationID
}

// feedOf reads the whole feed as the admin through p.
func (c *cluster) feedOf(t testing.TB, p *serveProc) []wire.Event {
	t.Helper()
	var all []wire.Event
	after := ""
	for {
		var page wire.EventPage
		code, err := c.call(p, http.MethodGet, "/v1/events?limit=1000&after="+after, nil, &page)
		require.NoError(t, err)
		require.Equal(t, http.StatusOK, code)
		if len(page.Items) == 0 {
			return all
		}
		all = append(all, page.Items...)
		after = page.Next
	}
}

// settle waits until every committed event is readable in the feed (a
// transaction of another test in the same PostgreSQL cluster holds it back
// while it runs).
func (c *cluster) settle(t testing.TB) {
	t.Helper()
	require.Eventually(t, func() bool {
		ok, err := c.st.FeedSettled(t.Context())
		require.NoError(t, err)
		return ok
	}, 60*time.Second, 5*time.Millisecond, "feed settled")
}

func (c *cluster) status(t testing.TB, id int64) issuance.Status {
	app, err := c.svc.GetApplication(t.Context(), issuance.SystemActor(), id)
	require.NoError(t, err)
	return app.Status
}

// createEndpoint registers the receiver for every event type.
func (c *cluster) createEndpoint(t testing.TB, p *serveProc, r *receiver) wire.WebhookEndpoint {
	t.Helper()
	var ep wire.WebhookEndpoint
	code, err := c.call(p, http.MethodPost, "/v1/webhooks", map[string]any{"url": r.url(), "description": "i志愿"}, &ep)
	require.NoError(t, err)
	require.Equal(t, http.StatusCreated, code)
	require.True(t, strings.HasPrefix(ep.Secret, "whsec_"))
	r.setSecret(ep.Secret)
	return ep
}

// TestWebhooksFollowAnApplication: a serve process on PostgreSQL with the
// bank simulator over TCP pushes every event of an application, from
// submitted to activated (the bank's 0220 activation advice), to a real
// HTTP receiver that checks each signature; the receiver is down for a
// while in the middle and gets the rest in order once it is back. The
// delivered events are exactly the feed's, each id at least once, in feed
// order per application.
func TestWebhooksFollowAnApplication(t *testing.T) {
	c := newCluster(t)
	c.env = append(c.env, envWebhookRetryBase+"=200ms", envWebhookAllowPrivate+"=127.0.0.1")
	r := newReceiver(t)
	p := c.start("a")
	ep := c.createEndpoint(t, p, r)

	id := c.apply(t, p, 1)
	c.approveAll(t, []int64{id}, p)
	require.Eventually(t, func() bool { return c.status(t, id) == issuance.StatusBankApproved }, 30*time.Second, 20*time.Millisecond)

	// Down while the card is personalized and issued. (The card itself is
	// not written here: TestBatchIssueAndTap personalizes through pcscd;
	// these are the same transitions, made by the branch's system actor.)
	r.down()
	ctx, sys := t.Context(), issuance.SystemActor()
	_, err := c.svc.Transition(ctx, sys, id, issuance.StatusPersonalized, "")
	require.NoError(t, err)
	_, err = c.svc.Transition(ctx, sys, id, issuance.StatusIssued, "")
	require.NoError(t, err)
	require.Eventually(t, func() bool {
		var page wire.WebhookDeliveryPage
		code, err := c.call(p, http.MethodGet, fmt.Sprintf("/v1/webhooks/%d/deliveries?state=pending", ep.ID), nil, &page)
		require.NoError(t, err)
		require.Equal(t, http.StatusOK, code)
		for _, d := range page.Items {
			if d.Attempts >= 2 && d.LastError != "" {
				return true
			}
		}
		return false
	}, 30*time.Second, 50*time.Millisecond, "a delivery failed twice while the receiver was down")

	// The holder activates the card: the bank's 0220 over TCP.
	app, err := c.svc.GetApplication(ctx, sys, id)
	require.NoError(t, err)
	cards := c.sim.Ledger().CardsFor(app.Number)
	require.Len(t, cards, 1)
	rc, _, err := c.sim.PushAdvice(ctx, banksim.AdviceRequest{Kind: bankgw.AdviceActivation, PAN: cards[0].PAN})
	require.NoError(t, err)
	require.Equal(t, "00", rc)
	require.Equal(t, issuance.StatusActivated, c.status(t, id))
	r.up()

	// The card and bank_approved are one transaction: the card is written
	// first.
	want := []string{"application.submitted", "application.approved", "application.bank_pending", "card.issued",
		"application.bank_approved", "application.personalized", "application.issued", "card.activated", "application.activated"}
	var feedIDs []int64
	c.settle(t)
	for _, e := range c.feedOf(t, p) {
		if appID(e) == id {
			feedIDs = append(feedIDs, e.ID)
		}
	}
	require.Len(t, feedIDs, len(want), "the feed holds the application's changes")
	var got []receivedEvent
	require.Eventually(t, func() bool {
		all, _ := r.events()
		got = got[:0]
		for _, e := range all {
			if appID(e.Event) == id {
				got = append(got, e)
			}
		}
		return len(got) >= len(want)
	}, 60*time.Second, 20*time.Millisecond, "the receiver gets the application's events")
	var types []string
	var gotIDs []int64
	for _, e := range got {
		types = append(types, e.Type)
		gotIDs = append(gotIDs, e.ID)
	}
	require.Equal(t, want, types, "every event once, in order")
	require.Equal(t, feedIDs, gotIDs, "the feed's ids, in the feed's order")
	for _, e := range got {
		require.NotContains(t, string(e.Data), cards[0].PAN, "no PAN in a payload")
	}
	_, dup := r.events()
	r.mu.Lock()
	rejected, sample := r.rejected, r.sample
	r.mu.Unlock()
	require.Zero(t, rejected, "every request carried a valid signature")
	t.Logf("received %d events of the application, %d duplicates overall", len(got), dup)

	// The documented check refuses a wrong secret and a stale timestamp.
	require.NoError(t, webhook.Verify(ep.Secret, sample.header, sample.body, time.Now(), 0))
	require.ErrorIs(t, webhook.Verify("whsec_wrong", sample.header, sample.body, time.Now(), 0), webhook.ErrBadSignature)
	require.ErrorIs(t, webhook.Verify(ep.Secret, sample.header, sample.body, time.Now().Add(6*time.Minute), 0), webhook.ErrStaleTimestamp)

	// The delivery log says delivered, and a manual redelivery sends the
	// same event again (same id: the receiver sees a duplicate).
	var page wire.WebhookDeliveryPage
	code, err := c.call(p, http.MethodGet, fmt.Sprintf("/v1/webhooks/%d/deliveries?state=delivered&limit=200", ep.ID), nil, &page)
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, code)
	require.NotEmpty(t, page.Items)
	var d wire.WebhookDelivery
	code, err = c.call(p, http.MethodPost, fmt.Sprintf("/v1/webhook-deliveries/%d/redeliver", page.Items[0].ID), nil, &d)
	require.NoError(t, err)
	require.Equal(t, http.StatusAccepted, code)
	require.Eventually(t, func() bool {
		r.mu.Lock()
		defer r.mu.Unlock()
		return r.seen[page.Items[0].EventID] == 2
	}, 30*time.Second, 20*time.Millisecond, "redelivered")
}

// TestWebhooksSurviveKill9: two serve processes deliver to one receiver
// that answers slowly; one is killed with SIGKILL while it holds
// deliveries. The other takes them over: every event of the feed reaches
// the receiver (nothing lost), every event exists once in the feed
// (nothing doubled), each application's events arrive in order; the
// receiver's duplicates (at-least-once: a request the killed process had
// sent but not recorded) are counted and reported.
func TestWebhooksSurviveKill9(t *testing.T) {
	c := newCluster(t)
	c.env = append(c.env, envWebhookAllowPrivate+"=127.0.0.1")
	r := newReceiver(t)
	r.delay = 30 * time.Millisecond
	a := c.start("a")
	b := c.start("b")
	c.createEndpoint(t, a, r)

	var ids []int64
	for i := range 40 {
		ids = append(ids, c.apply(t, []*serveProc{a, b}[i%2], i))
	}
	c.approveAll(t, ids, a, b)
	aOwner := fmt.Sprintf("-%d-", a.cmd.Process.Pid)
	var held int
	require.Eventually(t, func() bool {
		require.NoError(t, c.st.DB(t.Context()).Raw(`SELECT count(*) FROM webhook_deliveries
			WHERE state = 'pending' AND lease_owner LIKE ?`, "%"+aOwner+"%").Scan(&held).Error)
		return held > 0
	}, 30*time.Second, 5*time.Millisecond, "process a holds deliveries")
	a.kill(t)
	t.Logf("killed a holding %d deliveries", held)

	require.Eventually(t, func() bool {
		return c.status(t, ids[len(ids)-1]) == issuance.StatusBankApproved
	}, 60*time.Second, 50*time.Millisecond)
	require.Eventually(t, func() bool {
		var pending int
		require.NoError(t, c.st.DB(t.Context()).Raw(`SELECT count(*) FROM webhook_deliveries WHERE state <> 'delivered'`).Scan(&pending).Error)
		return pending == 0
	}, 90*time.Second, 50*time.Millisecond, "every delivery delivered")
	// Wait for the bank's answers to settle so the feed is final.
	require.Eventually(t, func() bool {
		for _, id := range ids {
			if c.status(t, id) != issuance.StatusBankApproved {
				return false
			}
		}
		var pending int
		require.NoError(t, c.st.DB(t.Context()).Raw(`SELECT count(*) FROM webhook_deliveries WHERE state <> 'delivered'`).Scan(&pending).Error)
		return pending == 0
	}, 90*time.Second, 50*time.Millisecond)

	c.settle(t)
	feed := c.feedOf(t, b)
	got, dup := r.events()
	seen := map[int64]bool{}
	for _, e := range got {
		seen[e.ID] = true
	}
	type key struct {
		Type string
		ID   int64
	}
	once := map[key]int{}
	for _, e := range feed {
		require.True(t, seen[e.ID], "event %d (%s) reached the receiver", e.ID, e.Type)
		if strings.HasPrefix(e.Type, "application.") {
			once[key{e.Type, e.Subject.ID}]++
		}
	}
	for k, n := range once {
		require.Equal(t, 1, n, "%s of application %d recorded once", k.Type, k.ID)
	}
	require.Len(t, once, 4*len(ids), "submitted, approved, bank_pending, bank_approved for each")
	// In order per application: the first arrival of each event follows
	// the feed's order.
	first := map[int64]bool{}
	last := map[int64]int64{}
	for _, e := range got {
		if first[e.ID] {
			continue
		}
		first[e.ID] = true
		if a := appID(e.Event); a != 0 {
			require.Greater(t, e.ID, last[a], "application %d: event %d after %d", a, e.ID, last[a])
			last[a] = e.ID
		}
	}
	r.mu.Lock()
	rejected := r.rejected
	r.mu.Unlock()
	require.Zero(t, rejected)
	t.Logf("feed: %d events; receiver: %d requests, %d distinct, %d duplicates (at-least-once after the kill)",
		len(feed), len(got), len(seen), dup)
	if dup > held {
		t.Errorf("%d duplicates, more than the %d deliveries the killed process held", dup, held)
	}
}
