// Package importer is the client side of `volcard import volunteers` and
// `volcard import hours`: it streams the platform's export file (JSONL, or
// CSV in UTF-8 or GB18030) in batches to serve's import routes, skips the
// batches a previous run committed, sends a batch again after a lost answer
// or a restarted server (the server applies each batch once), writes every
// rejected row with its reason to a report, and shows progress.
// docs/platform-interface.md section 4 describes the files and the protocol.
package importer
