package store

import (
	"context"
	"fmt"
	"time"

	"github.com/volcard/volcard/internal/jobs"
)

var (
	_ jobs.Ledger = (*Store)(nil)
	_ jobs.Locker = (*Member)(nil)
)

// LastJobRun implements jobs.Ledger (the scheduled_jobs table).
func (s *Store) LastJobRun(ctx context.Context, name string) (jobs.Run, error) {
	var rows []struct {
		LastStartedMs  int64
		LastFinishedMs int64
		LastOwner      string
		LastError      string
		Runs           int64
	}
	err := s.DB(ctx).Raw(`SELECT last_started_ms, last_finished_ms, last_owner, last_error, runs
		FROM scheduled_jobs WHERE name = ?`, name).Scan(&rows).Error
	if err != nil {
		return jobs.Run{}, fmt.Errorf("last run of job %s: %w", name, mapErr(err))
	}
	if len(rows) == 0 {
		return jobs.Run{}, nil
	}
	r := rows[0]
	ms := func(v int64) time.Time {
		if v == 0 {
			return time.Time{}
		}
		return time.UnixMilli(v)
	}
	return jobs.Run{Started: ms(r.LastStartedMs), Finished: ms(r.LastFinishedMs), Owner: r.LastOwner, Error: r.LastError, Runs: r.Runs}, nil
}

// StartJobRun implements jobs.Ledger.
func (s *Store) StartJobRun(ctx context.Context, name, owner string, at time.Time) error {
	err := s.DB(ctx).Exec(`INSERT INTO scheduled_jobs (name, last_started_ms, last_owner, runs) VALUES (?, ?, ?, 1)
		ON CONFLICT (name) DO UPDATE SET last_started_ms = excluded.last_started_ms, last_owner = excluded.last_owner,
			runs = scheduled_jobs.runs + 1`, name, at.UnixMilli(), owner).Error
	if err != nil {
		return fmt.Errorf("start run of job %s: %w", name, mapErr(err))
	}
	return nil
}

// FinishJobRun implements jobs.Ledger.
func (s *Store) FinishJobRun(ctx context.Context, name, owner string, at time.Time, errText string) error {
	err := s.DB(ctx).Exec(`UPDATE scheduled_jobs SET last_finished_ms = ?, last_error = ? WHERE name = ? AND last_owner = ?`,
		at.UnixMilli(), errText, name, owner).Error
	if err != nil {
		return fmt.Errorf("finish run of job %s: %w", name, mapErr(err))
	}
	return nil
}
