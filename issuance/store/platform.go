package store

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	"gorm.io/gorm/clause"

	"github.com/volcard/volcard/internal/clip"
	"github.com/volcard/volcard/issuance"
	"github.com/volcard/volcard/issuance/platformlink"
)

var _ platformlink.Store = (*Store)(nil)

// platformRequestRow is a row of platform_requests.
type platformRequestRow struct {
	ID            int64 `gorm:"primaryKey"`
	VolunteerID   int64
	State         string
	Attempts      int
	NextAttemptMS int64 `gorm:"column:next_attempt_ms"`
	Number        string
	Matched       bool
	LastError     string
	LeaseOwner    string
	LeaseUntilMS  int64 `gorm:"column:lease_until_ms"`
	CreatedAt     time.Time
	UpdatedAt     time.Time
}

func (platformRequestRow) TableName() string { return "platform_requests" }

func (r platformRequestRow) request() platformlink.Request {
	return platformlink.Request{ID: r.ID, VolunteerID: r.VolunteerID, State: platformlink.State(r.State),
		Attempts: r.Attempts, NextAttemptAt: fromMS(r.NextAttemptMS), Number: r.Number, Matched: r.Matched,
		LastError: r.LastError, LeaseOwner: r.LeaseOwner, LeaseUntil: fromMS(r.LeaseUntilMS),
		CreatedAt: r.CreatedAt.UTC(), UpdatedAt: r.UpdatedAt.UTC()}
}

// enqueuePlatform writes the registration requests of the volunteers among
// vs that go to the platform (issuance.SentToPlatform), in the caller's
// transaction.
func (s *Store) enqueuePlatform(ctx context.Context, vs ...*issuance.Volunteer) error {
	var rows []platformRequestRow
	for _, v := range vs {
		if issuance.SentToPlatform(*v) {
			at := v.CreatedAt.UTC()
			if at.IsZero() {
				at = time.Now().UTC()
			}
			rows = append(rows, platformRequestRow{VolunteerID: v.ID, State: string(platformlink.StatePending),
				NextAttemptMS: ms(at), CreatedAt: at, UpdatedAt: at})
		}
	}
	if len(rows) == 0 {
		return nil
	}
	if err := s.DB(ctx).CreateInBatches(&rows, insertBatch).Error; err != nil {
		return fmt.Errorf("enqueue platform requests: %w", mapErr(err))
	}
	return nil
}

// ClaimPlatformRequests implements platformlink.Queue as ClaimBankRequests
// does: FOR UPDATE SKIP LOCKED on PostgreSQL, and the rows of a cluster
// member that is gone are taken over at once.
func (s *Store) ClaimPlatformRequests(ctx context.Context, c platformlink.Claim) ([]platformlink.Request, error) {
	if c.Owner == "" || c.Limit <= 0 || c.Lease <= 0 {
		return nil, errors.New("claim platform requests: owner, limit and lease required")
	}
	now := c.Now.UnixMilli()
	lock, gone := "", ""
	if s.dialect == Postgres {
		lock = " FOR UPDATE SKIP LOCKED"
		gone = `
			   OR (state = 'in_flight' AND lease_owner LIKE '` + MemberPrefix + `%' AND NOT EXISTS (
			       SELECT 1 FROM pg_stat_activity a WHERE a.application_name = split_part(p.lease_owner, '/', 1)))`
	}
	sql := `UPDATE platform_requests
		SET state = 'in_flight', lease_owner = ?, lease_until_ms = ?, attempts = attempts + 1, updated_at = ?
		WHERE id IN (
			SELECT id FROM platform_requests p
			WHERE (state = 'pending' AND next_attempt_ms <= ?)
			   OR (state = 'in_flight' AND lease_until_ms < ?)` + gone + `
			ORDER BY next_attempt_ms, id
			LIMIT ?` + lock + `)
		RETURNING *`
	var rows []platformRequestRow
	if err := s.DB(ctx).Raw(sql, c.Owner, now+c.Lease.Milliseconds(), c.Now.UTC(), now, now, c.Limit).Scan(&rows).Error; err != nil {
		return nil, fmt.Errorf("claim platform requests: %w", mapErr(err))
	}
	out := make([]platformlink.Request, len(rows))
	for i, r := range rows {
		out[i] = r.request()
	}
	return out, nil
}

// SavePlatformRequest implements platformlink.Queue.
func (s *Store) SavePlatformRequest(ctx context.Context, r *platformlink.Request, owner string) error {
	up := map[string]any{"state": string(r.State), "number": r.Number, "matched": r.Matched,
		"last_error": clip.Bytes(r.LastError, 500), "next_attempt_ms": ms(r.NextAttemptAt), "updated_at": r.UpdatedAt.UTC()}
	if r.State != platformlink.StateInFlight {
		up["lease_owner"], up["lease_until_ms"] = "", 0
	}
	res := s.DB(ctx).Model(&platformRequestRow{}).
		Where("id = ? AND state = 'in_flight' AND lease_owner = ?", r.ID, owner).Updates(up)
	if res.Error != nil {
		return fmt.Errorf("save platform request %d: %w", r.ID, mapErr(res.Error))
	}
	if res.RowsAffected == 0 {
		return fmt.Errorf("save platform request %d: lease lost: %w", r.ID, issuance.ErrConflict)
	}
	return nil
}

// ListPlatformRequests implements platformlink.Admin.
func (s *Store) ListPlatformRequests(ctx context.Context, f platformlink.Filter) ([]platformlink.Request, error) {
	q := s.DB(ctx).Model(&platformRequestRow{}).Order("id DESC").Limit(f.Limit)
	if f.State != "" {
		q = q.Where("state = ?", string(f.State))
	}
	if f.BeforeID > 0 {
		q = q.Where("id < ?", f.BeforeID)
	}
	var rows []platformRequestRow
	if err := q.Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("list platform requests: %w", mapErr(err))
	}
	out := make([]platformlink.Request, len(rows))
	for i, r := range rows {
		out[i] = r.request()
	}
	return out, nil
}

// RetryPlatformRequest implements platformlink.Admin.
func (s *Store) RetryPlatformRequest(ctx context.Context, id int64, note string, now time.Time) (platformlink.Request, error) {
	var out platformlink.Request
	err := s.InTx(ctx, func(ctx context.Context) error {
		var r platformRequestRow
		q := s.DB(ctx).Where("id = ?", id)
		if s.dialect == Postgres {
			q = q.Clauses(clause.Locking{Strength: "UPDATE"})
		}
		if err := q.Take(&r).Error; err != nil {
			return mapErr(err)
		}
		if r.State != string(platformlink.StateFailed) {
			return platformlink.ErrNotFailed
		}
		r.State, r.NextAttemptMS, r.UpdatedAt = string(platformlink.StatePending), ms(now), now.UTC()
		r.LastError = clip.Bytes(r.LastError+"; "+note, 500)
		if err := s.DB(ctx).Model(&platformRequestRow{}).Where("id = ?", id).Updates(map[string]any{
			"state": r.State, "next_attempt_ms": r.NextAttemptMS, "last_error": r.LastError, "updated_at": r.UpdatedAt,
		}).Error; err != nil {
			return mapErr(err)
		}
		out = r.request()
		return nil
	})
	return out, err
}

// CountPlatformRequests implements platformlink.Admin.
func (s *Store) CountPlatformRequests(ctx context.Context) (map[platformlink.State]int64, error) {
	var rows []struct {
		State string
		N     int64
	}
	if err := s.DB(ctx).Raw("SELECT state, COUNT(*) AS n FROM platform_requests GROUP BY state").Scan(&rows).Error; err != nil {
		return nil, fmt.Errorf("count platform requests: %w", mapErr(err))
	}
	out := map[platformlink.State]int64{}
	for _, r := range rows {
		out[platformlink.State(r.State)] = r.N
	}
	return out, nil
}

// SetPlatformNumber implements platformlink.Numbers. It writes
// volunteer.updated (fields ["volunteer_number"]) to the feed in the same
// transaction.
func (s *Store) SetPlatformNumber(ctx context.Context, c platformlink.NumberChange) error {
	return s.InTx(ctx, func(ctx context.Context) error {
		res := s.DB(ctx).Exec("UPDATE volunteers SET volunteer_number = ? WHERE id = ? AND volunteer_number = ?",
			c.To, c.VolunteerID, c.From)
		if res.Error != nil {
			err := mapErr(res.Error)
			var ce *issuance.ConflictError
			if errors.As(err, &ce) {
				return &issuance.ConflictError{What: "platform_number"}
			}
			return err
		}
		if res.RowsAffected == 0 {
			return fmt.Errorf("volunteer %d no longer holds the expected number: %w", c.VolunteerID, issuance.ErrConflict)
		}
		if err := s.DB(ctx).Exec(`INSERT INTO volunteer_number_changes
			(volunteer_id, from_number, to_number, source, actor_token_id, actor_role, reason, at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
			c.VolunteerID, c.From, c.To, string(c.Source), c.ActorTokenID, string(c.ActorRole), clip.Bytes(c.Reason, 500),
			c.At.UTC()).Error; err != nil {
			return mapErr(err)
		}
		if err := s.recordVolunteerUpdated(ctx, c.VolunteerID, []string{"volunteer_number"},
			map[string]any{"number_source": string(c.Source)}, c.At); err != nil {
			return err
		}
		if c.Source == platformlink.NumberFromStaff {
			return s.closePlatformRequests(ctx, []int64{c.VolunteerID}, []string{c.To}, "number set by staff", c.At)
		}
		return nil
	})
}

// closePlatformRequests ends the open (pending or failed) registration
// requests of these volunteers as done and matched with their numbers.
func (s *Store) closePlatformRequests(ctx context.Context, ids []int64, numbers []string, note string, at time.Time) error {
	for i, id := range ids {
		if err := s.DB(ctx).Exec(`UPDATE platform_requests SET state = 'done', matched = TRUE, number = ?,
			last_error = ?, updated_at = ? WHERE volunteer_id = ? AND state IN ('pending', 'failed')`,
			numbers[i], note, at.UTC(), id).Error; err != nil {
			return fmt.Errorf("close platform requests: %w", mapErr(err))
		}
	}
	return nil
}

// sortedRejects joins a batch's rejects in line order.
func sortedRejects(pre, plan []platformlink.Reject) []platformlink.Reject {
	out := append(append(make([]platformlink.Reject, 0, len(pre)+len(plan)), pre...), plan...)
	slices.SortStableFunc(out, func(a, b platformlink.Reject) int { return cmp.Compare(a.Line, b.Line) })
	return out
}

// importBatchRow is a row of import_batches.
type importBatchRow struct {
	ImportID string
	Seq      int
	Kind     string
	RowsIn   int
	Created  int
	Updated  int
	Rejects  string
	DoneAt   time.Time
}

func (importBatchRow) TableName() string { return "import_batches" }

func (r importBatchRow) result() (platformlink.BatchResult, error) {
	out := platformlink.BatchResult{BatchKey: platformlink.BatchKey{ImportID: r.ImportID, Seq: r.Seq, Kind: r.Kind},
		Rows: r.RowsIn, Created: r.Created, Updated: r.Updated}
	if err := json.Unmarshal([]byte(r.Rejects), &out.Rejects); err != nil {
		return out, fmt.Errorf("import batch %s/%d: rejects: %w", r.ImportID, r.Seq, err)
	}
	return out, nil
}

// ImportResults implements platformlink.Imports.
func (s *Store) ImportResults(ctx context.Context, importID string) ([]platformlink.BatchResult, error) {
	var rows []importBatchRow
	if err := s.DB(ctx).Where("import_id = ?", importID).Order("seq").Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("import results: %w", mapErr(err))
	}
	out := make([]platformlink.BatchResult, len(rows))
	for i, r := range rows {
		var err error
		if out[i], err = r.result(); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// ImportBatch implements platformlink.Imports.
func (s *Store) ImportBatch(ctx context.Context, key platformlink.BatchKey, rows int, pre []platformlink.Reject,
	numbers []string, indexes [][]byte, plan func([]platformlink.Existing) platformlink.Plan) (platformlink.BatchResult, error) {
	if s.dialect == Postgres {
		return s.importBatchPostgres(ctx, key, rows, pre, numbers, indexes, plan)
	}
	var out platformlink.BatchResult
	err := s.InTx(ctx, func(ctx context.Context) error {
		var done importBatchRow
		err := s.DB(ctx).Where("import_id = ? AND seq = ?", key.ImportID, key.Seq).Take(&done).Error
		if err == nil {
			out, err = done.result()
			out.Replayed = true
			return err
		}
		if err = mapErr(err); !errors.Is(err, issuance.ErrNotFound) {
			return err
		}
		var existing []platformlink.Existing
		if len(numbers) > 0 || len(indexes) > 0 {
			q := s.DB(ctx).Table("volunteers").Select(`id, volunteer_number AS number, id_number_idx AS "index", platform_minutes AS minutes`)
			switch {
			case len(numbers) > 0 && len(indexes) > 0:
				q = q.Where("volunteer_number IN ? OR id_number_idx IN ?", numbers, indexes)
			case len(numbers) > 0:
				q = q.Where("volunteer_number IN ?", numbers)
			default:
				q = q.Where("id_number_idx IN ?", indexes)
			}
			if err := q.Scan(&existing).Error; err != nil {
				return mapErr(err)
			}
		}
		p := plan(existing)
		if err := s.insertBatched(ctx, "volunteers", volunteerColumns[1:], len(p.Insert), func(i int) []any {
			return volunteerValues(p.Insert[i])[1:]
		}); err != nil {
			return err
		}
		now := time.Now().UTC()
		for _, v := range p.Update {
			if err := s.DB(ctx).Exec(`UPDATE volunteers SET name = ?, emboss_name = ?, phone_enc = ?, party_member = ?,
				clothing_size = ?, volunteer_number = ? WHERE id = ?`, v.Name, v.EmbossName, v.PhoneSealed, v.PartyMember,
				string(v.ClothingSize), v.VolunteerNumber, v.ID).Error; err != nil {
				return mapErr(err)
			}
		}
		if err := s.recordMatches(ctx, p.Update, existing, now); err != nil {
			return err
		}
		for _, h := range p.Hours {
			if err := s.DB(ctx).Exec("UPDATE volunteers SET platform_minutes = ? WHERE id = ?", h.Minutes, h.ID).Error; err != nil {
				return mapErr(err)
			}
		}
		out, err = s.saveImportBatch(ctx, key, rows, pre, p, now)
		return err
	})
	return out, err
}

// recordMatches audits the numbers an import set on volunteers who had
// none and closes their open registration requests.
func (s *Store) recordMatches(ctx context.Context, updates []issuance.Volunteer, existing []platformlink.Existing, at time.Time) error {
	had := make(map[int64]string, len(existing))
	for _, e := range existing {
		had[e.ID] = e.Number
	}
	var ids []int64
	var numbers []string
	for _, v := range updates {
		if had[v.ID] == "" {
			ids, numbers = append(ids, v.ID), append(numbers, v.VolunteerNumber)
			if err := s.DB(ctx).Exec(`INSERT INTO volunteer_number_changes
				(volunteer_id, from_number, to_number, source, reason, at) VALUES (?, '', ?, 'platform', 'bulk import: matched by ID number', ?)`,
				v.ID, v.VolunteerNumber, at).Error; err != nil {
				return mapErr(err)
			}
		}
	}
	return s.closePlatformRequests(ctx, ids, numbers, "matched by the platform's bulk import", at)
}

func (s *Store) saveImportBatch(ctx context.Context, key platformlink.BatchKey, rows int, pre []platformlink.Reject,
	p platformlink.Plan, at time.Time) (platformlink.BatchResult, error) {
	rejects := sortedRejects(pre, p.Rejects)
	j, err := json.Marshal(rejects)
	if err != nil {
		return platformlink.BatchResult{}, err
	}
	out := platformlink.BatchResult{BatchKey: key, Rows: rows, Created: len(p.Insert), Updated: len(p.Update) + len(p.Hours),
		Rejects: rejects}
	row := importBatchRow{ImportID: key.ImportID, Seq: key.Seq, Kind: key.Kind, RowsIn: rows, Created: out.Created,
		Updated: out.Updated, Rejects: string(j), DoneAt: at}
	if err := s.DB(ctx).Create(&row).Error; err != nil {
		return platformlink.BatchResult{}, fmt.Errorf("save import batch: %w", mapErr(err))
	}
	return out, nil
}
