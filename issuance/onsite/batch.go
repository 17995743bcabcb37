package onsite

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/volcard/volcard/issuance"
)

// approveChunk is how many applications one approval transaction moves.
const approveChunk = 200

// Approval is the outcome of approving a session's roster.
type Approval struct {
	Approved int // applications moved submitted → approved by this call
	Sent     int // of those, moved on to bank_pending with an outbox request
}

// Approve approves, in one action, every submitted
// application of the session's accepted rows, in roster order. Each goes
// through Transition (an event naming the approving admin, the transition
// hooks); when the Service has a bank outbox (WithBankOutbox) each is then
// moved to bank_pending in the same transaction, which writes its outbox
// request, so the session reaches the bank as one batch. Without an outbox
// the applications stay approved. Applications already approved or further
// are left alone, so calling it again changes nothing. Roles:
// province_admin, org_admin (the session's organisation or above).
func (s *Service) Approve(ctx context.Context, a issuance.Actor, sessionID int64) (Approval, error) {
	if err := issuance.RequireRole(a, issuance.RoleProvinceAdmin, issuance.RoleOrgAdmin, issuance.RoleSystem); err != nil {
		return Approval{}, err
	}
	sess, st, err := s.sessionInScope(ctx, a, sessionID)
	if err != nil {
		return Approval{}, err
	}
	if !sess.Status.Open() {
		return Approval{}, &SessionTransitionError{From: sess.Status, To: sess.Status}
	}
	ids, err := st.OnsiteApplicationIDs(ctx, sessionID, issuance.StatusSubmitted)
	if err != nil {
		return Approval{}, fmt.Errorf("approve on-site session %d: %w", sessionID, err)
	}
	// The session authorises the admin for all its rows, including people
	// registered earlier in another organisation of the product's area.
	ea := a
	if ea.Role == issuance.RoleOrgAdmin {
		ea.ScopePath = "/"
	}
	reason := "on-site session " + strconv.FormatInt(sessionID, 10)
	var out Approval
	for lo := 0; lo < len(ids); lo += approveChunk {
		hi := min(lo+approveChunk, len(ids))
		var n Approval
		err := s.st.InTx(ctx, func(ctx context.Context) error {
			n = Approval{}
			for _, id := range ids[lo:hi] {
				if _, err := s.svc.Transition(ctx, ea, id, issuance.StatusApproved, reason); err != nil {
					return err
				}
				n.Approved++
				if s.svc.BankConnected() {
					if _, err := s.svc.Transition(ctx, issuance.SystemActor(), id, issuance.StatusBankPending, reason+" batch"); err != nil {
						return err
					}
					n.Sent++
				}
			}
			return nil
		})
		if err != nil {
			return out, fmt.Errorf("approve on-site session %d: %w", sessionID, err)
		}
		out.Approved += n.Approved
		out.Sent += n.Sent
	}
	return out, nil
}

// Queue returns the session's batch queue in roster order: each
// accepted row with its application's number and status and its
// personalization state. `volcard personalize --batch` walks it; entries
// already personalized (or skipped) are done, so a restarted walk resumes
// where it stopped. Roles: province_admin, org_admin, bank_staff.
func (s *Service) Queue(ctx context.Context, a issuance.Actor, sessionID int64) ([]QueueItem, error) {
	if err := issuance.RequireRole(a, issuance.RoleProvinceAdmin, issuance.RoleOrgAdmin, issuance.RoleBankStaff, issuance.RoleSystem); err != nil {
		return nil, err
	}
	_, st, err := s.sessionInScope(ctx, a, sessionID)
	if err != nil {
		return nil, err
	}
	q, err := st.OnsiteQueue(ctx, sessionID)
	if err != nil {
		return nil, fmt.Errorf("queue of on-site session %d: %w", sessionID, err)
	}
	for i := range q {
		q[i].Position = i + 1
	}
	return q, nil
}

// Report returns the session's counts: requested head count,
// accepted and rejected rows, and where the applications stand (sent,
// approved by the bank, personalized, failed). Roles: province_admin,
// org_admin, bank_staff.
func (s *Service) Report(ctx context.Context, a issuance.Actor, sessionID int64) (Counts, error) {
	if err := issuance.RequireRole(a, issuance.RoleProvinceAdmin, issuance.RoleOrgAdmin, issuance.RoleBankStaff, issuance.RoleSystem); err != nil {
		return Counts{}, err
	}
	sess, st, err := s.sessionInScope(ctx, a, sessionID)
	if err != nil {
		return Counts{}, err
	}
	c, err := st.CountOnsite(ctx, sessionID)
	if err != nil {
		return Counts{}, fmt.Errorf("report of on-site session %d: %w", sessionID, err)
	}
	c.Requested = sess.ExpectedCount
	ups, err := st.ListRosterUploads(ctx, sessionID)
	if err != nil {
		return Counts{}, fmt.Errorf("report of on-site session %d: %w", sessionID, err)
	}
	for _, u := range ups {
		if !u.FinishedAt.IsZero() {
			c.Uploads = append(c.Uploads, u)
			c.UploadedRows += u.Rows
		}
	}
	up, err := st.LatestRosterUpload(ctx, sessionID)
	switch {
	case err == nil:
		c.Rejected = up.Rejected
	case !isNotFound(err):
		return Counts{}, fmt.Errorf("report of on-site session %d: %w", sessionID, err)
	}
	return c, nil
}

// MarkEntry records the personalization outcome of a queue entry
// (personalized, failed with a note, skipped, or back to pending for a
// retry) and counts the attempt. The batch personalization command calls
// it after each card. An entry of another session is ErrNotFound. Roles:
// province_admin, bank_staff.
func (s *Service) MarkEntry(ctx context.Context, a issuance.Actor, sessionID, entryID int64, state PersonalizeState, note string) (Entry, error) {
	if err := issuance.RequireRole(a, issuance.RoleProvinceAdmin, issuance.RoleBankStaff, issuance.RoleSystem); err != nil {
		return Entry{}, err
	}
	if !state.Valid() {
		return Entry{}, issuance.Invalid("state", "must be pending, personalized, failed or skipped")
	}
	note = strings.TrimSpace(note)
	if utf8.RuneCountInString(note) > 500 || !utf8.ValidString(note) {
		return Entry{}, issuance.Invalid("note", "at most 500 characters")
	}
	st := s.st
	var e Entry
	err := s.st.InTx(ctx, func(ctx context.Context) error {
		var err error
		if e, err = st.GetOnsiteEntry(ctx, entryID); err != nil {
			return err
		}
		if e.SessionID != sessionID {
			return issuance.ErrNotFound
		}
		if _, _, err := s.sessionInScope(ctx, a, e.SessionID); err != nil {
			return err
		}
		if state == PersonalizeDone || state == PersonalizeFailed {
			e.Attempts++
		}
		e.Personalize, e.Note, e.UpdatedAt = state, note, s.svc.Now()
		return st.UpdateOnsiteEntry(ctx, &e)
	})
	if err != nil {
		return Entry{}, fmt.Errorf("mark on-site entry %d: %w", entryID, err)
	}
	return e, nil
}
