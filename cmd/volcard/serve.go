package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/spf13/cobra"
	"golang.org/x/time/rate"

	"github.com/volcard/volcard/api"
	"github.com/volcard/volcard/issuance"
	"github.com/volcard/volcard/issuance/insurance"
	"github.com/volcard/volcard/issuance/onsite"
	"github.com/volcard/volcard/issuance/rebates"
	"github.com/volcard/volcard/issuance/reconcile"
	"github.com/volcard/volcard/issuance/reports"
	"github.com/volcard/volcard/issuance/store"
)

func init() { rootCmd.AddCommand(newServeCmd()) }

// progressBurst is how many public progress lookups one address may make at
// once before VOLCARD_PROGRESS_RATE applies.
const progressBurst = 5

// lossReportPerHour and lossReportBurst limit holders' loss reports per
// client address (in the database, buckets "loss-report:<ip>" apart from
// the progress lookup's): a holder reports once, a guesser is slowed down.
const (
	lossReportPerHour = 10
	lossReportBurst   = 3
)

func newServeCmd() *cobra.Command {
	cfg := loadConfig()
	var seedDemo bool
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Run the HTTP API",
		Long: `serve opens the database (PostgreSQL from VOLCARD_DATABASE_URL, else SQLite in
the data directory), applies migrations, creates the first province_admin token
on a database without tokens (printed once and written to DATA_DIR/admin.token),
and serves the API until SIGINT or SIGTERM.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := cfg.check(); err != nil {
				return err
			}
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			return runServe(ctx, *cfg, seedDemo, cmd.OutOrStdout(), cmd.ErrOrStderr())
		},
	}
	cfg.bindFlags(cmd.Flags(), true)
	cmd.Flags().BoolVar(&seedDemo, "seed-demo", false, "load the demo data (Guangdong cities, universities, banks, products) when the database is empty")
	return cmd
}

// runServe runs the service until ctx is done.
func runServe(ctx context.Context, cfg config, seedDemo bool, stdout, stderr io.Writer) error {
	log := cfg.newLogger(stderr)
	slog.SetDefault(log)

	tb := &simTestBank{}
	svc, st, err := cfg.openService(ctx, log, issuance.WithTestBank(tb))
	if err != nil {
		return err
	}
	defer st.Close()
	log.Info("database ready", slog.String("dialect", string(st.Dialect())))
	if seedDemo {
		if err := seedDemoIfEmpty(ctx, svc, st, log); err != nil {
			return err
		}
	}
	if err := bootstrapAdminToken(ctx, cfg, svc, stdout, log); err != nil {
		return err
	}
	idem, err := store.NewIdempotencyKeys(st, nil)
	if err != nil {
		return err
	}
	// This process's membership of the serve processes on the database:
	// its outbox leases and job locks end with it (closed last).
	member, err := st.Join(ctx, "", log)
	if err != nil {
		return withExit(exitNoDevice, err)
	}
	defer member.Close()
	idem = idem.OwnedBy(member.ID())
	limiter, err := store.NewRateLimits(st, rate.Limit(cfg.ProgressRate/60), progressBurst, nil)
	if err != nil {
		return err
	}
	lossLimiter, err := store.NewRateLimits(st, rate.Limit(lossReportPerHour/3600.0), lossReportBurst, nil)
	if err != nil {
		return err
	}
	hotlineLimiter, err := store.NewRateLimits(st, api.DefaultHotlineRate, api.DefaultHotlineBurst, nil)
	if err != nil {
		return err
	}

	// One registry for /metrics: the API's, the bank link's, the outbox's
	// and the jobs'.
	reg := prometheus.NewRegistry()
	jctx, stopJobs := context.WithCancel(ctx)
	recon, err := reconcileJobs(os.Getenv, svc, st, log)
	if err != nil {
		stopJobs()
		return err
	}
	money, err := moneyJobs(cfg.DataDir, svc, st, log)
	if err != nil {
		stopJobs()
		return err
	}
	waitJobs, err := startJobs(jctx, svc, st, member, idem, reg, log, append(recon, money...)...)
	if err != nil {
		stopJobs()
		return err
	}
	defer func() { stopJobs(); waitJobs() }()
	bankCfg := cfg.Bank
	bankCfg.Owner = member.ID()
	bk, err := startBank(ctx, bankCfg, svc, st, reg, log)
	if err != nil {
		return err
	}
	tb.set(bk.simByCode)
	defer func() {
		if bk != nil { // an early return: stop the bank side anyway
			_ = bk.stop(context.WithoutCancel(ctx))
		}
	}()

	platCfg := cfg.Platform
	platCfg.Owner = member.ID() + "/platform"
	plat, err := startPlatform(ctx, platCfg, svc, st, reg, log)
	if err != nil {
		return err
	}
	defer plat.stop()

	srv, err := api.New(api.Options{
		Service:           svc,
		Registry:          reg,
		Idempotency:       idem,
		Ready:             st.Ping,
		Logger:            log,
		TrustedProxies:    cfg.TrustedProxies,
		ProgressLimiter:   limiter,
		LossReportLimiter: lossLimiter,
		HotlineLimiter:    hotlineLimiter,
	})
	if err != nil {
		return err
	}
	if err := enablePersonalization(ctx, svc, srv, log); err != nil {
		return err
	}
	on, err := onsite.New(svc, st)
	if err != nil {
		return err
	}
	if err := srv.EnableOnsite(on); err != nil {
		return err
	}
	rs, err := reports.New(svc, st)
	if err != nil {
		return err
	}
	if err := srv.EnableReports(rs); err != nil {
		return err
	}
	if err := enableCheckin(svc, st, srv, log); err != nil {
		return err
	}
	if err := enableBankRequests(svc, st, srv, log); err != nil {
		return err
	}
	if err := srv.EnableBankLinks(bk.banks); err != nil {
		return err
	}
	rec, err := reconcile.New(svc, st)
	if err != nil {
		return err
	}
	if err := srv.EnableReconciliations(rec); err != nil {
		return err
	}
	if err := srv.EnablePlatform(plat.svc); err != nil {
		return err
	}
	ins, err := insurance.New(svc, st)
	if err != nil {
		return err
	}
	if err := srv.EnableInsurance(ins); err != nil {
		return err
	}
	reb, err := rebates.New(svc, st)
	if err != nil {
		return err
	}
	if err := srv.EnableRebates(reb); err != nil {
		return err
	}
	// The event feed and this process's webhook worker (stopped with the
	// jobs, after the HTTP server).
	waitEvents, err := startEvents(jctx, cfg, svc, st, srv, member, reg, log)
	if err != nil {
		return err
	}
	defer func() { stopJobs(); waitEvents() }()
	ln, err := net.Listen("tcp", cfg.Listen)
	if err != nil {
		return withExit(exitUsage, fmt.Errorf("listen on %s: %w", cfg.Listen, err))
	}
	hs := &http.Server{
		Handler:           srv,
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(ln) }()
	log.Info("serving", slog.String("addr", ln.Addr().String()), slog.String("data_dir", cfg.DataDir))

	select {
	case err := <-errc:
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	log.Info("shutting down")
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 15*time.Second)
	defer cancel()
	if err := hs.Shutdown(sctx); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	if err := <-errc; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("serve: %w", err)
	}
	// After the HTTP server: the worker hands its leased outbox rows back
	// (claimable at once by other serve processes), then signs off.
	err = bk.stop(sctx)
	bk = nil
	if err != nil {
		return fmt.Errorf("stop bank gateway: %w", err)
	}
	log.Info("stopped")
	return nil
}

// bootstrapAdminToken creates a province_admin token when the database has
// no tokens at all, prints it once on stdout and writes it to
// DATA_DIR/admin.token (mode 0600). The token never reaches the log.
func bootstrapAdminToken(ctx context.Context, cfg config, svc *issuance.Service, stdout io.Writer, log *slog.Logger) error {
	n, err := svc.CountTokens(ctx)
	if err != nil {
		return withExit(exitNoDevice, err)
	}
	if n > 0 {
		return nil
	}
	plain, tok, err := svc.CreateToken(ctx, issuance.SystemActor(), issuance.NewToken{
		Name: "first province admin (serve)", Role: issuance.RoleProvinceAdmin,
	})
	if err != nil {
		return fmt.Errorf("create first admin token: %w", err)
	}
	if err := cfg.ensureDataDir(); err != nil {
		return err
	}
	path := filepath.Join(cfg.DataDir, adminTokenFile)
	_ = os.Remove(path) // a stale file from an earlier database
	if err := writeSecretFile(path, []byte(plain+"\n")); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	fmt.Fprintf(stdout, "First province_admin token (shown once; also in %s):\n%s\n", path, plain)
	log.Warn("created the first province_admin token", slog.Int64("token_id", tok.ID), slog.String("path", path))
	return nil
}
