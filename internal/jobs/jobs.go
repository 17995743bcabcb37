// Package jobs runs scheduled work (sweeps today; reconciliation, expiry and
// insurer files as they land) once per interval across every serve process
// on one database.
//
// Each job is tried every check interval by every process. A try takes the
// job's cluster-wide lock without waiting (a PostgreSQL session advisory
// lock: the process that dies holding it releases it with its connection),
// reads the job's last run from the ledger, and runs the job only when an
// interval has passed since the last run finished, whichever process ran
// it. So a job due hourly runs once an hour with two processes as with one,
// never twice at the same time, and the survivors take it over within one
// check interval when the process that ran it is gone. A run that crashed
// (started, never finished) is run again: jobs must be idempotent.
package jobs

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"sync"
	"time"
)

// Locker takes a named lock that one process of the cluster holds at a
// time, without waiting (store.Member).
type Locker interface {
	TryLock(ctx context.Context, name string) (release func(), ok bool, err error)
}

// Run is a job's last run as the ledger keeps it.
type Run struct {
	Started  time.Time // zero: never run
	Finished time.Time // zero, or before Started: running or crashed
	Owner    string
	Error    string
	Runs     int64
}

// Ledger keeps the last run of each job (store.Store).
type Ledger interface {
	LastJobRun(ctx context.Context, name string) (Run, error)
	StartJobRun(ctx context.Context, name, owner string, at time.Time) error
	FinishJobRun(ctx context.Context, name, owner string, at time.Time, errText string) error
}

// Job is one piece of scheduled work.
type Job struct {
	Name  string
	Every time.Duration
	Run   func(ctx context.Context) error
}

// Config configures a Runner. Zero durations take the defaults given.
type Config struct {
	Locker Locker
	Ledger Ledger
	// Owner names this process in the ledger (the member id).
	Owner string
	// Check is how often each process tries each job: default the job's
	// interval / 4, between 1 s and 1 min.
	Check  time.Duration
	Logger *slog.Logger
	Now    func() time.Time
	// Ran, when set, is called after each run this process made.
	Ran func(name string, took time.Duration, err error)
}

// Runner runs jobs under Config's lock and ledger.
type Runner struct {
	cfg Config
}

// New checks cfg.
func New(cfg Config) (*Runner, error) {
	if cfg.Locker == nil || cfg.Ledger == nil || cfg.Owner == "" {
		return nil, errors.New("jobs: locker, ledger and owner required")
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &Runner{cfg: cfg}, nil
}

// Start runs every job until ctx is done; wait returns when they have all
// stopped (a run in progress is cancelled through ctx).
func (r *Runner) Start(ctx context.Context, jobs ...Job) (wait func(), err error) {
	seen := map[string]bool{}
	for _, j := range jobs {
		if j.Name == "" || j.Every <= 0 || j.Run == nil || seen[j.Name] {
			return nil, fmt.Errorf("jobs: job %q: want a unique name, a positive interval and a function", j.Name)
		}
		seen[j.Name] = true
	}
	var wg sync.WaitGroup
	for _, j := range jobs {
		wg.Go(func() { r.loop(ctx, j) })
	}
	return wg.Wait, nil
}

func (r *Runner) check(j Job) time.Duration {
	if r.cfg.Check > 0 {
		return r.cfg.Check
	}
	return min(max(j.Every/4, time.Second), time.Minute)
}

func (r *Runner) loop(ctx context.Context, j Job) {
	every := r.check(j)
	// A random first wait spreads the processes' tries.
	wait := time.Duration(rand.Int64N(int64(every)) + 1)
	for {
		select {
		case <-ctx.Done():
			return
		case <-time.After(wait):
		}
		wait = every
		if _, err := r.Try(ctx, j); err != nil && ctx.Err() == nil {
			r.cfg.Logger.Warn("scheduled job", slog.String("job", j.Name), slog.String("error", err.Error()))
		}
	}
}

// Try runs j if it is due and no other process is running it. It reports
// whether it ran j; the error is the lock's, the ledger's or the job's.
func (r *Runner) Try(ctx context.Context, j Job) (bool, error) {
	release, ok, err := r.cfg.Locker.TryLock(ctx, "job."+j.Name)
	if err != nil || !ok {
		return false, err
	}
	defer release()
	last, err := r.cfg.Ledger.LastJobRun(ctx, j.Name)
	if err != nil {
		return false, err
	}
	now := r.cfg.Now()
	if !last.Finished.IsZero() && !last.Finished.Before(last.Started) && now.Sub(last.Finished) < j.Every {
		return false, nil // ran within the interval, here or elsewhere
	}
	if err := r.cfg.Ledger.StartJobRun(ctx, j.Name, r.cfg.Owner, now); err != nil {
		return false, err
	}
	runErr := j.Run(ctx)
	end := r.cfg.Now()
	errText := ""
	if runErr != nil {
		errText = runErr.Error()
	}
	if r.cfg.Ran != nil {
		r.cfg.Ran(j.Name, end.Sub(now), runErr)
	}
	if runErr != nil {
		r.cfg.Logger.Warn("scheduled job failed", slog.String("job", j.Name), slog.String("error", errText))
	} else {
		r.cfg.Logger.Debug("scheduled job ran", slog.String("job", j.Name), slog.Duration("took", end.Sub(now)))
	}
	// A failed run counts as a run: it is tried again after the interval.
	if err := r.cfg.Ledger.FinishJobRun(context.WithoutCancel(ctx), j.Name, r.cfg.Owner, end, errText); err != nil {
		return true, err
	}
	return true, runErr
}
