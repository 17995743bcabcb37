package issuance

import (
	"context"
	"strconv"
	"strings"
)

// InstantIssuanceReason is the reason recorded on the approval event of an
// instant issuance, beside the bank staff's token, role and channel.
const InstantIssuanceReason = "instant issuance at the branch"

// ApproveInstant approves a walk-in application at the counter (instant
// issuance): bank staff who identified the person approve, instead of the
// league committee, so that the bank's answer and personalization follow
// in the same visit. It is allowed only when all of these hold, else
// ErrForbidden (403) naming the rule:
//   - the actor is bank staff with a branch token;
//   - the application is in the actor's scope (its bank, its branch's city),
//     submitted, of channel branch, and was made by a token of the same
//     branch (a walk-in they created there);
//   - its organisation or an ancestor has the instant-issuance policy
//     (Org.InstantIssuance, set by the province admin).
//
// The approval is the ordinary submitted → approved transition, its event
// recorded with the actor's token, role bank_staff, channel branch and
// InstantIssuanceReason; the bank request follows as for any approval.
func (s *Service) ApproveInstant(ctx context.Context, a Actor, id int64) (Application, error) {
	if err := RequireRole(a, RoleBankStaff); err != nil {
		return Application{}, err
	}
	if a.BranchID == 0 {
		return Application{}, &PolicyError{Rule: "instant issuance needs a token of a branch"}
	}
	return s.transition(ctx, a, []Role{RoleBankStaff}, id, StatusApproved, InstantIssuanceReason, func(ctx context.Context, app Application) error {
		if app.Channel != ChannelBranch {
			return &PolicyError{Rule: "only a walk-in application made at a branch is approved at the counter"}
		}
		evs, err := s.store.ListEvents(ctx, app.ID)
		if err != nil {
			return err
		}
		if len(evs) == 0 || evs[0].From != "" || evs[0].ActorRole != RoleBankStaff || evs[0].ActorTokenID == 0 {
			return &PolicyError{Rule: "the application was not made by bank staff"}
		}
		maker, err := s.store.GetToken(ctx, evs[0].ActorTokenID)
		if err != nil {
			return err
		}
		if maker.BranchID != a.BranchID || maker.BankCode != a.BankCode {
			return &PolicyError{Rule: "the application was made at another branch"}
		}
		ok, err := s.instantAllowed(ctx, app.OrgPath)
		if err != nil {
			return err
		}
		if !ok {
			return &PolicyError{Rule: "the organisation's policy does not allow instant issuance"}
		}
		return nil
	})
}

// PolicyError is a refusal by a rule the caller can act on (say, the
// organisation's policy); Rule is safe to show. It is ErrForbidden.
type PolicyError struct{ Rule string }

func (e *PolicyError) Error() string { return "forbidden: " + e.Rule }

// Unwrap makes errors.Is(err, ErrForbidden) true.
func (e *PolicyError) Unwrap() error { return ErrForbidden }

// instantAllowed reports whether the organisation at path or one of its
// ancestors has the instant-issuance policy.
func (s *Service) instantAllowed(ctx context.Context, path string) (bool, error) {
	for _, part := range strings.Split(strings.Trim(path, "/"), "/") {
		id, err := strconv.ParseInt(part, 10, 64)
		if err != nil {
			continue
		}
		o, err := s.store.GetOrg(ctx, id, Scope{})
		if err != nil {
			return false, err
		}
		if o.InstantIssuance {
			return true, nil
		}
	}
	return false, nil
}
