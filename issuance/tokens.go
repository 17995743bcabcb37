package issuance

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// TokenPrefix starts every API token.
const TokenPrefix = "vc_"

// tokenBytes is the amount of randomness in a token.
const tokenBytes = 32

// HashToken returns the SHA-256 hash under which a token's plaintext is stored.
func HashToken(plaintext string) []byte {
	h := sha256.Sum256([]byte(plaintext))
	return h[:]
}

// CreateToken makes an API token for role and returns its plaintext (shown
// once, never stored) and the stored record. org_admin needs OrgID; terminal
// may have one; bank_staff needs BankCode and may have BranchID (then it is
// confined to the branch's city). Only province admins and the system actor
// (the command line) may create tokens.
func (s *Service) CreateToken(ctx context.Context, a Actor, in NewToken) (string, Token, error) {
	if err := RequireRole(a, RoleProvinceAdmin, RoleSystem); err != nil {
		return "", Token{}, err
	}
	if !in.Role.Valid() {
		return "", Token{}, Invalid("role", "must be province_admin, org_admin, bank_staff, terminal, platform or hotline")
	}
	in.Name = strings.TrimSpace(in.Name)
	if utf8.RuneCountInString(in.Name) > 100 || !utf8.ValidString(in.Name) {
		return "", Token{}, Invalid("name", "at most 100 characters")
	}
	t := Token{Name: in.Name, Role: in.Role, CreatedAt: s.clock.Now(), ExpiresAt: in.ExpiresAt}
	if !t.ExpiresAt.IsZero() && !t.ExpiresAt.After(t.CreatedAt) {
		return "", Token{}, Invalid("expires_at", "must be in the future")
	}
	switch in.Role {
	case RoleOrgAdmin, RoleTerminal:
		if in.OrgID == 0 {
			// A terminal serves the activities of one organisation's
			// subtree; a province-wide terminal names the province.
			return "", Token{}, Invalid("org_id", "required for "+string(in.Role)+" (the province's id for a province-wide one)")
		}
		o, err := s.store.GetOrg(ctx, in.OrgID, Scope{})
		if err != nil {
			if isNotFound(err) {
				return "", Token{}, Invalid("org_id", "no such organisation")
			}
			return "", Token{}, fmt.Errorf("create token: %w", err)
		}
		t.OrgID, t.ScopePath = o.ID, o.Path
	case RoleBankStaff:
		if in.BankCode == "" {
			return "", Token{}, Invalid("bank", "required for bank_staff")
		}
		if _, err := s.store.GetBank(ctx, in.BankCode); err != nil {
			if isNotFound(err) {
				return "", Token{}, Invalid("bank", "no such bank")
			}
			return "", Token{}, fmt.Errorf("create token: %w", err)
		}
		t.BankCode = in.BankCode
		if in.BranchID != 0 {
			br, err := s.store.GetBranch(ctx, in.BranchID)
			if err != nil || br.BankCode != in.BankCode {
				return "", Token{}, Invalid("branch_id", "no such branch of this bank")
			}
			t.BranchID, t.OrgID, t.ScopePath = br.ID, br.OrgID, br.OrgPath
		}
	default:
		if in.OrgID != 0 || in.BankCode != "" || in.BranchID != 0 {
			return "", Token{}, Invalid("role", "province_admin, platform and hotline tokens are not scoped")
		}
	}
	raw := make([]byte, tokenBytes)
	if _, err := io.ReadFull(s.rand, raw); err != nil {
		return "", Token{}, fmt.Errorf("create token: random: %w", err)
	}
	plain := TokenPrefix + base64.RawURLEncoding.EncodeToString(raw)
	t.Hash = HashToken(plain)
	t.Hint = plain[:len(TokenPrefix)+4]
	err := s.store.InTx(ctx, func(ctx context.Context) error {
		if err := s.store.CreateToken(ctx, &t); err != nil {
			return err
		}
		return s.audit(ctx, a, AuditTokenCreated, "token", strconv.FormatInt(t.ID, 10), t.ScopePath, tokenDetail(t))
	})
	if err != nil {
		return "", Token{}, fmt.Errorf("create token: %w", err)
	}
	return plain, t, nil
}

// Authenticate resolves a bearer token's plaintext to its Actor. Unknown,
// malformed and revoked tokens are ErrUnauthenticated.
func (s *Service) Authenticate(ctx context.Context, plaintext string) (Actor, error) {
	if !strings.HasPrefix(plaintext, TokenPrefix) || len(plaintext) != len(TokenPrefix)+43 {
		return Actor{}, ErrUnauthenticated
	}
	hash := HashToken(plaintext)
	if s.tokenTTL > 0 {
		if c, ok := s.tokens.Load(string(hash)); ok {
			if ca := c.(cachedActor); s.clock.Now().Before(ca.expires) {
				return ca.actor, nil
			}
			s.tokens.Delete(string(hash))
		}
	}
	t, err := s.store.GetTokenByHash(ctx, hash)
	if err != nil {
		if isNotFound(err) {
			return Actor{}, ErrUnauthenticated
		}
		return Actor{}, fmt.Errorf("authenticate: %w", err)
	}
	now := s.clock.Now()
	if !t.Valid(now) {
		return Actor{}, ErrUnauthenticated
	}
	a := Actor{TokenID: t.ID, Role: t.Role, OrgID: t.OrgID, BankCode: t.BankCode,
		BranchID: t.BranchID, ScopePath: t.ScopePath, Expires: t.ExpiresAt}
	if s.tokenTTL > 0 {
		exp := now.Add(s.tokenTTL)
		if !t.ExpiresAt.IsZero() && t.ExpiresAt.Before(exp) {
			exp = t.ExpiresAt
		}
		s.tokens.Store(string(hash), cachedActor{actor: a, expires: exp})
	}
	return a, nil
}

// CountTokens returns how many tokens exist (revoked included); serve uses
// it to create the first admin token on an empty database.
func (s *Service) CountTokens(ctx context.Context) (int64, error) {
	n, err := s.store.CountTokens(ctx)
	if err != nil {
		return 0, fmt.Errorf("count tokens: %w", err)
	}
	return n, nil
}

// RevokeToken revokes a token by id. Province admins and the system actor
// only. Revoking twice is not an error.
func (s *Service) RevokeToken(ctx context.Context, a Actor, id int64) error {
	if err := RequireRole(a, RoleProvinceAdmin, RoleSystem); err != nil {
		return err
	}
	err := s.store.InTx(ctx, func(ctx context.Context) error {
		t, err := s.store.GetToken(ctx, id)
		if err != nil {
			return err
		}
		if !t.RevokedAt.IsZero() {
			return nil // already revoked: nothing to write
		}
		if err := s.store.RevokeToken(ctx, id, s.clock.Now()); err != nil {
			return err
		}
		return s.audit(ctx, a, AuditTokenRevoked, "token", strconv.FormatInt(id, 10), t.ScopePath, tokenDetail(t))
	})
	if err != nil {
		return fmt.Errorf("revoke token %d: %w", id, err)
	}
	s.forgetToken(id)
	return nil
}

// forgetToken drops a token's cached actor.
func (s *Service) forgetToken(id int64) {
	s.tokens.Range(func(k, v any) bool {
		if v.(cachedActor).actor.TokenID == id {
			s.tokens.Delete(k)
		}
		return true
	})
}

// tokenDetail describes a token for its audit events: role, scope and
// expiry, never the secret or its hint.
func tokenDetail(t Token) string {
	d := "role " + string(t.Role)
	if t.OrgID != 0 {
		d += fmt.Sprintf(", org %d", t.OrgID)
	}
	if t.BankCode != "" {
		d += ", bank " + t.BankCode
	}
	if t.BranchID != 0 {
		d += fmt.Sprintf(", branch %d", t.BranchID)
	}
	if !t.ExpiresAt.IsZero() {
		d += ", expires " + t.ExpiresAt.UTC().Format(time.RFC3339)
	}
	return d
}

// ListTokens returns the tokens q selects, by id: never their secrets (only
// the hash is stored) but their hints. Province admins and the system
// actor only.
func (s *Service) ListTokens(ctx context.Context, a Actor, q TokenQuery) ([]Token, error) {
	if err := RequireRole(a, RoleProvinceAdmin, RoleSystem); err != nil {
		return nil, err
	}
	if q.Role != "" && !q.Role.Valid() {
		return nil, Invalid("role", "unknown role")
	}
	ts, err := s.store.ListTokens(ctx, q, s.clock.Now())
	if err != nil {
		return nil, fmt.Errorf("list tokens: %w", err)
	}
	return ts, nil
}

// TokenPatch is the input of Service.UpdateToken: nil fields are kept.
type TokenPatch struct {
	Name *string
	// ExpiresAt sets the expiry; a pointer to the zero time removes it.
	ExpiresAt *time.Time
}

// UpdateToken renames a token or changes its expiry (a new expiry must be
// in the future; a revoked token cannot be changed), audited. Province
// admins and the system actor only.
func (s *Service) UpdateToken(ctx context.Context, a Actor, id int64, p TokenPatch) (Token, error) {
	if err := RequireRole(a, RoleProvinceAdmin, RoleSystem); err != nil {
		return Token{}, err
	}
	if p.Name == nil && p.ExpiresAt == nil {
		return Token{}, Invalid("body", "nothing to change")
	}
	if p.Name != nil {
		n := strings.TrimSpace(*p.Name)
		if utf8.RuneCountInString(n) > 100 || !utf8.ValidString(n) {
			return Token{}, Invalid("name", "at most 100 characters")
		}
		p.Name = &n
	}
	now := s.clock.Now()
	if p.ExpiresAt != nil && !p.ExpiresAt.IsZero() && !p.ExpiresAt.After(now) {
		return Token{}, Invalid("expires_at", "must be in the future (revoke the token to end it now)")
	}
	var out Token
	err := s.store.InTx(ctx, func(ctx context.Context) error {
		t, err := s.store.GetToken(ctx, id)
		if err != nil {
			return err
		}
		if !t.RevokedAt.IsZero() {
			return fmt.Errorf("%w: the token is revoked", ErrConflict)
		}
		var changed []string
		if p.Name != nil && *p.Name != t.Name {
			t.Name = *p.Name
			changed = append(changed, "name")
		}
		if p.ExpiresAt != nil && !p.ExpiresAt.Equal(t.ExpiresAt) {
			t.ExpiresAt = *p.ExpiresAt
			if t.ExpiresAt.IsZero() {
				changed = append(changed, "expires_at removed")
			} else {
				changed = append(changed, "expires_at "+t.ExpiresAt.UTC().Format(time.RFC3339))
			}
		}
		out = t
		if len(changed) == 0 {
			return nil
		}
		if err := s.store.UpdateToken(ctx, t); err != nil {
			return err
		}
		return s.audit(ctx, a, AuditTokenUpdated, "token", strconv.FormatInt(id, 10), t.ScopePath, changedFields(changed))
	})
	if err != nil {
		return Token{}, fmt.Errorf("update token %d: %w", id, err)
	}
	s.forgetToken(id)
	return out, nil
}
