package store

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"embed"
	"encoding/hex"
	"fmt"
	"io/fs"
	"sort"

	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/lock"
)

// migrations holds the goose SQL migrations, one directory per dialect.
//
//go:embed migrations/postgres/*.sql migrations/sqlite/*.sql
var migrations embed.FS

// Migrations returns the migration files of a dialect.
func Migrations(d Dialect) (fs.FS, error) {
	sub, err := fs.Sub(migrations, "migrations/"+string(d))
	if err != nil {
		return nil, fmt.Errorf("migrations for %s: %w", d, err)
	}
	return sub, nil
}

// MigrationsHash returns a SHA-256 over the names and contents of a
// dialect's migrations (test harnesses key template databases on it).
func MigrationsHash(d Dialect) (string, error) {
	fsys, err := Migrations(d)
	if err != nil {
		return "", err
	}
	names, err := fs.Glob(fsys, "*.sql")
	if err != nil {
		return "", err
	}
	sort.Strings(names)
	h := sha256.New()
	for _, n := range names {
		b, err := fs.ReadFile(fsys, n)
		if err != nil {
			return "", err
		}
		fmt.Fprintf(h, "%s\x00%d\x00", n, len(b))
		h.Write(b)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// MigrateDB applies all pending migrations of dialect d to db and returns
// the resulting version.
func MigrateDB(ctx context.Context, db *sql.DB, d Dialect) (int64, error) {
	fsys, err := Migrations(d)
	if err != nil {
		return 0, err
	}
	gd := goose.DialectPostgres
	if d == SQLite {
		gd = goose.DialectSQLite3
	}
	var opts []goose.ProviderOption
	if d == Postgres {
		locker, err := lock.NewPostgresSessionLocker()
		if err != nil {
			return 0, fmt.Errorf("migrate %s: %w", d, err)
		}
		opts = append(opts, goose.WithSessionLocker(locker))
	}
	p, err := goose.NewProvider(gd, db, fsys, opts...)
	if err != nil {
		return 0, fmt.Errorf("migrate %s: %w", d, err)
	}
	if _, err := p.Up(ctx); err != nil {
		return 0, fmt.Errorf("migrate %s: %w", d, err)
	}
	v, err := p.GetDBVersion(ctx)
	if err != nil {
		return 0, fmt.Errorf("migrate %s: version: %w", d, err)
	}
	return v, nil
}

// Migrate applies all pending migrations and returns the schema version.
// It is safe to run on every start; on PostgreSQL goose takes a session lock
// so several processes may start at once.
func (s *Store) Migrate(ctx context.Context) (int64, error) {
	return MigrateDB(ctx, s.sqlDB, s.dialect)
}
