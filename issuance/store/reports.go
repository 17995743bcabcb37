package store

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/volcard/volcard/issuance/reports"

	"gorm.io/gorm/clause"

	"github.com/volcard/volcard/issuance"
)

var _ reports.Store = (*Store)(nil)

type targetRow struct {
	ID         int64 `gorm:"primaryKey"`
	Year       int
	ScopeOrgID int64
	OrgKind    string
	Indicator  string
	TargetBP   int64 `gorm:"column:target_bp"`
	Note       string
}

func (targetRow) TableName() string { return "targets" }

type counterRow struct {
	OrgID           int64
	Year            int
	Volunteers      int64
	LeagueMembers   int64
	Holders         int64
	CityCardHolders int64
	NewWithCard     int64
}

func (r counterRow) domain() reports.OrgYearCounts {
	return reports.OrgYearCounts{OrgID: r.OrgID, Year: r.Year, Volunteers: r.Volunteers,
		LeagueMembers: r.LeagueMembers, Holders: r.Holders, CityCardHolders: r.CityCardHolders,
		NewWithCard: r.NewWithCard}
}

// yearExpr returns the SQL for the China Standard Time calendar year of a
// timestamp column, as the counter triggers compute it.
func (s *Store) yearExpr(col string) string {
	if s.dialect == Postgres {
		return "EXTRACT(YEAR FROM " + col + " AT TIME ZONE 'Asia/Shanghai')::int"
	}
	return "CAST(strftime('%Y', " + col + ", '+8 hours') AS INTEGER)"
}

// ListOrgs implements reports.Store.
func (s *Store) ListOrgs(ctx context.Context, pathPrefix string) ([]issuance.Org, error) {
	q := s.DB(ctx)
	if pathPrefix != "" {
		q = q.Where(`path LIKE ? ESCAPE '\'`, likePrefix(pathPrefix))
	}
	var rows []orgRow
	if err := q.Order("path").Find(&rows).Error; err != nil {
		return nil, mapErr(err)
	}
	out := make([]issuance.Org, len(rows))
	for i, r := range rows {
		out[i] = r.domain()
	}
	return out, nil
}

// UpdateOrgFigures implements reports.Store.
func (s *Store) UpdateOrgFigures(ctx context.Context, orgID, population int64, populationYear int, leagueMembers int64) error {
	res := s.DB(ctx).Model(&orgRow{}).Where("id = ?", orgID).Updates(map[string]any{
		"resident_population": population, "population_year": populationYear, "league_members": leagueMembers,
	})
	if res.Error != nil {
		return mapErr(res.Error)
	}
	if res.RowsAffected == 0 {
		return issuance.ErrNotFound
	}
	return nil
}

// PutTarget implements reports.Store.
func (s *Store) PutTarget(ctx context.Context, t *reports.Target) error {
	r := targetRow{Year: t.Year, ScopeOrgID: t.ScopeOrgID, OrgKind: string(t.OrgKind),
		Indicator: string(t.Indicator), TargetBP: t.BasisPoints, Note: t.Note}
	err := s.DB(ctx).Clauses(clause.OnConflict{
		Columns:   []clause.Column{{Name: "year"}, {Name: "scope_org_id"}, {Name: "org_kind"}, {Name: "indicator"}},
		DoUpdates: clause.AssignmentColumns([]string{"target_bp", "note"}),
	}).Create(&r).Error
	if err != nil {
		return mapErr(err)
	}
	if r.ID == 0 { // updated in place: fetch the id
		var got targetRow
		if err := s.DB(ctx).Where("year = ? AND scope_org_id = ? AND org_kind = ? AND indicator = ?",
			r.Year, r.ScopeOrgID, r.OrgKind, r.Indicator).Take(&got).Error; err != nil {
			return mapErr(err)
		}
		r.ID = got.ID
	}
	t.ID = r.ID
	return nil
}

// ListTargets implements reports.Store.
func (s *Store) ListTargets(ctx context.Context, year int) ([]reports.Target, error) {
	type row struct {
		ID         int64
		Year       int
		ScopeOrgID int64
		OrgKind    string
		Indicator  string
		TargetBP   int64 `gorm:"column:target_bp"`
		Note       string
		ScopePath  string
	}
	q := s.DB(ctx).Table("targets t").
		Select("t.id, t.year, t.scope_org_id, t.org_kind, t.indicator, t.target_bp, t.note, o.path AS scope_path").
		Joins("JOIN orgs o ON o.id = t.scope_org_id")
	if year != 0 {
		q = q.Where("t.year = ?", year)
	}
	var rows []row
	if err := q.Order("t.year, t.id").Scan(&rows).Error; err != nil {
		return nil, mapErr(err)
	}
	out := make([]reports.Target, len(rows))
	for i, r := range rows {
		out[i] = reports.Target{ID: r.ID, Year: r.Year, ScopeOrgID: r.ScopeOrgID, ScopePath: r.ScopePath,
			OrgKind: issuance.OrgKind(r.OrgKind), Indicator: reports.Indicator(r.Indicator),
			BasisPoints: r.TargetBP, Note: r.Note}
	}
	return out, nil
}

const sumColumns = "SUM(c.volunteers) AS volunteers, SUM(c.league_members) AS league_members, " +
	"SUM(c.holders) AS holders, SUM(c.city_card_holders) AS city_card_holders, SUM(c.new_with_card) AS new_with_card"

// SumCounters implements reports.Store.
func (s *Store) SumCounters(ctx context.Context, pathPrefix string, maxYear int) ([]reports.OrgYearCounts, error) {
	q := s.DB(ctx).Table("org_year_counters c").Select("c.org_id, c.year, "+sumColumns).
		Where("c.year <= ?", maxYear)
	if pathPrefix != "" {
		q = q.Joins("JOIN orgs o ON o.id = c.org_id").Where(`o.path LIKE ? ESCAPE '\'`, likePrefix(pathPrefix))
	}
	var rows []counterRow
	if err := q.Group("c.org_id, c.year").Order("c.org_id, c.year").Scan(&rows).Error; err != nil {
		return nil, mapErr(err)
	}
	out := make([]reports.OrgYearCounts, len(rows))
	for i, r := range rows {
		out[i] = r.domain()
	}
	return out, nil
}

// recountSQL computes the counters from the base tables, per (org, year),
// with the same rules as the triggers of migration 00050.
func (s *Store) recountSQL() string { return s.recountSQLOf(0) }

// recountSQLOf is recountSQL over one volunteer (volunteerID > 0: what
// that volunteer adds to the counters) or every volunteer (0).
func (s *Store) recountSQLOf(volunteerID int64) string {
	vOnly, hOnly := "", ""
	if volunteerID > 0 {
		id := strconv.FormatInt(volunteerID, 10)
		vOnly, hOnly = " WHERE id = "+id, " AND a.volunteer_id = "+id
	}
	held := `SELECT a.volunteer_id, MIN(COALESCE(ev.first_at, a.updated_at)) AS first_at
	           FROM applications a
	           LEFT JOIN (SELECT application_id, MIN(at) AS first_at FROM application_events
	                       WHERE to_status IN ('issued', 'activated') GROUP BY application_id) ev
	                  ON ev.application_id = a.id
	           %s
	          WHERE a.status IN ('issued', 'activated') %s` + hOnly + `
	          GROUP BY a.volunteer_id`
	anyCard := fmt.Sprintf(held, "", "")
	cityCard := fmt.Sprintf(held, "JOIN products p ON p.code = a.product_code JOIN orgs po ON po.id = p.org_id",
		"AND po.parent_id IS NOT NULL")
	return `SELECT org_id, year, SUM(volunteers) AS volunteers, SUM(league_members) AS league_members,
	               SUM(holders) AS holders, SUM(city_card_holders) AS city_card_holders,
	               SUM(new_with_card) AS new_with_card
	          FROM (
	        SELECT org_id, ` + s.yearExpr("created_at") + ` AS year, COUNT(*) AS volunteers,
	               SUM(CASE WHEN league_member THEN 1 ELSE 0 END) AS league_members,
	               0 AS holders, 0 AS city_card_holders, 0 AS new_with_card
	          FROM volunteers` + vOnly + ` GROUP BY 1, 2
	        UNION ALL
	        SELECT v.org_id, ` + s.yearExpr("h.first_at") + `, 0, 0, COUNT(*), 0, 0
	          FROM (` + anyCard + `) h JOIN volunteers v ON v.id = h.volunteer_id GROUP BY 1, 2
	        UNION ALL
	        SELECT v.org_id, ` + s.yearExpr("v.created_at") + `, 0, 0, 0, 0, COUNT(*)
	          FROM (` + anyCard + `) h JOIN volunteers v ON v.id = h.volunteer_id GROUP BY 1, 2
	        UNION ALL
	        SELECT v.org_id, ` + s.yearExpr("h.first_at") + `, 0, 0, 0, COUNT(*), 0
	          FROM (` + cityCard + `) h JOIN volunteers v ON v.id = h.volunteer_id GROUP BY 1, 2
	          ) x
	         GROUP BY org_id, year ORDER BY org_id, year`
}

// RecountCounters implements reports.Store.
func (s *Store) RecountCounters(ctx context.Context) ([]reports.OrgYearCounts, error) {
	var rows []counterRow
	if err := s.DB(ctx).Raw(s.recountSQL()).Scan(&rows).Error; err != nil {
		return nil, fmt.Errorf("recount counters: %w", mapErr(err))
	}
	out := make([]reports.OrgYearCounts, len(rows))
	for i, r := range rows {
		out[i] = r.domain()
	}
	return out, nil
}

// RebuildCounters implements reports.Store. On PostgreSQL it locks
// volunteers and applications against writes (SHARE mode) for the
// duration; on SQLite the write transaction does that.
func (s *Store) RebuildCounters(ctx context.Context) error {
	return s.InTx(ctx, func(ctx context.Context) error {
		db := s.DB(ctx)
		if s.dialect == Postgres {
			if err := db.Exec("LOCK TABLE volunteers, applications IN SHARE MODE").Error; err != nil {
				return fmt.Errorf("rebuild counters: %w", err)
			}
		}
		if err := db.Exec("DELETE FROM org_year_counters").Error; err != nil {
			return fmt.Errorf("rebuild counters: %w", err)
		}
		ins := `INSERT INTO org_year_counters (org_id, year, slot, volunteers, league_members, holders,
		            city_card_holders, new_with_card)
		        SELECT org_id, year, 0, volunteers, league_members, holders, city_card_holders, new_with_card
		          FROM (` + s.recountSQL() + `) r`
		if s.dialect == SQLite {
			ins += " WHERE true"
		}
		if err := db.Exec(ins).Error; err != nil {
			return fmt.Errorf("rebuild counters: %w", err)
		}
		return nil
	})
}

// ApplicationFunnel implements reports.Store.
func (s *Store) ApplicationFunnel(ctx context.Context, sc issuance.Scope, orgPath string) ([]reports.FunnelRow, error) {
	q := scoped(s.DB(ctx).Table("applications"), sc, true)
	if orgPath != "" {
		q = q.Where(`org_path LIKE ? ESCAPE '\'`, likePrefix(orgPath))
	}
	var rows []struct {
		Status, Channel, BankCode string
		Count                     int64
	}
	if err := q.Select("status, channel, bank_code, COUNT(*) AS count").
		Group("status, channel, bank_code").Order("status, channel, bank_code").Scan(&rows).Error; err != nil {
		return nil, mapErr(err)
	}
	out := make([]reports.FunnelRow, len(rows))
	for i, r := range rows {
		out[i] = reports.FunnelRow{Status: issuance.Status(r.Status), Channel: issuance.Channel(r.Channel),
			BankCode: r.BankCode, Count: r.Count}
	}
	return out, nil
}

// ClothingCounts implements reports.Store.
func (s *Store) ClothingCounts(ctx context.Context, sc issuance.Scope, orgPath string) ([]reports.ClothingRow, error) {
	q := s.DB(ctx).Table("volunteers v").
		Where("EXISTS (SELECT 1 FROM applications a WHERE a.volunteer_id = v.id AND a.status IN ('issued', 'activated'))")
	for _, p := range []string{sc.PathPrefix, orgPath} {
		if p != "" {
			q = q.Where(`v.org_path LIKE ? ESCAPE '\'`, likePrefix(p))
		}
	}
	var rows []struct {
		OrgID        int64
		ClothingSize string
		Count        int64
	}
	if err := q.Select("v.org_id, v.clothing_size, COUNT(*) AS count").Group("v.org_id, v.clothing_size").
		Order("v.org_id, v.clothing_size").Scan(&rows).Error; err != nil {
		return nil, mapErr(err)
	}
	out := make([]reports.ClothingRow, len(rows))
	for i, r := range rows {
		out[i] = reports.ClothingRow{OrgID: r.OrgID, Size: issuance.ClothingSize(r.ClothingSize), Count: r.Count}
	}
	return out, nil
}

// hasTable reports whether a table exists.
func (s *Store) hasTable(ctx context.Context, name string) (bool, error) {
	var n int64
	var err error
	if s.dialect == Postgres {
		err = s.DB(ctx).Raw("SELECT COUNT(*) FROM pg_tables WHERE tablename = ? AND schemaname = current_schema()", name).Scan(&n).Error
	} else {
		err = s.DB(ctx).Raw("SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = ?", name).Scan(&n).Error
	}
	return n > 0, mapErr(err)
}

// ServiceMinutes implements reports.Store over the check-in
// attendances (migration 00030).
func (s *Store) ServiceMinutes(ctx context.Context, sc issuance.Scope, orgPath string, year int) ([]reports.HoursRow, bool, error) {
	ok, err := s.hasTable(ctx, "attendances")
	if err != nil || !ok {
		return nil, false, err
	}
	q := s.DB(ctx).Table("attendances").Where("year = ?", year)
	for _, p := range []string{sc.PathPrefix, orgPath} {
		if p != "" {
			q = q.Where(`org_path LIKE ? ESCAPE '\'`, likePrefix(p))
		}
	}
	var rows []struct {
		OrgPath     string
		Minutes     int64
		Attendances int64
		Volunteers  int64
	}
	if err := q.Select("org_path, SUM(minutes) AS minutes, COUNT(*) AS attendances, COUNT(DISTINCT volunteer_id) AS volunteers").
		Group("org_path").Scan(&rows).Error; err != nil {
		return nil, true, mapErr(err)
	}
	out := make([]reports.HoursRow, len(rows))
	for i, r := range rows {
		out[i] = reports.HoursRow{OrgPath: r.OrgPath, Minutes: r.Minutes, Attendances: r.Attendances, Volunteers: r.Volunteers}
	}
	return out, true, nil
}

// ActivityCheckins implements reports.Store over the check-in
// tables (migration 00030).
func (s *Store) ActivityCheckins(ctx context.Context, sc issuance.Scope, activityID int64, limit int) (reports.ActivityCheckins, bool, error) {
	ok, err := s.hasTable(ctx, "attendances")
	if err != nil || !ok {
		return reports.ActivityCheckins{}, false, err
	}
	var act struct {
		ID    int64
		Title string
	}
	q := s.DB(ctx).Table("activities").Select("id, title").Where("id = ?", activityID)
	if sc.PathPrefix != "" {
		q = q.Where(`org_path LIKE ? ESCAPE '\'`, likePrefix(sc.PathPrefix))
	}
	if err := q.Take(&act).Error; err != nil {
		return reports.ActivityCheckins{}, true, mapErr(err)
	}
	out := reports.ActivityCheckins{ActivityID: act.ID, Title: act.Title}
	var agg struct {
		N, Open, Minutes int64
	}
	if err := s.DB(ctx).Table("attendances").
		Select("COUNT(*) AS n, SUM(CASE WHEN out_at IS NULL THEN 1 ELSE 0 END) AS open, COALESCE(SUM(minutes), 0) AS minutes").
		Where("activity_id = ?", activityID).Scan(&agg).Error; err != nil {
		return out, true, mapErr(err)
	}
	out.Attendances, out.Open, out.Minutes = agg.N, agg.Open, agg.Minutes
	var rows []struct {
		ID          int64
		VolunteerID int64
		Name        string
		InAt        time.Time
		OutAt       *time.Time
		Minutes     int64
	}
	if err := s.DB(ctx).Table("attendances a").
		Select("a.id, a.volunteer_id, v.name, a.in_at, a.out_at, a.minutes").
		Joins("JOIN volunteers v ON v.id = a.volunteer_id").
		Where("a.activity_id = ?", activityID).Order("a.in_at DESC, a.id DESC").Limit(limit).Scan(&rows).Error; err != nil {
		return out, true, mapErr(err)
	}
	for _, r := range rows {
		cr := reports.CheckinRow{AttendanceID: r.ID, VolunteerID: r.VolunteerID, Name: r.Name, InAt: r.InAt.UTC(), Minutes: r.Minutes}
		if r.OutAt != nil {
			cr.OutAt = r.OutAt.UTC()
		}
		out.Rows = append(out.Rows, cr)
	}
	return out, true, nil
}
