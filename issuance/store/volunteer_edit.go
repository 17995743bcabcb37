package store

import (
	"bytes"
	"context"
	"fmt"
	"time"

	"github.com/volcard/volcard/issuance"
)

// UpdateVolunteer implements issuance.VolunteerUpdater: it writes v's name,
// emboss name, sealed phone and organisation. When the organisation
// changes, what the volunteer adds to the targets counters (registration,
// league membership, first card, city card) moves with them from the old
// organisation to the new one in the same transaction, so that the
// counters still equal a recount (reports.CheckCounters). It writes
// volunteer.updated to the feed (the names of the fields changed) in the
// same transaction.
func (s *Store) UpdateVolunteer(ctx context.Context, v *issuance.Volunteer) error {
	return s.InTx(ctx, func(ctx context.Context) error {
		db := s.DB(ctx)
		var old volunteerRow
		if err := db.Select("id, org_id, name, emboss_name, phone_enc").Where("id = ?", v.ID).Take(&old).Error; err != nil {
			return mapErr(err)
		}
		var fields []string
		extra := map[string]any{}
		if old.Name != v.Name {
			fields = append(fields, "name")
		}
		if old.EmbossName != v.EmbossName {
			fields = append(fields, "emboss_name")
		}
		if !bytes.Equal(old.PhoneEnc, v.PhoneSealed) {
			fields = append(fields, "phone")
		}
		if old.OrgID != v.OrgID {
			fields, extra["from_org_id"] = append(fields, "org_id"), old.OrgID
		}
		var moved []counterRow
		if old.OrgID != v.OrgID {
			if err := db.Raw(s.recountSQLOf(v.ID)).Scan(&moved).Error; err != nil {
				return fmt.Errorf("volunteer %d counters: %w", v.ID, mapErr(err))
			}
		}
		res := db.Model(&volunteerRow{}).Where("id = ?", v.ID).Updates(map[string]any{
			"name": v.Name, "emboss_name": v.EmbossName, "phone_enc": v.PhoneSealed,
			"org_id": v.OrgID, "org_path": v.OrgPath,
		})
		if res.Error != nil {
			return mapErr(res.Error)
		}
		for _, c := range moved {
			for _, d := range []struct {
				org  int64
				sign int64
			}{{old.OrgID, -1}, {v.OrgID, 1}} {
				err := db.Exec(`INSERT INTO org_year_counters AS c (org_id, year, slot, volunteers, league_members,
				        holders, city_card_holders, new_with_card) VALUES (?, ?, 0, ?, ?, ?, ?, ?)
				    ON CONFLICT (org_id, year, slot) DO UPDATE SET volunteers = c.volunteers + EXCLUDED.volunteers,
				        league_members = c.league_members + EXCLUDED.league_members, holders = c.holders + EXCLUDED.holders,
				        city_card_holders = c.city_card_holders + EXCLUDED.city_card_holders,
				        new_with_card = c.new_with_card + EXCLUDED.new_with_card`,
					d.org, c.Year, d.sign*c.Volunteers, d.sign*c.LeagueMembers, d.sign*c.Holders,
					d.sign*c.CityCardHolders, d.sign*c.NewWithCard).Error
				if err != nil {
					return fmt.Errorf("volunteer %d counters: %w", v.ID, mapErr(err))
				}
			}
		}
		return s.recordVolunteerUpdated(ctx, v.ID, fields, extra, time.Time{})
	})
}
