package store

// The hot path of a tap (issue 6): the card, its holder and the holder's
// open attendance read in one query, and the attendance written together
// with the tap row in one statement on PostgreSQL.

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/volcard/volcard/issuance/checkin"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/volcard/volcard/issuance"
)

var _ checkin.TapLookupRepo = (*Store)(nil)

// tapLookupSQL reads everything a tap decision needs in one round trip:
// the issued card (as CardByPANToken reads it; keep the two in step), the check-in binding, the
// holder named by the first of them, and the holder's open attendance at
// the activity. Arguments: PAN token, PAN token, activity id. It works on
// PostgreSQL and SQLite alike.
const tapLookupSQL = `SELECT
	d.state AS dir_state, d.pending_change AS dir_pending_change, d.last_four AS dir_last_four,
	d.created_at AS dir_created_at, d.volunteer_id AS dir_volunteer_id, d.expiry AS dir_expiry,
	cb.status AS cb_status, cb.volunteer_id AS cb_volunteer_id, cb.pan_last4 AS cb_pan_last4,
	cb.reason AS cb_reason, cb.created_at AS cb_created_at, cb.updated_at AS cb_updated_at,
	v.id AS v_id, v.org_id AS v_org_id, v.org_path AS v_org_path, v.name AS v_name,
	v.emboss_name AS v_emboss_name, v.id_type AS v_id_type, v.id_number_enc AS v_id_number_enc,
	v.id_number_idx AS v_id_number_idx, v.gender AS v_gender, v.birth_date AS v_birth_date,
	v.phone_enc AS v_phone_enc, v.league_member AS v_league_member, v.party_member AS v_party_member,
	v.clothing_size AS v_clothing_size, v.source AS v_source, v.volunteer_number AS v_volunteer_number,
	v.created_at AS v_created_at,
	a.id AS a_id, a.org_path AS a_org_path, a.in_at AS a_in_at, a.minutes AS a_minutes, a.year AS a_year,
	a.corrected AS a_corrected
FROM (SELECT 1 AS one) o
LEFT JOIN (SELECT c.state, c.pending_change, c.last_four, c.created_at, ap.volunteer_id, c.expiry
	FROM cards c JOIN applications ap ON ap.id = c.application_id WHERE c.pan_token = ?) d ON 1 = 1
LEFT JOIN checkin_cards cb ON cb.pan_token = ?
LEFT JOIN volunteers v ON v.id = COALESCE(d.volunteer_id, cb.volunteer_id)
LEFT JOIN attendances a ON a.activity_id = ? AND a.volunteer_id = v.id AND a.out_at IS NULL`

type tapLookupRow struct {
	DirState       *string    `gorm:"column:dir_state"`
	DirPending     *string    `gorm:"column:dir_pending_change"`
	DirLastFour    *string    `gorm:"column:dir_last_four"`
	DirCreatedAt   *time.Time `gorm:"column:dir_created_at"`
	DirVolunteerID *int64     `gorm:"column:dir_volunteer_id"`
	DirExpiry      *string    `gorm:"column:dir_expiry"`

	CbStatus      *string    `gorm:"column:cb_status"`
	CbVolunteerID *int64     `gorm:"column:cb_volunteer_id"`
	CbPANLast4    *string    `gorm:"column:cb_pan_last4"`
	CbReason      *string    `gorm:"column:cb_reason"`
	CbCreatedAt   *time.Time `gorm:"column:cb_created_at"`
	CbUpdatedAt   *time.Time `gorm:"column:cb_updated_at"`

	VID              *int64     `gorm:"column:v_id"`
	VOrgID           *int64     `gorm:"column:v_org_id"`
	VOrgPath         *string    `gorm:"column:v_org_path"`
	VName            *string    `gorm:"column:v_name"`
	VEmbossName      *string    `gorm:"column:v_emboss_name"`
	VIDType          *string    `gorm:"column:v_id_type"`
	VIDNumberEnc     []byte     `gorm:"column:v_id_number_enc"`
	VIDNumberIdx     []byte     `gorm:"column:v_id_number_idx"`
	VGender          *string    `gorm:"column:v_gender"`
	VBirthDate       *time.Time `gorm:"column:v_birth_date"`
	VPhoneEnc        []byte     `gorm:"column:v_phone_enc"`
	VLeagueMember    *bool      `gorm:"column:v_league_member"`
	VPartyMember     *bool      `gorm:"column:v_party_member"`
	VClothingSize    *string    `gorm:"column:v_clothing_size"`
	VSource          *string    `gorm:"column:v_source"`
	VVolunteerNumber *string    `gorm:"column:v_volunteer_number"`
	VCreatedAt       *time.Time `gorm:"column:v_created_at"`

	AID        *int64     `gorm:"column:a_id"`
	AOrgPath   *string    `gorm:"column:a_org_path"`
	AInAt      *time.Time `gorm:"column:a_in_at"`
	AMinutes   *int64     `gorm:"column:a_minutes"`
	AYear      *int       `gorm:"column:a_year"`
	ACorrected *bool      `gorm:"column:a_corrected"`
}

func deref[T any](p *T) T {
	var zero T
	if p == nil {
		return zero
	}
	return *p
}

// dests are the scan destinations of r in tapLookupSQL's column order.
func (r *tapLookupRow) dests() []any {
	return []any{&r.DirState, &r.DirPending, &r.DirLastFour, &r.DirCreatedAt, &r.DirVolunteerID, &r.DirExpiry,
		&r.CbStatus, &r.CbVolunteerID, &r.CbPANLast4, &r.CbReason, &r.CbCreatedAt, &r.CbUpdatedAt,
		&r.VID, &r.VOrgID, &r.VOrgPath, &r.VName, &r.VEmbossName, &r.VIDType, &r.VIDNumberEnc, &r.VIDNumberIdx,
		&r.VGender, &r.VBirthDate, &r.VPhoneEnc, &r.VLeagueMember, &r.VPartyMember, &r.VClothingSize, &r.VSource,
		&r.VVolunteerNumber, &r.VCreatedAt,
		&r.AID, &r.AOrgPath, &r.AInAt, &r.AMinutes, &r.AYear, &r.ACorrected}
}

// numbered rewrites the ? placeholders of q as PostgreSQL's numbered
// ones: the i-th ? becomes $nums[i] (a number may repeat).
func numbered(q string, nums ...int) string {
	var b strings.Builder
	i := 0
	for _, r := range q {
		if r == '?' && i < len(nums) {
			b.WriteString("$" + strconv.Itoa(nums[i]))
			i++
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}

// tapLookupPG is tapLookupSQL for database/sql on PostgreSQL: $1 PAN
// token, $2 activity id.
var tapLookupPG = numbered(tapLookupSQL, 1, 1, 2)

// challengeLookupPG uses a challenge and reads the tap lookup in one
// statement: $1 now (ms), $2 challenge id, $3 token id, then $4 PAN token and
// $5 activity id for the lookup. The first column is the challenge's
// unpredictable number, NULL when it could not be used.
var challengeLookupPG = `WITH ch AS (UPDATE terminal_challenges SET used_at_ms = $1::bigint
	WHERE id = $2::text AND token_id = $3::bigint AND used_at_ms = 0 AND expires_at_ms > $1::bigint
	RETURNING un)
SELECT (SELECT un FROM ch) AS ch_un,` + strings.TrimPrefix(numbered(tapLookupSQL, 4, 4, 5), "SELECT")

// LookupTap implements checkin.TapLookupRepo.
func (s *Store) LookupTap(ctx context.Context, panToken []byte, activityID int64) (checkin.TapLookup, error) {
	var r tapLookupRow
	if s.dialect == Postgres {
		// database/sql directly: the hot path of every tap.
		err := s.DB(ctx).Statement.ConnPool.QueryRowContext(ctx, tapLookupPG, panToken, activityID).Scan(r.dests()...)
		if err != nil {
			return checkin.TapLookup{}, mapCheckinErr(err)
		}
		return r.lookup(panToken, activityID), nil
	}
	var rows []tapLookupRow
	if err := s.DB(ctx).Raw(tapLookupSQL, panToken, panToken, activityID).Scan(&rows).Error; err != nil {
		return checkin.TapLookup{}, mapCheckinErr(err)
	}
	if len(rows) == 0 {
		return checkin.TapLookup{}, nil
	}
	return rows[0].lookup(panToken, activityID), nil
}

var _ checkin.ChallengeLookupRepo = (*Store)(nil)

// ConsumeChallengeLookupTap implements checkin.ChallengeLookupRepo: one
// statement on PostgreSQL, ConsumeChallenge then LookupTap on SQLite.
func (s *Store) ConsumeChallengeLookupTap(ctx context.Context, challengeID string, tokenID int64, now time.Time,
	panToken []byte, activityID int64) (checkin.Challenge, checkin.TapLookup, error) {
	if s.dialect != Postgres {
		ch, err := s.ConsumeChallenge(ctx, challengeID, tokenID, now)
		if err != nil {
			return checkin.Challenge{}, checkin.TapLookup{}, err
		}
		l, err := s.LookupTap(ctx, panToken, activityID)
		return ch, l, err
	}
	nowMs := now.UnixMilli()
	sweepChallenges(ctx, s.DB(ctx), nowMs)
	var r tapLookupRow
	var un []byte
	err := s.DB(ctx).Statement.ConnPool.QueryRowContext(ctx, challengeLookupPG, nowMs, challengeID, tokenID,
		panToken, activityID).Scan(append([]any{&un}, r.dests()...)...)
	if err != nil {
		return checkin.Challenge{}, checkin.TapLookup{}, mapCheckinErr(err)
	}
	if un == nil {
		return checkin.Challenge{}, checkin.TapLookup{}, s.challengeRefusal(ctx, challengeID, tokenID)
	}
	ch := checkin.Challenge{ID: challengeID, TokenID: tokenID, UN: un, UsedAt: time.UnixMilli(nowMs).UTC()}
	return ch, r.lookup(panToken, activityID), nil
}

// lookup turns a row of tapLookupSQL into a TapLookup.
func (r tapLookupRow) lookup(panToken []byte, activityID int64) checkin.TapLookup {
	var l checkin.TapLookup
	if r.DirState != nil && r.DirVolunteerID != nil {
		created := deref(r.DirCreatedAt).UTC()
		b := checkin.CardBinding{PANToken: panToken, VolunteerID: *r.DirVolunteerID, PANLast4: deref(r.DirLastFour),
			Expiry: deref(r.DirExpiry), CreatedAt: created, UpdatedAt: created}
		// As CardByPANToken decides it.
		b.Status, b.Reason = checkin.DirectoryStatus(issuance.BankCardState(*r.DirState),
			issuance.CardChange(deref(r.DirPending)))
		l.Directory = &b
	}
	if r.CbStatus != nil {
		l.Binding = &checkin.CardBinding{PANToken: panToken, VolunteerID: deref(r.CbVolunteerID),
			PANLast4: deref(r.CbPANLast4), Status: checkin.CardStatus(*r.CbStatus), Reason: deref(r.CbReason),
			CreatedAt: deref(r.CbCreatedAt).UTC(), UpdatedAt: deref(r.CbUpdatedAt).UTC()}
	}
	if r.VID != nil {
		v := volunteerRow{ID: *r.VID, OrgID: deref(r.VOrgID), OrgPath: deref(r.VOrgPath), Name: deref(r.VName),
			EmbossName: deref(r.VEmbossName), IDType: deref(r.VIDType), IDNumberEnc: r.VIDNumberEnc,
			IDNumberIdx: r.VIDNumberIdx, Gender: deref(r.VGender), BirthDate: r.VBirthDate, PhoneEnc: r.VPhoneEnc,
			LeagueMember: deref(r.VLeagueMember), PartyMember: deref(r.VPartyMember),
			ClothingSize: deref(r.VClothingSize), Source: deref(r.VSource),
			VolunteerNumber: deref(r.VVolunteerNumber), CreatedAt: deref(r.VCreatedAt)}.domain()
		l.Volunteer = &v
		if r.AID != nil {
			a := attendanceRow{ID: *r.AID, ActivityID: activityID, VolunteerID: v.ID, OrgPath: deref(r.AOrgPath),
				InAt: deref(r.AInAt), Minutes: deref(r.AMinutes), Year: deref(r.AYear),
				Corrected: deref(r.ACorrected)}.domain()
			l.Open = &a
		}
	}
	return l
}

// tapInsertPG inserts the tap with the attendance id from the CTE "a";
// the parameters carry their types because INSERT … SELECT does not infer
// them from the target columns.
const tapInsertPG = `INSERT INTO taps (terminal_id, seq, activity_id, volunteer_id, kind, at, offline_evidence,
		pan_token, fingerprint, evidence_hash, result, created_at, year_minutes, lifetime_minutes_before,
		lifetime_minutes, attendance_id)
	SELECT ?::text, ?::bigint, ?::bigint, ?::bigint, ?::text, ?::timestamptz, ?::boolean,
		?::bytea, ?::bytea, ?::bytea, ?::text, ?::timestamptz, ?::bigint, ?::bigint, ?::bigint, a.id FROM a
	RETURNING id, attendance_id`

// RecordTap implements checkin.TapRepo. On PostgreSQL the attendance and
// the tap are one statement (a data-modifying CTE); on SQLite two.
func (s *Store) RecordTap(ctx context.Context, a *checkin.Attendance, checkOut bool, t *checkin.TapRecord) error {
	if s.dialect != Postgres {
		return s.recordTapSteps(ctx, a, checkOut, t)
	}
	r := attendanceToRow(*a)
	tr, err := tapToRow(*t)
	if err != nil {
		return err
	}
	tapArgs := []any{tr.TerminalID, tr.Seq, tr.ActivityID, tr.VolunteerID, tr.Kind, tr.At, tr.OfflineEvidence,
		tr.PANToken, tr.Fingerprint, tr.EvidenceHash, tr.Result, tr.CreatedAt, tr.YearMinutes,
		tr.LifetimeMinutesBefore, tr.LifetimeMinutes}
	var sql string
	var args []any
	if checkOut {
		sql = `WITH a AS (UPDATE attendances SET out_at = ?, minutes = ? WHERE id = ? AND out_at IS NULL RETURNING id) ` +
			tapInsertPG
		args = append([]any{r.OutAt, r.Minutes, r.ID}, tapArgs...)
	} else {
		sql = `WITH a AS (INSERT INTO attendances (activity_id, volunteer_id, org_path, in_at, out_at, minutes, year, corrected)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING id) ` + tapInsertPG
		args = append([]any{r.ActivityID, r.VolunteerID, r.OrgPath, r.InAt, r.OutAt, r.Minutes, r.Year, r.Corrected},
			tapArgs...)
	}
	var rows []struct {
		ID           int64
		AttendanceID int64
	}
	if err := s.DB(ctx).Raw(sql, args...).Scan(&rows).Error; err != nil {
		return mapCheckinErr(err)
	}
	if len(rows) != 1 {
		// The attendance was closed meanwhile (a concurrent tap or a
		// correction): nothing was written.
		return &issuance.ConflictError{What: "open_attendance"}
	}
	a.ID, t.ID, t.AttendanceID = rows[0].AttendanceID, rows[0].ID, rows[0].AttendanceID
	return s.recordTap(ctx, t.ID)
}

// recordTapSteps is RecordTap as separate statements (SQLite, where a CTE
// cannot modify data); the caller's transaction makes them atomic.
func (s *Store) recordTapSteps(ctx context.Context, a *checkin.Attendance, checkOut bool, t *checkin.TapRecord) error {
	if checkOut {
		r := attendanceToRow(*a)
		res := s.DB(ctx).Model(&attendanceRow{}).Where("id = ? AND out_at IS NULL", a.ID).
			Updates(map[string]any{"out_at": r.OutAt, "minutes": r.Minutes})
		if res.Error != nil {
			return mapCheckinErr(res.Error)
		}
		if res.RowsAffected != 1 {
			return &issuance.ConflictError{What: "open_attendance"}
		}
	} else if err := s.CreateAttendance(ctx, a); err != nil {
		return err
	}
	t.AttendanceID = a.ID
	if err := s.CreateTap(ctx, t); err != nil {
		return err
	}
	return s.recordTap(ctx, t.ID)
}

var _ checkin.TapWriter = (*Store)(nil)

// CanWriteTap implements checkin.TapWriter: PostgreSQL only (SQLite
// cannot modify data in a CTE).
func (s *Store) CanWriteTap() bool { return s.dialect == Postgres }

// writeTapSQL is WriteTap's statement. It adds and counts, nothing else:
// the star level is left to the caller. CTEs:
//   - h adds the session's minutes to the volunteer's year and lifetime
//     rows (creating them), year first as AddMinutes does, and returns
//     them after the change with the star level stored on the lifetime
//     row (the latest committed version: the upsert locks the rows);
//   - hs is the totals after, and that star level;
//   - a opens or closes the attendance, after the hours rows (every writer
//     takes the hours rows first);
//   - t inserts the tap with the totals: the year's after, the lifetime
//     before (after less the minutes added) and after;
//   - f and d write the tap's feed event and its webhook deliveries
//     (writeTapFeedSQL, as recordTap does on the other path).
//
// The final SELECT divides by the number of taps written: when the
// attendance was closed meanwhile nothing is inserted into taps and the
// division by zero aborts the whole statement (SQLSTATE 22012), so that the
// hours are not added either.
//
// Parameters: $1 volunteer, $2 year, $3 minutes added, $4–$14 the tap
// (terminal, seq, activity, kind, at, offline, PAN token, fingerprint,
// evidence hash, result, created at), then the attendance parameters of
// writeTapOpenSQL or writeTapCloseSQL from $15. Every parameter carries its
// type: INSERT … SELECT does not infer them from the target columns.
const writeTapSQL = `WITH h AS (
	INSERT INTO volunteer_hours (volunteer_id, year, minutes, stars)
	VALUES ($1::bigint, $2::int, $3::bigint, 0), ($1::bigint, 0, $3::bigint, 0)
	ON CONFLICT (volunteer_id, year) DO UPDATE SET minutes = volunteer_hours.minutes + excluded.minutes
	RETURNING year, minutes, stars
), hs AS (
	SELECT hy.minutes AS year_minutes, hl.minutes AS lifetime, hl.stars AS stars
	FROM h hy, h hl WHERE hy.year = $2::int AND hl.year = 0
), a AS (%s
), t AS (
	INSERT INTO taps (terminal_id, seq, activity_id, volunteer_id, kind, at, offline_evidence,
		pan_token, fingerprint, evidence_hash, result, created_at, attendance_id,
		year_minutes, lifetime_minutes_before, lifetime_minutes)
	SELECT $4::text, $5::bigint, $6::bigint, $1::bigint, $7::text, $8::timestamptz, $9::boolean,
		$10::bytea, $11::bytea, $12::bytea, $13::text, $14::timestamptz, a.id,
		hs.year_minutes, hs.lifetime - $3::bigint, hs.lifetime
	FROM a, hs
	RETURNING id, attendance_id, year_minutes, lifetime_minutes_before, lifetime_minutes
)%s
SELECT t.id, t.attendance_id, t.year_minutes, t.lifetime_minutes_before, t.lifetime_minutes, hs.stars,
	1 / (SELECT count(*) FROM t) AS written
FROM hs LEFT JOIN t ON true`

// writeTapOpenSQL opens the attendance (a check-in); parameters from $15:
// org path, in at.
const writeTapOpenSQL = `
	INSERT INTO attendances (activity_id, volunteer_id, org_path, in_at, out_at, minutes, year, corrected)
	SELECT $6::bigint, $1::bigint, $15::text, $16::timestamptz, NULL, 0, $2::int, false FROM hs
	RETURNING id, org_path, minutes`

// writeTapCloseSQL closes the open attendance (a check-out); parameters
// from $15: attendance id, out at, minutes.
const writeTapCloseSQL = `
	UPDATE attendances SET out_at = $16::timestamptz, minutes = $17::int FROM hs
	WHERE attendances.id = $15::bigint AND attendances.out_at IS NULL
	RETURNING attendances.id, attendances.org_path, attendances.minutes`

// writeTapFeedSQL writes the tap's feed event and its webhook deliveries
// in the same statement (what recordTap does in two): CTEs f and d, from
// the tap t and the attendance a.
const writeTapFeedSQL = `, f AS (
	INSERT INTO feed_events (` + feedColumns + `)
	SELECT 'checkin.tap_recorded', 'attendance', t.attendance_id, 'volunteer:' || $1::bigint, a.org_path, '',
		json_build_object('tap_id', t.id, 'kind', $7::text, 'activity_id', $6::bigint, 'volunteer_id', $1::bigint,
			'attendance_id', t.attendance_id, 'terminal_id', $4::text, 'seq', $5::bigint, 'minutes', a.minutes)::text,
		$14::timestamptz
	FROM t, a
	RETURNING id, type, order_key, org_path, bank_code, at
), d AS (
	INSERT INTO webhook_deliveries (endpoint_id, event_id, order_key, created_at)
	SELECT e.id, f.id, f.order_key, f.at FROM f JOIN webhook_endpoints e ON ` + endpointMatch + `
)`

var (
	writeTapOpen  = strings.Replace(fmt.Sprintf(writeTapSQL, writeTapOpenSQL, "@feed@"), "@feed@", writeTapFeedSQL, 1)
	writeTapClose = strings.Replace(fmt.Sprintf(writeTapSQL, writeTapCloseSQL, "@feed@"), "@feed@", writeTapFeedSQL, 1)
)

// WriteTap implements checkin.TapWriter on PostgreSQL: one statement,
// atomic on its own (the tap, the hours, the attendance, the tap's feed
// event and its webhook deliveries), run on the caller's transaction if
// there is one.
func (s *Store) WriteTap(ctx context.Context, w checkin.TapWrite) (checkin.TapWritten, error) {
	if s.dialect != Postgres {
		return checkin.TapWritten{}, errors.New("write tap: needs PostgreSQL")
	}
	at := w.Attendance
	t, err := tapToRow(w.Tap)
	if err != nil {
		return checkin.TapWritten{}, err
	}
	args := []any{at.VolunteerID, at.Year, w.Tap.SessionMinutes,
		t.TerminalID, t.Seq, t.ActivityID, t.Kind, t.At, t.OfflineEvidence,
		t.PANToken, t.Fingerprint, t.EvidenceHash, t.Result, t.CreatedAt}
	sql := writeTapOpen
	if w.CheckOut {
		sql = writeTapClose
		args = append(args, at.ID, at.OutAt.UTC(), at.Minutes)
	} else {
		args = append(args, at.OrgPath, at.InAt.UTC())
	}
	out := checkin.TapWritten{Tap: w.Tap}
	var written int64
	row := s.DB(ctx).Statement.ConnPool.QueryRowContext(ctx, sql, args...)
	err = row.Scan(&out.Tap.ID, &out.Tap.AttendanceID, &out.Tap.YearMinutes, &out.Tap.LifetimeMinutesBefore,
		&out.Tap.LifetimeMinutes, &out.Stars, &written)
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && pgErr.Code == "22012" {
		// The attendance was closed meanwhile (a concurrent tap or a
		// correction): the statement wrote nothing.
		return checkin.TapWritten{}, &issuance.ConflictError{What: "open_attendance"}
	}
	if err != nil {
		return checkin.TapWritten{}, mapCheckinErr(err)
	}
	return out, nil
}
