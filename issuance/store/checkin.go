package store

// Check-in storage (issue 6): activities, attendances, taps, service-hour
// totals, terminal challenges, card bindings, offers and check-in events.
// Tables from migrations 00030_checkin.sql.

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"time"

	"github.com/volcard/volcard/issuance/checkin"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/ncruces/go-sqlite3"
	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/volcard/volcard/issuance"
)

var _ checkin.Store = (*Store)(nil)

// checkinUnique names the check-in unique indexes for
// issuance.ConflictError.What.
var checkinUnique = []struct{ pgIndex, sqliteText, what string }{
	{"taps_terminal_seq", "taps.terminal_id", "tap_sequence"},
	{"taps_evidence", "taps.evidence_hash", "tap_evidence"},
	{"attendances_open", "attendances.activity_id", "open_attendance"},
	{"benefit_redemptions_check_offer", "benefit_redemptions.check_id", "redemption"},
}

// mapCheckinErr maps the check-in unique violations, then everything else
// as mapErr does.
func mapCheckinErr(err error) error {
	if err == nil {
		return nil
	}
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && pgErr.Code == "23505" {
		for _, u := range checkinUnique {
			if pgErr.ConstraintName == u.pgIndex {
				return &issuance.ConflictError{What: u.what}
			}
		}
	}
	var sqErr *sqlite3.Error
	if errors.As(err, &sqErr) && sqErr.ExtendedCode() == sqlite3.CONSTRAINT_UNIQUE {
		msg := sqErr.Error()
		for _, u := range checkinUnique {
			if strings.Contains(msg, u.sqliteText) {
				return &issuance.ConflictError{What: u.what}
			}
		}
	}
	return mapErr(err)
}

type activityRow struct {
	ID        int64 `gorm:"primaryKey"`
	OrgID     int64
	OrgPath   string
	Title     string
	Site      string
	StartsAt  time.Time
	EndsAt    time.Time
	CreatedAt time.Time
}

func (activityRow) TableName() string { return "activities" }

func (r activityRow) domain() checkin.Activity {
	return checkin.Activity{ID: r.ID, OrgID: r.OrgID, OrgPath: r.OrgPath, Title: r.Title, Site: r.Site,
		StartsAt: r.StartsAt.UTC(), EndsAt: r.EndsAt.UTC(), CreatedAt: r.CreatedAt.UTC()}
}

// CreateActivity implements checkin.ActivityRepo.
func (s *Store) CreateActivity(ctx context.Context, a *checkin.Activity) error {
	r := activityRow{OrgID: a.OrgID, OrgPath: a.OrgPath, Title: a.Title, Site: a.Site,
		StartsAt: a.StartsAt.UTC(), EndsAt: a.EndsAt.UTC(), CreatedAt: a.CreatedAt.UTC()}
	if err := s.DB(ctx).Create(&r).Error; err != nil {
		return mapCheckinErr(err)
	}
	a.ID = r.ID
	return nil
}

// GetActivity implements checkin.ActivityRepo.
func (s *Store) GetActivity(ctx context.Context, id int64, sc issuance.Scope) (checkin.Activity, error) {
	var r activityRow
	if err := scoped(s.DB(ctx).Where("id = ?", id), sc, false).Take(&r).Error; err != nil {
		return checkin.Activity{}, mapCheckinErr(err)
	}
	return r.domain(), nil
}

var _ checkin.ActivityLister = (*Store)(nil)

// activityListSelect is an activity's columns with its organisation's
// name and check-in figures, each a correlated subquery on an index
// (orgs by id; attendances_activity, attendances_open) so that a page is
// one statement.
const activityListSelect = "activities.*, " +
	"COALESCE((SELECT o.name FROM orgs o WHERE o.id = activities.org_id), '') AS org_name, " +
	"(SELECT COUNT(*) FROM attendances a WHERE a.activity_id = activities.id) AS check_ins, " +
	"(SELECT COUNT(*) FROM attendances a WHERE a.activity_id = activities.id AND a.out_at IS NULL) AS on_site"

// instant returns an SQL expression comparing and ordering the time in
// expr (a column or "?") by instant: on SQLite times are RFC 3339 text of
// varying width, compared by julianday (millisecond resolution).
func (s *Store) instant(expr string) string {
	if s.dialect == SQLite {
		return "julianday(" + expr + ")"
	}
	return expr
}

// ListActivities implements checkin.ActivityLister.
func (s *Store) ListActivities(ctx context.Context, q checkin.ActivityQuery) ([]checkin.ActivitySummary, error) {
	db := scoped(s.DB(ctx).Table("activities").Select(activityListSelect), q.Scope, false)
	if q.OrgPath != "" {
		db = db.Where(`org_path LIKE ? ESCAPE '\'`, likePrefix(q.OrgPath))
	}
	start, param := s.instant("starts_at"), s.instant("?")
	if !q.From.IsZero() {
		db = db.Where(s.instant("ends_at")+" > "+param, q.From.UTC())
	}
	if !q.To.IsZero() {
		db = db.Where(start+" < "+param, q.To.UTC())
	}
	if q.BeforeID > 0 {
		b := q.BeforeStart.UTC()
		db = db.Where("("+start+" < "+param+" OR ("+start+" = "+param+" AND id < ?))", b, b, q.BeforeID)
	}
	limit := q.Limit
	if limit <= 0 {
		limit = issuance.DefaultPageSize
	}
	var rows []struct {
		Act      activityRow `gorm:"embedded"`
		OrgName  string
		CheckIns int64
		OnSite   int64
	}
	if err := db.Order(start + " DESC, id DESC").Limit(limit).Find(&rows).Error; err != nil {
		return nil, mapCheckinErr(err)
	}
	out := make([]checkin.ActivitySummary, len(rows))
	for i, r := range rows {
		out[i] = checkin.ActivitySummary{Activity: r.Act.domain(), OrgName: r.OrgName, CheckIns: r.CheckIns, OnSite: r.OnSite}
	}
	return out, nil
}

type challengeRow struct {
	ID          string `gorm:"primaryKey"`
	TokenID     int64
	UN          []byte `gorm:"column:un"`
	IssuedAtMs  int64
	ExpiresAtMs int64
	UsedAtMs    int64
}

func (challengeRow) TableName() string { return "terminal_challenges" }

// PutChallenge implements checkin.ChallengeRepo.
func (s *Store) PutChallenge(ctx context.Context, ch checkin.Challenge) error {
	r := challengeRow{ID: ch.ID, TokenID: ch.TokenID, UN: ch.UN, IssuedAtMs: ch.IssuedAt.UnixMilli(),
		ExpiresAtMs: ch.ExpiresAt.UnixMilli()}
	return mapCheckinErr(s.DB(ctx).Create(&r).Error)
}

// challengeSweep counts consumptions; every 256th deletes challenges
// expired for over an hour.
var challengeSweep atomic.Uint64

// ConsumeChallenge implements checkin.ChallengeRepo.
func (s *Store) ConsumeChallenge(ctx context.Context, id string, tokenID int64, now time.Time) (checkin.Challenge, error) {
	db := s.DB(ctx)
	nowMs := now.UnixMilli()
	sweepChallenges(ctx, db, nowMs)
	var rows []challengeRow
	err := db.Raw(`UPDATE terminal_challenges SET used_at_ms = ?
		WHERE id = ? AND token_id = ? AND used_at_ms = 0 AND expires_at_ms > ?
		RETURNING id, token_id, un, issued_at_ms, expires_at_ms, used_at_ms`,
		nowMs, id, tokenID, nowMs).Scan(&rows).Error
	if err != nil {
		return checkin.Challenge{}, mapCheckinErr(err)
	}
	if len(rows) == 1 {
		return rows[0].domain(), nil
	}
	return checkin.Challenge{}, s.challengeRefusal(ctx, id, tokenID)
}

// sweepChallenges deletes, every 256th use, the challenges expired for
// over an hour.
func sweepChallenges(ctx context.Context, db *gorm.DB, nowMs int64) {
	if challengeSweep.Add(1)%256 == 0 {
		_ = db.WithContext(ctx).Exec(`DELETE FROM terminal_challenges WHERE expires_at_ms < ?`,
			nowMs-time.Hour.Milliseconds()).Error
	}
}

// challengeRefusal tells why challenge id could not be used by tokenID:
// ErrChallengeUnknown, ErrChallengeReplayed or ErrChallengeExpired.
func (s *Store) challengeRefusal(ctx context.Context, id string, tokenID int64) error {
	var r challengeRow
	if err := s.DB(ctx).Where("id = ?", id).Take(&r).Error; err != nil {
		if errors.Is(err, gorm.ErrRecordNotFound) {
			return checkin.ErrChallengeUnknown
		}
		return mapCheckinErr(err)
	}
	switch {
	case r.TokenID != tokenID:
		return checkin.ErrChallengeUnknown
	case r.UsedAtMs != 0:
		return checkin.ErrChallengeReplayed
	default:
		return checkin.ErrChallengeExpired
	}
}

func (r challengeRow) domain() checkin.Challenge {
	c := checkin.Challenge{ID: r.ID, TokenID: r.TokenID, UN: r.UN,
		IssuedAt: time.UnixMilli(r.IssuedAtMs).UTC(), ExpiresAt: time.UnixMilli(r.ExpiresAtMs).UTC()}
	if r.UsedAtMs != 0 {
		c.UsedAt = time.UnixMilli(r.UsedAtMs).UTC()
	}
	return c
}

type tapRow struct {
	ID              int64 `gorm:"primaryKey"`
	TerminalID      string
	Seq             int64
	ActivityID      int64
	VolunteerID     int64
	AttendanceID    int64
	Kind            string
	At              time.Time
	OfflineEvidence bool
	PANToken        []byte `gorm:"column:pan_token"`
	Fingerprint     []byte
	EvidenceHash    []byte
	// Result is a tapNote's JSON.
	Result    string
	CreatedAt time.Time
	// The volunteer's totals the tap left (migration 00110).
	YearMinutes           int64
	LifetimeMinutesBefore int64
	LifetimeMinutes       int64
}

func (tapRow) TableName() string { return "taps" }

// tapNote is what the result column of a tap holds: the parts of the
// decision that have no column of their own, and the tap's times exactly
// (the at column keeps what the database resolves). Rows written before
// migration 00110 hold the whole TapResult JSON of the time there, whose
// fields of these names read the same; that migration copied their totals
// into the columns.
type tapNote struct {
	ActivityTitle  string    `json:"activity_title"`
	VolunteerName  string    `json:"volunteer_name"`
	At             time.Time `json:"at"`
	CheckedInAt    time.Time `json:"checked_in_at"`
	SessionMinutes int64     `json:"session_minutes"`
}

// tapToRow is the row of t.
func tapToRow(t checkin.TapRecord) (tapRow, error) {
	note, err := json.Marshal(tapNote{ActivityTitle: t.ActivityTitle, VolunteerName: t.VolunteerName, At: t.At,
		CheckedInAt: t.CheckedInAt, SessionMinutes: t.SessionMinutes})
	if err != nil {
		return tapRow{}, fmt.Errorf("tap note: %w", err)
	}
	return tapRow{ID: t.ID, TerminalID: t.TerminalID, Seq: t.Seq, ActivityID: t.ActivityID,
		VolunteerID: t.VolunteerID, AttendanceID: t.AttendanceID, Kind: string(t.Kind), At: t.At.UTC(),
		OfflineEvidence: t.OfflineEvidence, PANToken: t.PANToken, Fingerprint: t.Fingerprint,
		EvidenceHash: t.EvidenceHash, Result: string(note), CreatedAt: t.CreatedAt.UTC(),
		YearMinutes: t.YearMinutes, LifetimeMinutesBefore: t.LifetimeMinutesBefore,
		LifetimeMinutes: t.LifetimeMinutes}, nil
}

func (r tapRow) domain() (checkin.TapRecord, error) {
	var n tapNote
	if err := json.Unmarshal([]byte(r.Result), &n); err != nil {
		return checkin.TapRecord{}, fmt.Errorf("tap %d: note: %w", r.ID, err)
	}
	if n.At.IsZero() {
		n.At = r.At
	}
	return checkin.TapRecord{ID: r.ID, TerminalID: r.TerminalID, Seq: r.Seq, ActivityID: r.ActivityID,
		VolunteerID: r.VolunteerID, AttendanceID: r.AttendanceID, Kind: checkin.TapKind(r.Kind), At: n.At.UTC(),
		OfflineEvidence: r.OfflineEvidence, PANToken: r.PANToken, Fingerprint: r.Fingerprint,
		EvidenceHash: r.EvidenceHash, CreatedAt: r.CreatedAt.UTC(), ActivityTitle: n.ActivityTitle,
		VolunteerName: n.VolunteerName, CheckedInAt: n.CheckedInAt.UTC(), SessionMinutes: n.SessionMinutes,
		YearMinutes: r.YearMinutes, LifetimeMinutesBefore: r.LifetimeMinutesBefore,
		LifetimeMinutes: r.LifetimeMinutes}, nil
}

// GetTap implements checkin.TapRepo.
func (s *Store) GetTap(ctx context.Context, terminalID string, seq int64) (checkin.TapRecord, error) {
	var r tapRow
	if err := s.DB(ctx).Where("terminal_id = ? AND seq = ?", terminalID, seq).Take(&r).Error; err != nil {
		return checkin.TapRecord{}, mapCheckinErr(err)
	}
	return r.domain()
}

// LastTapSeq implements checkin.TapRepo.
func (s *Store) LastTapSeq(ctx context.Context, terminalID string) (int64, error) {
	var seq int64
	if err := s.DB(ctx).Raw(`SELECT COALESCE(MAX(seq), 0) FROM taps WHERE terminal_id = ?`, terminalID).Scan(&seq).Error; err != nil {
		return 0, mapCheckinErr(err)
	}
	return seq, nil
}

// CreateTap implements checkin.TapRepo.
func (s *Store) CreateTap(ctx context.Context, t *checkin.TapRecord) error {
	r, err := tapToRow(*t)
	if err != nil {
		return err
	}
	r.ID = 0
	if err := s.DB(ctx).Create(&r).Error; err != nil {
		return mapCheckinErr(err)
	}
	t.ID = r.ID
	return nil
}

type attendanceRow struct {
	ID          int64 `gorm:"primaryKey"`
	ActivityID  int64
	VolunteerID int64
	OrgPath     string
	InAt        time.Time
	OutAt       *time.Time
	Minutes     int64
	Year        int
	Corrected   bool
}

func (attendanceRow) TableName() string { return "attendances" }

func (r attendanceRow) domain() checkin.Attendance {
	a := checkin.Attendance{ID: r.ID, ActivityID: r.ActivityID, VolunteerID: r.VolunteerID, OrgPath: r.OrgPath,
		InAt: r.InAt.UTC(), Minutes: r.Minutes, Year: r.Year, Corrected: r.Corrected}
	if r.OutAt != nil {
		a.OutAt = r.OutAt.UTC()
	}
	return a
}

func attendanceToRow(a checkin.Attendance) attendanceRow {
	r := attendanceRow{ID: a.ID, ActivityID: a.ActivityID, VolunteerID: a.VolunteerID, OrgPath: a.OrgPath,
		InAt: a.InAt.UTC(), Minutes: a.Minutes, Year: a.Year, Corrected: a.Corrected}
	if !a.OutAt.IsZero() {
		t := a.OutAt.UTC()
		r.OutAt = &t
	}
	return r
}

// OpenAttendance implements checkin.TapRepo.
func (s *Store) OpenAttendance(ctx context.Context, activityID, volunteerID int64) (checkin.Attendance, error) {
	var r attendanceRow
	err := s.DB(ctx).Where("activity_id = ? AND volunteer_id = ? AND out_at IS NULL", activityID, volunteerID).Take(&r).Error
	if err != nil {
		return checkin.Attendance{}, mapCheckinErr(err)
	}
	return r.domain(), nil
}

// CreateAttendance implements checkin.TapRepo.
func (s *Store) CreateAttendance(ctx context.Context, a *checkin.Attendance) error {
	r := attendanceToRow(*a)
	r.ID = 0
	if err := s.DB(ctx).Create(&r).Error; err != nil {
		return mapCheckinErr(err)
	}
	a.ID = r.ID
	return nil
}

// UpdateAttendance implements checkin.TapRepo.
func (s *Store) UpdateAttendance(ctx context.Context, a checkin.Attendance) error {
	r := attendanceToRow(a)
	return s.InTx(ctx, func(ctx context.Context) error {
		res := s.DB(ctx).Model(&attendanceRow{}).Where("id = ?", a.ID).Updates(map[string]any{
			"in_at": r.InAt, "out_at": r.OutAt, "minutes": r.Minutes, "year": r.Year, "corrected": r.Corrected})
		if res.Error != nil {
			return mapCheckinErr(res.Error)
		}
		if res.RowsAffected != 1 {
			return issuance.ErrNotFound
		}
		return s.recordAttendanceCorrected(ctx, a.ID, time.Now())
	})
}

// GetAttendance implements checkin.TapRepo.
func (s *Store) GetAttendance(ctx context.Context, id int64, sc issuance.Scope) (checkin.Attendance, error) {
	var r attendanceRow
	if err := scoped(s.DB(ctx).Where("id = ?", id), sc, false).Take(&r).Error; err != nil {
		return checkin.Attendance{}, mapCheckinErr(err)
	}
	return r.domain(), nil
}

// ListAttendances implements checkin.TapRepo.
func (s *Store) ListAttendances(ctx context.Context, volunteerID int64, limit int) ([]checkin.AttendanceView, error) {
	var rows []struct {
		ID          int64
		ActivityID  int64
		VolunteerID int64
		OrgPath     string
		InAt        time.Time
		OutAt       *time.Time
		Minutes     int64
		Year        int
		Corrected   bool
		Title       string
		Site        string
	}
	err := s.DB(ctx).Table("attendances").
		Select(`attendances.id, attendances.activity_id, attendances.volunteer_id, attendances.org_path,
			attendances.in_at, attendances.out_at, attendances.minutes, attendances.year, attendances.corrected,
			activities.title AS title, activities.site AS site`).
		Joins("JOIN activities ON activities.id = attendances.activity_id").
		Where("attendances.volunteer_id = ?", volunteerID).
		Order("attendances.in_at DESC, attendances.id DESC").Limit(limit).Scan(&rows).Error
	if err != nil {
		return nil, mapCheckinErr(err)
	}
	out := make([]checkin.AttendanceView, 0, len(rows))
	for _, r := range rows {
		a := attendanceRow{ID: r.ID, ActivityID: r.ActivityID, VolunteerID: r.VolunteerID, OrgPath: r.OrgPath,
			InAt: r.InAt, OutAt: r.OutAt, Minutes: r.Minutes, Year: r.Year, Corrected: r.Corrected}
		out = append(out, checkin.AttendanceView{Attendance: a.domain(), Title: r.Title, Site: r.Site})
	}
	return out, nil
}

type hoursRow struct {
	Year    int
	Minutes int64
	Stars   int
}

// AddMinutes implements checkin.HoursRepo: one upsert of the year row and
// the lifetime row (year 0), returning both.
func (s *Store) AddMinutes(ctx context.Context, volunteerID int64, year int, delta int64) (checkin.HoursTotals, error) {
	var rows []hoursRow
	err := s.DB(ctx).Raw(`INSERT INTO volunteer_hours (volunteer_id, year, minutes, stars) VALUES (?, ?, ?, 0), (?, 0, ?, 0)
		ON CONFLICT (volunteer_id, year) DO UPDATE SET minutes = volunteer_hours.minutes + excluded.minutes
		RETURNING year, minutes, stars`, volunteerID, year, delta, volunteerID, delta).Scan(&rows).Error
	if err != nil {
		return checkin.HoursTotals{}, mapCheckinErr(err)
	}
	var h checkin.HoursTotals
	found := false
	for _, r := range rows {
		if r.Year == 0 {
			h.Lifetime, h.Stars, found = r.Minutes, r.Stars, true
		}
		if r.Year == year {
			h.Year = r.Minutes
		}
	}
	if !found {
		return checkin.HoursTotals{}, errors.New("add minutes: lifetime row not returned")
	}
	return h, nil
}

// changeStarsPG is ChangeStars in one statement on PostgreSQL: the level
// changes only if the row still holds the level and total it was decided
// from (a concurrent change waits for the row and then finds it changed),
// and the event is inserted only with the change. Parameters: to,
// volunteer, from, lifetime, then the event's kind, actor token, actor
// role, detail and at.
const changeStarsPG = `WITH u AS (
	UPDATE volunteer_hours SET stars = ?::int
	WHERE volunteer_id = ?::bigint AND year = 0 AND stars = ?::int AND minutes = ?::bigint
	RETURNING volunteer_id
)
INSERT INTO checkin_events (kind, volunteer_id, attendance_id, actor_token_id, actor_role, reason, detail, at)
SELECT ?::text, u.volunteer_id, 0, ?::bigint, ?::text, '', ?::text, ?::timestamptz FROM u
RETURNING id`

// ChangeStars implements checkin.HoursRepo: one statement on PostgreSQL,
// the update then the event in a transaction on SQLite.
func (s *Store) ChangeStars(ctx context.Context, ch checkin.StarsChange) (bool, error) {
	e := ch.Event
	if s.dialect == Postgres {
		var ids []int64
		err := s.DB(ctx).Raw(changeStarsPG, ch.To, ch.VolunteerID, ch.From, ch.Lifetime, string(e.Kind),
			e.ActorTokenID, string(e.ActorRole), e.Detail, e.At.UTC()).Scan(&ids).Error
		if err != nil {
			return false, mapCheckinErr(err)
		}
		return len(ids) == 1, nil
	}
	changed := false
	err := s.InTx(ctx, func(ctx context.Context) error {
		res := s.DB(ctx).Exec(`UPDATE volunteer_hours SET stars = ?
			WHERE volunteer_id = ? AND year = 0 AND stars = ? AND minutes = ?`,
			ch.To, ch.VolunteerID, ch.From, ch.Lifetime)
		if res.Error != nil || res.RowsAffected != 1 {
			return mapCheckinErr(res.Error)
		}
		changed = true
		e.VolunteerID = ch.VolunteerID
		return s.AppendCheckinEvent(ctx, &e)
	})
	return changed && err == nil, err
}

// HoursByYear implements checkin.HoursRepo.
func (s *Store) HoursByYear(ctx context.Context, volunteerID int64) ([]checkin.YearMinutes, error) {
	var rows []hoursRow
	err := s.DB(ctx).Raw(`SELECT year, minutes, stars FROM volunteer_hours WHERE volunteer_id = ? ORDER BY year`,
		volunteerID).Scan(&rows).Error
	if err != nil {
		return nil, mapCheckinErr(err)
	}
	out := make([]checkin.YearMinutes, 0, len(rows))
	for _, r := range rows {
		out = append(out, checkin.YearMinutes{Year: r.Year, Minutes: r.Minutes, Stars: r.Stars})
	}
	return out, nil
}

// MemberMinutes implements checkin.HoursRepo.
func (s *Store) MemberMinutes(ctx context.Context, pathPrefix string, year int) ([]checkin.MemberMinutes, error) {
	var rows []struct {
		VolunteerID  int64
		OrgID        int64
		Name         string
		LeagueMember bool
		PartyMember  bool
		Minutes      int64
	}
	err := s.DB(ctx).Raw(`SELECT v.id AS volunteer_id, v.org_id, v.name, v.league_member, v.party_member,
			COALESCE(h.minutes, 0) AS minutes
		FROM volunteers v LEFT JOIN volunteer_hours h ON h.volunteer_id = v.id AND h.year = ?
		WHERE (v.league_member OR v.party_member) AND v.org_path LIKE ? ESCAPE '\'
		ORDER BY v.id`, year, likePrefix(pathPrefix)).Scan(&rows).Error
	if err != nil {
		return nil, mapCheckinErr(err)
	}
	out := make([]checkin.MemberMinutes, 0, len(rows))
	for _, r := range rows {
		out = append(out, checkin.MemberMinutes{VolunteerID: r.VolunteerID, OrgID: r.OrgID, Name: r.Name,
			LeagueMember: r.LeagueMember, PartyMember: r.PartyMember, Minutes: r.Minutes})
	}
	return out, nil
}

type checkinCardRow struct {
	PANToken    []byte `gorm:"column:pan_token;primaryKey"`
	VolunteerID *int64
	PANLast4    string `gorm:"column:pan_last4"`
	Status      string
	Reason      string
	CreatedAt   time.Time
	UpdatedAt   time.Time
}

func (checkinCardRow) TableName() string { return "checkin_cards" }

func (r checkinCardRow) domain() checkin.CardBinding {
	b := checkin.CardBinding{PANToken: r.PANToken, PANLast4: r.PANLast4, Status: checkin.CardStatus(r.Status),
		Reason: r.Reason, CreatedAt: r.CreatedAt.UTC(), UpdatedAt: r.UpdatedAt.UTC()}
	if r.VolunteerID != nil {
		b.VolunteerID = *r.VolunteerID
	}
	return b
}

// GetCardBinding implements checkin.CardRepo.
func (s *Store) GetCardBinding(ctx context.Context, panToken []byte) (checkin.CardBinding, error) {
	var r checkinCardRow
	if err := s.DB(ctx).Where("pan_token = ?", panToken).Take(&r).Error; err != nil {
		return checkin.CardBinding{}, mapCheckinErr(err)
	}
	return r.domain(), nil
}

// CardBindingsOf implements checkin.CardRepo.
func (s *Store) CardBindingsOf(ctx context.Context, volunteerID int64) ([]checkin.CardBinding, error) {
	var rows []checkinCardRow
	if err := s.DB(ctx).Where("volunteer_id = ?", volunteerID).Order("created_at").Find(&rows).Error; err != nil {
		return nil, mapCheckinErr(err)
	}
	out := make([]checkin.CardBinding, len(rows))
	for i, r := range rows {
		out[i] = r.domain()
	}
	return out, nil
}

// PutCardBinding implements checkin.CardRepo.
func (s *Store) PutCardBinding(ctx context.Context, b checkin.CardBinding) error {
	var vol *int64
	if b.VolunteerID != 0 {
		v := b.VolunteerID
		vol = &v
	}
	// "( ?" with a space: GORM expands a []byte right after "(" as a list.
	return mapCheckinErr(s.DB(ctx).Exec(`INSERT INTO checkin_cards
		(pan_token, volunteer_id, pan_last4, status, reason, created_at, updated_at) VALUES ( ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (pan_token) DO UPDATE SET volunteer_id = COALESCE(excluded.volunteer_id, checkin_cards.volunteer_id),
			status = excluded.status, reason = excluded.reason, updated_at = excluded.updated_at`,
		b.PANToken, vol, b.PANLast4, string(b.Status), b.Reason, b.CreatedAt.UTC(), b.UpdatedAt.UTC()).Error)
}

type offerRow struct {
	ID             int64 `gorm:"primaryKey"`
	OrgID          int64
	OrgPath        string
	Tier           string
	Title          string
	Description    string
	RequiresPIN    bool `gorm:"column:requires_pin"`
	ValidFrom      *time.Time
	ValidUntil     *time.Time
	WithdrawnAt    *time.Time
	WithdrawReason string
	CreatedAt      time.Time
	UpdatedAt      *time.Time `gorm:"autoUpdateTime:false"`
}

func (offerRow) TableName() string { return "benefit_offers" }

// timePtr is nil for the zero time, else t in UTC.
func timePtr(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	u := t.UTC()
	return &u
}

// timeOf is the zero time for nil, else *p in UTC.
func timeOf(p *time.Time) time.Time {
	if p == nil {
		return time.Time{}
	}
	return p.UTC()
}

func toOfferRow(o checkin.Offer) offerRow {
	return offerRow{ID: o.ID, OrgID: o.OrgID, OrgPath: o.OrgPath, Tier: string(o.Tier), Title: o.Title,
		Description: o.Description, RequiresPIN: o.RequiresPIN, ValidFrom: timePtr(o.ValidFrom),
		ValidUntil: timePtr(o.ValidUntil), WithdrawnAt: timePtr(o.WithdrawnAt), WithdrawReason: o.WithdrawReason,
		CreatedAt: o.CreatedAt.UTC(), UpdatedAt: timePtr(o.UpdatedAt)}
}

func (r offerRow) domain() checkin.Offer {
	o := checkin.Offer{ID: r.ID, OrgID: r.OrgID, OrgPath: r.OrgPath, Tier: checkin.BenefitTier(r.Tier), Title: r.Title,
		Description: r.Description, RequiresPIN: r.RequiresPIN, ValidFrom: timeOf(r.ValidFrom),
		ValidUntil: timeOf(r.ValidUntil), WithdrawnAt: timeOf(r.WithdrawnAt), WithdrawReason: r.WithdrawReason,
		CreatedAt: r.CreatedAt.UTC(), UpdatedAt: timeOf(r.UpdatedAt)}
	if o.UpdatedAt.IsZero() {
		o.UpdatedAt = o.CreatedAt
	}
	return o
}

func offersOf(rows []offerRow) []checkin.Offer {
	out := make([]checkin.Offer, 0, len(rows))
	for _, r := range rows {
		out = append(out, r.domain())
	}
	return out
}

// CreateOffer implements checkin.OfferRepo.
func (s *Store) CreateOffer(ctx context.Context, o *checkin.Offer) error {
	r := toOfferRow(*o)
	r.ID = 0
	if err := s.DB(ctx).Create(&r).Error; err != nil {
		return mapCheckinErr(err)
	}
	o.ID = r.ID
	return nil
}

// ListOffers implements checkin.OfferRepo.
func (s *Store) ListOffers(ctx context.Context, orgPaths []string, tiers []checkin.BenefitTier) ([]checkin.Offer, error) {
	if len(orgPaths) == 0 || len(tiers) == 0 {
		return []checkin.Offer{}, nil
	}
	ts := make([]string, len(tiers))
	for i, t := range tiers {
		ts[i] = string(t)
	}
	var rows []offerRow
	if err := s.DB(ctx).Where("org_path IN ? AND tier IN ?", orgPaths, ts).Order("id").Find(&rows).Error; err != nil {
		return nil, mapCheckinErr(err)
	}
	return offersOf(rows), nil
}

// GetOffer implements checkin.OfferRepo: on PostgreSQL with forUpdate the
// row is locked (SELECT … FOR UPDATE); on SQLite the write transaction
// already excludes other writers.
func (s *Store) GetOffer(ctx context.Context, id int64, sc issuance.Scope, forUpdate bool) (checkin.Offer, error) {
	q := scoped(s.DB(ctx).Where("id = ?", id), sc, false)
	if forUpdate && s.dialect == Postgres {
		q = q.Clauses(clause.Locking{Strength: "UPDATE"})
	}
	var r offerRow
	if err := q.Take(&r).Error; err != nil {
		return checkin.Offer{}, mapErr(err)
	}
	return r.domain(), nil
}

// UpdateOffer implements checkin.OfferRepo.
func (s *Store) UpdateOffer(ctx context.Context, o checkin.Offer) error {
	r := toOfferRow(o)
	res := s.DB(ctx).Model(&offerRow{}).Where("id = ?", o.ID).Select("tier", "title", "description", "requires_pin",
		"valid_from", "valid_until", "withdrawn_at", "withdraw_reason", "updated_at").Updates(&r)
	if res.Error != nil {
		return mapCheckinErr(res.Error)
	}
	if res.RowsAffected == 0 {
		return fmt.Errorf("offer %d: %w", o.ID, issuance.ErrNotFound)
	}
	return nil
}

// OffersUnder implements checkin.OfferRepo.
func (s *Store) OffersUnder(ctx context.Context, pathPrefix string, withdrawn bool) ([]checkin.Offer, error) {
	q := s.DB(ctx).Where(`org_path LIKE ? ESCAPE '\'`, likePrefix(pathPrefix))
	if !withdrawn {
		q = q.Where("withdrawn_at IS NULL")
	}
	var rows []offerRow
	if err := q.Order("id").Find(&rows).Error; err != nil {
		return nil, mapCheckinErr(err)
	}
	return offersOf(rows), nil
}

type checkinEventRow struct {
	ID           int64 `gorm:"primaryKey"`
	Kind         string
	VolunteerID  int64
	AttendanceID int64
	OfferID      int64
	ActorTokenID int64
	ActorRole    string
	Reason       string
	Detail       string
	At           time.Time
}

func (checkinEventRow) TableName() string { return "checkin_events" }

func (r checkinEventRow) domain() checkin.Event {
	return checkin.Event{ID: r.ID, Kind: checkin.EventKind(r.Kind), VolunteerID: r.VolunteerID,
		AttendanceID: r.AttendanceID, OfferID: r.OfferID, ActorTokenID: r.ActorTokenID,
		ActorRole: issuance.Role(r.ActorRole), Reason: r.Reason, Detail: r.Detail, At: r.At.UTC()}
}

// AppendCheckinEvent implements checkin.EventRepo.
func (s *Store) AppendCheckinEvent(ctx context.Context, e *checkin.Event) error {
	r := checkinEventRow{Kind: string(e.Kind), VolunteerID: e.VolunteerID, AttendanceID: e.AttendanceID,
		OfferID: e.OfferID, ActorTokenID: e.ActorTokenID, ActorRole: string(e.ActorRole), Reason: e.Reason, Detail: e.Detail, At: e.At.UTC()}
	if err := s.DB(ctx).Create(&r).Error; err != nil {
		return mapCheckinErr(err)
	}
	e.ID = r.ID
	return nil
}

// ListCheckinEvents implements checkin.EventRepo.
func (s *Store) ListCheckinEvents(ctx context.Context, volunteerID int64) ([]checkin.Event, error) {
	var rows []checkinEventRow
	if err := s.DB(ctx).Where("volunteer_id = ? AND offer_id = 0", volunteerID).Order("id").Find(&rows).Error; err != nil {
		return nil, mapCheckinErr(err)
	}
	out := make([]checkin.Event, 0, len(rows))
	for _, r := range rows {
		out = append(out, r.domain())
	}
	return out, nil
}

// ListOfferEvents implements checkin.EventRepo.
func (s *Store) ListOfferEvents(ctx context.Context, offerID int64) ([]checkin.Event, error) {
	var rows []checkinEventRow
	if err := s.DB(ctx).Where("offer_id = ?", offerID).Order("id").Find(&rows).Error; err != nil {
		return nil, mapCheckinErr(err)
	}
	out := make([]checkin.Event, 0, len(rows))
	for _, r := range rows {
		out = append(out, r.domain())
	}
	return out, nil
}
