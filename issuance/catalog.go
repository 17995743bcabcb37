package issuance

import (
	"context"
	"fmt"
	"strconv"
	"strings"
)

func validAID(s string) bool {
	if len(s) < 10 || len(s) > 32 || len(s)%2 != 0 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; (c < '0' || c > '9') && (c < 'A' || c > 'F') {
			return false
		}
	}
	return true
}

// PutBank creates or updates a partner bank. Province admins and system only.
func (s *Service) PutBank(ctx context.Context, a Actor, b Bank) error {
	if err := RequireRole(a, RoleProvinceAdmin, RoleSystem); err != nil {
		return err
	}
	if b.Code == "" || len(b.Code) > 16 {
		return Invalid("code", "1–16 characters")
	}
	if err := ValidName("name", b.Name, 100); err != nil {
		return err
	}
	if err := s.store.PutBank(ctx, b); err != nil {
		return fmt.Errorf("put bank %s: %w", b.Code, err)
	}
	return nil
}

// PutProduct creates or updates a card product of an existing bank,
// offered in the subtree of p.OrgID. Province admins and system only.
func (s *Service) PutProduct(ctx context.Context, a Actor, p Product) error {
	if err := RequireRole(a, RoleProvinceAdmin, RoleSystem); err != nil {
		return err
	}
	p.AID = strings.ToUpper(p.AID)
	switch {
	case p.Code == "" || len(p.Code) > 32:
		return Invalid("code", "1–32 characters")
	case len(p.BIN) < 6 || len(p.BIN) > 8:
		return Invalid("bin", "6–8 digits")
	case !validAID(p.AID):
		return Invalid("aid", "10–32 hex characters")
	case p.Kind != CardDebit && p.Kind != CardCredit:
		return Invalid("kind", "debit or credit")
	}
	if err := ValidName("name", p.Name, 100); err != nil {
		return err
	}
	err := s.store.InTx(ctx, func(ctx context.Context) error {
		if _, err := s.store.GetBank(ctx, p.BankCode); err != nil {
			return fmt.Errorf("bank: %w", err)
		}
		o, err := s.store.GetOrg(ctx, p.OrgID, Scope{})
		if err != nil {
			return fmt.Errorf("org: %w", err)
		}
		p.OrgPath = o.Path
		if err := s.store.PutProduct(ctx, p); err != nil {
			return err
		}
		return s.audit(ctx, a, AuditProductPut, "product", p.Code, o.Path,
			fmt.Sprintf("bank %s, bin %s, kind %s, org %d", p.BankCode, p.BIN, p.Kind, p.OrgID))
	})
	if err != nil {
		return fmt.Errorf("put product %s: %w", p.Code, err)
	}
	s.products.Delete(p.Code)
	return nil
}

// PutBranch creates or updates (by bank, city and name) a bank branch and
// sets br.ID. Province admins and system only.
func (s *Service) PutBranch(ctx context.Context, a Actor, br *Branch) error {
	if err := RequireRole(a, RoleProvinceAdmin, RoleSystem); err != nil {
		return err
	}
	if err := ValidName("name", br.Name, 100); err != nil {
		return err
	}
	if err := s.sealContact("contact", purposeBranchContact, &br.Contact); err != nil {
		return err
	}
	err := s.store.InTx(ctx, func(ctx context.Context) error {
		if _, err := s.store.GetBank(ctx, br.BankCode); err != nil {
			return fmt.Errorf("bank: %w", err)
		}
		o, err := s.store.GetOrg(ctx, br.OrgID, Scope{})
		if err != nil {
			return fmt.Errorf("org: %w", err)
		}
		br.OrgPath = o.Path
		if err := s.store.PutBranch(ctx, br); err != nil {
			return err
		}
		return s.audit(ctx, a, AuditBranchPut, "branch", strconv.FormatInt(br.ID, 10), o.Path,
			fmt.Sprintf("bank %s, org %d; contact set", br.BankCode, br.OrgID))
	})
	if err != nil {
		return fmt.Errorf("put branch: %w", err)
	}
	return nil
}

// GetProduct returns a product by code.
func (s *Service) GetProduct(ctx context.Context, code string) (Product, error) {
	p, err := s.Product(ctx, code)
	if err != nil {
		return Product{}, fmt.Errorf("get product %s: %w", code, err)
	}
	return p, nil
}

// ListProducts returns all products ordered by code.
func (s *Service) ListProducts(ctx context.Context) ([]Product, error) {
	ps, err := s.store.ListProducts(ctx)
	if err != nil {
		return nil, fmt.Errorf("list products: %w", err)
	}
	return ps, nil
}

// ListBranches returns the branches of a bank (empty: all banks) in a city
// (0: all cities), contacts decrypted.
func (s *Service) ListBranches(ctx context.Context, bankCode string, orgID int64) ([]Branch, error) {
	bs, err := s.store.ListBranches(ctx, bankCode, orgID)
	if err != nil {
		return nil, fmt.Errorf("list branches: %w", err)
	}
	for i := range bs {
		if err := s.openContact(purposeBranchContact, &bs[i].Contact); err != nil {
			return nil, fmt.Errorf("branch %d: %w", bs[i].ID, err)
		}
	}
	return bs, nil
}

// UpdateBranchContact replaces a branch's contact (name, position, phone)
// and records an audit event. Province admins and system only.
func (s *Service) UpdateBranchContact(ctx context.Context, a Actor, id int64, c Contact) (Branch, error) {
	if err := RequireRole(a, RoleProvinceAdmin, RoleSystem); err != nil {
		return Branch{}, err
	}
	br, err := s.store.GetBranch(ctx, id)
	if err != nil {
		return Branch{}, fmt.Errorf("branch %d: %w", id, err)
	}
	br.Contact = c
	if err := s.PutBranch(ctx, a, &br); err != nil {
		return Branch{}, err
	}
	return s.Branch(ctx, id)
}
