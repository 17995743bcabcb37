package store

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/volcard/volcard/issuance"
	"github.com/volcard/volcard/issuance/feed"
)

// likePrefix returns a LIKE pattern matching strings starting with p. Paths
// hold only digits and slashes, but escape anyway.
func likePrefix(p string) string {
	r := strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`)
	return r.Replace(p) + "%"
}

// scoped adds the scope's WHERE clauses. bank applies the bank filter
// (applications only).
func scoped(q *gorm.DB, sc issuance.Scope, bank bool) *gorm.DB {
	if sc.PathPrefix != "" {
		q = q.Where(`org_path LIKE ? ESCAPE '\'`, likePrefix(sc.PathPrefix))
	}
	if bank && sc.BankCode != "" {
		q = q.Where("bank_code = ?", sc.BankCode)
	}
	return q
}

// scopedVolunteers is scoped for the volunteers table: the org path, and
// with sc.Holders only people with an application at that bank.
func scopedVolunteers(q *gorm.DB, sc issuance.Scope) *gorm.DB {
	q = scoped(q, sc, false)
	if sc.Holders != "" {
		q = q.Where("EXISTS (SELECT 1 FROM applications a WHERE a.volunteer_id = volunteers.id AND a.bank_code = ?)", sc.Holders)
	}
	return q
}

// CreateOrg implements issuance.OrgRepo.
func (s *Store) CreateOrg(ctx context.Context, o *issuance.Org) error {
	return s.InTx(ctx, func(ctx context.Context) error {
		db := s.DB(ctx)
		parentPath := "/"
		if o.ParentID != 0 {
			var p orgRow
			if err := db.Select("path").Take(&p, o.ParentID).Error; err != nil {
				return fmt.Errorf("parent org: %w", mapErr(err))
			}
			parentPath = p.Path
		}
		r := orgToRow(o)
		r.Path = ""
		if err := db.Create(&r).Error; err != nil {
			return mapErr(err)
		}
		r.Path = parentPath + strconv.FormatInt(r.ID, 10) + "/"
		if err := db.Model(&orgRow{}).Where("id = ?", r.ID).Update("path", r.Path).Error; err != nil {
			return mapErr(err)
		}
		o.ID, o.Path = r.ID, r.Path
		return nil
	})
}

// GetOrg implements issuance.OrgRepo. The scope applies to the org's path.
func (s *Store) GetOrg(ctx context.Context, id int64, sc issuance.Scope) (issuance.Org, error) {
	var r orgRow
	q := s.DB(ctx).Where("id = ?", id)
	if sc.PathPrefix != "" {
		q = q.Where(`path LIKE ? ESCAPE '\'`, likePrefix(sc.PathPrefix))
	}
	if err := q.Take(&r).Error; err != nil {
		return issuance.Org{}, mapErr(err)
	}
	return r.domain(), nil
}

// FindOrg implements issuance.OrgRepo.
func (s *Store) FindOrg(ctx context.Context, parentID int64, name string) (issuance.Org, error) {
	var r orgRow
	q := s.DB(ctx).Where("name = ?", name)
	if parentID == 0 {
		q = q.Where("parent_id IS NULL")
	} else {
		q = q.Where("parent_id = ?", parentID)
	}
	if err := q.Take(&r).Error; err != nil {
		return issuance.Org{}, mapErr(err)
	}
	return r.domain(), nil
}

// CreateVolunteer implements issuance.VolunteerRepo.
func (s *Store) CreateVolunteer(ctx context.Context, v *issuance.Volunteer) error {
	return s.InTx(ctx, func(ctx context.Context) error {
		r := volunteerToRow(v)
		if err := s.DB(ctx).Create(&r).Error; err != nil {
			return mapErr(err)
		}
		v.ID = r.ID
		if err := s.recordVolunteersCreated(ctx, r.ID); err != nil {
			return err
		}
		// A person registered at a branch or on site goes to the platform:
		// its request is written with the volunteer, or neither is.
		return s.enqueuePlatform(ctx, v)
	})
}

// GetVolunteer implements issuance.VolunteerRepo.
func (s *Store) GetVolunteer(ctx context.Context, id int64, sc issuance.Scope) (issuance.Volunteer, error) {
	var r volunteerRow
	if err := scopedVolunteers(s.DB(ctx).Where("id = ?", id), sc).Take(&r).Error; err != nil {
		return issuance.Volunteer{}, mapErr(err)
	}
	return r.domain(), nil
}

// FindVolunteerByIndex implements issuance.VolunteerRepo.
func (s *Store) FindVolunteerByIndex(ctx context.Context, index []byte, sc issuance.Scope) (issuance.Volunteer, error) {
	var r volunteerRow
	if err := scopedVolunteers(s.DB(ctx).Where("id_number_idx = ?", index), sc).Take(&r).Error; err != nil {
		return issuance.Volunteer{}, mapErr(err)
	}
	return r.domain(), nil
}

// CreateApplication implements issuance.ApplicationRepo.
func (s *Store) CreateApplication(ctx context.Context, a *issuance.Application) error {
	r := applicationToRow(a)
	if err := s.DB(ctx).Create(&r).Error; err != nil {
		return mapErr(err)
	}
	a.ID = r.ID
	return nil
}

// GetApplication implements issuance.ApplicationRepo.
func (s *Store) GetApplication(ctx context.Context, id int64, sc issuance.Scope) (issuance.Application, error) {
	var r applicationRow
	if err := scoped(s.DB(ctx).Where("id = ?", id), sc, true).Take(&r).Error; err != nil {
		return issuance.Application{}, mapErr(err)
	}
	return r.domain(), nil
}

// GetApplicationByNumber implements issuance.ApplicationRepo.
func (s *Store) GetApplicationByNumber(ctx context.Context, number string) (issuance.Application, error) {
	var r applicationRow
	if err := s.DB(ctx).Where("number = ?", number).Take(&r).Error; err != nil {
		return issuance.Application{}, mapErr(err)
	}
	return r.domain(), nil
}

// UpdateApplicationStatus implements issuance.ApplicationRepo.
func (s *Store) UpdateApplicationStatus(ctx context.Context, a *issuance.Application, from issuance.Status) error {
	res := s.DB(ctx).Model(&applicationRow{}).
		Where("id = ? AND status = ? AND version = ?", a.ID, string(from), a.Version).
		Updates(map[string]any{
			"status": string(a.Status), "reason": a.Reason,
			"updated_at": a.UpdatedAt.UTC(), "version": a.Version + 1,
		})
	if res.Error != nil {
		return mapErr(res.Error)
	}
	if res.RowsAffected != 1 {
		return fmt.Errorf("application %d changed concurrently: %w", a.ID, issuance.ErrConflict)
	}
	a.Version++
	return nil
}

// ListApplications implements issuance.ApplicationRepo.
func (s *Store) ListApplications(ctx context.Context, q issuance.ApplicationQuery) ([]issuance.Application, error) {
	db := scoped(s.DB(ctx), q.Scope, true)
	if q.OrgPath != "" {
		db = db.Where(`org_path LIKE ? ESCAPE '\'`, likePrefix(q.OrgPath))
	}
	if q.Status != "" {
		db = db.Where("status = ?", string(q.Status))
	}
	if q.ProductCode != "" {
		db = db.Where("product_code = ?", q.ProductCode)
	}
	if q.Channel != "" {
		db = db.Where("channel = ?", string(q.Channel))
	}
	if q.BeforeID > 0 {
		db = db.Where("id < ?", q.BeforeID)
	}
	limit := q.Limit
	if limit <= 0 {
		limit = issuance.DefaultPageSize
	}
	// The organisation's and the applicant's names come from correlated
	// subqueries (primary key lookups) in the same statement, for staff
	// lists.
	var rows []struct {
		App           applicationRow `gorm:"embedded"`
		OrgName       string
		VolunteerName string
	}
	db = db.Table("applications").
		Select("applications.*, COALESCE((SELECT o.name FROM orgs o WHERE o.id = applications.org_id), '') AS org_name, " +
			"COALESCE((SELECT v.name FROM volunteers v WHERE v.id = applications.volunteer_id), '') AS volunteer_name")
	if err := db.Order("id DESC").Limit(limit).Find(&rows).Error; err != nil {
		return nil, mapErr(err)
	}
	out := make([]issuance.Application, len(rows))
	for i, r := range rows {
		out[i] = r.App.domain()
		out[i].OrgName = r.OrgName
		out[i].VolunteerName = r.VolunteerName
	}
	return out, nil
}

// AppendEvent implements issuance.EventRepo.
func (s *Store) AppendEvent(ctx context.Context, e *issuance.Event) error {
	r := eventRow{
		ApplicationID: e.ApplicationID, FromStatus: string(e.From), ToStatus: string(e.To),
		ActorTokenID: e.ActorTokenID, ActorRole: string(e.ActorRole), Channel: string(e.Channel),
		Reason: e.Reason, At: e.At.UTC(),
	}
	return s.InTx(ctx, func(ctx context.Context) error {
		if err := s.DB(ctx).Create(&r).Error; err != nil {
			return mapErr(err)
		}
		e.ID = r.ID
		return s.recordApplicationEvents(ctx, r.ID)
	})
}

// ListEvents implements issuance.EventRepo.
func (s *Store) ListEvents(ctx context.Context, applicationID int64) ([]issuance.Event, error) {
	var rows []eventRow
	if err := s.DB(ctx).Where("application_id = ?", applicationID).Order("id").Find(&rows).Error; err != nil {
		return nil, mapErr(err)
	}
	out := make([]issuance.Event, len(rows))
	for i, r := range rows {
		out[i] = r.domain()
	}
	return out, nil
}

// PutBank implements issuance.CatalogRepo.
func (s *Store) PutBank(ctx context.Context, b issuance.Bank) error {
	r := bankRow{Code: b.Code, Name: b.Name}
	err := s.DB(ctx).Clauses(clause.OnConflict{
		Columns:   []clause.Column{{Name: "code"}},
		DoUpdates: clause.AssignmentColumns([]string{"name"}),
	}).Create(&r).Error
	return mapErr(err)
}

// GetBank implements issuance.CatalogRepo.
func (s *Store) GetBank(ctx context.Context, code string) (issuance.Bank, error) {
	var r bankRow
	if err := s.DB(ctx).Where("code = ?", code).Take(&r).Error; err != nil {
		return issuance.Bank{}, mapErr(err)
	}
	return issuance.Bank{Code: r.Code, Name: r.Name}, nil
}

// PutProduct implements issuance.CatalogRepo.
func (s *Store) PutProduct(ctx context.Context, p issuance.Product) error {
	r := productRow{Code: p.Code, Name: p.Name, BankCode: p.BankCode, BIN: p.BIN, AID: p.AID,
		Kind: string(p.Kind), OrgID: p.OrgID, OrgPath: p.OrgPath}
	err := s.DB(ctx).Clauses(clause.OnConflict{
		Columns:   []clause.Column{{Name: "code"}},
		DoUpdates: clause.AssignmentColumns([]string{"name", "bank_code", "bin", "aid", "kind", "org_id", "org_path"}),
	}).Create(&r).Error
	return mapErr(err)
}

// GetProduct implements issuance.CatalogRepo.
func (s *Store) GetProduct(ctx context.Context, code string) (issuance.Product, error) {
	var r productRow
	if err := s.DB(ctx).Where("code = ?", code).Take(&r).Error; err != nil {
		return issuance.Product{}, mapErr(err)
	}
	return r.domain(), nil
}

// ListProducts implements issuance.CatalogRepo.
func (s *Store) ListProducts(ctx context.Context) ([]issuance.Product, error) {
	var rows []productRow
	if err := s.DB(ctx).Order("code").Find(&rows).Error; err != nil {
		return nil, mapErr(err)
	}
	out := make([]issuance.Product, len(rows))
	for i, r := range rows {
		out[i] = r.domain()
	}
	return out, nil
}

// PutBranch implements issuance.CatalogRepo: insert or update by bank, city
// and name; br.ID is set.
func (s *Store) PutBranch(ctx context.Context, br *issuance.Branch) error {
	return s.InTx(ctx, func(ctx context.Context) error {
		db := s.DB(ctx)
		var existing branchRow
		err := db.Where("bank_code = ? AND org_id = ? AND name = ?", br.BankCode, br.OrgID, br.Name).Take(&existing).Error
		r := branchRow{BankCode: br.BankCode, OrgID: br.OrgID, OrgPath: br.OrgPath, Name: br.Name,
			ContactName: br.Contact.Name, ContactPosition: br.Contact.Position, ContactPhone: br.Contact.PhoneSealed}
		switch mapErr(err) {
		case nil:
			r.ID = existing.ID
			err = db.Model(&branchRow{}).Where("id = ?", r.ID).Updates(map[string]any{
				"org_path": r.OrgPath, "contact_name": r.ContactName, "contact_position": r.ContactPosition,
				"contact_phone": r.ContactPhone,
			}).Error
		case issuance.ErrNotFound:
			err = db.Create(&r).Error
		}
		if err != nil {
			return mapErr(err)
		}
		br.ID = r.ID
		return nil
	})
}

// GetBranch implements issuance.CatalogRepo.
func (s *Store) GetBranch(ctx context.Context, id int64) (issuance.Branch, error) {
	var r branchRow
	if err := s.DB(ctx).Where("id = ?", id).Take(&r).Error; err != nil {
		return issuance.Branch{}, mapErr(err)
	}
	return r.domain(), nil
}

// ListBranches implements issuance.CatalogRepo.
func (s *Store) ListBranches(ctx context.Context, bankCode string, orgID int64) ([]issuance.Branch, error) {
	db := s.DB(ctx)
	if bankCode != "" {
		db = db.Where("bank_code = ?", bankCode)
	}
	if orgID != 0 {
		db = db.Where("org_id = ?", orgID)
	}
	var rows []branchRow
	if err := db.Order("id").Find(&rows).Error; err != nil {
		return nil, mapErr(err)
	}
	out := make([]issuance.Branch, len(rows))
	for i, r := range rows {
		out[i] = r.domain()
	}
	return out, nil
}

// CreateToken implements issuance.TokenRepo.
func (s *Store) CreateToken(ctx context.Context, t *issuance.Token) error {
	r := tokenRow{Name: t.Name, Role: string(t.Role), OrgID: t.OrgID, BankCode: t.BankCode, BranchID: t.BranchID,
		ScopePath: t.ScopePath, Hash: t.Hash, Hint: t.Hint, CreatedAt: t.CreatedAt.UTC()}
	if !t.ExpiresAt.IsZero() {
		e := t.ExpiresAt.UTC()
		r.ExpiresAt = &e
	}
	if err := s.DB(ctx).Create(&r).Error; err != nil {
		return mapErr(err)
	}
	t.ID = r.ID
	return nil
}

// GetTokenByHash implements issuance.TokenRepo.
func (s *Store) GetTokenByHash(ctx context.Context, hash []byte) (issuance.Token, error) {
	var r tokenRow
	if err := s.DB(ctx).Where("hash = ?", hash).Take(&r).Error; err != nil {
		return issuance.Token{}, mapErr(err)
	}
	return r.domain(), nil
}

// CountTokens implements issuance.TokenRepo.
func (s *Store) CountTokens(ctx context.Context) (int64, error) {
	var n int64
	if err := s.DB(ctx).Model(&tokenRow{}).Count(&n).Error; err != nil {
		return 0, mapErr(err)
	}
	return n, nil
}

// RevokeToken implements issuance.TokenRepo. Unknown ids are ErrNotFound.
//
// In the same transaction it disables the webhook endpoints the token
// created (disabled_reason "token revoked"): an endpoint does not outlive
// the token that created it.
func (s *Store) RevokeToken(ctx context.Context, id int64, at time.Time) error {
	return s.InTx(ctx, func(ctx context.Context) error {
		res := s.DB(ctx).Model(&tokenRow{}).Where("id = ?", id).
			Where("revoked_at IS NULL").Update("revoked_at", at.UTC())
		if res.Error != nil {
			return mapErr(res.Error)
		}
		if res.RowsAffected == 0 {
			var n int64
			if err := s.DB(ctx).Model(&tokenRow{}).Where("id = ?", id).Count(&n).Error; err != nil {
				return mapErr(err)
			}
			if n == 0 {
				return issuance.ErrNotFound
			}
		}
		return s.disableEndpointsOf(ctx, []int64{id}, feed.DisabledTokenRevoked, at)
	})
}

// GetToken implements issuance.TokenRepo.
func (s *Store) GetToken(ctx context.Context, id int64) (issuance.Token, error) {
	var r tokenRow
	if err := s.DB(ctx).Where("id = ?", id).Take(&r).Error; err != nil {
		return issuance.Token{}, mapErr(err)
	}
	return r.domain(), nil
}

// ListTokens implements issuance.TokenRepo.
func (s *Store) ListTokens(ctx context.Context, q issuance.TokenQuery, now time.Time) ([]issuance.Token, error) {
	db := s.DB(ctx)
	if q.Role != "" {
		db = db.Where("role = ?", string(q.Role))
	}
	if !q.Inactive {
		db = db.Where("revoked_at IS NULL AND (expires_at IS NULL OR expires_at > ?)", now.UTC())
	}
	var rows []tokenRow
	if err := db.Order("id").Find(&rows).Error; err != nil {
		return nil, mapErr(err)
	}
	out := make([]issuance.Token, len(rows))
	for i, r := range rows {
		out[i] = r.domain()
	}
	return out, nil
}

// UpdateToken implements issuance.TokenRepo.
func (s *Store) UpdateToken(ctx context.Context, t issuance.Token) error {
	var exp *time.Time
	if !t.ExpiresAt.IsZero() {
		e := t.ExpiresAt.UTC()
		exp = &e
	}
	res := s.DB(ctx).Model(&tokenRow{}).Where("id = ?", t.ID).Updates(map[string]any{"name": t.Name, "expires_at": exp})
	if res.Error != nil {
		return mapErr(res.Error)
	}
	if res.RowsAffected == 0 {
		return issuance.ErrNotFound
	}
	return nil
}
