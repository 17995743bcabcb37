package store

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"

	"github.com/volcard/volcard/issuance"
)

// Bulk loading for `volcard seed --volunteers N`: COPY on PostgreSQL
// (pgx CopyFrom, counter triggers switched off for the session and the
// counters rebuilt by FinishBulk), batched multi-row INSERTs on SQLite
// (counter triggers on). Not for the request path: it bypasses the
// Service's checks and writes no application events.

var volunteerColumns = []string{"id", "org_id", "org_path", "name", "emboss_name", "id_type", "id_number_enc",
	"id_number_idx", "gender", "birth_date", "phone_enc", "league_member", "party_member", "clothing_size",
	"source", "volunteer_number", "created_at"}

var applicationColumns = []string{"number", "volunteer_id", "org_id", "org_path", "product_code", "bank_code",
	"channel", "status", "reason", "version", "created_at", "updated_at"}

func volunteerValues(v *issuance.Volunteer) []any {
	var birth any
	if !v.BirthDate.IsZero() {
		birth = v.BirthDate.UTC()
	}
	return []any{v.ID, v.OrgID, v.OrgPath, v.Name, v.EmbossName, string(v.IDType), v.IDNumberSealed,
		v.IDNumberIndex, string(v.Gender), birth, v.PhoneSealed, v.LeagueMember, v.PartyMember,
		string(v.ClothingSize), string(v.Source), v.VolunteerNumber, v.CreatedAt.UTC()}
}

func applicationValues(a *issuance.Application) []any {
	return []any{a.Number, a.VolunteerID, a.OrgID, a.OrgPath, a.ProductCode, a.BankCode, string(a.Channel),
		string(a.Status), a.Reason, a.Version, a.CreatedAt.UTC(), a.UpdatedAt.UTC()}
}

// ReserveVolunteerIDs reserves n consecutive volunteer ids and returns the
// first. On PostgreSQL it advances the id sequence (run bulk loads while
// no one else registers volunteers); on SQLite the caller's later insert
// takes max(id)+1 onwards.
func (s *Store) ReserveVolunteerIDs(ctx context.Context, n int64) (int64, error) {
	if n <= 0 {
		return 0, errors.New("reserve volunteer ids: n must be positive")
	}
	var first int64
	if s.dialect == Postgres {
		err := s.InTx(ctx, func(ctx context.Context) error {
			if err := s.DB(ctx).Raw("SELECT nextval('volunteers_id_seq')").Scan(&first).Error; err != nil {
				return err
			}
			return s.DB(ctx).Exec("SELECT setval('volunteers_id_seq', ?)", first+n-1).Error
		})
		return first, mapErr(err)
	}
	err := s.DB(ctx).Raw("SELECT COALESCE(MAX(id), 0) + 1 FROM volunteers").Scan(&first).Error
	return first, mapErr(err)
}

// BulkInsert inserts volunteers (IDs set by the caller) and then
// applications.
func (s *Store) BulkInsert(ctx context.Context, vs []issuance.Volunteer, as []issuance.Application) error {
	if s.dialect == Postgres {
		return s.copyPostgres(ctx, vs, as)
	}
	return s.InTx(ctx, func(ctx context.Context) error {
		if err := s.insertBatched(ctx, "volunteers", volunteerColumns, len(vs), func(i int) []any {
			return volunteerValues(&vs[i])
		}); err != nil {
			return err
		}
		return s.insertBatched(ctx, "applications", applicationColumns, len(as), func(i int) []any {
			return applicationValues(&as[i])
		})
	})
}

// insertBatched inserts n rows in multi-row INSERTs (SQLite's limit is
// 32766 variables a statement).
func (s *Store) insertBatched(ctx context.Context, table string, cols []string, n int, row func(i int) []any) error {
	per := 30000 / len(cols)
	one := "(" + strings.TrimSuffix(strings.Repeat("?,", len(cols)), ",") + ")"
	for start := 0; start < n; start += per {
		end := min(start+per, n)
		var b strings.Builder
		b.WriteString("INSERT INTO " + table + " (" + strings.Join(cols, ",") + ") VALUES ")
		args := make([]any, 0, (end-start)*len(cols))
		for i := start; i < end; i++ {
			if i > start {
				b.WriteByte(',')
			}
			b.WriteString(one)
			args = append(args, row(i)...)
		}
		if err := s.DB(ctx).Exec(b.String(), args...).Error; err != nil {
			return fmt.Errorf("bulk insert %s: %w", table, mapErr(err))
		}
	}
	return nil
}

func (s *Store) copyPostgres(ctx context.Context, vs []issuance.Volunteer, as []issuance.Application) error {
	conn, err := s.sqlDB.Conn(ctx)
	if err != nil {
		return fmt.Errorf("bulk copy: %w", err)
	}
	defer conn.Close()
	return conn.Raw(func(dc any) error {
		sc, ok := dc.(*stdlib.Conn)
		if !ok {
			return fmt.Errorf("bulk copy: driver connection is %T, not pgx", dc)
		}
		pc := sc.Conn()
		tx, err := pc.Begin(ctx)
		if err != nil {
			return fmt.Errorf("bulk copy: %w", err)
		}
		defer func() { _ = tx.Rollback(context.WithoutCancel(ctx)) }()
		if _, err := tx.Exec(ctx, "SET LOCAL volcard.skip_counters = 'on'"); err != nil {
			return fmt.Errorf("bulk copy: %w", err)
		}
		if _, err := tx.CopyFrom(ctx, pgx.Identifier{"volunteers"}, volunteerColumns,
			pgx.CopyFromSlice(len(vs), func(i int) ([]any, error) { return volunteerValues(&vs[i]), nil })); err != nil {
			return fmt.Errorf("bulk copy volunteers: %w", mapErr(err))
		}
		if _, err := tx.CopyFrom(ctx, pgx.Identifier{"applications"}, applicationColumns,
			pgx.CopyFromSlice(len(as), func(i int) ([]any, error) { return applicationValues(&as[i]), nil })); err != nil {
			return fmt.Errorf("bulk copy applications: %w", mapErr(err))
		}
		return tx.Commit(ctx)
	})
}

// FinishBulk makes the counters consistent after BulkInsert: on
// PostgreSQL (where COPY skipped the triggers) it rebuilds them and
// refreshes the planner statistics; on SQLite the triggers kept them.
func (s *Store) FinishBulk(ctx context.Context) error {
	if s.dialect != Postgres {
		return nil
	}
	if err := s.RebuildCounters(ctx); err != nil {
		return err
	}
	if err := s.DB(ctx).Exec("ANALYZE volunteers, applications, org_year_counters").Error; err != nil {
		return fmt.Errorf("finish bulk: %w", err)
	}
	return nil
}
