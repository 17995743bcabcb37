package store

import (
	"context"
	"time"

	"github.com/volcard/volcard/issuance"
)

// auditRow is a row of audit_events (migration 00250).
type auditRow struct {
	ID           int64 `gorm:"primaryKey"`
	Kind         string
	Subject      string
	SubjectID    string
	OrgPath      string
	ActorTokenID int64
	ActorRole    string
	Detail       string
	At           time.Time
}

func (auditRow) TableName() string { return "audit_events" }

// AppendAudit implements issuance.AuditRepo.
func (s *Store) AppendAudit(ctx context.Context, e *issuance.AuditEvent) error {
	r := auditRow{Kind: string(e.Kind), Subject: e.Subject, SubjectID: e.SubjectID, OrgPath: e.OrgPath,
		ActorTokenID: e.ActorTokenID, ActorRole: string(e.ActorRole), Detail: e.Detail, At: e.At.UTC()}
	if err := s.DB(ctx).Create(&r).Error; err != nil {
		return mapErr(err)
	}
	e.ID = r.ID
	return nil
}

// ListAudit implements issuance.AuditRepo.
func (s *Store) ListAudit(ctx context.Context, q issuance.AuditQuery) ([]issuance.AuditEvent, error) {
	db := s.DB(ctx)
	if q.Subject != "" {
		db = db.Where("subject = ?", q.Subject)
	}
	if q.SubjectID != "" {
		db = db.Where("subject_id = ?", q.SubjectID)
	}
	if q.Kind != "" {
		db = db.Where("kind = ?", string(q.Kind))
	}
	if q.BeforeID > 0 {
		db = db.Where("id < ?", q.BeforeID)
	}
	var rows []auditRow
	if err := db.Order("id DESC").Limit(q.Limit).Find(&rows).Error; err != nil {
		return nil, mapErr(err)
	}
	out := make([]issuance.AuditEvent, len(rows))
	for i, r := range rows {
		out[i] = issuance.AuditEvent{ID: r.ID, Kind: issuance.AuditKind(r.Kind), Subject: r.Subject,
			SubjectID: r.SubjectID, OrgPath: r.OrgPath, ActorTokenID: r.ActorTokenID,
			ActorRole: issuance.Role(r.ActorRole), Detail: r.Detail, At: r.At.UTC()}
	}
	return out, nil
}

// UpdateOrg implements issuance.OrgRepoUpdater.
func (s *Store) UpdateOrg(ctx context.Context, o *issuance.Org) error {
	res := s.DB(ctx).Model(&orgRow{}).Where("id = ?", o.ID).Updates(map[string]any{
		"resident_population": o.ResidentPopulation, "population_year": o.PopulationYear,
		"league_members":   o.LeagueMembers,
		"responsible_name": o.Responsible.Name, "responsible_position": o.Responsible.Position,
		"responsible_phone": o.Responsible.PhoneSealed,
		"liaison_name":      o.Liaison.Name, "liaison_position": o.Liaison.Position, "liaison_phone": o.Liaison.PhoneSealed,
		"instant_issuance": o.InstantIssuance,
	})
	if res.Error != nil {
		return mapErr(res.Error)
	}
	if res.RowsAffected == 0 {
		return issuance.ErrNotFound
	}
	return nil
}
