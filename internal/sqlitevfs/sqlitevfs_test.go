//go:build unix

package sqlitevfs_test

import (
	"database/sql"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"syscall"
	"testing"

	_ "github.com/ncruces/go-sqlite3/driver"
	"github.com/stretchr/testify/require"

	"github.com/volcard/volcard/internal/sqlitevfs"
)

// TestFilesAreOwnerOnly opens a database in WAL mode with the default "os"
// VFS and with sqlitevfs under umask 022: with "os" the database, -wal and
// -shm files are 0644, with sqlitevfs 0600, also when they are made again
// after the last connection closed (which deletes -wal and -shm).
func TestFilesAreOwnerOnly(t *testing.T) {
	old := syscall.Umask(0o022)
	t.Cleanup(func() { syscall.Umask(old) })

	tests := []struct {
		name string
		vfs  string
		want fs.FileMode
	}{
		{"os", "os", 0o644},
		{"sqlitevfs", sqlitevfs.Name, sqlitevfs.Mode},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "x.db")
			dsn := "file:" + (&url.URL{Path: path}).EscapedPath() + "?_pragma=journal_mode(wal)&vfs=" + tc.vfs
			for round := range 2 {
				db, err := sql.Open("sqlite3", dsn)
				require.NoError(t, err)
				_, err = db.Exec(`CREATE TABLE IF NOT EXISTS t (v TEXT); INSERT INTO t VALUES ('x')`)
				require.NoError(t, err)
				for _, f := range []string{path, path + "-wal", path + "-shm"} {
					fi, err := os.Stat(f)
					require.NoError(t, err, "round %d", round)
					require.Equal(t, tc.want, fi.Mode().Perm(), "%s, round %d", filepath.Base(f), round)
				}
				require.NoError(t, db.Close())
				_, err = os.Stat(path + "-wal")
				require.ErrorIs(t, err, fs.ErrNotExist, "closing the last connection removes the WAL")
			}
		})
	}
	t.Run("an existing database keeps its mode", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "old.db")
		require.NoError(t, os.WriteFile(path, nil, 0o640))
		db, err := sql.Open("sqlite3", "file:"+path+"?vfs="+sqlitevfs.Name)
		require.NoError(t, err)
		_, err = db.Exec(`CREATE TABLE t (v TEXT)`)
		require.NoError(t, err)
		require.NoError(t, db.Close())
		fi, err := os.Stat(path)
		require.NoError(t, err)
		require.Equal(t, fs.FileMode(0o640), fi.Mode().Perm())
	})
}
