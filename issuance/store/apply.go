package store

import (
	"context"
	"fmt"

	"github.com/volcard/volcard/issuance"
)

var _ issuance.ApplicationEventCreator = (*Store)(nil)

// createApplicationSQL inserts an application and its first event in one
// statement (PostgreSQL: a data-modifying CTE; the event's foreign key is
// checked at the end of the statement). A clash of the random application
// number inserts nothing instead of failing: a failed statement would abort
// the caller's transaction (the idempotency middleware's), and the caller
// retries with a new number in the same transaction.
const createApplicationSQL = `WITH a AS (
	INSERT INTO applications (number, volunteer_id, org_id, org_path, product_code, bank_code, channel, status,
		reason, version, created_at, updated_at)
	VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (number) DO NOTHING RETURNING id)
INSERT INTO application_events (application_id, from_status, to_status, actor_token_id, actor_role, channel, reason, at)
SELECT a.id, ?::text, ?::text, ?::bigint, ?::text, ?::text, ?::text, ?::timestamptz FROM a
RETURNING application_id, id`

// CreateApplicationWithEvent implements issuance.ApplicationEventCreator:
// one round trip on PostgreSQL, CreateApplication then AppendEvent on
// SQLite (inside the caller's transaction).
func (s *Store) CreateApplicationWithEvent(ctx context.Context, a *issuance.Application, e *issuance.Event) error {
	if s.dialect != Postgres {
		if err := s.CreateApplication(ctx, a); err != nil {
			return err
		}
		e.ApplicationID = a.ID
		return s.AppendEvent(ctx, e)
	}
	r := applicationToRow(a)
	var rows []struct {
		ApplicationID int64
		ID            int64
	}
	err := s.DB(ctx).Raw(createApplicationSQL,
		r.Number, r.VolunteerID, r.OrgID, r.OrgPath, r.ProductCode, r.BankCode, r.Channel, r.Status,
		r.Reason, r.Version, r.CreatedAt, r.UpdatedAt,
		string(e.From), string(e.To), e.ActorTokenID, string(e.ActorRole), string(e.Channel), e.Reason, e.At.UTC(),
	).Scan(&rows).Error
	if err != nil {
		return mapErr(err)
	}
	if len(rows) == 0 {
		return &issuance.ConflictError{What: "application_number"}
	}
	if len(rows) != 1 {
		return fmt.Errorf("create application: %d rows returned, want 1", len(rows))
	}
	a.ID, e.ApplicationID, e.ID = rows[0].ApplicationID, rows[0].ApplicationID, rows[0].ID
	return s.recordApplicationEvents(ctx, e.ID)
}
