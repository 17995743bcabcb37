package store

import (
	"context"

	"github.com/volcard/volcard/issuance"
)

var _ issuance.OrgLister = (*Store)(nil)

// ListChildOrgs implements issuance.OrgLister.
func (s *Store) ListChildOrgs(ctx context.Context, parentID int64, sc issuance.Scope) ([]issuance.Org, error) {
	var rows []orgRow
	q := s.DB(ctx)
	if parentID == 0 {
		q = q.Where("parent_id IS NULL")
	} else {
		q = q.Where("parent_id = ?", parentID)
	}
	if sc.PathPrefix != "" {
		q = q.Where(`path LIKE ? ESCAPE '\'`, likePrefix(sc.PathPrefix))
	}
	if err := q.Order("region_code, id").Find(&rows).Error; err != nil {
		return nil, mapErr(err)
	}
	out := make([]issuance.Org, len(rows))
	for i, r := range rows {
		out[i] = r.domain()
	}
	return out, nil
}
