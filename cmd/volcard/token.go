package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/volcard/volcard/issuance"
)

func init() { rootCmd.AddCommand(newTokenCmd()) }

func newTokenCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "token",
		Short: "Create and revoke API tokens (directly in the database)",
	}
	cmd.AddCommand(newTokenCreateCmd(), newTokenRevokeCmd(), newTokenListCmd())
	return cmd
}

func newTokenCreateCmd() *cobra.Command {
	cfg := loadConfig()
	var in issuance.NewToken
	var role string
	cmd := &cobra.Command{
		Use:   "create --role ROLE [--org ID] [--bank CODE] [--branch ID] [--label TEXT]",
		Short: "Create an API token and print it on stdout (shown once)",
		Long: `create makes a bearer token for one role and prints it on stdout; only its
SHA-256 hash is stored. Roles: province_admin, org_admin (needs --org: it sees
that organisation's subtree), bank_staff (needs --bank, optionally --branch: it
sees its bank's applications in the branch's city, and volunteers only once they
apply at its bank), terminal (needs --org: it taps at that organisation's
activities; give the province's id for a province-wide terminal), platform (the
volunteer platform's integration), hotline (the 12355 youth line and the card's
service line: only GET /v1/hotline/lookup, every look-up audited). docs/authorization.md has the whole matrix.`,
		Example: `  volcard token create --role org_admin --org 5 --label "Meizhou league committee"
  volcard token create --role bank_staff --bank CCB --branch 3`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := cfg.check(); err != nil {
				return err
			}
			in.Role = issuance.Role(role)
			if !in.Role.Valid() {
				return withExit(exitUsage, fmt.Errorf("--role %q: want province_admin, org_admin, bank_staff, terminal, platform or hotline", role))
			}
			ctx := cmd.Context()
			log := cfg.newLogger(cmd.ErrOrStderr())
			svc, st, err := cfg.openService(ctx, log)
			if err != nil {
				return err
			}
			defer st.Close()
			plain, tok, err := svc.CreateToken(ctx, issuance.SystemActor(), in)
			if err != nil {
				if errors.Is(err, issuance.ErrInvalid) {
					return withExit(exitUsage, err)
				}
				return err
			}
			fmt.Fprintln(cmd.OutOrStdout(), plain)
			fmt.Fprintf(cmd.ErrOrStderr(), "created token %d (role %s); store it now, it is not shown again\n", tok.ID, tok.Role)
			return nil
		},
	}
	cfg.bindFlags(cmd.Flags(), false)
	f := cmd.Flags()
	f.StringVar(&role, "role", "", "province_admin, org_admin, bank_staff, terminal, platform or hotline (required)")
	f.Int64Var(&in.OrgID, "org", 0, "organisation id (org_admin, terminal)")
	f.StringVar(&in.BankCode, "bank", "", "bank code, e.g. BOC (bank_staff)")
	f.Int64Var(&in.BranchID, "branch", 0, "bank branch id (bank_staff)")
	f.StringVar(&in.Name, "label", "", "a label to recognise the token by")
	_ = cmd.MarkFlagRequired("role")
	return cmd
}

func newTokenRevokeCmd() *cobra.Command {
	cfg := loadConfig()
	cmd := &cobra.Command{
		Use:   "revoke TOKEN_ID",
		Short: "Revoke a token by id (servers notice within seconds)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := cfg.check(); err != nil {
				return err
			}
			id, err := strconv.ParseInt(args[0], 10, 64)
			if err != nil || id <= 0 {
				return withExit(exitUsage, fmt.Errorf("token id %q: want a positive integer", args[0]))
			}
			ctx := cmd.Context()
			log := cfg.newLogger(cmd.ErrOrStderr())
			svc, st, err := cfg.openService(ctx, log)
			if err != nil {
				return err
			}
			defer st.Close()
			if err := svc.RevokeToken(ctx, issuance.SystemActor(), id); err != nil {
				return err
			}
			fmt.Fprintf(cmd.ErrOrStderr(), "revoked token %d\n", id)
			return nil
		},
	}
	cfg.bindFlags(cmd.Flags(), false)
	return cmd
}

func newTokenListCmd() *cobra.Command {
	cfg := loadConfig()
	var role string
	var all, asJSON bool
	cmd := &cobra.Command{
		Use:   "list [--role ROLE] [--all] [--json]",
		Short: "List API tokens and terminals (never their secrets)",
		Long: `list prints the tokens as a table: id, role, label, organisation, bank and
branch, hint (the first characters of the secret, which only its holder has),
created, expires and state. Active tokens only unless --all (revoked and expired
too). Terminals are the tokens of role terminal: --role terminal. The province
admin has the same list at GET /v1/admin/tokens (docs/staff-api.md).`,
		Example: `  volcard token list
  volcard token list --role terminal --all
  volcard token list --json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := cfg.check(); err != nil {
				return err
			}
			q := issuance.TokenQuery{Role: issuance.Role(role), Inactive: all}
			if role != "" && !q.Role.Valid() {
				return withExit(exitUsage, fmt.Errorf("--role %q: want province_admin, org_admin, bank_staff, terminal, platform or hotline", role))
			}
			ctx := cmd.Context()
			log := cfg.newLogger(cmd.ErrOrStderr())
			svc, st, err := cfg.openService(ctx, log)
			if err != nil {
				return err
			}
			defer st.Close()
			ts, err := svc.ListTokens(ctx, issuance.SystemActor(), q)
			if err != nil {
				return err
			}
			return printTokens(cmd.OutOrStdout(), ts, svc.Now(), asJSON)
		},
	}
	cfg.bindFlags(cmd.Flags(), false)
	f := cmd.Flags()
	f.StringVar(&role, "role", "", "only tokens of this role")
	f.BoolVar(&all, "all", false, "include revoked and expired tokens")
	f.BoolVar(&asJSON, "json", false, "one JSON object per token, one a line")
	return cmd
}

// tokenLine is a token as token list prints it: no hash, no secret.
type tokenLine struct {
	ID        int64  `json:"id"`
	Role      string `json:"role"`
	Name      string `json:"name"`
	OrgID     int64  `json:"org_id,omitempty"`
	Bank      string `json:"bank,omitempty"`
	BranchID  int64  `json:"branch_id,omitempty"`
	Hint      string `json:"hint"`
	CreatedAt string `json:"created_at"`
	ExpiresAt string `json:"expires_at,omitempty"`
	State     string `json:"state"`
}

func printTokens(w io.Writer, ts []issuance.Token, now time.Time, asJSON bool) error {
	lines := make([]tokenLine, len(ts))
	for i, t := range ts {
		l := tokenLine{ID: t.ID, Role: string(t.Role), Name: t.Name, OrgID: t.OrgID, Bank: t.BankCode, BranchID: t.BranchID,
			Hint: t.Hint, CreatedAt: t.CreatedAt.UTC().Format(time.RFC3339), State: "active"}
		if !t.ExpiresAt.IsZero() {
			l.ExpiresAt = t.ExpiresAt.UTC().Format(time.RFC3339)
			if !now.Before(t.ExpiresAt) {
				l.State = "expired"
			}
		}
		if !t.RevokedAt.IsZero() {
			l.State = "revoked"
		}
		lines[i] = l
	}
	if asJSON {
		enc := json.NewEncoder(w)
		for _, l := range lines {
			if err := enc.Encode(l); err != nil {
				return err
			}
		}
		return nil
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tROLE\tLABEL\tORG\tBANK\tBRANCH\tHINT\tCREATED\tEXPIRES\tSTATE")
	dash := func(v string) string {
		if v == "" || v == "0" {
			return "-"
		}
		return v
	}
	for _, l := range lines {
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", l.ID, l.Role, dash(l.Name),
			dash(strconv.FormatInt(l.OrgID, 10)), dash(l.Bank), dash(strconv.FormatInt(l.BranchID, 10)), l.Hint,
			l.CreatedAt, dash(l.ExpiresAt), l.State)
	}
	return tw.Flush()
}
