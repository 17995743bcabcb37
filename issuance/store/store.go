package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/ncruces/go-sqlite3/gormlite"
	"gorm.io/driver/postgres"
	"gorm.io/gorm"
	"gorm.io/gorm/logger"

	"github.com/volcard/volcard/internal/sqlitevfs"
	"github.com/volcard/volcard/issuance"
)

// Dialect names the database behind a Store.
type Dialect string

// Dialects.
const (
	Postgres Dialect = "postgres"
	SQLite   Dialect = "sqlite"
)

// Store implements issuance.Store. Construct it with Open.
type Store struct {
	db      *gorm.DB
	sqlDB   *sql.DB
	dialect Dialect
	locks   localLocks // TryLock on SQLite (member.go)
}

var _ issuance.Store = (*Store)(nil)

// Options tune Open. The zero value is the default.
type Options struct {
	// MaxOpenConns bounds the connection pool (default 32 on PostgreSQL, 8
	// on SQLite).
	MaxOpenConns int
	// Logger receives GORM's SQL log; nil silences it (SQL may carry
	// ciphertexts but never plaintext personal data; the default keeps logs
	// quiet anyway).
	Logger logger.Interface
}

// Open connects to a database. A "postgres://" or "postgresql://" URL (or
// a libpq key=value string containing "host=") selects PostgreSQL; anything
// else is a SQLite file path (or "file:" URI), opened in WAL mode with a
// busy timeout, foreign keys on and immediate write transactions. Open
// does not migrate; call Migrate.
func Open(ctx context.Context, databaseURL string, opts ...Options) (*Store, error) {
	var o Options
	if len(opts) > 0 {
		o = opts[0]
	}
	if o.Logger == nil {
		o.Logger = logger.Discard
	}
	cfg := &gorm.Config{
		SkipDefaultTransaction: true,
		Logger:                 o.Logger,
		NowFunc:                func() time.Time { return time.Now().UTC() },
	}
	databaseURL = strings.TrimSpace(databaseURL)
	if databaseURL == "" {
		return nil, errors.New("open store: empty database URL or path")
	}
	s := &Store{}
	var dial gorm.Dialector
	if isPostgres(databaseURL) {
		s.dialect = Postgres
		dial = postgres.Open(databaseURL)
		if o.MaxOpenConns == 0 {
			o.MaxOpenConns = 32
		}
	} else {
		s.dialect = SQLite
		dsn, err := sqliteDSN(databaseURL)
		if err != nil {
			return nil, err
		}
		dial = gormlite.Open(dsn)
		if o.MaxOpenConns == 0 {
			o.MaxOpenConns = 8
		}
	}
	db, err := gorm.Open(dial, cfg)
	if err != nil {
		return nil, fmt.Errorf("open %s store: %w", s.dialect, redactErr(err, databaseURL))
	}
	sqlDB, err := db.DB()
	if err != nil {
		return nil, fmt.Errorf("open %s store: %w", s.dialect, err)
	}
	sqlDB.SetMaxOpenConns(o.MaxOpenConns)
	sqlDB.SetMaxIdleConns(o.MaxOpenConns)
	sqlDB.SetConnMaxIdleTime(5 * time.Minute)
	if err := sqlDB.PingContext(ctx); err != nil {
		_ = sqlDB.Close()
		return nil, fmt.Errorf("open %s store: ping: %w", s.dialect, redactErr(err, databaseURL))
	}
	s.db, s.sqlDB = db, sqlDB
	return s, nil
}

func isPostgres(u string) bool {
	return strings.HasPrefix(u, "postgres://") || strings.HasPrefix(u, "postgresql://") ||
		(strings.Contains(u, "host=") && !strings.HasPrefix(u, "file:"))
}

// redactErr keeps a password in the URL out of error text.
func redactErr(err error, databaseURL string) error {
	u, perr := url.Parse(databaseURL)
	if perr != nil || u.User == nil {
		return err
	}
	if pw, ok := u.User.Password(); ok && pw != "" && strings.Contains(err.Error(), pw) {
		return errors.New(strings.ReplaceAll(err.Error(), pw, "xxxxx"))
	}
	return err
}

// sqliteDSN turns a path or file: URI into a DSN with our pragmas. A path
// also gets the owner-only VFS (sqlitevfs: the database, -wal and -shm files
// are created with mode 0600) and its directory, when missing, mode 0700; a
// file: URI is taken as given.
func sqliteDSN(p string) (string, error) {
	pragmas := "_pragma=busy_timeout(10000)&_pragma=journal_mode(wal)&_pragma=foreign_keys(on)" +
		"&_pragma=synchronous(normal)&_txlock=immediate"
	if strings.HasPrefix(p, "file:") {
		sep := "?"
		if strings.Contains(p, "?") {
			sep = "&"
		}
		return p + sep + pragmas, nil
	}
	if dir := filepath.Dir(p); dir != "" {
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return "", fmt.Errorf("open sqlite store: %w", err)
		}
	}
	return "file:" + (&url.URL{Path: p}).EscapedPath() + "?" + pragmas + "&vfs=" + sqlitevfs.Name, nil
}

// Dialect reports which database the store uses.
func (s *Store) Dialect() Dialect { return s.dialect }

// SQLDB returns the underlying database/sql handle (for health checks and
// migrations).
func (s *Store) SQLDB() *sql.DB { return s.sqlDB }

// Close closes the connection pool.
func (s *Store) Close() error { return s.sqlDB.Close() }

// Ping checks that the database answers.
func (s *Store) Ping(ctx context.Context) error { return s.sqlDB.PingContext(ctx) }

type txKey struct{}

// DB returns the GORM handle for ctx: the transaction started by InTx when
// ctx carries one, else the pool. Other adapters (the bank gateway outbox,
// idempotency keys) use it to write in the same transaction as a command.
func (s *Store) DB(ctx context.Context) *gorm.DB {
	if tx, ok := ctx.Value(txKey{}).(*gorm.DB); ok {
		return tx
	}
	return s.db.WithContext(ctx)
}

// InTx implements issuance.Transactor. Nested calls join the outer
// transaction.
func (s *Store) InTx(ctx context.Context, fn func(ctx context.Context) error) error {
	if _, ok := ctx.Value(txKey{}).(*gorm.DB); ok {
		return fn(ctx)
	}
	return s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		return fn(context.WithValue(ctx, txKey{}, tx))
	})
}
