package main

import (
	"context"
	"fmt"
	"net/http"
	"time"

	"github.com/spf13/cobra"
)

func init() { rootCmd.AddCommand(newHealthcheckCmd()) }

func newHealthcheckCmd() *cobra.Command {
	var (
		url     string
		timeout time.Duration
	)
	cmd := &cobra.Command{
		Use:   "healthcheck",
		Short: "Check that a serve process is ready (for container and service-manager health checks)",
		Long: `healthcheck asks a serve process whether it is ready (GET /readyz: the process
is up and its database answers) and exits 0 when it is, 1 when it answers
otherwise and 3 when it cannot be reached. The runtime image has no curl; the
compose file's health checks run this.`,
		Example: `  volcard healthcheck
  volcard healthcheck --url http://10.0.0.5:8080/readyz --timeout 2s`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx, cancel := context.WithTimeout(cmd.Context(), timeout)
			defer cancel()
			req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
			if err != nil {
				return withExit(exitUsage, fmt.Errorf("--url %q: %w", url, err))
			}
			res, err := http.DefaultClient.Do(req)
			if err != nil {
				return withExit(exitNoDevice, fmt.Errorf("%s unreachable: %w (is serve running and listening there?)", url, err))
			}
			res.Body.Close()
			if res.StatusCode != http.StatusOK {
				return withExit(exitFailure, fmt.Errorf("%s answered %s: not ready (see serve's log; /readyz fails while the database is down)", url, res.Status))
			}
			fmt.Fprintln(cmd.OutOrStdout(), "ready")
			return nil
		},
	}
	cmd.Flags().StringVar(&url, "url", "http://127.0.0.1:8080/readyz", "the readiness URL of the serve process")
	cmd.Flags().DurationVar(&timeout, "timeout", 3*time.Second, "how long to wait for the answer")
	return cmd
}
