package store

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/volcard/volcard/issuance/onsite"

	"gorm.io/gorm/clause"

	"github.com/volcard/volcard/issuance"
)

// On-site enrollment storage: implements onsite.Store.
var _ onsite.Store = (*Store)(nil)

// insertBatch bounds multi-row INSERTs (PostgreSQL allows 65,535 bind
// parameters per statement; the widest row here has 17 columns).
const insertBatch = 500

type onsiteSessionRow struct {
	ID            int64 `gorm:"primaryKey"`
	OrgID         int64
	OrgPath       string
	CityID        int64
	ProductCode   string
	BankCode      string
	BranchID      int64
	Site          string
	SessionDate   time.Time
	ExpectedCount int
	Status        string
	Reason        string
	Version       int64
	RequestedBy   int64
	CreatedAt     time.Time
	UpdatedAt     time.Time
}

func (onsiteSessionRow) TableName() string { return "onsite_sessions" }

func (r onsiteSessionRow) domain() onsite.Session {
	y, m, d := r.SessionDate.Date()
	return onsite.Session{
		ID: r.ID, OrgID: r.OrgID, OrgPath: r.OrgPath, CityID: r.CityID, ProductCode: r.ProductCode,
		BankCode: r.BankCode, BranchID: r.BranchID, Site: r.Site, Date: time.Date(y, m, d, 0, 0, 0, 0, time.UTC),
		ExpectedCount: r.ExpectedCount, Status: onsite.SessionStatus(r.Status), Reason: r.Reason,
		Version: r.Version, RequestedBy: r.RequestedBy, CreatedAt: r.CreatedAt.UTC(), UpdatedAt: r.UpdatedAt.UTC(),
	}
}

type sessionEventRow struct {
	ID           int64 `gorm:"primaryKey"`
	SessionID    int64
	FromStatus   string
	ToStatus     string
	ActorTokenID int64
	ActorRole    string
	Reason       string
	At           time.Time
}

func (sessionEventRow) TableName() string { return "onsite_session_events" }

type rosterUploadRow struct {
	ID           int64 `gorm:"primaryKey"`
	SessionID    int64
	SHA256       string `gorm:"column:sha256"`
	Filename     string
	Format       string
	Encoding     string
	RowCount     int
	Accepted     int
	Rejected     int
	ActorTokenID int64
	ActorRole    string
	CreatedAt    time.Time
	LastSeenAt   time.Time
	FinishedAt   *time.Time
	Mode         string
	Removed      int
}

func (rosterUploadRow) TableName() string { return "roster_uploads" }

func (r rosterUploadRow) domain() onsite.RosterUpload {
	u := onsite.RosterUpload{ID: r.ID, SessionID: r.SessionID, SHA256: r.SHA256, Filename: r.Filename,
		Format: r.Format, Encoding: r.Encoding, Rows: r.RowCount, Accepted: r.Accepted, Rejected: r.Rejected,
		ActorTokenID: r.ActorTokenID, ActorRole: issuance.Role(r.ActorRole), CreatedAt: r.CreatedAt.UTC(),
		Mode: onsite.RosterMode(r.Mode), Removed: r.Removed}
	if r.FinishedAt != nil {
		u.FinishedAt = r.FinishedAt.UTC()
	}
	return u
}

type onsiteEntryRow struct {
	ID            int64 `gorm:"primaryKey"`
	SessionID     int64
	UploadID      int64
	Line          int
	IDNumberIdx   []byte `gorm:"column:id_number_idx"`
	VolunteerID   int64
	ApplicationID int64
	Name          string
	NewVolunteer  bool
	VerifiedBy    int64
	VerifiedRole  string
	Personalize   string
	Attempts      int
	Note          string
	CreatedAt     time.Time
	UpdatedAt     time.Time
}

func (onsiteEntryRow) TableName() string { return "onsite_entries" }

func (r onsiteEntryRow) domain() onsite.Entry {
	return onsite.Entry{ID: r.ID, SessionID: r.SessionID, UploadID: r.UploadID, Line: r.Line,
		IDNumberIndex: r.IDNumberIdx, VolunteerID: r.VolunteerID, ApplicationID: r.ApplicationID, Name: r.Name,
		NewVolunteer: r.NewVolunteer, VerifiedBy: r.VerifiedBy, VerifiedRole: issuance.Role(r.VerifiedRole),
		Personalize: onsite.PersonalizeState(r.Personalize), Attempts: r.Attempts, Note: r.Note,
		CreatedAt: r.CreatedAt.UTC(), UpdatedAt: r.UpdatedAt.UTC()}
}

type rosterRejectRow struct {
	ID          int64 `gorm:"primaryKey"`
	UploadID    int64
	SessionID   int64
	Line        int
	Name        string
	IDNumberEnc []byte `gorm:"column:id_number_enc"`
	PhoneEnc    []byte
	League      string
	Size        string
	Emboss      string
	Reasons     string
}

func (rosterRejectRow) TableName() string { return "roster_rejects" }

// CreateOnsiteSession implements onsite.Store.
func (s *Store) CreateOnsiteSession(ctx context.Context, o *onsite.Session) error {
	r := onsiteSessionRow{OrgID: o.OrgID, OrgPath: o.OrgPath, CityID: o.CityID, ProductCode: o.ProductCode,
		BankCode: o.BankCode, BranchID: o.BranchID, Site: o.Site, SessionDate: o.Date.UTC(),
		ExpectedCount: o.ExpectedCount, Status: string(o.Status), Reason: o.Reason, Version: o.Version,
		RequestedBy: o.RequestedBy, CreatedAt: o.CreatedAt.UTC(), UpdatedAt: o.UpdatedAt.UTC()}
	return s.InTx(ctx, func(ctx context.Context) error {
		if err := s.DB(ctx).Create(&r).Error; err != nil {
			return mapErr(err)
		}
		o.ID = r.ID
		return s.recordSession(ctx, r.ID, "")
	})
}

// GetOnsiteSession implements onsite.Store.
func (s *Store) GetOnsiteSession(ctx context.Context, id int64) (onsite.Session, error) {
	var r onsiteSessionRow
	if err := s.DB(ctx).Where("id = ?", id).Take(&r).Error; err != nil {
		return onsite.Session{}, mapErr(err)
	}
	return r.domain(), nil
}

// UpdateOnsiteSessionStatus implements onsite.Store.
func (s *Store) UpdateOnsiteSessionStatus(ctx context.Context, o *onsite.Session, from onsite.SessionStatus) error {
	return s.InTx(ctx, func(ctx context.Context) error {
		res := s.DB(ctx).Model(&onsiteSessionRow{}).
			Where("id = ? AND status = ? AND version = ?", o.ID, string(from), o.Version).
			Updates(map[string]any{"status": string(o.Status), "reason": o.Reason,
				"updated_at": o.UpdatedAt.UTC(), "version": o.Version + 1})
		if res.Error != nil {
			return mapErr(res.Error)
		}
		if res.RowsAffected != 1 {
			return fmt.Errorf("on-site session %d changed concurrently: %w", o.ID, issuance.ErrConflict)
		}
		o.Version++
		if o.Status == from {
			return nil
		}
		return s.recordSession(ctx, o.ID, string(from))
	})
}

// AppendSessionEvent implements onsite.Store.
func (s *Store) AppendSessionEvent(ctx context.Context, e *onsite.SessionEvent) error {
	r := sessionEventRow{SessionID: e.SessionID, FromStatus: string(e.From), ToStatus: string(e.To),
		ActorTokenID: e.ActorTokenID, ActorRole: string(e.ActorRole), Reason: e.Reason, At: e.At.UTC()}
	if err := s.DB(ctx).Create(&r).Error; err != nil {
		return mapErr(err)
	}
	e.ID = r.ID
	return nil
}

// ListSessionEvents implements onsite.Store.
func (s *Store) ListSessionEvents(ctx context.Context, sessionID int64) ([]onsite.SessionEvent, error) {
	var rows []sessionEventRow
	if err := s.DB(ctx).Where("session_id = ?", sessionID).Order("id").Find(&rows).Error; err != nil {
		return nil, mapErr(err)
	}
	out := make([]onsite.SessionEvent, len(rows))
	for i, r := range rows {
		out[i] = onsite.SessionEvent{ID: r.ID, SessionID: r.SessionID, From: onsite.SessionStatus(r.FromStatus),
			To: onsite.SessionStatus(r.ToStatus), ActorTokenID: r.ActorTokenID, ActorRole: issuance.Role(r.ActorRole),
			Reason: r.Reason, At: r.At.UTC()}
	}
	return out, nil
}

// onsiteSummaryRow is a session row with the figures of a list: the names
// of its organisation and branch, its stored entries and the rejected rows
// of its latest upload, each a correlated subquery (indexed) so that the
// page is one statement.
type onsiteSummaryRow struct {
	Session    onsiteSessionRow `gorm:"embedded"`
	OrgName    string
	BranchName string
	Accepted   int
	Rejected   int
}

// onsiteSummarySelect lists a session's columns and its figures.
const onsiteSummarySelect = "onsite_sessions.*, " +
	"COALESCE((SELECT o.name FROM orgs o WHERE o.id = onsite_sessions.org_id), '') AS org_name, " +
	"COALESCE((SELECT b.name FROM branches b WHERE b.id = onsite_sessions.branch_id), '') AS branch_name, " +
	"(SELECT COUNT(*) FROM onsite_entries e WHERE e.session_id = onsite_sessions.id) AS accepted, " +
	"COALESCE((SELECT u.rejected FROM roster_uploads u WHERE u.session_id = onsite_sessions.id " +
	"ORDER BY u.last_seen_at DESC, u.id DESC LIMIT 1), 0) AS rejected"

// ListOnsiteSessions implements onsite.Store.
func (s *Store) ListOnsiteSessions(ctx context.Context, q onsite.SessionQuery) ([]onsite.SessionSummary, error) {
	db := scoped(s.DB(ctx).Table("onsite_sessions").Select(onsiteSummarySelect), q.Scope, true)
	if q.OrgPath != "" {
		db = db.Where(`org_path LIKE ? ESCAPE '\'`, likePrefix(q.OrgPath))
	}
	if q.Status != "" {
		db = db.Where("status = ?", string(q.Status))
	}
	if q.BeforeID > 0 {
		db = db.Where("id < ?", q.BeforeID)
	}
	limit := q.Limit
	if limit <= 0 {
		limit = issuance.DefaultPageSize
	}
	var rows []onsiteSummaryRow
	if err := db.Order("id DESC").Limit(limit).Find(&rows).Error; err != nil {
		return nil, mapErr(err)
	}
	out := make([]onsite.SessionSummary, len(rows))
	for i, r := range rows {
		out[i] = onsite.SessionSummary{Session: r.Session.domain(), OrgName: r.OrgName,
			BranchName: r.BranchName, Accepted: r.Accepted, Rejected: r.Rejected}
		out[i].Branch = issuance.Branch{ID: r.Session.BranchID, BankCode: r.Session.BankCode, Name: r.BranchName}
	}
	return out, nil
}

// PutRosterUpload implements onsite.Store.
func (s *Store) PutRosterUpload(ctx context.Context, u *onsite.RosterUpload) (bool, error) {
	existing := false
	err := s.InTx(ctx, func(ctx context.Context) error {
		db := s.DB(ctx)
		now := u.CreatedAt.UTC()
		r := rosterUploadRow{SessionID: u.SessionID, SHA256: u.SHA256, Filename: u.Filename, Format: u.Format,
			Encoding: u.Encoding, RowCount: u.Rows, ActorTokenID: u.ActorTokenID, ActorRole: string(u.ActorRole),
			CreatedAt: now, LastSeenAt: now, Mode: string(u.Mode)}
		if r.Mode == "" {
			r.Mode = string(onsite.RosterFirst)
		}
		res := db.Clauses(clause.OnConflict{DoNothing: true}).Create(&r)
		if res.Error != nil {
			return mapErr(res.Error)
		}
		if res.RowsAffected == 1 {
			*u = r.domain()
			return nil
		}
		existing = true
		var got rosterUploadRow
		if err := db.Where("session_id = ? AND sha256 = ?", u.SessionID, u.SHA256).Take(&got).Error; err != nil {
			return mapErr(err)
		}
		if err := db.Model(&rosterUploadRow{}).Where("id = ?", got.ID).Update("last_seen_at", now).Error; err != nil {
			return mapErr(err)
		}
		*u = got.domain()
		return nil
	})
	return existing, err
}

// FinishRosterUpload implements onsite.Store.
func (s *Store) FinishRosterUpload(ctx context.Context, u *onsite.RosterUpload) error {
	err := s.DB(ctx).Model(&rosterUploadRow{}).Where("id = ?", u.ID).Updates(map[string]any{
		"row_count": u.Rows, "accepted": u.Accepted, "rejected": u.Rejected, "finished_at": u.FinishedAt.UTC(),
		"removed": u.Removed,
	}).Error
	return mapErr(err)
}

// ListRosterUploads implements onsite.Store: every upload of a session,
// oldest first.
func (s *Store) ListRosterUploads(ctx context.Context, sessionID int64) ([]onsite.RosterUpload, error) {
	var rows []rosterUploadRow
	if err := s.DB(ctx).Where("session_id = ?", sessionID).Order("id").Find(&rows).Error; err != nil {
		return nil, mapErr(err)
	}
	out := make([]onsite.RosterUpload, len(rows))
	for i, r := range rows {
		out[i] = r.domain()
	}
	return out, nil
}

// DeleteOnsiteEntries implements onsite.Store.
func (s *Store) DeleteOnsiteEntries(ctx context.Context, sessionID int64, ids []int64) error {
	if len(ids) == 0 {
		return nil
	}
	return mapErr(s.DB(ctx).Where("session_id = ? AND id IN ?", sessionID, ids).Delete(&onsiteEntryRow{}).Error)
}

// LatestRosterUpload implements onsite.Store: the upload seen
// last (a file uploaded again counts as seen again).
func (s *Store) LatestRosterUpload(ctx context.Context, sessionID int64) (onsite.RosterUpload, error) {
	var r rosterUploadRow
	err := s.DB(ctx).Where("session_id = ?", sessionID).Order("last_seen_at DESC, id DESC").Take(&r).Error
	if err != nil {
		return onsite.RosterUpload{}, mapErr(err)
	}
	return r.domain(), nil
}

// OnsiteEntriesByIndex implements onsite.Store.
func (s *Store) OnsiteEntriesByIndex(ctx context.Context, sessionID int64, idx [][]byte) (map[string]onsite.Entry, error) {
	out := map[string]onsite.Entry{}
	for lo := 0; lo < len(idx); lo += insertBatch {
		var rows []onsiteEntryRow
		err := s.DB(ctx).Where("session_id = ? AND id_number_idx IN ?", sessionID, idx[lo:min(lo+insertBatch, len(idx))]).
			Find(&rows).Error
		if err != nil {
			return nil, mapErr(err)
		}
		for _, r := range rows {
			out[string(r.IDNumberIdx)] = r.domain()
		}
	}
	return out, nil
}

// VolunteersByIndex implements onsite.Store.
func (s *Store) VolunteersByIndex(ctx context.Context, idx [][]byte) (map[string]issuance.Volunteer, error) {
	out := map[string]issuance.Volunteer{}
	for lo := 0; lo < len(idx); lo += insertBatch {
		var rows []volunteerRow
		if err := s.DB(ctx).Where("id_number_idx IN ?", idx[lo:min(lo+insertBatch, len(idx))]).Find(&rows).Error; err != nil {
			return nil, mapErr(err)
		}
		for _, r := range rows {
			out[string(r.IDNumberIdx)] = r.domain()
		}
	}
	return out, nil
}

// LiveApplicationsOf implements onsite.Store.
func (s *Store) LiveApplicationsOf(ctx context.Context, volunteerIDs []int64, productCode string) (map[int64]issuance.Application, error) {
	out := map[int64]issuance.Application{}
	for lo := 0; lo < len(volunteerIDs); lo += insertBatch {
		var rows []applicationRow
		err := s.DB(ctx).Where("volunteer_id IN ? AND product_code = ? AND status NOT IN ?",
			volunteerIDs[lo:min(lo+insertBatch, len(volunteerIDs))], productCode,
			[]string{string(issuance.StatusRejected), string(issuance.StatusBankDeclined), string(issuance.StatusCancelled)}).
			Find(&rows).Error
		if err != nil {
			return nil, mapErr(err)
		}
		for _, r := range rows {
			out[r.VolunteerID] = r.domain()
		}
	}
	return out, nil
}

// createInBatches inserts one row per item, insertBatch rows a statement,
// and gives each item the ID its row was given.
func createInBatches[T, R any](ctx context.Context, s *Store, items []*T, toRow func(*T) R, setID func(*T, R)) error {
	if len(items) == 0 {
		return nil
	}
	rows := make([]R, len(items))
	for i, it := range items {
		rows[i] = toRow(it)
	}
	if err := s.DB(ctx).CreateInBatches(&rows, insertBatch).Error; err != nil {
		return mapErr(err)
	}
	for i, it := range items {
		setID(it, rows[i])
	}
	return nil
}

// CreateVolunteers implements onsite.Store.
func (s *Store) CreateVolunteers(ctx context.Context, vs []*issuance.Volunteer) error {
	return s.InTx(ctx, func(ctx context.Context) error {
		if err := createInBatches(ctx, s, vs, volunteerToRow, func(v *issuance.Volunteer, r volunteerRow) { v.ID = r.ID }); err != nil {
			return err
		}
		ids := make([]int64, len(vs))
		for i, v := range vs {
			ids[i] = v.ID
		}
		if err := s.recordVolunteersCreated(ctx, ids...); err != nil {
			return err
		}
		// People registered on site go to the platform (issuance.SentToPlatform).
		return s.enqueuePlatform(ctx, vs...)
	})
}

// CreateApplications implements onsite.Store.
func (s *Store) CreateApplications(ctx context.Context, as []*issuance.Application) error {
	return createInBatches(ctx, s, as, applicationToRow, func(a *issuance.Application, r applicationRow) { a.ID = r.ID })
}

// AppendEvents implements onsite.Store.
func (s *Store) AppendEvents(ctx context.Context, es []*issuance.Event) error {
	return s.InTx(ctx, func(ctx context.Context) error {
		err := createInBatches(ctx, s, es, func(e *issuance.Event) eventRow {
			return eventRow{ApplicationID: e.ApplicationID, FromStatus: string(e.From), ToStatus: string(e.To),
				ActorTokenID: e.ActorTokenID, ActorRole: string(e.ActorRole), Channel: string(e.Channel),
				Reason: e.Reason, At: e.At.UTC()}
		}, func(e *issuance.Event, r eventRow) { e.ID = r.ID })
		if err != nil {
			return err
		}
		ids := make([]int64, len(es))
		for i, e := range es {
			ids[i] = e.ID
		}
		return s.recordApplicationEvents(ctx, ids...)
	})
}

// CreateOnsiteEntries implements onsite.Store.
func (s *Store) CreateOnsiteEntries(ctx context.Context, es []*onsite.Entry) error {
	return createInBatches(ctx, s, es, func(e *onsite.Entry) onsiteEntryRow {
		return onsiteEntryRow{SessionID: e.SessionID, UploadID: e.UploadID, Line: e.Line, IDNumberIdx: e.IDNumberIndex,
			VolunteerID: e.VolunteerID, ApplicationID: e.ApplicationID, Name: e.Name, NewVolunteer: e.NewVolunteer,
			VerifiedBy: e.VerifiedBy, VerifiedRole: string(e.VerifiedRole), Personalize: string(e.Personalize),
			Attempts: e.Attempts, Note: e.Note, CreatedAt: e.CreatedAt.UTC(), UpdatedAt: e.UpdatedAt.UTC()}
	}, func(e *onsite.Entry, r onsiteEntryRow) { e.ID = r.ID })
}

// PutRosterRejects implements onsite.Store.
func (s *Store) PutRosterRejects(ctx context.Context, rs []*onsite.RosterReject) error {
	if len(rs) == 0 {
		return nil
	}
	rows := make([]rosterRejectRow, len(rs))
	for i, r := range rs {
		reasons, err := json.Marshal(r.Reasons)
		if err != nil {
			return fmt.Errorf("encode reasons: %w", err)
		}
		rows[i] = rosterRejectRow{UploadID: r.UploadID, SessionID: r.SessionID, Line: r.Line, Name: r.Name,
			IDNumberEnc: r.IDNumberSealed, PhoneEnc: r.PhoneSealed, League: r.League, Size: r.Size,
			Emboss: r.Emboss, Reasons: string(reasons)}
	}
	err := s.DB(ctx).Clauses(clause.OnConflict{DoNothing: true}).CreateInBatches(&rows, insertBatch).Error
	return mapErr(err)
}

// ListRosterRejects implements onsite.Store.
func (s *Store) ListRosterRejects(ctx context.Context, uploadID int64) ([]onsite.RosterReject, error) {
	var rows []rosterRejectRow
	if err := s.DB(ctx).Where("upload_id = ?", uploadID).Order("line").Find(&rows).Error; err != nil {
		return nil, mapErr(err)
	}
	out := make([]onsite.RosterReject, len(rows))
	for i, r := range rows {
		out[i] = onsite.RosterReject{ID: r.ID, UploadID: r.UploadID, SessionID: r.SessionID, Line: r.Line,
			Name: r.Name, League: r.League, Size: r.Size, Emboss: r.Emboss,
			IDNumberSealed: r.IDNumberEnc, PhoneSealed: r.PhoneEnc}
		if err := json.Unmarshal([]byte(r.Reasons), &out[i].Reasons); err != nil {
			return nil, fmt.Errorf("rejected row %d: reasons: %w", r.ID, err)
		}
	}
	return out, nil
}

type queueRow struct {
	ID            int64
	SessionID     int64
	UploadID      int64
	Line          int
	IDNumberIdx   []byte `gorm:"column:id_number_idx"`
	VolunteerID   int64
	ApplicationID int64
	Name          string
	NewVolunteer  bool
	VerifiedBy    int64
	VerifiedRole  string
	Personalize   string
	Attempts      int
	Note          string
	CreatedAt     time.Time
	UpdatedAt     time.Time
	Number        string
	Status        string
	EmbossName    string
}

// LockOnsiteSession implements onsite.EntryRepo: on PostgreSQL SELECT …
// FOR UPDATE of the session row and of its entries' applications (an
// approval, which updates the application, waits until the transaction
// ends); on SQLite a no-op, its write transactions (BEGIN IMMEDIATE)
// already exclude each other.
func (s *Store) LockOnsiteSession(ctx context.Context, sessionID int64) error {
	if s.dialect != Postgres {
		return nil
	}
	var ids []int64
	if err := s.DB(ctx).Raw("SELECT id FROM onsite_sessions WHERE id = ? FOR UPDATE", sessionID).Scan(&ids).Error; err != nil {
		return fmt.Errorf("lock on-site session %d: %w", sessionID, mapErr(err))
	}
	if err := s.DB(ctx).Raw(`SELECT a.id FROM applications a JOIN onsite_entries e ON e.application_id = a.id
		WHERE e.session_id = ? ORDER BY a.id FOR UPDATE OF a`, sessionID).Scan(&ids).Error; err != nil {
		return fmt.Errorf("lock on-site applications of session %d: %w", sessionID, mapErr(err))
	}
	return nil
}

// OnsiteQueue implements onsite.Store.
func (s *Store) OnsiteQueue(ctx context.Context, sessionID int64) ([]onsite.QueueItem, error) {
	var rows []queueRow
	err := s.DB(ctx).Table("onsite_entries AS e").
		Select("e.id, e.session_id, e.upload_id, e.line, e.id_number_idx, e.volunteer_id, e.application_id, e.name, "+
			"e.new_volunteer, e.verified_by, e.verified_role, e.personalize, e.attempts, e.note, e.created_at, e.updated_at, "+
			"a.number AS number, a.status AS status, v.emboss_name AS emboss_name").
		Joins("JOIN applications a ON a.id = e.application_id").
		Joins("JOIN volunteers v ON v.id = e.volunteer_id").
		Where("e.session_id = ?", sessionID).Order("e.upload_id, e.line").Scan(&rows).Error
	if err != nil {
		return nil, mapErr(err)
	}
	out := make([]onsite.QueueItem, len(rows))
	for i, r := range rows {
		e := onsiteEntryRow{ID: r.ID, SessionID: r.SessionID, UploadID: r.UploadID, Line: r.Line, IDNumberIdx: r.IDNumberIdx,
			VolunteerID: r.VolunteerID, ApplicationID: r.ApplicationID, Name: r.Name, NewVolunteer: r.NewVolunteer,
			VerifiedBy: r.VerifiedBy, VerifiedRole: r.VerifiedRole, Personalize: r.Personalize, Attempts: r.Attempts,
			Note: r.Note, CreatedAt: r.CreatedAt, UpdatedAt: r.UpdatedAt}
		out[i] = onsite.QueueItem{Entry: e.domain(), ApplicationNumber: r.Number,
			Status: issuance.Status(r.Status), EmbossName: r.EmbossName}
	}
	return out, nil
}

// OnsiteApplicationIDs implements onsite.Store.
func (s *Store) OnsiteApplicationIDs(ctx context.Context, sessionID int64, st issuance.Status) ([]int64, error) {
	var ids []int64
	err := s.DB(ctx).Table("onsite_entries AS e").Select("e.application_id").
		Joins("JOIN applications a ON a.id = e.application_id").
		Where("e.session_id = ? AND a.status = ?", sessionID, string(st)).
		Order("e.upload_id, e.line").Pluck("e.application_id", &ids).Error
	if err != nil {
		return nil, mapErr(err)
	}
	return ids, nil
}

// CountOnsite implements onsite.Store.
func (s *Store) CountOnsite(ctx context.Context, sessionID int64) (onsite.Counts, error) {
	var rows []struct {
		Status      string
		Personalize string
		N           int
	}
	err := s.DB(ctx).Table("onsite_entries AS e").
		Select("a.status AS status, e.personalize AS personalize, COUNT(*) AS n").
		Joins("JOIN applications a ON a.id = e.application_id").
		Where("e.session_id = ?", sessionID).Group("a.status, e.personalize").Scan(&rows).Error
	if err != nil {
		return onsite.Counts{}, mapErr(err)
	}
	var c onsite.Counts
	for _, r := range rows {
		c.Accepted += r.N
		st := issuance.Status(r.Status)
		switch st {
		case issuance.StatusSubmitted:
			c.Submitted += r.N
		case issuance.StatusApproved:
			c.Approved += r.N
		case issuance.StatusRejected, issuance.StatusCancelled:
			c.Cancelled += r.N
		case issuance.StatusBankDeclined:
			c.Sent += r.N
			c.BankDeclined += r.N
		case issuance.StatusBankPending:
			c.Sent += r.N
		case issuance.StatusBankApproved, issuance.StatusPersonalized, issuance.StatusIssued, issuance.StatusActivated:
			c.Sent += r.N
			c.BankApproved += r.N
			if st != issuance.StatusBankApproved {
				c.Personalized += r.N
			}
		}
		if onsite.PersonalizeState(r.Personalize) == onsite.PersonalizeFailed &&
			(st == issuance.StatusBankApproved || st == issuance.StatusBankPending) {
			c.Failed += r.N
		}
	}
	return c, nil
}

// GetOnsiteEntry implements onsite.Store.
func (s *Store) GetOnsiteEntry(ctx context.Context, id int64) (onsite.Entry, error) {
	var r onsiteEntryRow
	if err := s.DB(ctx).Where("id = ?", id).Take(&r).Error; err != nil {
		return onsite.Entry{}, mapErr(err)
	}
	return r.domain(), nil
}

// UpdateOnsiteEntry implements onsite.Store.
func (s *Store) UpdateOnsiteEntry(ctx context.Context, e *onsite.Entry) error {
	res := s.DB(ctx).Model(&onsiteEntryRow{}).Where("id = ?", e.ID).Updates(map[string]any{
		"personalize": string(e.Personalize), "attempts": e.Attempts, "note": e.Note, "updated_at": e.UpdatedAt.UTC(),
	})
	if res.Error != nil {
		return mapErr(res.Error)
	}
	if res.RowsAffected == 0 {
		return issuance.ErrNotFound
	}
	return nil
}
