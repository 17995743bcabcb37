package issuance

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"
)

// AuditKind names what an audit event records.
type AuditKind string

// Audit kinds: one per edit the staff console makes, and the hotline's
// look-ups.
const (
	AuditOrgUpdated       AuditKind = "org.updated"
	AuditTargetPut        AuditKind = "target.put"
	AuditBranchPut        AuditKind = "branch.put"
	AuditProductPut       AuditKind = "product.put"
	AuditTokenCreated     AuditKind = "token.created"
	AuditTokenUpdated     AuditKind = "token.updated"
	AuditTokenRevoked     AuditKind = "token.revoked"
	AuditVolunteerUpdated AuditKind = "volunteer.updated"
	AuditHotlineLookup    AuditKind = "hotline.lookup"
	// AuditInsuranceFileDownloaded: the insurer's daily file (names and
	// ID numbers) handed out; subject insurance_file, the day, the count
	// of records.
	AuditInsuranceFileDownloaded AuditKind = "insurance.file_downloaded"
)

// AuditEvent is one audit record of a staff edit or a hotline look-up: who
// (token and role), when, what, on which object. Detail names the fields
// changed (and non-personal values); it never holds a phone, an ID number
// or a PAN.
type AuditEvent struct {
	ID           int64
	Kind         AuditKind
	Subject      string // "org", "target", "branch", "product", "token", "volunteer", "application"
	SubjectID    string
	OrgPath      string // the object's organisation path, for scoped reads; may be empty
	ActorTokenID int64
	ActorRole    Role
	Detail       string
	At           time.Time
}

// AuditQuery selects audit events, newest first. Zero fields do not filter.
type AuditQuery struct {
	Subject   string
	SubjectID string
	Kind      AuditKind
	BeforeID  int64
	Limit     int
}

// AuditRepo stores audit events.
type AuditRepo interface {
	// AppendAudit inserts e and sets e.ID.
	AppendAudit(ctx context.Context, e *AuditEvent) error
	// ListAudit returns events matching q, newest first.
	ListAudit(ctx context.Context, q AuditQuery) ([]AuditEvent, error)
}

// audit appends an audit event by a in the transaction of ctx (if any).
func (s *Service) audit(ctx context.Context, a Actor, kind AuditKind, subject, subjectID, orgPath, detail string) error {
	e := AuditEvent{Kind: kind, Subject: subject, SubjectID: subjectID, OrgPath: orgPath,
		ActorTokenID: a.TokenID, ActorRole: a.Role, Detail: detail, At: s.clock.Now()}
	if err := s.store.AppendAudit(ctx, &e); err != nil {
		return fmt.Errorf("audit %s: %w", kind, err)
	}
	return nil
}

// Audit appends an audit event by a; features outside the core (targets,
// the hotline) call it inside their own transaction.
func (s *Service) Audit(ctx context.Context, a Actor, kind AuditKind, subject, subjectID, orgPath, detail string) error {
	return s.audit(ctx, a, kind, subject, subjectID, orgPath, detail)
}

// ListAudit returns audit events, newest first. Province admins only.
func (s *Service) ListAudit(ctx context.Context, a Actor, q AuditQuery) ([]AuditEvent, error) {
	if err := RequireRole(a, RoleProvinceAdmin, RoleSystem); err != nil {
		return nil, err
	}
	if q.Limit <= 0 || q.Limit > MaxPageSize {
		q.Limit = DefaultPageSize
	}
	evs, err := s.store.ListAudit(ctx, q)
	if err != nil {
		return nil, fmt.Errorf("list audit: %w", err)
	}
	return evs, nil
}

// changedFields renders the names of changed fields for an audit detail,
// sorted: "changed: liaison.name, liaison.phone".
func changedFields(fields []string) string {
	sort.Strings(fields)
	return "changed: " + strings.Join(fields, ", ")
}
