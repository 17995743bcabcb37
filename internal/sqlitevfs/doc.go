// Package sqlitevfs registers Name, a SQLite VFS for
// github.com/ncruces/go-sqlite3 that keeps the files of a database
// owner-only: the database, its rollback journal or write-ahead log
// ("-wal") and its shared-memory index ("-shm") are created with mode 0600.
//
// The library's default "os" VFS creates every file with mode 0666 less the
// umask (0644 as a rule), and the "-wal" and "-shm" files again each time
// the last connection closes and a new one opens. This VFS is "os" with one
// difference: before "os" creates a file, it creates it empty with mode
// 0600 (a file that exists is left as it is), and for a database also its
// "-shm" file, which "os" opens by itself. Select it with vfs=Name in the
// file: URI.
package sqlitevfs
