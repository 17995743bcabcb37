package store

import (
	"context"
	"errors"
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

// ErrOtherDataKey means the database's personal data was sealed under
// another data key than the one this process was given.
var ErrOtherDataKey = errors.New("this database's personal data is sealed with another data key")

// CheckDataKey records fingerprint (a value derived from the PII data key,
// never the key) on first use and afterwards refuses a process whose key
// gives another one: two processes with different keys would each seal
// data the other cannot read.
func (s *Store) CheckDataKey(ctx context.Context, fingerprint string) error {
	db := s.DB(ctx)
	if err := db.Exec(`INSERT INTO settings (name, value) VALUES ('data_key_fingerprint', ?) ON CONFLICT (name) DO NOTHING`,
		fingerprint).Error; err != nil {
		return fmt.Errorf("check data key: %w", mapErr(err))
	}
	var got string
	if err := db.Raw(`SELECT value FROM settings WHERE name = 'data_key_fingerprint'`).Scan(&got).Error; err != nil {
		return fmt.Errorf("check data key: %w", mapErr(err))
	}
	if got != fingerprint {
		return ErrOtherDataKey
	}
	return nil
}
