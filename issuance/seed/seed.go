package seed

import (
	"context"
	"errors"
	"fmt"

	"github.com/volcard/volcard/issuance"
	"github.com/volcard/volcard/pii"
)

// ProvinceName and ProvinceCode identify the root organisation.
const (
	ProvinceName = "广东省"
	ProvinceCode = "440000"
)

// Result counts what Demo created; a second run creates nothing.
type Result struct {
	Orgs     int
	Banks    int
	Products int
	Branches int
}

// Demo loads the demonstration data through svc as the system actor. It is
// idempotent: organisations and branches are looked up by name first, and
// banks and products are upserted with the same values.
func Demo(ctx context.Context, svc *issuance.Service) (Result, error) {
	var res Result
	sys := issuance.SystemActor()

	ensureOrg := func(in issuance.NewOrg) (issuance.Org, error) {
		o, err := svc.FindOrg(ctx, sys, in.ParentID, in.Name)
		if err == nil {
			return o, nil
		}
		if !errors.Is(err, issuance.ErrNotFound) {
			return issuance.Org{}, err
		}
		o, err = svc.CreateOrg(ctx, sys, in)
		if err != nil {
			return issuance.Org{}, fmt.Errorf("seed org %s: %w", in.Name, err)
		}
		res.Orgs++
		return o, nil
	}

	province, err := ensureOrg(issuance.NewOrg{Kind: issuance.OrgProvince, Name: ProvinceName, RegionCode: ProvinceCode,
		ResidentPopulation: ProvincePopulation10k * 100, PopulationYear: PopulationYear})
	if err != nil {
		return res, err
	}
	cities := map[string]issuance.Org{}
	for _, c := range Cities {
		o, err := ensureOrg(issuance.NewOrg{ParentID: province.ID, Kind: issuance.OrgCity, Name: c.Name,
			RegionCode: c.Code, ResidentPopulation: c.People(), PopulationYear: PopulationYear})
		if err != nil {
			return res, err
		}
		cities[c.Code] = o
	}
	for _, c := range MeizhouCounties {
		if _, err := ensureOrg(issuance.NewOrg{ParentID: cities[c.CityCode].ID, Kind: issuance.OrgCounty,
			Name: c.Name, RegionCode: c.Code}); err != nil {
			return res, err
		}
	}
	for _, u := range Universities {
		if _, err := ensureOrg(issuance.NewOrg{ParentID: cities[u.CityCode].ID, Kind: issuance.OrgUniversity,
			Name: u.Name}); err != nil {
			return res, err
		}
	}

	existing, err := svc.ListProducts(ctx)
	if err != nil {
		return res, err
	}
	have := map[string]bool{}
	for _, p := range existing {
		have[p.Code] = true
	}
	for _, b := range Banks {
		if err := svc.PutBank(ctx, sys, issuance.Bank{Code: b.Code, Name: b.Name}); err != nil {
			return res, fmt.Errorf("seed bank %s: %w", b.Code, err)
		}
	}
	if len(have) == 0 {
		res.Banks = len(Banks)
	}
	for _, p := range Products {
		org := province
		if p.CityCode != "" {
			org = cities[p.CityCode]
		}
		if err := svc.PutProduct(ctx, sys, issuance.Product{Code: p.Code, Name: p.Name, BankCode: p.Bank,
			BIN: p.BIN, AID: p.AID, Kind: issuance.CardKind(p.Kind), OrgID: org.ID}); err != nil {
			return res, fmt.Errorf("seed product %s: %w", p.Code, err)
		}
		if !have[p.Code] {
			res.Products++
		}
	}

	for i, c := range Cities {
		banks := []string{BOC, CEB}
		if c.Code == "441400" {
			banks = append(banks, CCB, PSBC)
		}
		city := cities[c.Code]
		for j, bank := range banks {
			n, err := ensureBranch(ctx, svc, sys, bank, city, c, i*10+j)
			if err != nil {
				return res, err
			}
			res.Branches += n
		}
	}
	return res, nil
}

func bankName(code string) string {
	for _, b := range Banks {
		if b.Code == code {
			return b.Name
		}
	}
	return code
}

// ensureBranch creates the demo branch of bank in city unless it exists.
func ensureBranch(ctx context.Context, svc *issuance.Service, sys issuance.Actor, bank string, city issuance.Org, c City, n int) (int, error) {
	name := bankName(bank) + c.Name[:len(c.Name)-len("市")] + "分行"
	list, err := svc.ListBranches(ctx, bank, city.ID)
	if err != nil {
		return 0, err
	}
	for _, b := range list {
		if b.Name == name {
			return 0, nil
		}
	}
	br := issuance.Branch{BankCode: bank, OrgID: city.ID, Name: name,
		Contact: issuance.Contact{Name: "示例联络人" + c.NameEN, Phone: pii.Phone(fmt.Sprintf("1380000%04d", n))}}
	if err := svc.PutBranch(ctx, sys, &br); err != nil {
		return 0, fmt.Errorf("seed branch %s: %w", name, err)
	}
	return 1, nil
}
