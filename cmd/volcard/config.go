package main

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"

	"github.com/spf13/pflag"

	"github.com/volcard/volcard/issuance"
	"github.com/volcard/volcard/issuance/insurance"
	"github.com/volcard/volcard/issuance/store"
	"github.com/volcard/volcard/pii"
)

// Environment variables read by config. README.md documents them.
const (
	envListen         = "VOLCARD_LISTEN"          // HTTP listen address, default :8080
	envDataDir        = "VOLCARD_DATA_DIR"        // data directory, default ./data
	envDatabaseURL    = "VOLCARD_DATABASE_URL"    // PostgreSQL URL; empty → SQLite in the data dir
	envDataKey        = "VOLCARD_DATA_KEY"        // 32-byte PII key, hex or base64; empty → data.key
	envLogLevel       = "VOLCARD_LOG_LEVEL"       // debug, info, warn, error; default info
	envLogFormat      = "VOLCARD_LOG_FORMAT"      // json (default) or text
	envDBMaxConns     = "VOLCARD_DB_MAX_CONNS"    // connection pool size, default 4 per CPU (min 4)
	envTrustedProxies = "VOLCARD_TRUSTED_PROXIES" // CIDRs whose X-Forwarded-For is believed
	envProgressRate   = "VOLCARD_PROGRESS_RATE"   // progress lookups per minute per IP, default 10
)

// Files in the data directory.
const (
	sqliteFile     = "volcard.db"
	dataKeyFile    = "data.key"
	adminTokenFile = "admin.token"
)

// config is the process configuration: environment first, then flags that
// were set explicitly.
type config struct {
	Listen         string
	DataDir        string
	DatabaseURL    string
	DataKey        string // as given; resolved by loadDataKey
	LogLevel       slog.Level
	LogFormat      string
	DBMaxConns     int
	TrustedProxies []*net.IPNet
	ProgressRate   float64 // per minute
	Bank           bankConfig
	Platform       platformConfig

	envErr error // a bad variable, reported when the command runs
}

// defaultDBMaxConns sizes the pool for the machine: four connections per
// CPU, at least four (eight on the 2-core reference machine). More
// connections than that only queue inside PostgreSQL.
func defaultDBMaxConns() int { return max(4, 4*runtime.GOMAXPROCS(0)) }

// configFromEnv reads the VOLCARD_* variables through getenv.
func configFromEnv(getenv func(string) string) (config, error) {
	c := config{
		Listen:       ":8080",
		DataDir:      "./data",
		LogLevel:     slog.LevelInfo,
		LogFormat:    "json",
		DBMaxConns:   defaultDBMaxConns(),
		ProgressRate: 10,
	}
	if v := getenv(envListen); v != "" {
		c.Listen = v
	}
	if v := getenv(envDataDir); v != "" {
		c.DataDir = v
	}
	c.DatabaseURL = getenv(envDatabaseURL)
	bank, err := bankConfigFromEnv(getenv)
	if err != nil {
		return c, err
	}
	c.Bank = bank
	if c.Platform, err = platformConfigFromEnv(getenv); err != nil {
		return c, err
	}
	c.DataKey = getenv(envDataKey)
	if v := getenv(envLogLevel); v != "" {
		if err := c.LogLevel.UnmarshalText([]byte(v)); err != nil {
			return c, fmt.Errorf("%s=%q: want debug, info, warn or error", envLogLevel, v)
		}
	}
	if v := getenv(envLogFormat); v != "" {
		v = strings.ToLower(v)
		if v != "json" && v != "text" {
			return c, fmt.Errorf("%s=%q: want json or text", envLogFormat, v)
		}
		c.LogFormat = v
	}
	if v := getenv(envDBMaxConns); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 1000 {
			return c, fmt.Errorf("%s=%q: want an integer from 1 to 1000", envDBMaxConns, v)
		}
		c.DBMaxConns = n
	}
	if v := getenv(envTrustedProxies); v != "" {
		for _, s := range strings.Split(v, ",") {
			s = strings.TrimSpace(s)
			if s == "" {
				continue
			}
			_, n, err := net.ParseCIDR(s)
			if err != nil {
				return c, fmt.Errorf("%s: %q is not a CIDR", envTrustedProxies, s)
			}
			c.TrustedProxies = append(c.TrustedProxies, n)
		}
	}
	if v := getenv(envProgressRate); v != "" {
		f, err := strconv.ParseFloat(v, 64)
		if err != nil || f <= 0 || f > 60000 {
			return c, fmt.Errorf("%s=%q: want a positive number of requests per minute", envProgressRate, v)
		}
		c.ProgressRate = f
	}
	return c, nil
}

// bindFlags registers the flags that override the environment on fs.
func (c *config) bindFlags(fs *pflag.FlagSet, withListen bool) {
	if withListen {
		fs.StringVar(&c.Listen, "listen", c.Listen, "HTTP listen address ("+envListen+")")
	}
	fs.StringVar(&c.DataDir, "data-dir", c.DataDir, "data directory ("+envDataDir+")")
	fs.StringVar(&c.DatabaseURL, "database-url", c.DatabaseURL, "PostgreSQL URL; empty means SQLite in the data directory ("+envDatabaseURL+")")
}

// loadConfig reads the environment; flags bound afterwards override it. A
// bad variable is kept and reported by check when the command runs.
func loadConfig() *config {
	c, err := configFromEnv(os.Getenv)
	c.envErr = err
	return &c
}

// check reports a bad environment variable as a usage error.
func (c *config) check() error {
	if c.envErr != nil {
		return withExit(exitUsage, c.envErr)
	}
	return nil
}

// sqlitePath is the embedded database file used when DatabaseURL is empty.
func (c config) sqlitePath() string { return filepath.Join(c.DataDir, sqliteFile) }

// newLogger returns the slog logger configured by LogLevel and LogFormat.
func (c config) newLogger(w io.Writer) *slog.Logger {
	opts := &slog.HandlerOptions{Level: c.LogLevel}
	if c.LogFormat == "text" {
		return slog.New(slog.NewTextHandler(w, opts))
	}
	return slog.New(slog.NewJSONHandler(w, opts))
}

// ensureDataDir creates the data directory (0700) if it is missing.
func (c config) ensureDataDir() error {
	if err := os.MkdirAll(c.DataDir, 0o700); err != nil {
		return fmt.Errorf("create data directory: %w", err)
	}
	return nil
}

// loadDataKey returns the PII data key: VOLCARD_DATA_KEY when set, else the
// key in $VOLCARD_DATA_DIR/data.key, which is generated (mode 0600) with a
// warning on first use.
func (c config) loadDataKey(log *slog.Logger) ([]byte, error) {
	if c.DataKey != "" {
		k, err := pii.ParseDataKey(c.DataKey)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", envDataKey, err)
		}
		return k, nil
	}
	path := filepath.Join(c.DataDir, dataKeyFile)
	b, err := os.ReadFile(path)
	switch {
	case err == nil:
		k, err := pii.ParseDataKey(string(b))
		if err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		return k, nil
	case !errors.Is(err, fs.ErrNotExist):
		return nil, fmt.Errorf("read data key: %w", err)
	}
	if err := c.ensureDataDir(); err != nil {
		return nil, err
	}
	k, err := pii.NewDataKey()
	if err != nil {
		return nil, err
	}
	if err := writeSecretFile(path, []byte(fmt.Sprintf("%x\n", k))); err != nil {
		return nil, fmt.Errorf("write data key: %w", err)
	}
	log.Warn("generated a new PII data key; back it up, personal data cannot be read without it, and set "+envDataKey+" in production",
		slog.String("path", path))
	return k, nil
}

// writeSecretFile creates path with mode 0600; it refuses to overwrite.
func writeSecretFile(path string, data []byte) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// databaseURL is what store.Open gets: the PostgreSQL URL, or the SQLite
// file in the data directory.
func (c config) databaseURL() string {
	if c.DatabaseURL != "" {
		return c.DatabaseURL
	}
	return c.sqlitePath()
}

// openStore opens and migrates the database. An unreachable database is
// exit code 3.
func (c config) openStore(ctx context.Context, log *slog.Logger) (*store.Store, error) {
	if c.DatabaseURL == "" {
		if err := c.ensureDataDir(); err != nil {
			return nil, err
		}
	}
	st, err := store.Open(ctx, c.databaseURL(), store.Options{MaxOpenConns: c.DBMaxConns})
	if err != nil {
		return nil, withExit(exitNoDevice, err)
	}
	v, err := st.Migrate(ctx)
	if err != nil {
		_ = st.Close()
		return nil, withExit(exitNoDevice, err)
	}
	log.Debug("database ready", slog.String("dialect", string(st.Dialect())), slog.Int64("schema_version", v))
	return st, nil
}

// openService loads the data key, opens and migrates the store and returns
// the domain Service on it. The caller closes the store.
func (c config) openService(ctx context.Context, log *slog.Logger, opts ...issuance.Option) (*issuance.Service, *store.Store, error) {
	key, err := c.loadDataKey(log)
	if err != nil {
		return nil, nil, withExit(exitUsage, err)
	}
	keys, err := pii.New(key)
	if err != nil {
		return nil, nil, withExit(exitUsage, err)
	}
	st, err := c.openStore(ctx, log)
	if err != nil {
		return nil, nil, err
	}
	if err := st.CheckDataKey(ctx, hex.EncodeToString(keys.Index("data-key-fingerprint", "volcard"))); err != nil {
		_ = st.Close()
		if errors.Is(err, store.ErrOtherDataKey) {
			return nil, nil, withExit(exitUsage, fmt.Errorf("%w: give every process the same %s (a process without it generates its own in %s)",
				err, envDataKey, filepath.Join(c.DataDir, dataKeyFile)))
		}
		return nil, nil, withExit(exitNoDevice, err)
	}
	// Insurance (issue 18): the activation of a holder's card enrols them, the
	// end of their last live card ends the cover, each in the same
	// transaction.
	svc, err := issuance.NewService(st, keys, append([]issuance.Option{issuance.WithLogger(log), issuance.WithBankOutbox(st),
		issuance.WithTransitionHooks(insurance.Enrol(st)), issuance.WithCardHooks(insurance.End(st))}, opts...)...)
	if err != nil {
		_ = st.Close()
		return nil, nil, err
	}
	return svc, st, nil
}
