package console

import (
	"embed"
	"io/fs"
)

//go:embed assets/*
var assets embed.FS

// Assets returns the console files: index.html, labels.js, app.js, app.css.
func Assets() fs.FS {
	sub, err := fs.Sub(assets, "assets")
	if err != nil {
		// fs.Sub fails only on an invalid path literal; "assets" is valid.
		panic(err)
	}
	return sub
}
