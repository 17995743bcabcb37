package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"

	"github.com/volcard/volcard/issuance"
	"github.com/volcard/volcard/issuance/platformlink"
)

// importBatchPostgres is ImportBatch on PostgreSQL, on one pgx connection
// and transaction: the batch's key is locked (pg_advisory_xact_lock) so
// that a batch sent twice at once is applied once, the existing
// volunteers are read with = ANY(array), new volunteers go in with COPY
// (the per-row counter trigger switched off for the transaction and the
// counters added per organisation and year instead), updates with one
// UPDATE … FROM unnest(arrays).
func (s *Store) importBatchPostgres(ctx context.Context, key platformlink.BatchKey, rows int, pre []platformlink.Reject,
	numbers []string, indexes [][]byte, plan func([]platformlink.Existing) platformlink.Plan) (platformlink.BatchResult, error) {
	conn, err := s.sqlDB.Conn(ctx)
	if err != nil {
		return platformlink.BatchResult{}, fmt.Errorf("import batch: %w", err)
	}
	defer conn.Close()
	var out platformlink.BatchResult
	err = conn.Raw(func(dc any) error {
		sc, ok := dc.(*stdlib.Conn)
		if !ok {
			return fmt.Errorf("import batch: driver connection is %T, not pgx", dc)
		}
		tx, err := sc.Conn().Begin(ctx)
		if err != nil {
			return err
		}
		defer func() { _ = tx.Rollback(context.WithoutCancel(ctx)) }()
		if _, err := tx.Exec(ctx, "SELECT pg_advisory_xact_lock(hashtext($1), $2)", key.ImportID, key.Seq); err != nil {
			return err
		}
		var done importBatchRow
		err = tx.QueryRow(ctx, `SELECT import_id, seq, kind, rows_in, created, updated, rejects FROM import_batches
			WHERE import_id = $1 AND seq = $2`, key.ImportID, key.Seq).Scan(&done.ImportID, &done.Seq, &done.Kind,
			&done.RowsIn, &done.Created, &done.Updated, &done.Rejects)
		if err == nil {
			out, err = done.result()
			out.Replayed = true
			return err
		}
		if !errors.Is(err, pgx.ErrNoRows) {
			return err
		}
		var existing []platformlink.Existing
		if len(numbers) > 0 || len(indexes) > 0 {
			if indexes == nil {
				indexes = [][]byte{}
			}
			// Two index probes per row (LATERAL, so that the planner cannot turn
			// them into a merge join over the whole index; nor "= ANY(...) OR
			// = ANY(...)", which PostgreSQL answers with a sequential scan of
			// the table once it is large).
			r, err := tx.Query(ctx, `SELECT v.id, v.volunteer_number, v.id_number_idx, v.platform_minutes
				FROM unnest($1::text[]) AS u(n) CROSS JOIN LATERAL (SELECT * FROM volunteers v
				     WHERE v.volunteer_number = u.n AND v.volunteer_number <> '' LIMIT 1) v
				UNION
				SELECT v.id, v.volunteer_number, v.id_number_idx, v.platform_minutes
				FROM unnest($2::bytea[]) AS u(i) CROSS JOIN LATERAL (SELECT * FROM volunteers v
				     WHERE v.id_number_idx = u.i LIMIT 1) v`, numbers, indexes)
			if err != nil {
				return err
			}
			for r.Next() {
				var e platformlink.Existing
				if err := r.Scan(&e.ID, &e.Number, &e.Index, &e.Minutes); err != nil {
					r.Close()
					return err
				}
				existing = append(existing, e)
			}
			r.Close()
			if err := r.Err(); err != nil {
				return err
			}
		}
		p := plan(existing)
		now := time.Now().UTC()
		if len(p.Insert) > 0 {
			if _, err := tx.Exec(ctx, "SET LOCAL volcard.skip_counters = 'on'"); err != nil {
				return err
			}
			if _, err := tx.CopyFrom(ctx, pgx.Identifier{"volunteers"}, volunteerColumns[1:],
				pgx.CopyFromSlice(len(p.Insert), func(i int) ([]any, error) { return volunteerValues(p.Insert[i])[1:], nil })); err != nil {
				return fmt.Errorf("copy volunteers: %w", err)
			}
			if err := addVolunteerCounters(ctx, tx, p.Insert); err != nil {
				return err
			}
		}
		if len(p.Update) > 0 {
			if err := updateImportedPostgres(ctx, tx, p.Update, existing, now); err != nil {
				return err
			}
		}
		if len(p.Hours) > 0 {
			ids, mins := make([]int64, len(p.Hours)), make([]int64, len(p.Hours))
			for i, h := range p.Hours {
				ids[i], mins[i] = h.ID, h.Minutes
			}
			if _, err := tx.Exec(ctx, `UPDATE volunteers v SET platform_minutes = u.m
				FROM unnest($1::bigint[], $2::bigint[]) AS u(id, m) WHERE v.id = u.id`, ids, mins); err != nil {
				return fmt.Errorf("update hours: %w", err)
			}
		}
		rejects := sortedRejects(pre, p.Rejects)
		j, err := json.Marshal(rejects)
		if err != nil {
			return err
		}
		out = platformlink.BatchResult{BatchKey: key, Rows: rows, Created: len(p.Insert), Updated: len(p.Update) + len(p.Hours),
			Rejects: rejects}
		if _, err := tx.Exec(ctx, `INSERT INTO import_batches (import_id, seq, kind, rows_in, created, updated, rejects, done_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`, key.ImportID, key.Seq, key.Kind, rows, out.Created, out.Updated,
			string(j), now); err != nil {
			return err
		}
		return tx.Commit(ctx)
	})
	if err != nil {
		return platformlink.BatchResult{}, fmt.Errorf("import batch: %w", mapErr(err))
	}
	return out, nil
}

// addVolunteerCounters adds new volunteers to org_year_counters as the
// volunteers_count trigger (migration 00050) does one by one: per
// organisation and year of registration (China time), volunteers and
// league members.
func addVolunteerCounters(ctx context.Context, tx pgx.Tx, vs []*issuance.Volunteer) error {
	type k struct {
		org  int64
		year int
	}
	type n struct{ vols, league int64 }
	agg := map[k]n{}
	for _, v := range vs {
		key := k{v.OrgID, v.CreatedAt.In(issuance.ChinaTime).Year()}
		c := agg[key]
		c.vols++
		if v.LeagueMember {
			c.league++
		}
		agg[key] = c
	}
	var orgs, vols, league []int64
	var years []int32
	for key, c := range agg {
		orgs, years, vols, league = append(orgs, key.org), append(years, int32(key.year)), append(vols, c.vols), append(league, c.league)
	}
	_, err := tx.Exec(ctx, `INSERT INTO org_year_counters AS c (org_id, year, slot, volunteers, league_members)
		SELECT o, y, (txid_current() % 8)::smallint, n, l FROM unnest($1::bigint[], $2::int[], $3::bigint[], $4::bigint[]) AS u(o, y, n, l)
		ON CONFLICT (org_id, year, slot) DO UPDATE
		SET volunteers = c.volunteers + EXCLUDED.volunteers, league_members = c.league_members + EXCLUDED.league_members`,
		orgs, years, vols, league)
	if err != nil {
		return fmt.Errorf("import counters: %w", err)
	}
	return nil
}

// updateImportedPostgres refreshes existing volunteers from the platform's
// rows, audits the numbers set on volunteers who had none and closes their
// open registration requests.
func updateImportedPostgres(ctx context.Context, tx pgx.Tx, vs []issuance.Volunteer, existing []platformlink.Existing, at time.Time) error {
	n := len(vs)
	ids, names, emboss, numbers, sizes := make([]int64, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n)
	phones, party := make([][]byte, n), make([]bool, n)
	for i, v := range vs {
		ids[i], names[i], emboss[i], numbers[i], sizes[i] = v.ID, v.Name, v.EmbossName, v.VolunteerNumber, string(v.ClothingSize)
		phones[i], party[i] = v.PhoneSealed, v.PartyMember
	}
	if _, err := tx.Exec(ctx, `UPDATE volunteers v SET name = u.name, emboss_name = u.emboss, phone_enc = u.phone,
		party_member = u.party, clothing_size = u.size, volunteer_number = u.number
		FROM unnest($1::bigint[], $2::text[], $3::text[], $4::bytea[], $5::bool[], $6::text[], $7::text[])
		     AS u(id, name, emboss, phone, party, size, number)
		WHERE v.id = u.id`, ids, names, emboss, phones, party, sizes, numbers); err != nil {
		return fmt.Errorf("update volunteers: %w", err)
	}
	had := make(map[int64]string, len(existing))
	for _, e := range existing {
		had[e.ID] = e.Number
	}
	var mids []int64
	var mnums []string
	for _, v := range vs {
		if had[v.ID] == "" {
			mids, mnums = append(mids, v.ID), append(mnums, v.VolunteerNumber)
		}
	}
	if len(mids) == 0 {
		return nil
	}
	if _, err := tx.Exec(ctx, `INSERT INTO volunteer_number_changes (volunteer_id, from_number, to_number, source, reason, at)
		SELECT id, '', num, 'platform', 'bulk import: matched by ID number', $3 FROM unnest($1::bigint[], $2::text[]) AS u(id, num)`,
		mids, mnums, at); err != nil {
		return fmt.Errorf("audit numbers: %w", err)
	}
	if _, err := tx.Exec(ctx, `UPDATE platform_requests r SET state = 'done', matched = TRUE, number = u.num,
		last_error = 'matched by the platform''s bulk import', updated_at = $3
		FROM unnest($1::bigint[], $2::text[]) AS u(id, num)
		WHERE r.volunteer_id = u.id AND r.state IN ('pending', 'failed')`, mids, mnums, at); err != nil {
		return fmt.Errorf("close platform requests: %w", err)
	}
	return nil
}
