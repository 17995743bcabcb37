// Package enroll is the logic of `volcard enroll`: requesting an on-site
// enrollment session, uploading its roster with a progress bar, and showing
// its status and report, as text for people or JSON for scripts. It talks
// to the API through package client; cmd/volcard/enroll.go only binds flags.
package enroll
