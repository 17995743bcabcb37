package issuance

import (
	"context"
	"fmt"
)

func RequireRole(a Actor, roles ...Role) error {
	for _, r := range roles {
		if a.Role == r {
			return nil
		}
	}
	return fmt.Errorf("%w: role %q", ErrForbidden, a.Role)
}

// Scope returns the query restriction for an actor.
func (s *Service) Scope(ctx context.Context, a Actor) (Scope, error) {
	switch a.Role {
	case RoleProvinceAdmin, RolePlatform, RoleSystem:
		return Scope{}, nil
	case RoleOrgAdmin:
		p, err := s.scopePath(ctx, a)
		if err != nil {
			return Scope{}, err
		}
		if p == "" {
			return Scope{}, fmt.Errorf("%w: org admin without org", ErrForbidden)
		}
		return Scope{PathPrefix: p}, nil
	case RoleBankStaff:
		if a.BankCode == "" {
			return Scope{}, fmt.Errorf("%w: bank staff without bank", ErrForbidden)
		}
		p := a.ScopePath
		if p == "" && a.BranchID != 0 {
			br, err := s.store.GetBranch(ctx, a.BranchID)
			if err != nil {
				return Scope{}, fmt.Errorf("%w: branch of token", ErrForbidden)
			}
			p = br.OrgPath
		}
		return Scope{PathPrefix: p, BankCode: a.BankCode}, nil
	case RoleTerminal:
		p, err := s.scopePath(ctx, a)
		if err != nil {
			return Scope{}, err
		}
		if p == "" {
			// Tokens made before terminals had to name an organisation.
			return Scope{}, fmt.Errorf("%w: terminal without org", ErrForbidden)
		}
		return Scope{PathPrefix: p}, nil
	default:
		return Scope{}, fmt.Errorf("%w: unknown role", ErrForbidden)
	}
}

func (s *Service) scopePath(ctx context.Context, a Actor) (string, error) {
	if a.ScopePath != "" || a.OrgID == 0 {
		return a.ScopePath, nil
	}
	o, err := s.store.GetOrg(ctx, a.OrgID, Scope{})
	if err != nil {
		return "", fmt.Errorf("%w: org of token", ErrForbidden)
	}
	return o.Path, nil
}

// VolunteerScope is the restriction of volunteer reads by id: the actor's
// organisation scope, and for bank staff only the people with an
// application or card at their bank (Rules).
func (s *Service) VolunteerScope(ctx context.Context, a Actor) (Scope, error) {
	sc, err := s.Scope(ctx, a)
	if err != nil {
		return Scope{}, err
	}
	if a.Role == RoleBankStaff {
		sc.Holders = sc.BankCode
	}
	sc.BankCode = ""
	return sc, nil
}

// RevealsPII reports whether a's responses show v's ID number and phone in
// full (Rules, "unmasked"): bank staff for their bank's holders, the
// platform for the people it supplied; everyone else sees them masked.
func (s *Service) RevealsPII(ctx context.Context, a Actor, v Volunteer) (bool, error) {
	switch rule(a.Role).Unmasked {
	case UnmaskBankHolders:
		sc, err := s.VolunteerScope(ctx, a)
		if err != nil {
			return false, err
		}
		_, err = s.store.GetVolunteer(ctx, v.ID, sc)
		if isNotFound(err) {
			return false, nil
		}
		return err == nil, err
	case UnmaskOwnSource:
		return v.Source == a.Role.Channel(), nil
	default:
		return false, nil
	}
}
