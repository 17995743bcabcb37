package api

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"runtime/debug"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"golang.org/x/time/rate"

	"github.com/volcard/volcard/issuance"
	"github.com/volcard/volcard/issuance/onsite"
	"github.com/volcard/volcard/issuance/reports"
	"github.com/volcard/volcard/pii"
)

// Options configures a Server. Zero fields take the defaults documented on
// each field.
type Options struct {
	// Service runs the domain commands. Required.
	Service *issuance.Service
	// Authenticator resolves bearer tokens; default Service.
	Authenticator Authenticator
	// Idempotency stores Idempotency-Keys; nil ignores the header (only
	// sensible in tests).
	Idempotency issuance.IdempotencyStore
	// Ready reports whether dependencies (the database) are reachable, for
	// /readyz; nil means always ready.
	Ready func(ctx context.Context) error
	// Logger receives access and error logs; default slog.Default().
	Logger *slog.Logger
	// Registry receives the HTTP metrics and is served on /metrics; default
	// a new registry with the Go and process collectors.
	Registry *prometheus.Registry
	// BodyLimit is the largest JSON body accepted; default 64 KiB.
	BodyLimit int64
	// AuthCacheTTL is how long a verified token is remembered in memory;
	// default 5 s, negative disables the cache. Revocation applies within it.
	AuthCacheTTL time.Duration
	// IdempotencyTTL is how long an Idempotency-Key is kept; default 24 h.
	IdempotencyTTL time.Duration
	// IdempotencyLockTTL is how long a request may hold a key in flight
	// before another may take it over; default 1 min.
	IdempotencyLockTTL time.Duration
	// ProgressRate and ProgressBurst limit public progress lookups per
	// client IP; default 10 per minute with a burst of 5.
	ProgressRate  rate.Limit
	ProgressBurst int
	// ProgressLimiter, when set, replaces the in-process limiter built from
	// ProgressRate and ProgressBurst (serve passes store.RateLimits, so that
	// every process on one database enforces one limit).
	ProgressLimiter RateLimiter
	// LossReportRate and LossReportBurst limit holders' loss reports per
	// client IP, in buckets of their own (key prefix "loss-report");
	// default 10 per hour with a burst of 3.
	LossReportRate  rate.Limit
	LossReportBurst int
	// LossReportLimiter, when set, replaces the in-process limiter built
	// from LossReportRate and LossReportBurst (serve passes
	// store.RateLimits).
	LossReportLimiter RateLimiter
	// HotlineRate and HotlineBurst limit the hotline's look-ups per token
	// (a call centre shares one address), in buckets of their own (key
	// prefix "hotline"); default DefaultHotlineRate, DefaultHotlineBurst.
	HotlineRate  rate.Limit
	HotlineBurst int
	// HotlineLimiter, when set, replaces the in-process limiter built from
	// HotlineRate and HotlineBurst (serve passes store.RateLimits).
	HotlineLimiter RateLimiter
	// TrustedProxies are the networks whose X-Forwarded-For header is
	// believed when finding the client IP; empty uses the peer address.
	TrustedProxies []*net.IPNet
	// Now is the clock; default time.Now.
	Now func() time.Time
}

func (o *Options) defaults() error {
	if o.Service == nil {
		return ErrNilService
	}
	if o.Authenticator == nil {
		o.Authenticator = o.Service
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.Registry == nil {
		o.Registry = prometheus.NewRegistry()
	}
	if o.BodyLimit <= 0 {
		o.BodyLimit = DefaultBodyLimit
	}
	if o.AuthCacheTTL == 0 {
		o.AuthCacheTTL = 5 * time.Second
	}
	if o.IdempotencyTTL <= 0 {
		o.IdempotencyTTL = 24 * time.Hour
	}
	if o.IdempotencyLockTTL <= 0 {
		o.IdempotencyLockTTL = time.Minute
	}
	if o.ProgressRate <= 0 {
		o.ProgressRate = rate.Limit(10.0 / 60)
	}
	if o.ProgressBurst <= 0 {
		o.ProgressBurst = 5
	}
	if o.LossReportRate <= 0 {
		o.LossReportRate = rate.Limit(10.0 / 3600)
	}
	if o.LossReportBurst <= 0 {
		o.LossReportBurst = 3
	}
	if o.HotlineRate <= 0 {
		o.HotlineRate = DefaultHotlineRate
	}
	if o.HotlineBurst <= 0 {
		o.HotlineBurst = DefaultHotlineBurst
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return nil
}

// Server is the volcard HTTP API. It is an http.Handler.
type Server struct {
	e       *echo.Echo
	opts    Options
	svc     *issuance.Service
	onsite  *onsite.Service  // nil until EnableOnsite
	reports *reports.Service // nil until EnableReports
	log     *slog.Logger
	auth    *authCache
	metrics *metrics
	openapi []byte
}

// New builds the server and its routes.
func New(opts Options) (*Server, error) {
	if err := opts.defaults(); err != nil {
		return nil, err
	}
	m, err := newMetrics(opts.Registry)
	if err != nil {
		return nil, fmt.Errorf("api: register metrics: %w", err)
	}
	// Replayed responses may carry personal data: keep them sealed at rest.
	if opts.Service != nil {
		opts.Idempotency = opts.Service.SealedIdempotency(opts.Idempotency)
	}
	doc, err := openAPIJSON()
	if err != nil {
		return nil, fmt.Errorf("api: openapi document: %w", err)
	}
	s := &Server{
		e:       echo.New(),
		opts:    opts,
		svc:     opts.Service,
		log:     opts.Logger,
		auth:    newAuthCache(opts.AuthCacheTTL, opts.Now),
		metrics: m,
		openapi: doc,
	}
	e := s.e
	e.HideBanner, e.HidePort = true, true
	e.HTTPErrorHandler = s.errorHandler
	e.IPExtractor = echo.ExtractIPDirect()
	if len(opts.TrustedProxies) > 0 {
		trust := []echo.TrustOption{echo.TrustLoopback(false), echo.TrustLinkLocal(false), echo.TrustPrivateNet(false)}
		for _, n := range opts.TrustedProxies {
			trust = append(trust, echo.TrustIPRange(n))
		}
		e.IPExtractor = echo.ExtractIPFromXFFHeader(trust...)
	}
	e.Use(requestID(), s.accessLog(), m.instrument(), s.recoverPanic())
	s.routes()
	return s, nil
}

// ServeHTTP implements http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.e.ServeHTTP(w, r) }

// Routes lists the registered routes (method and Echo path pattern).
func (s *Server) Routes() []*echo.Route { return s.e.Routes() }

// OpenAPI returns the OpenAPI 3 document served at /v1/openapi.json.
func (s *Server) OpenAPI() []byte { return append([]byte(nil), s.openapi...) }

func (s *Server) routes() {
	e := s.e
	e.GET("/healthz", s.healthz)
	e.GET("/readyz", s.readyz)
	e.GET("/metrics", echo.WrapHandler(promhttp.HandlerFor(s.opts.Registry, promhttp.HandlerOpts{})))

	v1 := e.Group("/v1")
	v1.GET("/openapi.json", s.getOpenAPI)
	limiter := s.opts.ProgressLimiter
	if limiter == nil {
		limiter = newIPLimiter(s.opts.ProgressRate, s.opts.ProgressBurst, s.opts.Now)
	}
	v1.GET("/progress", s.getProgress, rateLimit(limiter, "progress", s.log))
	loss := s.opts.LossReportLimiter
	if loss == nil {
		loss = newIPLimiter(s.opts.LossReportRate, s.opts.LossReportBurst, s.opts.Now)
	}
	v1.POST("/progress/loss-report", s.reportLoss, rateLimit(loss, "loss-report", s.log))

	const (
		pa = issuance.RoleProvinceAdmin
		oa = issuance.RoleOrgAdmin
		bs = issuance.RoleBankStaff
		tm = issuance.RoleTerminal
		pf = issuance.RolePlatform
	)
	// Authentication is per route, not on a group: Echo adds catch-all
	// routes for groups with middleware, which would turn unknown paths
	// into 401 and hide 405.
	auth := s.authenticate()
	idem := s.idempotency()
	v1.POST("/orgs", s.createOrg, auth, allow(pa, oa), idem)
	v1.GET("/orgs", s.listOrgs, auth, allow(pa, oa, bs, tm, pf))
	v1.GET("/orgs/:id", s.getOrg, auth, allow(pa, oa, bs, tm, pf))
	v1.GET("/products", s.listProducts, auth, allow(pa, oa, bs, tm, pf))
	v1.POST("/volunteers", s.createVolunteer, auth, allow(pa, oa, bs, pf), idem)
	v1.GET("/volunteers", s.findVolunteer, auth, allow(pa, oa, bs, tm, pf))
	v1.GET("/volunteers/:id", s.getVolunteer, auth, allow(pa, oa, bs, tm, pf))
	v1.PATCH("/volunteers/:id", s.updateVolunteer, auth, allow(pa, oa, bs), idem)
	v1.POST("/applications", s.createApplication, auth, allow(pa, oa, bs, pf), idem)
	v1.GET("/applications", s.listApplications, auth, allow(pa, oa, bs, pf))
	v1.GET("/applications/:id", s.getApplication, auth, allow(pa, oa, bs, pf))
	v1.POST("/applications/:id/approve", s.approveApplication, auth, allow(pa, oa), idem)
	v1.POST("/applications/:id/instant-approve", s.approveInstant, auth, allow(bs), idem)
	v1.POST("/applications/:id/reject", s.rejectApplication, auth, allow(pa, oa), idem)
	v1.POST("/applications/:id/cancel", s.cancelApplication, auth, allow(pa, oa, bs, pf), idem)
	v1.GET("/applications/:id/events", s.listEvents, auth, allow(pa, oa, bs, pf))
	s.cardRoutes(v1, auth, idem)  // handlers_cards.go (issue 4: card lifecycle through the bank)
	s.adminRoutes(v1, auth, idem) // handlers_admin.go (issue 19: the staff console's edits)
	s.tokenRoutes(v1, auth, idem) // handlers_tokens.go (issue 19: tokens and terminals)
	s.hotlineRoutes(v1, auth)     // handlers_hotline.go (issue 19: the hotline's look-up)
	s.consoleRoutes()             // handlers_console.go: the staff web console at /
}

// recoverPanic turns a handler panic into a 500 problem and logs the stack
// (handler panics are bugs; outside input never causes them by design).
func (s *Server) recoverPanic() echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) (err error) {
			defer func() {
				if r := recover(); r != nil {
					if r == http.ErrAbortHandler {
						panic(r)
					}
					s.log.LogAttrs(c.Request().Context(), slog.LevelError, "handler panic",
						slog.String("route", c.Path()),
						slog.String("panic", pii.Scrub(fmt.Sprint(r))),
						slog.String("stack", pii.Scrub(string(debug.Stack()))))
					err = &Error{Kind: KindInternal, Detail: "an internal error occurred; quote the request_id when reporting it"}
				}
			}()
			return next(c)
		}
	}
}
