package sqlitevfs

import (
	"fmt"
	"io/fs"
	"os"

	"github.com/ncruces/go-sqlite3/vfs"
)

// Name is the VFS name for the vfs= URI parameter.
const Name = "volcard-0600"

// Mode is the mode of the files the VFS creates.
const Mode fs.FileMode = 0o600

func init() { vfs.Register(Name, private{vfs.Find("os").(vfs.VFSFilename)}) }

// private is the "os" VFS creating files with Mode.
type private struct{ vfs.VFSFilename }

var _ vfs.VFSFilename = private{}

// OpenFilename implements vfs.VFSFilename.
func (p private) OpenFilename(name *vfs.Filename, flags vfs.OpenFlag) (vfs.File, vfs.OpenFlag, error) {
	if name != nil && flags&vfs.OPEN_CREATE != 0 && flags&vfs.OPEN_EXCLUSIVE == 0 {
		// A file that cannot be made here cannot be opened by "os" either,
		// which then answers with the error SQLite expects (a read-only
		// directory, ...): leave the answer to it.
		create(name.String())
		if flags&vfs.OPEN_MAIN_DB != 0 {
			create(name.String() + "-shm")
		}
	}
	f, out, err := p.VFSFilename.OpenFilename(name, flags)
	if err == nil && name != nil && flags&vfs.OPEN_EXCLUSIVE != 0 {
		// Created by "os" just now (O_EXCL): narrow it at once.
		if err := os.Chmod(name.String(), Mode); err != nil {
			_ = f.Close()
			return nil, out, fmt.Errorf("sqlitevfs: %w", err)
		}
	}
	return f, out, err
}

// create makes an empty file at path with Mode unless one exists (or
// cannot be made).
func create(path string) {
	if f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_EXCL, Mode); err == nil {
		_ = f.Close()
	}
}
