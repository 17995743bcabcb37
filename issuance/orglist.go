package issuance

import (
	"context"
	"fmt"
)

// OrgLister lists an organisation's children (ListOrgs).
type OrgLister interface {
	// ListChildOrgs returns the organisations directly under parentID (0:
	// the roots) whose path lies inside sc, ordered by region code and id.
	ListChildOrgs(ctx context.Context, parentID int64, sc Scope) ([]Org, error)
}

// ListOrgs returns the organisations directly under parentID (0: the roots)
// that lie inside the actor's scope. An org admin listing its parent sees its
// own organisation only; a parent outside the scope yields an empty list.
func (s *Service) ListOrgs(ctx context.Context, a Actor, parentID int64) ([]Org, error) {
	sc, err := s.Scope(ctx, a)
	if err != nil {
		return nil, err
	}
	orgs, err := s.store.ListChildOrgs(ctx, parentID, sc)
	if err != nil {
		return nil, fmt.Errorf("list orgs under %d: %w", parentID, err)
	}
	for i := range orgs {
		if err := s.OpenOrg(&orgs[i]); err != nil {
			return nil, err
		}
	}
	return orgs, nil
}
