package store

import (
	"context"
	"crypto/rand"
	"database/sql"
	"database/sql/driver"
	"encoding/hex"
	"errors"
	"fmt"
	"hash/fnv"
	"log/slog"
	"os"
	"strings"
	"sync"
	"time"
)

// MemberPrefix begins the name of every serve process that joined the
// cluster (Store.Join). Outbox leases taken under such a name are held only
// while the process is connected: on PostgreSQL another process may claim
// them the moment the owner's membership connection is gone (a crash, kill
// -9, a lost network), without waiting out the lease.
const MemberPrefix = "volcard:"

// NewMemberID returns a name for this process: the prefix, the host name
// (at most 24 characters of [A-Za-z0-9.-]), the process id and 8 random
// hex digits, 63 bytes at most (PostgreSQL's application_name limit).
func NewMemberID() string {
	host, _ := os.Hostname()
	host = strings.Map(func(r rune) rune {
		if r < 128 && (r == '.' || r == '-' || r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z') {
			return r
		}
		return -1
	}, host)
	if len(host) > 24 {
		host = host[:24]
	}
	if host == "" {
		host = "host"
	}
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	return fmt.Sprintf("%s%s-%d-%s", MemberPrefix, host, os.Getpid(), hex.EncodeToString(b))
}

// Member is one serve process's membership of the processes sharing a
// database. On PostgreSQL it holds one connection for the life of the
// process, named by application_name = ID, which
//   - shows the process alive to the others (pg_stat_activity), so that its
//     outbox leases are reclaimed at once when it dies, and
//   - holds the session advisory locks of TryLock, which PostgreSQL releases
//     itself when the connection ends.
//
// The connection is checked every few seconds and opened again when lost
// (the locks it held are then lost too; a job that held one finishes, and
// its next run takes the lock again). On SQLite, a database of one
// process, the locks are in memory and presence is implied.
type Member struct {
	st  *Store
	id  string
	log *slog.Logger

	mu   sync.Mutex
	conn *sql.Conn // nil on SQLite, and while reconnecting
	gen  int       // incremented at each new connection

	stop      chan struct{}
	done      chan struct{}
	closeOnce sync.Once
	closeErr  error
	held      map[string]bool // names this process holds (PostgreSQL's locks stack within a session)
}

// Join makes this process a member under id (NewMemberID when empty). Close
// it at shutdown.
func (s *Store) Join(ctx context.Context, id string, log *slog.Logger) (*Member, error) {
	if id == "" {
		id = NewMemberID()
	}
	if !strings.HasPrefix(id, MemberPrefix) || len(id) > 63 || strings.ContainsAny(id, "/'") {
		return nil, fmt.Errorf("join: member id %q: want %q…, at most 63 bytes, no / or '", id, MemberPrefix)
	}
	if log == nil {
		log = slog.Default()
	}
	m := &Member{st: s, id: id, log: log, stop: make(chan struct{}), done: make(chan struct{})}
	if s.dialect != Postgres {
		close(m.done)
		return m, nil
	}
	// The membership connection is taken from the pool for the life of
	// the process: the pool grows by one so that it does not count against
	// VOLCARD_DB_MAX_CONNS (a pool of 1 would otherwise hang every query).
	if n := s.sqlDB.Stats().MaxOpenConnections; n > 0 {
		s.sqlDB.SetMaxOpenConns(n + 1)
		s.sqlDB.SetMaxIdleConns(n + 1)
	}
	if err := m.connect(ctx); err != nil {
		return nil, err
	}
	go m.keep()
	return m, nil
}

// ID is the member's name (the outbox lease owner and application_name).
func (m *Member) ID() string { return m.id }

func (m *Member) connect(ctx context.Context) error {
	conn, err := m.st.sqlDB.Conn(ctx)
	if err != nil {
		return fmt.Errorf("join: %w", err)
	}
	if _, err := conn.ExecContext(ctx, "SELECT set_config('application_name', $1, false)", m.id); err != nil {
		discard(conn)
		return fmt.Errorf("join: set application_name: %w", err)
	}
	m.mu.Lock()
	m.conn = conn
	m.gen++
	m.held = nil // a new session holds no lock
	m.mu.Unlock()
	return nil
}

// keep checks the connection every 5 s and reconnects when it is lost.
func (m *Member) keep() {
	defer close(m.done)
	t := time.NewTicker(5 * time.Second)
	defer t.Stop()
	for {
		select {
		case <-m.stop:
			return
		case <-t.C:
		}
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		m.mu.Lock()
		conn := m.conn
		m.mu.Unlock()
		var err error
		if conn != nil {
			// Outside the lock: a slow ping must not hold up TryLock.
			// database/sql serializes the Conn's use with a lock call.
			if err = conn.PingContext(ctx); err != nil {
				m.mu.Lock()
				if m.conn == conn {
					discard(conn)
					m.conn = nil
				}
				m.mu.Unlock()
			}
		}
		if err != nil {
			m.log.Warn("cluster membership connection lost; reconnecting (advisory locks held are released)", slog.String("error", err.Error()))
		}
		if conn == nil || err != nil {
			if err := m.connect(ctx); err != nil {
				m.log.Warn("cluster membership: reconnect failed", slog.String("error", err.Error()))
			}
		}
		cancel()
	}
}

// memberGone reports whether owner names a cluster member whose membership
// connection has ended (its process is gone). Names that are not members'
// ("" or a worker named by a test) are never gone; on SQLite nothing is.
func (s *Store) memberGone(ctx context.Context, owner string) (bool, error) {
	if s.dialect != Postgres || !strings.HasPrefix(owner, MemberPrefix) {
		return false, nil
	}
	var alive bool
	err := s.DB(ctx).Raw(`SELECT EXISTS (SELECT 1 FROM pg_stat_activity WHERE application_name = ?)`, owner).Scan(&alive).Error
	if err != nil {
		return false, fmt.Errorf("member %s alive: %w", owner, mapErr(err))
	}
	return !alive, nil
}

// lockKey maps a lock name onto PostgreSQL's 64-bit advisory lock space.
func lockKey(name string) int64 {
	h := fnv.New64a()
	_, _ = h.Write([]byte("volcard.lock." + name))
	return int64(h.Sum64())
}

// TryLock takes the cluster-wide lock name if no process holds it, without
// waiting. release gives it back (a no-op when the connection that held it
// has been lost, which released it already).
func (m *Member) TryLock(ctx context.Context, name string) (release func(), ok bool, err error) {
	if m.st.dialect != Postgres {
		return m.st.tryLocalLock(name)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.conn == nil {
		return nil, false, errors.New("cluster membership connection is down")
	}
	if m.held[name] { // taken by this process already: one holder, as on SQLite
		return nil, false, nil
	}
	key := lockKey(name)
	if err := m.conn.QueryRowContext(ctx, "SELECT pg_try_advisory_lock($1)", key).Scan(&ok); err != nil {
		return nil, false, fmt.Errorf("try lock %s: %w", name, err)
	}
	if !ok {
		return nil, false, nil
	}
	gen := m.gen
	if m.held == nil {
		m.held = map[string]bool{}
	}
	m.held[name] = true
	return func() {
		m.mu.Lock()
		defer m.mu.Unlock()
		if m.gen == gen {
			delete(m.held, name)
		}
		if m.conn == nil || m.gen != gen {
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if _, err := m.conn.ExecContext(ctx, "SELECT pg_advisory_unlock($1)", key); err != nil {
			m.log.Warn("release lock", slog.String("lock", name), slog.String("error", err.Error()))
		}
	}, true, nil
}

// Close ends the membership: its connection closes, which releases every
// lock it held and shows the process gone.
func (m *Member) Close() error {
	m.closeOnce.Do(func() { m.closeErr = m.leave() })
	return m.closeErr
}

func (m *Member) leave() error {
	close(m.stop)
	<-m.done
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.conn == nil {
		return nil
	}
	discard(m.conn)
	m.conn = nil
	// The server ends the session a moment after the connection closes;
	// wait for it (5 s at most), so that when Close returns the other
	// processes see this one gone and its locks free.
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	for {
		gone, err := m.st.memberGone(ctx, m.id)
		if err != nil || gone {
			return err
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("leave: the session of %s is still open after 5 s", m.id)
		case <-time.After(5 * time.Millisecond):
		}
	}
}

// discard closes the member's session for good. Conn.Close would hand it
// back to the pool, where it would live on under the member's name and with
// its advisory locks; a Raw call that reports the connection bad makes
// database/sql close it instead.
func discard(conn *sql.Conn) {
	_ = conn.Raw(func(any) error { return driver.ErrBadConn })
	_ = conn.Close()
}

// localLocks are the locks of a SQLite database, which one process uses:
// kept on the Store, so that every Member of the process shares them.
type localLocks struct {
	mu   sync.Mutex
	held map[string]bool
}

func (s *Store) tryLocalLock(name string) (func(), bool, error) {
	l := &s.locks
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.held[name] {
		return nil, false, nil
	}
	if l.held == nil {
		l.held = map[string]bool{}
	}
	l.held[name] = true
	return func() { l.mu.Lock(); delete(l.held, name); l.mu.Unlock() }, true, nil
}
