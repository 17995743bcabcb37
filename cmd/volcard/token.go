package main

import (
	"errors"
	"fmt"
	"strconv"

	"github.com/spf13/cobra"

	"github.com/volcard/volcard/issuance"
)

func init() { rootCmd.AddCommand(newTokenCmd()) }

func newTokenCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "token",
		Short: "Create and revoke API tokens (directly in the database)",
	}
	cmd.AddCommand(newTokenCreateCmd(), newTokenRevokeCmd())
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
volunteer platform's integration). docs/authorization.md has the whole matrix.`,
		Example: `  volcard token create --role org_admin --org 5 --label "Meizhou league committee"
  volcard token create --role bank_staff --bank CCB --branch 3`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := cfg.check(); err != nil {
				return err
			}
			in.Role = issuance.Role(role)
			if !in.Role.Valid() {
				return withExit(exitUsage, fmt.Errorf("--role %q: want province_admin, org_admin, bank_staff, terminal or platform", role))
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
	f.StringVar(&role, "role", "", "province_admin, org_admin, bank_staff, terminal or platform (required)")
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
