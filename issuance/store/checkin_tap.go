package store

// The hot path of a tap (issue 6): the card, its holder and the holder's
// open attendance read in one query, and the attendance written together
// with the tap row in one statement on PostgreSQL.

import (
	"context"
	"time"

	"github.com/volcard/volcard/issuance"
)

var _ issuance.TapLookupRepo = (*Store)(nil)

// tapLookupSQL reads everything a tap decision needs in one round trip:
// the issued card (as CardByPANToken reads it; keep the two in step), the check-in binding, the
// holder named by the first of them, and the holder's open attendance at
// the activity. Arguments: PAN token, PAN token, activity id. It works on
// PostgreSQL and SQLite alike.
const tapLookupSQL = `SELECT
	d.state AS dir_state, d.pending_change AS dir_pending_change, d.last_four AS dir_last_four,
	d.created_at AS dir_created_at, d.volunteer_id AS dir_volunteer_id,
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
LEFT JOIN (SELECT c.state, c.pending_change, c.last_four, c.created_at, ap.volunteer_id
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

// LookupTap implements issuance.TapLookupRepo.
func (s *Store) LookupTap(ctx context.Context, panToken []byte, activityID int64) (issuance.TapLookup, error) {
	var rows []tapLookupRow
	if err := s.DB(ctx).Raw(tapLookupSQL, panToken, panToken, activityID).Scan(&rows).Error; err != nil {
		return issuance.TapLookup{}, mapCheckinErr(err)
	}
	var l issuance.TapLookup
	if len(rows) == 0 {
		return l, nil
	}
	r := rows[0]
	if r.DirState != nil && r.DirVolunteerID != nil {
		created := deref(r.DirCreatedAt).UTC()
		b := issuance.CardBinding{PANToken: panToken, VolunteerID: *r.DirVolunteerID, PANLast4: deref(r.DirLastFour),
			Status: issuance.CardActive, CreatedAt: created, UpdatedAt: created}
		// As CardByPANToken decides it.
		pending := deref(r.DirPending)
		if issuance.CardRefused(issuance.BankCardState(*r.DirState), issuance.CardChange(pending)) {
			b.Status, b.Reason = issuance.CardBlocked, "card "+*r.DirState+" at the bank"
			if pending != "" {
				b.Reason = "card " + pending + " pending at the bank"
			}
		}
		l.Directory = &b
	}
	if r.CbStatus != nil {
		l.Binding = &issuance.CardBinding{PANToken: panToken, VolunteerID: deref(r.CbVolunteerID),
			PANLast4: deref(r.CbPANLast4), Status: issuance.CardStatus(*r.CbStatus), Reason: deref(r.CbReason),
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
	return l, nil
}

// tapInsertPG inserts the tap with the attendance id from the CTE "a";
// the parameters carry their types because INSERT … SELECT does not infer
// them from the target columns.
const tapInsertPG = `INSERT INTO taps (terminal_id, seq, activity_id, volunteer_id, kind, at, offline_evidence,
		pan_token, fingerprint, evidence_hash, result, created_at, attendance_id)
	SELECT ?::text, ?::bigint, ?::bigint, ?::bigint, ?::text, ?::timestamptz, ?::boolean,
		?::bytea, ?::bytea, ?::bytea, ?::text, ?::timestamptz, a.id FROM a
	RETURNING id, attendance_id`

// RecordTap implements issuance.TapRepo. On PostgreSQL the attendance and
// the tap are one statement (a data-modifying CTE); on SQLite two.
func (s *Store) RecordTap(ctx context.Context, a *issuance.Attendance, checkOut bool, t *issuance.TapRecord) error {
	if s.dialect != Postgres {
		return s.recordTapSteps(ctx, a, checkOut, t)
	}
	r := attendanceToRow(*a)
	tapArgs := []any{t.TerminalID, t.Seq, t.ActivityID, t.VolunteerID, string(t.Kind), t.At.UTC(), t.OfflineEvidence,
		t.PANToken, t.Fingerprint, t.EvidenceHash, string(t.Result), t.CreatedAt.UTC()}
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
	return nil
}

// recordTapSteps is RecordTap as separate statements (SQLite, where a CTE
// cannot modify data); the caller's transaction makes them atomic.
func (s *Store) recordTapSteps(ctx context.Context, a *issuance.Attendance, checkOut bool, t *issuance.TapRecord) error {
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
	return s.CreateTap(ctx, t)
}
