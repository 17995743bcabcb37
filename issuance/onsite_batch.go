package issuance

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"
)

// approveChunk is how many applications one approval transaction moves.
const approveChunk = 200

// OnsiteApproval is the outcome of approving a session's roster.
type OnsiteApproval struct {
	Approved int // applications moved submitted → approved by this call
	Sent     int // of those, moved on to bank_pending with an outbox request
}

// ApproveOnsiteSession approves, in one action, every submitted
// application of the session's accepted rows, in roster order. Each goes
// through Transition (an event naming the approving admin, the transition
// hooks); when the Service has a bank outbox (WithBankOutbox) each is then
// moved to bank_pending in the same transaction, which writes its outbox
// request, so the session reaches the bank as one batch. Without an outbox
// the applications stay approved. Applications already approved or further
// are left alone, so calling it again changes nothing. Roles:
// province_admin, org_admin (the session's organisation or above).
func (s *Service) ApproveOnsiteSession(ctx context.Context, a Actor, sessionID int64) (OnsiteApproval, error) {
	if err := RequireRole(a, RoleProvinceAdmin, RoleOrgAdmin, RoleSystem); err != nil {
		return OnsiteApproval{}, err
	}
	sess, st, err := s.sessionInScope(ctx, a, sessionID)
	if err != nil {
		return OnsiteApproval{}, err
	}
	if !sess.Status.Open() {
		return OnsiteApproval{}, &SessionTransitionError{From: sess.Status, To: sess.Status}
	}
	ids, err := st.OnsiteApplicationIDs(ctx, sessionID, StatusSubmitted)
	if err != nil {
		return OnsiteApproval{}, fmt.Errorf("approve on-site session %d: %w", sessionID, err)
	}
	// The session authorises the admin for all its rows, including people
	// registered earlier in another organisation of the product's area.
	ea := a
	if ea.Role == RoleOrgAdmin {
		ea.ScopePath = "/"
	}
	reason := "on-site session " + strconv.FormatInt(sessionID, 10)
	var out OnsiteApproval
	for lo := 0; lo < len(ids); lo += approveChunk {
		hi := min(lo+approveChunk, len(ids))
		var n OnsiteApproval
		err := s.store.InTx(ctx, func(ctx context.Context) error {
			n = OnsiteApproval{}
			for _, id := range ids[lo:hi] {
				if _, err := s.Transition(ctx, ea, id, StatusApproved, reason); err != nil {
					return err
				}
				n.Approved++
				if s.outbox != nil {
					if _, err := s.Transition(ctx, SystemActor(), id, StatusBankPending, reason+" batch"); err != nil {
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

// OnsiteQueue returns the session's batch queue in roster order: each
// accepted row with its application's number and status and its
// personalization state. `volcard personalize --batch` walks it; entries
// already personalized (or skipped) are done, so a restarted walk resumes
// where it stopped. Roles: province_admin, org_admin, bank_staff.
func (s *Service) OnsiteQueue(ctx context.Context, a Actor, sessionID int64) ([]QueueItem, error) {
	if err := RequireRole(a, RoleProvinceAdmin, RoleOrgAdmin, RoleBankStaff, RoleSystem); err != nil {
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

// OnsiteReport returns the session's counts: requested head count,
// accepted and rejected rows, and where the applications stand (sent,
// approved by the bank, personalized, failed). Roles: province_admin,
// org_admin, bank_staff.
func (s *Service) OnsiteReport(ctx context.Context, a Actor, sessionID int64) (OnsiteCounts, error) {
	if err := RequireRole(a, RoleProvinceAdmin, RoleOrgAdmin, RoleBankStaff, RoleSystem); err != nil {
		return OnsiteCounts{}, err
	}
	sess, st, err := s.sessionInScope(ctx, a, sessionID)
	if err != nil {
		return OnsiteCounts{}, err
	}
	c, err := st.CountOnsite(ctx, sessionID)
	if err != nil {
		return OnsiteCounts{}, fmt.Errorf("report of on-site session %d: %w", sessionID, err)
	}
	c.Requested = sess.ExpectedCount
	up, err := st.LatestRosterUpload(ctx, sessionID)
	switch {
	case err == nil:
		c.Rejected = up.Rejected
	case !isNotFound(err):
		return OnsiteCounts{}, fmt.Errorf("report of on-site session %d: %w", sessionID, err)
	}
	return c, nil
}

// MarkOnsiteEntry records the personalization outcome of a queue entry
// (personalized, failed with a note, skipped, or back to pending for a
// retry) and counts the attempt. The batch personalization command calls
// it after each card. An entry of another session is ErrNotFound. Roles:
// province_admin, bank_staff.
func (s *Service) MarkOnsiteEntry(ctx context.Context, a Actor, sessionID, entryID int64, state PersonalizeState, note string) (OnsiteEntry, error) {
	if err := RequireRole(a, RoleProvinceAdmin, RoleBankStaff, RoleSystem); err != nil {
		return OnsiteEntry{}, err
	}
	if !state.Valid() {
		return OnsiteEntry{}, Invalid("state", "must be pending, personalized, failed or skipped")
	}
	note = strings.TrimSpace(note)
	if utf8.RuneCountInString(note) > 500 || !utf8.ValidString(note) {
		return OnsiteEntry{}, Invalid("note", "at most 500 characters")
	}
	st, err := s.onsiteStore()
	if err != nil {
		return OnsiteEntry{}, err
	}
	var e OnsiteEntry
	err = s.store.InTx(ctx, func(ctx context.Context) error {
		if e, err = st.GetOnsiteEntry(ctx, entryID); err != nil {
			return err
		}
		if e.SessionID != sessionID {
			return ErrNotFound
		}
		if _, _, err := s.sessionInScope(ctx, a, e.SessionID); err != nil {
			return err
		}
		if state == PersonalizeDone || state == PersonalizeFailed {
			e.Attempts++
		}
		e.Personalize, e.Note, e.UpdatedAt = state, note, s.clock.Now()
		return st.UpdateOnsiteEntry(ctx, &e)
	})
	if err != nil {
		return OnsiteEntry{}, fmt.Errorf("mark on-site entry %d: %w", entryID, err)
	}
	return e, nil
}
