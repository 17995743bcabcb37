package reports

import (
	"context"
	"errors"

	"github.com/volcard/volcard/issuance"
)

// OrgReads reads the organisation tree.
type OrgReads interface {
	// GetOrg returns the org if it lies inside sc, else ErrNotFound.
	GetOrg(ctx context.Context, id int64, sc issuance.Scope) (issuance.Org, error)
	// ListOrgs returns the organisations whose path starts with
	// pathPrefix (all when empty), ordered by path.
	ListOrgs(ctx context.Context, pathPrefix string) ([]issuance.Org, error)
}

// TargetRepo stores the organisations' figures and the yearly targets.
type TargetRepo interface {
	// UpdateOrgFigures sets an organisation's resident population (with its
	// year) and league-member count.
	UpdateOrgFigures(ctx context.Context, orgID, population int64, populationYear int, leagueMembers int64) error
	// PutTarget inserts or replaces the rule with t's year, scope, kind and
	// indicator; t.ID is set.
	PutTarget(ctx context.Context, t *Target) error
	// ListTargets returns the rules of a year (all years when 0).
	ListTargets(ctx context.Context, year int) ([]Target, error)
}

// CounterRepo reads, recounts and rebuilds the per-organisation counters.
type CounterRepo interface {
	// SumCounters returns the counters of every organisation under
	// pathPrefix for the years up to maxYear, slots summed.
	SumCounters(ctx context.Context, pathPrefix string, maxYear int) ([]OrgYearCounts, error)
	// RecountCounters computes the same figures from the base tables
	// (volunteers, applications, events) by a full scan: slow, for checks
	// and rebuilds.
	RecountCounters(ctx context.Context) ([]OrgYearCounts, error)
	// RebuildCounters replaces the counters with RecountCounters' result in
	// one transaction, holding writers off meanwhile.
	RebuildCounters(ctx context.Context) error
}

// ReportReads are the aggregate reads of the organisation reports.
type ReportReads interface {
	// ApplicationFunnel counts applications inside sc (and under
	// orgPath when not empty) by status, channel and bank.
	ApplicationFunnel(ctx context.Context, sc issuance.Scope, orgPath string) ([]FunnelRow, error)
	// ClothingCounts counts card holders inside sc and under orgPath by
	// their organisation and clothing size.
	ClothingCounts(ctx context.Context, sc issuance.Scope, orgPath string) ([]ClothingRow, error)
	// ServiceMinutes sums the credited minutes of attendances of a year by
	// the volunteer's organisation path, inside sc and under orgPath; ok
	// is false when the check-in tables do not exist.
	ServiceMinutes(ctx context.Context, sc issuance.Scope, orgPath string, year int) (rows []HoursRow, ok bool, err error)
	// ActivityCheckins returns an activity inside sc with its latest limit
	// attendances; ok is false when the check-in tables do not exist, and
	// an activity outside sc is ErrNotFound.
	ActivityCheckins(ctx context.Context, sc issuance.Scope, activityID int64, limit int) (out ActivityCheckins, ok bool, err error)
}

// Store is the storage the targets and reports need; issuance/store
// implements it on PostgreSQL and SQLite (asserted at compile time there).
type Store interface {
	OrgReads
	TargetRepo
	CounterRepo
	ReportReads
}

// Service runs the targets and the organisation reports. Build it with
// New; it is safe for concurrent use.
type Service struct {
	svc *issuance.Service
	st  Store
}

// New returns the reports service over svc and st (issuance/store
// implements Store).
func New(svc *issuance.Service, st Store) (*Service, error) {
	if svc == nil || st == nil {
		return nil, errors.New("reports: nil service or store")
	}
	return &Service{svc: svc, st: st}, nil
}

// isNotFound reports whether err is the core's not-found.
func isNotFound(err error) bool { return errors.Is(err, issuance.ErrNotFound) }
