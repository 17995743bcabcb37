package storetest

import (
	"context"
	"database/sql"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	_ "github.com/jackc/pgx/v5/stdlib" // registers the "pgx" database/sql driver for pgtestdb
	"github.com/peterldowns/pgtestdb"

	"github.com/volcard/volcard/internal/ci"
	"github.com/volcard/volcard/issuance/store"
)

// EnvDatabaseURL names the variable holding the admin PostgreSQL URL.
const EnvDatabaseURL = "VOLCARD_TEST_DATABASE_URL"

// migrator runs the embedded goose migrations for pgtestdb.
type migrator struct{}

// Hash implements pgtestdb.Migrator.
func (migrator) Hash() (string, error) { return store.MigrationsHash(store.Postgres) }

// Migrate implements pgtestdb.Migrator.
func (migrator) Migrate(ctx context.Context, db *sql.DB, _ pgtestdb.Config) error {
	_, err := store.MigrateDB(ctx, db, store.Postgres)
	return err
}

// Migrator returns the pgtestdb.Migrator that applies volcard's migrations,
// for tests that want pgtestdb directly.
func Migrator() pgtestdb.Migrator { return migrator{} }

// PostgresURL returns the admin URL from VOLCARD_TEST_DATABASE_URL. When it
// is unset the test is skipped, or fails when CI=true.
func PostgresURL(t testing.TB) string {
	t.Helper()
	u := os.Getenv(EnvDatabaseURL)
	if u == "" {
		if ci.Enabled() {
			t.Fatalf("%s is not set; PostgreSQL tests cannot be skipped in CI", EnvDatabaseURL)
		}
		t.Skipf("%s not set; skipping PostgreSQL test", EnvDatabaseURL)
	}
	return u
}

// config turns an admin URL into a pgtestdb.Config.
func config(t testing.TB, admin string) pgtestdb.Config {
	t.Helper()
	u, err := url.Parse(admin)
	if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
		t.Fatalf("%s must be a postgres:// URL", EnvDatabaseURL)
	}
	pw, _ := u.User.Password()
	host, port := u.Hostname(), u.Port()
	if port == "" {
		port = "5432"
	}
	opts := u.RawQuery
	if opts == "" {
		opts = "sslmode=disable"
	}
	return pgtestdb.Config{
		DriverName: "pgx",
		Host:       host,
		Port:       port,
		User:       u.User.Username(),
		Password:   pw,
		Database:   strings.TrimPrefix(u.Path, "/"),
		Options:    opts,
		// A test that forgets to close its store must not fail the drop.
		ForceTerminateConnections: true,
	}
}

// PostgresDatabaseURL creates an isolated, migrated PostgreSQL database for
// the test and returns its URL; it is dropped when the test ends (kept if
// the test fails, for inspection).
func PostgresDatabaseURL(t testing.TB) string {
	t.Helper()
	conf := pgtestdb.Custom(t, config(t, PostgresURL(t)), migrator{})
	return conf.URL()
}

// Postgres returns a store on an isolated, migrated PostgreSQL database.
func Postgres(t testing.TB) *store.Store {
	t.Helper()
	dbURL := PostgresDatabaseURL(t)
	st, err := store.Open(context.Background(), dbURL, store.Options{MaxOpenConns: 8})
	if err != nil {
		t.Fatalf("open test store: %v", err)
	}
	t.Cleanup(func() { _ = st.Close() })
	return st
}

// SQLite returns a store on a migrated SQLite file in t.TempDir().
func SQLite(t testing.TB) *store.Store {
	t.Helper()
	st, err := store.Open(context.Background(), filepath.Join(t.TempDir(), "volcard.db"))
	if err != nil {
		t.Fatalf("open sqlite test store: %v", err)
	}
	t.Cleanup(func() { _ = st.Close() })
	if _, err := st.Migrate(context.Background()); err != nil {
		t.Fatalf("migrate sqlite test store: %v", err)
	}
	return st
}

// Each runs fn as two subtests, "postgres" and "sqlite", each with its own
// fresh store. The postgres subtest skips (or fails in CI) as Postgres does.
func Each(t *testing.T, fn func(t *testing.T, st *store.Store)) {
	t.Helper()
	t.Run("postgres", func(t *testing.T) { fn(t, Postgres(t)) })
	t.Run("sqlite", func(t *testing.T) { fn(t, SQLite(t)) })
}
