package store

// Basic volunteer insurance (issue 18, migration 00220): the policies, the
// enrolments and what the insurer's daily file and the per-organisation
// report read. The rules (which policy, when a cover ends) are in
// issuance/insurance.

import (
	"context"
	"fmt"
	"time"

	"gorm.io/gorm/clause"

	"github.com/volcard/volcard/issuance"
	"github.com/volcard/volcard/issuance/feed"
	"github.com/volcard/volcard/issuance/insurance"
)

var _ insurance.Store = (*Store)(nil)

type policyRow struct {
	ID            int64 `gorm:"primaryKey"`
	Insurer       string
	PolicyNumber  string
	CoverFen      int64
	EffectiveFrom string
	EffectiveTo   string
	CreatedAt     time.Time
}

func (policyRow) TableName() string { return "insurance_policies" }

type policyEventRow struct {
	ID        int64 `gorm:"primaryKey"`
	PolicyID  int64
	Action    string
	ActorRole string
	TokenID   int64
	Detail    string
	At        time.Time
}

func (policyEventRow) TableName() string { return "insurance_policy_events" }

type enrolmentRow struct {
	ID            int64 `gorm:"primaryKey"`
	VolunteerID   int64
	ApplicationID int64
	CardID        *int64
	OrgID         int64
	PolicyID      int64
	OrgPath       string
	CoverFen      int64
	StartsAt      time.Time
	StartDay      string
	EndsAt        *time.Time
	EndDay        string
	EndReason     string
}

func (enrolmentRow) TableName() string { return "insurance_enrolments" }

// ListPolicies implements insurance.Policies.
func (s *Store) ListPolicies(ctx context.Context) ([]insurance.Policy, error) {
	var rows []policyRow
	if err := s.DB(ctx).Order("effective_from").Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("list insurance policies: %w", mapErr(err))
	}
	out := make([]insurance.Policy, len(rows))
	for i, r := range rows {
		out[i] = insurance.Policy{ID: r.ID, Insurer: r.Insurer, PolicyNumber: r.PolicyNumber, CoverFen: r.CoverFen,
			EffectiveFrom: r.EffectiveFrom, EffectiveTo: r.EffectiveTo, CreatedAt: r.CreatedAt.UTC()}
	}
	return out, nil
}

// AddPolicy implements insurance.Policies.
func (s *Store) AddPolicy(ctx context.Context, p *insurance.Policy, ev insurance.PolicyEvent) error {
	return s.InTx(ctx, func(ctx context.Context) error {
		if err := s.DB(ctx).Model(&policyRow{}).Where("effective_to = ''").
			Update("effective_to", p.EffectiveFrom).Error; err != nil {
			return fmt.Errorf("end current insurance policy: %w", mapErr(err))
		}
		r := policyRow{Insurer: p.Insurer, PolicyNumber: p.PolicyNumber, CoverFen: p.CoverFen,
			EffectiveFrom: p.EffectiveFrom, EffectiveTo: p.EffectiveTo, CreatedAt: p.CreatedAt.UTC()}
		if err := s.DB(ctx).Create(&r).Error; err != nil {
			return fmt.Errorf("add insurance policy: %w", mapErr(err))
		}
		p.ID = r.ID
		e := policyEventRow{PolicyID: r.ID, Action: ev.Action, ActorRole: string(ev.ActorRole), TokenID: ev.TokenID,
			Detail: ev.Detail, At: ev.At.UTC()}
		if err := s.DB(ctx).Create(&e).Error; err != nil {
			return fmt.Errorf("audit insurance policy: %w", mapErr(err))
		}
		return nil
	})
}

// InsertEnrolment implements insurance.Enrolments with INSERT … ON
// CONFLICT DO NOTHING on the one open enrolment per volunteer. A zero
// CardID takes the application's current card. An enrolment inserted
// writes insurance.enrolled to the feed, in the same transaction.
func (s *Store) InsertEnrolment(ctx context.Context, e *insurance.Enrolment) (bool, error) {
	r := enrolmentRow{VolunteerID: e.VolunteerID, ApplicationID: e.ApplicationID, OrgID: e.OrgID, PolicyID: e.PolicyID,
		OrgPath: e.OrgPath, CoverFen: e.CoverFen, StartsAt: e.StartsAt.UTC(), StartDay: e.StartDay}
	if e.CardID == 0 {
		if c, err := s.GetCardByApplication(ctx, e.ApplicationID); err == nil {
			e.CardID = c.ID
		}
	}
	if e.CardID != 0 {
		id := e.CardID
		r.CardID = &id
	}
	inserted := false
	err := s.InTx(ctx, func(ctx context.Context) error {
		res := s.DB(ctx).Clauses(clause.OnConflict{DoNothing: true}).Create(&r)
		if res.Error != nil {
			return fmt.Errorf("insert insurance enrolment: %w", mapErr(res.Error))
		}
		if res.RowsAffected != 1 {
			return nil
		}
		e.ID, inserted = r.ID, true
		return s.recordEnrolment(ctx, feed.TypeInsuranceEnrolled, r.ID, e.StartsAt)
	})
	return inserted, err
}

// coveringCardStates are the states of a card that keeps its holder
// insured.
var coveringCardStates = []string{string(issuance.BankCardActive), string(issuance.BankCardBlocked)}

// EndEnrolments implements insurance.Enrolments. An enrolment ended
// writes insurance.ended to the feed, in the same transaction.
func (s *Store) EndEnrolments(ctx context.Context, volunteerID, exceptCard int64, endsAt time.Time, endDay, reason string) (bool, error) {
	ended := false
	err := s.InTx(ctx, func(ctx context.Context) error {
		var ids []int64
		if err := s.DB(ctx).Raw("SELECT id FROM insurance_enrolments WHERE volunteer_id = ? AND ends_at IS NULL",
			volunteerID).Scan(&ids).Error; err != nil {
			return fmt.Errorf("end insurance enrolment: %w", mapErr(err))
		}
		if len(ids) == 0 {
			return nil
		}
		res := s.DB(ctx).Exec(`UPDATE insurance_enrolments SET ends_at = ?, end_day = ?, end_reason = ?
			WHERE id IN ? AND ends_at IS NULL AND NOT EXISTS (
				SELECT 1 FROM cards c JOIN applications a ON a.id = c.application_id
				WHERE a.volunteer_id = ? AND c.id <> ? AND c.state IN ?)`,
			endsAt.UTC(), endDay, reason, ids, volunteerID, exceptCard, coveringCardStates)
		if res.Error != nil {
			return fmt.Errorf("end insurance enrolment: %w", mapErr(res.Error))
		}
		if res.RowsAffected == 0 {
			return nil
		}
		ended = true
		for _, id := range ids {
			if err := s.recordEnrolment(ctx, feed.TypeInsuranceEnded, id, time.Time{}); err != nil {
				return err
			}
		}
		return nil
	})
	return ended, err
}

// HolderOfCard implements insurance.Enrolments.
func (s *Store) HolderOfCard(ctx context.Context, cardID int64) (int64, error) {
	var v struct{ VolunteerID int64 }
	err := s.DB(ctx).Raw(`SELECT a.volunteer_id FROM cards c JOIN applications a ON a.id = c.application_id
		WHERE c.id = ?`, cardID).Take(&v).Error
	if err != nil {
		return 0, fmt.Errorf("holder of card %d: %w", cardID, mapErr(err))
	}
	return v.VolunteerID, nil
}

// Enrolments returns every enrolment, oldest first (tests, operators).
func (s *Store) Enrolments(ctx context.Context) ([]insurance.Enrolment, error) {
	var rows []enrolmentRow
	if err := s.DB(ctx).Order("id").Find(&rows).Error; err != nil {
		return nil, mapErr(err)
	}
	out := make([]insurance.Enrolment, len(rows))
	for i, r := range rows {
		out[i] = insurance.Enrolment{ID: r.ID, VolunteerID: r.VolunteerID, ApplicationID: r.ApplicationID,
			CardID: deref(r.CardID), OrgID: r.OrgID, OrgPath: r.OrgPath, PolicyID: r.PolicyID, CoverFen: r.CoverFen,
			StartsAt: r.StartsAt.UTC(), StartDay: r.StartDay, EndDay: r.EndDay, EndReason: r.EndReason}
		if r.EndsAt != nil {
			out[i].EndsAt = r.EndsAt.UTC()
		}
	}
	return out, nil
}

// FileRows implements insurance.Reads: two indexed queries, additions
// then terminations.
func (s *Store) FileRows(ctx context.Context, day string) ([]insurance.FileRow, error) {
	var out []insurance.FileRow
	for _, k := range []struct{ kind, where string }{
		{insurance.RecordAddition, "e.start_day = ?"},
		{insurance.RecordTermination, "e.end_day = ?"},
	} {
		var rows []struct {
			ID           int64
			PolicyNumber string
			Name         string
			IDType       string
			IDNumberEnc  []byte
			Gender       string
			BirthDate    *time.Time
			OrgName      string
			CoverFen     int64
			StartsAt     time.Time
			EndsAt       *time.Time
			EndReason    string
		}
		err := s.DB(ctx).Raw(`SELECT e.id, p.policy_number, v.name, v.id_type, v.id_number_enc, v.gender, v.birth_date,
				o.name AS org_name, e.cover_fen, e.starts_at, e.ends_at, e.end_reason
			FROM insurance_enrolments e JOIN insurance_policies p ON p.id = e.policy_id
			JOIN volunteers v ON v.id = e.volunteer_id JOIN orgs o ON o.id = e.org_id
			WHERE `+k.where+` ORDER BY e.id`, day).Scan(&rows).Error
		if err != nil {
			return nil, fmt.Errorf("insurance file rows: %w", mapErr(err))
		}
		for _, r := range rows {
			fr := insurance.FileRow{Kind: k.kind, EnrolmentID: r.ID, PolicyNumber: r.PolicyNumber, Name: r.Name,
				IDType: r.IDType, IDNumberSealed: r.IDNumberEnc, Gender: r.Gender, OrgName: r.OrgName,
				CoverFen: r.CoverFen, StartsAt: r.StartsAt.UTC(), EndReason: r.EndReason}
			if r.BirthDate != nil {
				fr.BirthDate = r.BirthDate.UTC()
			}
			if r.EndsAt != nil {
				fr.EndsAt = r.EndsAt.UTC()
			}
			out = append(out, fr)
		}
	}
	return out, nil
}

// OrgCounts implements insurance.Reads.
func (s *Store) OrgCounts(ctx context.Context, pathPrefix string) ([]insurance.OrgCount, error) {
	var rows []struct {
		OrgID    int64
		OrgName  string
		OrgKind  string
		OrgPath  string
		Insured  int64
		Ended    int64
		CoverFen int64
	}
	err := s.DB(ctx).Raw(`SELECT e.org_id, o.name AS org_name, o.kind AS org_kind, o.path AS org_path,
			SUM(CASE WHEN e.ends_at IS NULL THEN 1 ELSE 0 END) AS insured,
			SUM(CASE WHEN e.ends_at IS NULL THEN 0 ELSE 1 END) AS ended,
			SUM(CASE WHEN e.ends_at IS NULL THEN e.cover_fen ELSE 0 END) AS cover_fen
		FROM insurance_enrolments e JOIN orgs o ON o.id = e.org_id
		WHERE e.org_path LIKE ? ESCAPE '\'
		GROUP BY e.org_id, o.name, o.kind, o.path`, likePrefix(pathPrefix)).Scan(&rows).Error
	if err != nil {
		return nil, fmt.Errorf("insurance counts: %w", mapErr(err))
	}
	out := make([]insurance.OrgCount, len(rows))
	for i, r := range rows {
		out[i] = insurance.OrgCount{OrgID: r.OrgID, OrgName: r.OrgName, OrgKind: issuance.OrgKind(r.OrgKind),
			OrgPath: r.OrgPath, Insured: r.Insured, Ended: r.Ended, CoverFen: r.CoverFen}
	}
	return out, nil
}
