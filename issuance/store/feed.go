package store

// The event feed (issue #17): feed_events rows written in the transaction
// of every change, with the webhook deliveries they queue (migration 00200),
// and the reads behind feed.Service.

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/volcard/volcard/internal/clip"
	"github.com/volcard/volcard/issuance"
	"github.com/volcard/volcard/issuance/feed"
)

var _ feed.Store = (*Store)(nil)

// FeedEvent is one change for the feed, as RecordEvent takes it.
type FeedEvent struct {
	// Type is "subject.verb" (feed.ValidType), e.g. "card.expired".
	Type    string
	Subject feed.Subject
	// OrderKey groups the events that webhooks deliver in order; empty
	// means "type:id" of the subject. Events of an application and of its
	// cards share "application:ID".
	OrderKey string
	// OrgPath and BankCode scope the event: who may read it, which
	// endpoints get it. Leave BankCode empty when no bank owns the change.
	OrgPath  string
	BankCode string
	// Data is the payload, marshalled to a JSON object. It must not carry
	// a PAN, an ID number, a phone or a name: ids, states, org, channel
	// and the last four digits of a PAN at most.
	Data any
	At   time.Time
}

// RecordEvent writes one feed event, and queues its webhook deliveries, in
// the transaction ctx carries. Call it from a store method right after the
// change it describes, with the same ctx:
//
//	return s.InTx(ctx, func(ctx context.Context) error {
//		if err := s.DB(ctx).Model(&cardRow{}).Where(...).Update(...).Error; err != nil {
//			return err
//		}
//		return s.RecordEvent(ctx, FeedEvent{Type: "card.expired",
//			Subject: feed.Subject{Type: feed.SubjectCard, ID: id}, OrderKey: "application:" + appID,
//			OrgPath: a.OrgPath, BankCode: a.BankCode, Data: map[string]any{"card_id": id}, At: now})
//	})
//
// Without a transaction in ctx the event is written on its own, which
// loses the atomicity the feed promises: always call it inside one.
func (s *Store) RecordEvent(ctx context.Context, e FeedEvent) error {
	if !feed.ValidType(e.Type) || e.Subject.Type == "" {
		return fmt.Errorf("record event: bad type %q or subject", e.Type)
	}
	data, err := json.Marshal(e.Data)
	if err != nil || len(data) == 0 || data[0] != '{' {
		return fmt.Errorf("record event %s: data is not a JSON object", e.Type)
	}
	if e.OrderKey == "" {
		e.OrderKey = e.Subject.Type + ":" + strconv.FormatInt(e.Subject.ID, 10)
	}
	if e.At.IsZero() {
		e.At = time.Now()
	}
	sel := "SELECT ?, ?, ?, ?, ?, ?, ?, ?"
	if s.dialect == Postgres {
		sel = "SELECT ?::text, ?::text, ?::bigint, ?::text, ?::text, ?::text, ?::text, ?::timestamptz"
	}
	return s.recordFeed(ctx, sel, e.Type, e.Subject.Type, e.Subject.ID, e.OrderKey, e.OrgPath, e.BankCode,
		string(data), e.At.UTC())
}

// feedColumns are the columns every feed SELECT returns, in order.
const feedColumns = "type, subject_type, subject_id, order_key, org_path, bank_code, payload, at"

// endpointMatch selects the endpoints an event f goes to: of its type (or
// every type), its org path inside the endpoint's scope, its bank the
// endpoint's (when the endpoint has one). Disabled endpoints get the
// delivery too; it waits for them to be enabled again.
const endpointMatch = `(e.types = '' OR e.types LIKE '%,' || f.type || ',%')
	AND (e.scope_path = '' OR substr(f.org_path, 1, length(e.scope_path)) = e.scope_path)
	AND (e.bank_code = '' OR e.bank_code = f.bank_code)`

// recordFeed inserts the feed events sel returns (columns feedColumns) and
// their deliveries: one statement on PostgreSQL, two on SQLite.
func (s *Store) recordFeed(ctx context.Context, sel string, args ...any) error {
	db := s.DB(ctx)
	if s.dialect == Postgres {
		q := `WITH f AS (INSERT INTO feed_events (` + feedColumns + `) ` + sel + `
			RETURNING id, type, order_key, org_path, bank_code, at)
		INSERT INTO webhook_deliveries (endpoint_id, event_id, order_key, created_at)
		SELECT e.id, f.id, f.order_key, f.at FROM f JOIN webhook_endpoints e ON ` + endpointMatch
		if err := db.Exec(q, args...).Error; err != nil {
			return fmt.Errorf("record feed event: %w", mapErr(err))
		}
		return nil
	}
	var ids []int64
	if err := db.Raw(`INSERT INTO feed_events (`+feedColumns+`) `+sel+` RETURNING id`, args...).Scan(&ids).Error; err != nil {
		return fmt.Errorf("record feed event: %w", mapErr(err))
	}
	if len(ids) == 0 {
		return nil
	}
	err := db.Exec(`INSERT INTO webhook_deliveries (endpoint_id, event_id, order_key, created_at)
		SELECT e.id, f.id, f.order_key, f.at FROM feed_events f JOIN webhook_endpoints e ON `+endpointMatch+`
		WHERE f.id IN ?`, ids).Error
	if err != nil {
		return fmt.Errorf("queue webhook deliveries: %w", mapErr(err))
	}
	return nil
}

// jsonObject is the dialect's JSON object constructor over "k, v, …"
// (text in both).
func (s *Store) jsonObject(kv string) string {
	if s.dialect == Postgres {
		return "json_build_object(" + kv + ")::text"
	}
	return "json_object(" + kv + ")"
}

// textParam and timeParam are typed placeholders (PostgreSQL does not
// infer a parameter's type in a SELECT list).
func (s *Store) textParam() string {
	if s.dialect == Postgres {
		return "?::text"
	}
	return "?"
}

func (s *Store) timeParam() string {
	if s.dialect == Postgres {
		return "?::timestamptz"
	}
	return "?"
}

// recordApplicationEvents records the feed events of application_events
// rows (ids), from the rows and their applications as they now stand.
func (s *Store) recordApplicationEvents(ctx context.Context, ids ...int64) error {
	if len(ids) == 0 {
		return nil
	}
	sel := `SELECT CASE WHEN ev.from_status = ev.to_status THEN 'application.noted' ELSE 'application.' || ev.to_status END,
		'application', a.id, 'application:' || a.id, a.org_path, a.bank_code, ` +
		s.jsonObject(`'application_id', a.id, 'number', a.number, 'status', ev.to_status, 'from', ev.from_status,
		'org_id', a.org_id, 'volunteer_id', a.volunteer_id, 'product', a.product_code, 'bank', a.bank_code,
		'channel', ev.channel, 'actor_role', ev.actor_role, 'reason', ev.reason, 'application_event_id', ev.id`) + `, ev.at
		FROM application_events ev JOIN applications a ON a.id = ev.application_id
		WHERE ev.id IN ? ORDER BY ev.id`
	return s.recordFeed(ctx, sel, ids)
}

// cardEventType names a card's change from state from ("" for a new
// card) to state to.
func cardEventType(from, to string) string {
	switch {
	case from == "":
		return feed.TypeCardIssued
	case to == string(issuance.BankCardActive) && from == string(issuance.BankCardBlocked):
		return feed.TypeCardUnblocked
	case to == string(issuance.BankCardActive):
		return feed.TypeCardActivated
	default:
		return "card." + to
	}
}

// recordCardEvent records a card's change from state from ("" when new).
func (s *Store) recordCardEvent(ctx context.Context, cardID int64, from string) error {
	sel := `SELECT ` + s.textParam() + `, 'card', c.id, 'application:' || c.application_id, a.org_path, a.bank_code, ` +
		s.jsonObject(`'card_id', c.id, 'application_id', c.application_id, 'state', c.state, 'from', `+s.textParam()+`,
		'last_four', c.last_four, 'org_id', a.org_id, 'bank', a.bank_code, 'replace_seq', c.replace_seq`) + `,
		COALESCE(c.updated_at, c.created_at)
		FROM cards c JOIN applications a ON a.id = c.application_id WHERE c.id = ?`
	var to string
	if err := s.DB(ctx).Raw("SELECT state FROM cards WHERE id = ?", cardID).Scan(&to).Error; err != nil {
		return fmt.Errorf("record card event: %w", mapErr(err))
	}
	return s.recordFeed(ctx, sel, cardEventType(from, to), from, cardID)
}

// recordVolunteersCreated records volunteer.created for volunteers ids.
func (s *Store) recordVolunteersCreated(ctx context.Context, ids ...int64) error {
	if len(ids) == 0 {
		return nil
	}
	sel := `SELECT 'volunteer.created', 'volunteer', v.id, 'volunteer:' || v.id, v.org_path, '', ` +
		s.jsonObject(`'volunteer_id', v.id, 'org_id', v.org_id, 'source', v.source, 'volunteer_number', v.volunteer_number`) +
		`, v.created_at FROM volunteers v WHERE v.id IN ? ORDER BY v.id`
	return s.recordFeed(ctx, sel, ids)
}

// recordTap records checkin.tap_recorded for a tap row.
func (s *Store) recordTap(ctx context.Context, tapID int64) error {
	sel := `SELECT 'checkin.tap_recorded', 'attendance', t.attendance_id, 'volunteer:' || t.volunteer_id, att.org_path, '', ` +
		s.jsonObject(`'tap_id', t.id, 'kind', t.kind, 'activity_id', t.activity_id, 'volunteer_id', t.volunteer_id,
		'attendance_id', t.attendance_id, 'terminal_id', t.terminal_id, 'seq', t.seq, 'minutes', att.minutes`) +
		`, t.created_at FROM taps t JOIN attendances att ON att.id = t.attendance_id WHERE t.id = ?`
	return s.recordFeed(ctx, sel, tapID)
}

// recordAttendanceCorrected records checkin.attendance_corrected.
func (s *Store) recordAttendanceCorrected(ctx context.Context, id int64, at time.Time) error {
	sel := `SELECT 'checkin.attendance_corrected', 'attendance', att.id, 'volunteer:' || att.volunteer_id, att.org_path, '', ` +
		s.jsonObject(`'attendance_id', att.id, 'activity_id', att.activity_id, 'volunteer_id', att.volunteer_id,
		'minutes', att.minutes`) + `, ` + s.timeParam() + ` FROM attendances att WHERE att.id = ?`
	return s.recordFeed(ctx, sel, at.UTC(), id)
}

// sessionEventType names an on-site session's entering status to.
func sessionEventType(to string) string {
	if to == "in_progress" {
		return feed.TypeSessionStarted
	}
	return "onsite_session." + to
}

// recordSession records an on-site session's entering its status.
func (s *Store) recordSession(ctx context.Context, id int64, from string) error {
	var to string
	if err := s.DB(ctx).Raw("SELECT status FROM onsite_sessions WHERE id = ?", id).Scan(&to).Error; err != nil {
		return fmt.Errorf("record session event: %w", mapErr(err))
	}
	sel := `SELECT ` + s.textParam() + `, 'onsite_session', o.id, 'onsite_session:' || o.id, o.org_path, o.bank_code, ` +
		s.jsonObject(`'session_id', o.id, 'status', o.status, 'from', `+s.textParam()+`, 'org_id', o.org_id,
		'bank', o.bank_code, 'product', o.product_code, 'expected_count', o.expected_count`) +
		`, o.updated_at FROM onsite_sessions o WHERE o.id = ?`
	return s.recordFeed(ctx, sel, sessionEventType(to), from, id)
}

// feedRow is a row of feed_events as read.
type feedRow struct {
	ID          int64
	TX          string `gorm:"column:tx"`
	Type        string
	SubjectType string
	SubjectID   int64
	Payload     string
	At          time.Time
}

func (r feedRow) event() (feed.Event, error) {
	var tx uint64
	if r.TX != "" {
		v, err := strconv.ParseUint(r.TX, 10, 64)
		if err != nil {
			return feed.Event{}, fmt.Errorf("feed event %d: tx %q: %w", r.ID, r.TX, err)
		}
		tx = v
	}
	return feed.Event{ID: r.ID, Type: r.Type, Subject: feed.Subject{Type: r.SubjectType, ID: r.SubjectID},
		At: r.At.UTC(), Data: json.RawMessage(r.Payload), Cursor: feed.Cursor{TX: tx, ID: r.ID}}, nil
}

// ListFeed implements feed.Store. On PostgreSQL the order is (tx, id) and
// only transactions below the oldest one still running are read
// (pg_snapshot_xmin): an event committed later than a newer one is
// never skipped. SQLite's single writer commits in id order.
func (s *Store) ListFeed(ctx context.Context, q feed.Query) (feed.Page, error) {
	limit := q.Limit
	if limit <= 0 {
		limit = feed.DefaultLimit
	}
	var (
		where []string
		args  []any
		cols  = "id, '' AS tx, type, subject_type, subject_id, payload, at"
		order = "id"
	)
	if s.dialect == Postgres {
		// The order names the table's columns: a bare "tx" would bind to
		// the text alias and sort "1000" before "999".
		cols = "id, tx::text AS tx, type, subject_type, subject_id, payload, at"
		order = "feed_events.tx, feed_events.id"
		where = append(where, "(tx, id) > (?::xid8, ?)", "tx < pg_snapshot_xmin(pg_current_snapshot())")
		args = append(args, strconv.FormatUint(q.After.TX, 10), q.After.ID)
	} else {
		where = append(where, "id > ?")
		args = append(args, q.After.ID)
	}
	if q.Scope.PathPrefix != "" {
		where = append(where, `org_path LIKE ? ESCAPE '\'`)
		args = append(args, likePrefix(q.Scope.PathPrefix))
	}
	if q.Scope.BankCode != "" {
		where = append(where, "bank_code = ?")
		args = append(args, q.Scope.BankCode)
	}
	if len(q.Types) > 0 {
		where = append(where, "type IN ?")
		args = append(args, q.Types)
	}
	args = append(args, limit)
	var rows []feedRow
	err := s.DB(ctx).Raw("SELECT "+cols+" FROM feed_events WHERE "+strings.Join(where, " AND ")+
		" ORDER BY "+order+" LIMIT ?", args...).Scan(&rows).Error
	if err != nil {
		return feed.Page{}, fmt.Errorf("list feed: %w", mapErr(err))
	}
	p := feed.Page{Events: make([]feed.Event, 0, len(rows)), Next: q.After}
	for _, r := range rows {
		e, err := r.event()
		if err != nil {
			return feed.Page{}, err
		}
		p.Events = append(p.Events, e)
		p.Next = e.Cursor
	}
	return p, nil
}

// FeedSettled reports whether every feed event committed so far is
// readable by ListFeed: on PostgreSQL, whether the oldest transaction
// still running (in any database of the cluster: transaction ids are the
// cluster's) is younger than the last event's; always on SQLite.
func (s *Store) FeedSettled(ctx context.Context) (bool, error) {
	if s.dialect != Postgres {
		return true, nil
	}
	var ok bool
	err := s.DB(ctx).Raw(`SELECT COALESCE(max(tx) < pg_snapshot_xmin(pg_current_snapshot()), true) FROM feed_events`).Scan(&ok).Error
	return ok, mapErr(err)
}

// endpointRow is a row of webhook_endpoints.
type endpointRow struct {
	ID             int64 `gorm:"primaryKey"`
	URL            string
	Description    string
	SecretEnc      []byte
	Types          string
	ScopePath      string
	BankCode       string
	CreatedBy      int64
	Enabled        bool
	DisabledReason string
	Failures       int
	FailingSince   *time.Time
	CreatedAt      time.Time
	UpdatedAt      time.Time
}

func (endpointRow) TableName() string { return "webhook_endpoints" }

func joinTypes(t []string) string {
	if len(t) == 0 {
		return ""
	}
	return "," + strings.Join(t, ",") + ","
}

func (r endpointRow) domain() feed.Endpoint {
	e := feed.Endpoint{ID: r.ID, URL: r.URL, Description: r.Description, ScopePath: r.ScopePath, BankCode: r.BankCode,
		CreatedBy: r.CreatedBy, Enabled: r.Enabled, DisabledReason: r.DisabledReason, Failures: r.Failures,
		SecretSealed: r.SecretEnc, CreatedAt: r.CreatedAt.UTC(), UpdatedAt: r.UpdatedAt.UTC()}
	if t := strings.Trim(r.Types, ","); t != "" {
		e.Types = strings.Split(t, ",")
	}
	if r.FailingSince != nil {
		e.FailingSince = r.FailingSince.UTC()
	}
	return e
}

// CreateEndpoint implements feed.Store.
func (s *Store) CreateEndpoint(ctx context.Context, e *feed.Endpoint) error {
	r := endpointRow{URL: e.URL, Description: e.Description, SecretEnc: e.SecretSealed, Types: joinTypes(e.Types),
		ScopePath: e.ScopePath, BankCode: e.BankCode, CreatedBy: e.CreatedBy, Enabled: true,
		CreatedAt: e.CreatedAt.UTC(), UpdatedAt: e.UpdatedAt.UTC()}
	if err := s.DB(ctx).Create(&r).Error; err != nil {
		return fmt.Errorf("create endpoint: %w", mapErr(err))
	}
	e.ID = r.ID
	return nil
}

// GetEndpoint implements feed.Store.
func (s *Store) GetEndpoint(ctx context.Context, id int64) (feed.Endpoint, error) {
	var r endpointRow
	if err := s.DB(ctx).Where("id = ?", id).Take(&r).Error; err != nil {
		return feed.Endpoint{}, mapErr(err)
	}
	return r.domain(), nil
}

// ListEndpoints implements feed.Store.
func (s *Store) ListEndpoints(ctx context.Context) ([]feed.Endpoint, error) {
	var rows []endpointRow
	if err := s.DB(ctx).Order("id").Find(&rows).Error; err != nil {
		return nil, mapErr(err)
	}
	out := make([]feed.Endpoint, len(rows))
	for i, r := range rows {
		out[i] = r.domain()
	}
	return out, nil
}

// UpdateEndpoint implements feed.Store.
func (s *Store) UpdateEndpoint(ctx context.Context, e *feed.Endpoint) error {
	up := map[string]any{"url": e.URL, "description": e.Description, "types": joinTypes(e.Types),
		"enabled": e.Enabled, "disabled_reason": e.DisabledReason, "updated_at": e.UpdatedAt.UTC()}
	if e.Enabled {
		up["failures"], up["failing_since"] = 0, nil
	}
	res := s.DB(ctx).Model(&endpointRow{}).Where("id = ?", e.ID).Updates(up)
	if res.Error != nil {
		return fmt.Errorf("update endpoint %d: %w", e.ID, mapErr(res.Error))
	}
	if res.RowsAffected != 1 {
		return fmt.Errorf("update endpoint %d: %w", e.ID, issuance.ErrNotFound)
	}
	return nil
}

// DeleteEndpoint implements feed.Store (its deliveries go with it).
func (s *Store) DeleteEndpoint(ctx context.Context, id int64) error {
	return s.InTx(ctx, func(ctx context.Context) error {
		if err := s.DB(ctx).Exec("DELETE FROM webhook_deliveries WHERE endpoint_id = ?", id).Error; err != nil {
			return mapErr(err)
		}
		res := s.DB(ctx).Exec("DELETE FROM webhook_endpoints WHERE id = ?", id)
		if res.Error != nil {
			return mapErr(res.Error)
		}
		if res.RowsAffected != 1 {
			return issuance.ErrNotFound
		}
		return nil
	})
}

// deliveryRow is a delivery as listed, with its event's type.
type deliveryRow struct {
	ID           int64
	EndpointID   int64
	EventID      int64
	EventType    string
	State        string
	Attempts     int
	NextAtMS     int64 `gorm:"column:next_at_ms"`
	LastStatus   int
	LastError    string
	CreatedAt    time.Time
	DeliveredAt  *time.Time
	RedeliveryOf *int64
}

func (r deliveryRow) domain() feed.Delivery {
	d := feed.Delivery{ID: r.ID, EndpointID: r.EndpointID, EventID: r.EventID, EventType: r.EventType, State: r.State,
		Attempts: r.Attempts, LastStatus: r.LastStatus, LastError: r.LastError, CreatedAt: r.CreatedAt.UTC()}
	if r.State == feed.DeliveryPending {
		d.NextAt = fromMS(r.NextAtMS)
		if r.NextAtMS == 0 {
			d.NextAt = d.CreatedAt
		}
	}
	if r.DeliveredAt != nil {
		d.DeliveredAt = r.DeliveredAt.UTC()
	}
	if r.RedeliveryOf != nil {
		d.RedeliveryOf = *r.RedeliveryOf
	}
	return d
}

const deliveryCols = `d.id, d.endpoint_id, d.event_id, f.type AS event_type, d.state, d.attempts, d.next_at_ms,
	d.last_status, d.last_error, d.created_at, d.delivered_at, d.redelivery_of`

// ListDeliveries implements feed.Store.
func (s *Store) ListDeliveries(ctx context.Context, q feed.DeliveryQuery) ([]feed.Delivery, error) {
	db := s.DB(ctx).Table("webhook_deliveries d").Select(deliveryCols).
		Joins("JOIN feed_events f ON f.id = d.event_id").Where("d.endpoint_id = ?", q.EndpointID)
	if q.State != "" {
		db = db.Where("d.state = ?", q.State)
	}
	if q.BeforeID > 0 {
		db = db.Where("d.id < ?", q.BeforeID)
	}
	var rows []deliveryRow
	if err := db.Order("d.id DESC").Limit(q.Limit).Scan(&rows).Error; err != nil {
		return nil, fmt.Errorf("list deliveries: %w", mapErr(err))
	}
	out := make([]feed.Delivery, len(rows))
	for i, r := range rows {
		out[i] = r.domain()
	}
	return out, nil
}

// GetDelivery implements feed.Store.
func (s *Store) GetDelivery(ctx context.Context, id int64) (feed.Delivery, error) {
	var rows []deliveryRow
	err := s.DB(ctx).Table("webhook_deliveries d").Select(deliveryCols).
		Joins("JOIN feed_events f ON f.id = d.event_id").Where("d.id = ?", id).Scan(&rows).Error
	if err != nil {
		return feed.Delivery{}, mapErr(err)
	}
	if len(rows) == 0 {
		return feed.Delivery{}, issuance.ErrNotFound
	}
	return rows[0].domain(), nil
}

// Redeliver implements feed.Store.
func (s *Store) Redeliver(ctx context.Context, id int64, now time.Time) (feed.Delivery, error) {
	var newID int64
	err := s.InTx(ctx, func(ctx context.Context) error {
		old, err := s.GetDelivery(ctx, id)
		if err != nil {
			return err
		}
		var rows []int64
		err = s.DB(ctx).Raw(`INSERT INTO webhook_deliveries (endpoint_id, event_id, order_key, created_at, redelivery_of, next_at_ms)
			SELECT endpoint_id, event_id, order_key, ?, ?, ? FROM webhook_deliveries WHERE id = ? RETURNING id`,
			now.UTC(), old.ID, now.UnixMilli(), old.ID).Scan(&rows).Error
		if err != nil {
			return mapErr(err)
		}
		if len(rows) != 1 {
			return issuance.ErrNotFound
		}
		newID = rows[0]
		return nil
	})
	if err != nil {
		return feed.Delivery{}, err
	}
	return s.GetDelivery(ctx, newID)
}

// ClaimWebhookDeliveries leases up to c.Limit due deliveries to c.Owner:
// the first pending delivery of each (endpoint, order key) of an enabled
// endpoint, due, and not leased (or leased by a cluster member that is
// gone, on PostgreSQL: see MemberPrefix). FOR UPDATE SKIP LOCKED keeps
// concurrent claimers apart; SQLite's one writer does the same.
func (s *Store) ClaimWebhookDeliveries(ctx context.Context, c feed.Claim) ([]feed.Job, error) {
	if c.Owner == "" || c.Limit <= 0 || c.Lease <= 0 {
		return nil, errors.New("claim webhook deliveries: owner, limit and lease required")
	}
	if err := s.disableEndpointsOfEndedTokens(ctx, c.Now); err != nil {
		return nil, fmt.Errorf("claim webhook deliveries: %w", err)
	}
	now := c.Now.UnixMilli()
	lock, gone := "", ""
	if s.dialect == Postgres {
		lock = " FOR UPDATE OF d SKIP LOCKED"
		gone = `
			OR (d.lease_owner LIKE '` + MemberPrefix + `%' AND NOT EXISTS (
				SELECT 1 FROM pg_stat_activity a WHERE a.application_name = d.lease_owner))`
	}
	var ids []int64
	err := s.DB(ctx).Raw(`UPDATE webhook_deliveries SET lease_owner = ?, lease_until_ms = ?, attempts = attempts + 1
		WHERE id IN (
			SELECT d.id FROM webhook_deliveries d JOIN webhook_endpoints e ON e.id = d.endpoint_id AND e.enabled
			WHERE d.state = 'pending' AND d.next_at_ms <= ? AND (d.lease_until_ms < ?`+gone+`)
			  AND NOT EXISTS (SELECT 1 FROM webhook_deliveries p WHERE p.endpoint_id = d.endpoint_id
				AND p.order_key = d.order_key AND p.state = 'pending' AND p.id < d.id)
			ORDER BY d.next_at_ms, d.id LIMIT ?`+lock+`)
		RETURNING id`, c.Owner, now+c.Lease.Milliseconds(), now, now, c.Limit).Scan(&ids).Error
	if err != nil {
		return nil, fmt.Errorf("claim webhook deliveries: %w", mapErr(err))
	}
	if len(ids) == 0 {
		return nil, nil
	}
	var rows []struct {
		ID          int64
		EndpointID  int64
		Attempts    int
		CreatedAt   time.Time
		URL         string
		SecretEnc   []byte
		EventID     int64
		Type        string
		SubjectType string
		SubjectID   int64
		Payload     string
		At          time.Time
	}
	err = s.DB(ctx).Raw(`SELECT d.id, d.endpoint_id, d.attempts, d.created_at, e.url, e.secret_enc,
			f.id AS event_id, f.type, f.subject_type, f.subject_id, f.payload, f.at
		FROM webhook_deliveries d JOIN webhook_endpoints e ON e.id = d.endpoint_id JOIN feed_events f ON f.id = d.event_id
		WHERE d.id IN ? ORDER BY d.id`, ids).Scan(&rows).Error
	if err != nil {
		return nil, fmt.Errorf("claim webhook deliveries: %w", mapErr(err))
	}
	out := make([]feed.Job, len(rows))
	for i, r := range rows {
		out[i] = feed.Job{DeliveryID: r.ID, EndpointID: r.EndpointID, URL: r.URL, SecretSealed: r.SecretEnc,
			Attempts: r.Attempts, CreatedAt: r.CreatedAt.UTC(),
			Event: feed.Event{ID: r.EventID, Type: r.Type, Subject: feed.Subject{Type: r.SubjectType, ID: r.SubjectID},
				At: r.At.UTC(), Data: json.RawMessage(r.Payload)}}
	}
	return out, nil
}

// FinishWebhookDeliveries writes the outcomes of owner's attempts: a
// success ends the delivery delivered and clears its endpoint's failures;
// a failure makes it due again at NextAt (or failed when GiveUp), counts
// against its endpoint and disables the endpoint under p. A delivery whose
// lease owner changed meanwhile is left to its new owner.
func (s *Store) FinishWebhookDeliveries(ctx context.Context, owner string, now time.Time, outs []feed.Outcome, p feed.DisablePolicy) error {
	if len(outs) == 0 {
		return nil
	}
	return s.InTx(ctx, func(ctx context.Context) error {
		db := s.DB(ctx)
		okByStatus := map[int][]int64{}
		okEndpoints := map[int64]bool{}
		for _, o := range outs {
			if o.OK {
				okByStatus[o.Status] = append(okByStatus[o.Status], o.DeliveryID)
				okEndpoints[o.EndpointID] = true
			}
		}
		for status, ids := range okByStatus {
			err := db.Exec(`UPDATE webhook_deliveries SET state = 'delivered', delivered_at = ?, last_status = ?,
				last_error = '', lease_owner = '', lease_until_ms = 0 WHERE id IN ? AND lease_owner = ?`,
				now.UTC(), status, ids, owner).Error
			if err != nil {
				return fmt.Errorf("finish webhook deliveries: %w", mapErr(err))
			}
		}
		if len(okEndpoints) > 0 {
			eps := make([]int64, 0, len(okEndpoints))
			for id := range okEndpoints {
				eps = append(eps, id)
			}
			err := db.Exec(`UPDATE webhook_endpoints SET failures = 0, failing_since = NULL WHERE id IN ? AND failures > 0`, eps).Error
			if err != nil {
				return fmt.Errorf("finish webhook deliveries: %w", mapErr(err))
			}
		}
		for _, o := range outs {
			if o.OK {
				continue
			}
			state := feed.DeliveryPending
			if o.GiveUp {
				state = feed.DeliveryFailed
			}
			res := db.Exec(`UPDATE webhook_deliveries SET state = ?, next_at_ms = ?, last_status = ?, last_error = ?,
				lease_owner = '', lease_until_ms = 0 WHERE id = ? AND lease_owner = ?`,
				state, o.NextAt.UnixMilli(), o.Status, clip.Bytes(o.Error, 300), o.DeliveryID, owner)
			if res.Error != nil {
				return fmt.Errorf("finish webhook delivery %d: %w", o.DeliveryID, mapErr(res.Error))
			}
			if res.RowsAffected == 0 || okEndpoints[o.EndpointID] {
				continue
			}
			if err := db.Exec(`UPDATE webhook_endpoints SET failures = failures + 1, failing_since = COALESCE(failing_since, ?)
				WHERE id = ?`, now.UTC(), o.EndpointID).Error; err != nil {
				return fmt.Errorf("finish webhook delivery %d: %w", o.DeliveryID, mapErr(err))
			}
			if p.Failures > 0 {
				err := db.Exec(`UPDATE webhook_endpoints SET enabled = ?, disabled_reason = ?, updated_at = ?
					WHERE id = ? AND enabled AND failures >= ? AND failing_since <= ?`,
					false, fmt.Sprintf("disabled after %d failed attempts in a row since the first failure", p.Failures),
					now.UTC(), o.EndpointID, p.Failures, now.Add(-p.After).UTC()).Error
				if err != nil {
					return fmt.Errorf("disable endpoint %d: %w", o.EndpointID, mapErr(err))
				}
			}
		}
		return nil
	})
}

// ReleaseWebhookDeliveries hands owner's leases back (at shutdown), due at
// once for any process.
func (s *Store) ReleaseWebhookDeliveries(ctx context.Context, owner string) error {
	return mapErr(s.DB(ctx).Exec(`UPDATE webhook_deliveries SET lease_owner = '', lease_until_ms = 0
		WHERE state = 'pending' AND lease_owner = ?`, owner).Error)
}

// CountWebhookDeliveries counts deliveries by state (metrics).
func (s *Store) CountWebhookDeliveries(ctx context.Context) (map[string]int64, error) {
	var rows []struct {
		State string
		N     int64
	}
	if err := s.DB(ctx).Raw(`SELECT state, count(*) AS n FROM webhook_deliveries GROUP BY state`).Scan(&rows).Error; err != nil {
		return nil, mapErr(err)
	}
	out := map[string]int64{}
	for _, r := range rows {
		out[r.State] = r.N
	}
	return out, nil
}

// disableEndpointsOf disables the enabled endpoints created by tokens,
// with reason.
func (s *Store) disableEndpointsOf(ctx context.Context, tokens []int64, reason string, at time.Time) error {
	if len(tokens) == 0 {
		return nil
	}
	err := s.DB(ctx).Exec(`UPDATE webhook_endpoints SET enabled = ?, disabled_reason = ?, updated_at = ?
		WHERE enabled AND created_by IN ?`, false, reason, at.UTC(), tokens).Error
	if err != nil {
		return fmt.Errorf("disable webhook endpoints of ended tokens: %w", mapErr(err))
	}
	return nil
}

// disableEndpointsOfEndedTokens disables the enabled endpoints whose
// creating token was revoked or has expired at now (expiry is not an
// event: it is found here, before each claim). The expiry is judged in
// Go, the same on both dialects.
func (s *Store) disableEndpointsOfEndedTokens(ctx context.Context, now time.Time) error {
	var rows []struct {
		ID        int64
		RevokedAt *time.Time
		ExpiresAt *time.Time
	}
	err := s.DB(ctx).Raw(`SELECT DISTINCT t.id, t.revoked_at, t.expires_at FROM webhook_endpoints e
		JOIN api_tokens t ON t.id = e.created_by
		WHERE e.enabled AND (t.revoked_at IS NOT NULL OR t.expires_at IS NOT NULL)`).Scan(&rows).Error
	if err != nil {
		return fmt.Errorf("endpoints' tokens: %w", mapErr(err))
	}
	var revoked, expired []int64
	for _, r := range rows {
		switch {
		case r.RevokedAt != nil:
			revoked = append(revoked, r.ID)
		case !r.ExpiresAt.After(now):
			expired = append(expired, r.ID)
		}
	}
	if err := s.disableEndpointsOf(ctx, revoked, feed.DisabledTokenRevoked, now); err != nil {
		return err
	}
	return s.disableEndpointsOf(ctx, expired, feed.DisabledTokenExpired, now)
}
