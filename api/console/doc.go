// Package console holds the staff web console: a static page, its script
// and style sheet, embedded in the binary (nothing is loaded from the
// internet). The page signs in with an API token kept in sessionStorage
// and talks to the JSON API with fetch; package api serves it at "/".
package console
