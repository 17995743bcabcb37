package main

import (
	"fmt"

	"github.com/spf13/cobra"
)

func init() { rootCmd.AddCommand(newMigrateCmd()) }

func newMigrateCmd() *cobra.Command {
	cfg := loadConfig()
	cmd := &cobra.Command{
		Use:   "migrate [--database-url URL]",
		Short: "Apply the database migrations and print the schema version",
		Long: `migrate applies every pending migration (embedded goose SQL, PostgreSQL or
SQLite) and exits. serve does the same at start, so running migrate is only
needed to migrate ahead of a deployment. Several processes may migrate at once
on PostgreSQL (goose takes an advisory lock).`,
		Example: `  volcard migrate --database-url postgres://volcard@db/volcard
  VOLCARD_DATA_DIR=/var/lib/volcard volcard migrate`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := cfg.check(); err != nil {
				return err
			}
			ctx := cmd.Context()
			st, err := cfg.openStore(ctx, cfg.newLogger(cmd.ErrOrStderr()))
			if err != nil {
				return err
			}
			defer st.Close()
			v, err := st.Migrate(ctx)
			if err != nil {
				return withExit(exitNoDevice, err)
			}
			fmt.Fprintf(cmd.OutOrStdout(), "%s schema at version %d\n", st.Dialect(), v)
			return nil
		},
	}
	cfg.bindFlags(cmd.Flags(), false)
	return cmd
}
