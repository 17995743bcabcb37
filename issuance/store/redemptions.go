package store

import (
	"context"
	"time"

	"github.com/volcard/volcard/issuance/checkin"
)

// Benefit checks and redemptions (checkin.RedemptionRepo).

type benefitCheckRow struct {
	ID           int64 `gorm:"primaryKey"`
	Ref          string
	ActorTokenID int64
	VolunteerID  int64
	Tier         string
	At           time.Time
}

func (benefitCheckRow) TableName() string { return "benefit_checks" }

type redemptionRow struct {
	ID           int64 `gorm:"primaryKey"`
	CheckID      int64
	OfferID      int64
	OrgPath      string
	VolunteerID  int64
	ActorTokenID int64
	CVM          string `gorm:"column:cvm"`
	At           time.Time
}

func (redemptionRow) TableName() string { return "benefit_redemptions" }

func (r redemptionRow) domain() checkin.Redemption {
	return checkin.Redemption{ID: r.ID, CheckID: r.CheckID, OfferID: r.OfferID, OrgPath: r.OrgPath,
		VolunteerID: r.VolunteerID, ActorTokenID: r.ActorTokenID, CVM: checkin.CVM(r.CVM), At: r.At.UTC()}
}

// CreateBenefitCheck implements checkin.RedemptionRepo.
func (s *Store) CreateBenefitCheck(ctx context.Context, c *checkin.BenefitCheck) error {
	r := benefitCheckRow{Ref: c.Ref, ActorTokenID: c.ActorTokenID, VolunteerID: c.VolunteerID, Tier: string(c.Tier),
		At: c.At.UTC()}
	if err := s.DB(ctx).Create(&r).Error; err != nil {
		return mapCheckinErr(err)
	}
	c.ID = r.ID
	return nil
}

// GetBenefitCheck implements checkin.RedemptionRepo.
func (s *Store) GetBenefitCheck(ctx context.Context, ref string) (checkin.BenefitCheck, error) {
	var r benefitCheckRow
	if err := s.DB(ctx).Where("ref = ?", ref).Take(&r).Error; err != nil {
		return checkin.BenefitCheck{}, mapErr(err)
	}
	return checkin.BenefitCheck{ID: r.ID, Ref: r.Ref, ActorTokenID: r.ActorTokenID, VolunteerID: r.VolunteerID,
		Tier: checkin.BenefitTier(r.Tier), At: r.At.UTC()}, nil
}

// CreateRedemption implements checkin.RedemptionRepo.
func (s *Store) CreateRedemption(ctx context.Context, red *checkin.Redemption) error {
	r := redemptionRow{CheckID: red.CheckID, OfferID: red.OfferID, OrgPath: red.OrgPath, VolunteerID: red.VolunteerID,
		ActorTokenID: red.ActorTokenID, CVM: string(red.CVM), At: red.At.UTC()}
	if err := s.DB(ctx).Create(&r).Error; err != nil {
		return mapCheckinErr(err) // benefit_redemptions_check_offer: ConflictError "redemption"
	}
	red.ID = r.ID
	return nil
}

// FindRedemption implements checkin.RedemptionRepo.
func (s *Store) FindRedemption(ctx context.Context, checkID, offerID int64) (checkin.Redemption, error) {
	var r redemptionRow
	if err := s.DB(ctx).Where("check_id = ? AND offer_id = ?", checkID, offerID).Take(&r).Error; err != nil {
		return checkin.Redemption{}, mapErr(err)
	}
	return r.domain(), nil
}

// ListRedemptions implements checkin.RedemptionRepo.
func (s *Store) ListRedemptions(ctx context.Context, offerID int64) ([]checkin.Redemption, error) {
	var rows []redemptionRow
	if err := s.DB(ctx).Where("offer_id = ?", offerID).Order("id").Find(&rows).Error; err != nil {
		return nil, mapCheckinErr(err)
	}
	out := make([]checkin.Redemption, 0, len(rows))
	for _, r := range rows {
		out = append(out, r.domain())
	}
	return out, nil
}
