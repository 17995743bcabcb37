package enroll

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/schollz/progressbar/v3"

	"github.com/volcard/volcard/client"
	"github.com/volcard/volcard/wire"
)

// API is what the commands need from the server; *client.Client
// implements it.
type API interface {
	RequestOnsiteSession(ctx context.Context, in wire.NewOnsiteSession) (wire.OnsiteSession, error)
	OnsiteSession(ctx context.Context, id int64) (wire.OnsiteSession, error)
	ListOnsiteSessions(ctx context.Context, f client.OnsiteSessionFilter) (wire.OnsiteSessionPage, error)
	UploadRosterMode(ctx context.Context, id int64, mode string, body io.Reader, size int64, contentType string) (wire.RosterReport, error)
	RejectedCSV(ctx context.Context, id int64, encoding string, w io.Writer) error
	ApproveOnsiteSession(ctx context.Context, id int64) (wire.OnsiteApproval, error)
	OnsiteReport(ctx context.Context, id int64) (wire.OnsiteReport, error)
	TransitionOnsiteSession(ctx context.Context, id int64, action, reason string) (wire.OnsiteSession, error)
}

var _ API = (*client.Client)(nil)

// Runner runs the enroll commands against an API and prints to Out
// (results) and Err (progress). JSON selects machine-readable output.
type Runner struct {
	// Mode is what an upload does to a session that has a roster:
	// "append" or "replace" (enroll upload --mode).
	Mode     string
	API      API
	Out      io.Writer
	Err      io.Writer
	JSON     bool
	Progress bool // draw a progress bar on Err during uploads
}

// MaxRosterFile is the largest file Upload sends (the server's limit).
const MaxRosterFile = 8 << 20

// ErrInput means a bad argument (a file that cannot be read, a bad date).
var ErrInput = errors.New("enroll: bad input")

// Explain turns an error into one readable line: the server's problem
// detail, or what to check when the server cannot be reached.
func Explain(err error) string {
	var pe *client.ProblemError
	switch {
	case errors.As(err, &pe):
		msg := fmt.Sprintf("the server refused the request (%d %s)", pe.Status, pe.Type)
		if pe.Detail != "" {
			msg += ": " + pe.Detail
		}
		if pe.RequestID != "" {
			msg += " [request " + pe.RequestID + "]"
		}
		return msg
	case errors.Is(err, client.ErrUnreachable):
		return "cannot reach the server; check --server and that `volcard serve` is running (" + err.Error() + ")"
	}
	return err.Error()
}

func (r *Runner) emit(v any, text func(w io.Writer)) error {
	if r.JSON {
		enc := json.NewEncoder(r.Out)
		enc.SetIndent("", "  ")
		return enc.Encode(v)
	}
	text(r.Out)
	return nil
}

// Request asks for a session. date is YYYY-MM-DD.
func (r *Runner) Request(ctx context.Context, in wire.NewOnsiteSession) error {
	if _, err := time.Parse(time.DateOnly, in.Date); err != nil {
		return fmt.Errorf("%w: --date must be YYYY-MM-DD", ErrInput)
	}
	s, err := r.API.RequestOnsiteSession(ctx, in)
	if err != nil {
		return err
	}
	return r.emit(s, func(w io.Writer) { printSession(w, s) })
}

func printSession(w io.Writer, s wire.OnsiteSession) {
	fmt.Fprintf(w, "On-site session %d: %s\n", s.ID, s.Status)
	fmt.Fprintf(w, "  site:     %s on %s, %d people expected\n", s.Site, s.Date, s.ExpectedCount)
	fmt.Fprintf(w, "  product:  %s (%s)\n", s.Product, s.Bank)
	fmt.Fprintf(w, "  branch:   %s, contact %s %s\n", s.Branch.Name, s.Branch.ContactName, s.Branch.ContactPhone)
	if s.Reason != "" {
		fmt.Fprintf(w, "  reason:   %s\n", s.Reason)
	}
}

// Status shows a session.
func (r *Runner) Status(ctx context.Context, id int64) error {
	s, err := r.API.OnsiteSession(ctx, id)
	if err != nil {
		return err
	}
	return r.emit(s, func(w io.Writer) { printSession(w, s) })
}

// List prints the sessions in the caller's scope, newest first: one page,
// or with all every page (following the cursor).
func (r *Runner) List(ctx context.Context, f client.OnsiteSessionFilter, all bool) error {
	var page wire.OnsiteSessionPage
	for {
		p, err := r.API.ListOnsiteSessions(ctx, f)
		if err != nil {
			return err
		}
		page.Items = append(page.Items, p.Items...)
		page.NextCursor = p.NextCursor
		if !all || p.NextCursor == "" {
			break
		}
		f.Cursor = p.NextCursor
	}
	if page.Items == nil {
		page.Items = []wire.OnsiteSessionItem{}
	}
	return r.emit(page, func(w io.Writer) { printSessions(w, page) })
}

func printSessions(w io.Writer, page wire.OnsiteSessionPage) {
	if len(page.Items) == 0 {
		fmt.Fprintln(w, "No on-site sessions.")
		return
	}
	rows := [][]string{{"ID", "DATE", "STATUS", "EXPECTED", "ACCEPTED", "REJECTED", "PRODUCT", "ORG", "SITE"}}
	for _, s := range page.Items {
		org := s.OrgName
		if org == "" {
			org = fmt.Sprintf("#%d", s.OrgID)
		}
		rows = append(rows, []string{strconv.FormatInt(s.ID, 10), s.Date, s.Status, strconv.Itoa(s.ExpectedCount),
			strconv.Itoa(s.Accepted), strconv.Itoa(s.Rejected), s.Product, org, s.Site})
	}
	writeTable(w, "", rows)
	if page.NextCursor != "" {
		fmt.Fprintf(w, "More sessions: add --cursor %s (or --all).\n", page.NextCursor)
	}
}

// ContentType returns the media type of a roster file from its content.
func ContentType(data []byte) string {
	if bytes.HasPrefix(data, []byte("PK\x03\x04")) {
		return "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
	}
	return "text/csv"
}

// Upload sends a roster file and prints the row report. With rejectedOut
// set and rows rejected, the rejected rows are saved there as CSV
// (encoding "" for UTF-8 with BOM, or "gb18030").
func (r *Runner) Upload(ctx context.Context, id int64, path, rejectedOut, encoding string) error {
	fi, err := os.Stat(path)
	if err != nil {
		return fmt.Errorf("%w: %v", ErrInput, err)
	}
	if fi.Size() > MaxRosterFile {
		return fmt.Errorf("%w: %s is %d bytes; the limit is %d (split the roster)", ErrInput, filepath.Base(path), fi.Size(), MaxRosterFile)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("%w: %v", ErrInput, err)
	}
	var body io.Reader = bytes.NewReader(data)
	var bar *progressbar.ProgressBar
	if r.Progress && !r.JSON {
		bar = progressbar.NewOptions64(int64(len(data)),
			progressbar.OptionSetWriter(r.Err),
			progressbar.OptionSetDescription("uploading "+filepath.Base(path)),
			progressbar.OptionShowBytes(true),
			progressbar.OptionSetWidth(30),
			progressbar.OptionOnCompletion(func() { fmt.Fprintln(r.Err, "\nchecking rows…") }),
		)
		pr := progressbar.NewReader(body, bar)
		body = &pr
	}
	rep, err := r.API.UploadRosterMode(ctx, id, r.Mode, body, int64(len(data)), ContentType(data))
	if bar != nil {
		_ = bar.Close()
	}
	if err != nil {
		return err
	}
	if rejectedOut != "" && rep.Rejected > 0 {
		var buf bytes.Buffer
		if err := r.API.RejectedCSV(ctx, id, encoding, &buf); err != nil {
			return fmt.Errorf("download rejected rows: %w", err)
		}
		if err := os.WriteFile(rejectedOut, buf.Bytes(), 0o600); err != nil {
			return fmt.Errorf("%w: %v", ErrInput, err)
		}
	}
	return r.emit(rep, func(w io.Writer) { printReport(w, rep, rejectedOut) })
}

func printReport(w io.Writer, rep wire.RosterReport, rejectedOut string) {
	fmt.Fprintf(w, "Roster for session %d (%s, %s): %d rows\n", rep.SessionID, rep.Format, rep.Encoding, rep.Rows)
	fmt.Fprintf(w, "  accepted: %d (%d stored now, %d already stored)\n", rep.Accepted, rep.Stored, rep.AlreadyStored)
	fmt.Fprintf(w, "  rejected: %d\n", rep.Rejected)
	if rep.Repeated {
		fmt.Fprintln(w, "  this file was uploaded before; nothing changed")
	}
	if rep.Rejected == 0 {
		return
	}
	rows := [][]string{{"LINE", "NAME", "REASONS"}}
	for _, it := range rep.Items {
		if it.Status != "rejected" {
			continue
		}
		var why []string
		for _, rr := range it.Reasons {
			why = append(why, rr.Message)
		}
		name := it.Name
		if name == "" {
			name = "(empty)"
		}
		rows = append(rows, []string{strconv.Itoa(it.Line), name, strings.Join(why, "; ")})
	}
	writeTable(w, "  ", rows)
	// Only bank staff get full ID numbers and phones back: for everyone
	// else the saved rows are masked and cannot be uploaded as they are.
	fmt.Fprintln(w, "LINE (行号) is the line in your file, the header being line 1: correct those lines in your")
	fmt.Fprintln(w, "original file and upload the whole file again; accepted rows are not stored twice.")
	if rejectedOut != "" {
		fmt.Fprintf(w, "Rejected rows with their reasons saved to %s.\n", rejectedOut)
	}
}

// Transition runs a session's state change (schedule, start, complete or
// cancel) and prints the session as it is now.
func (r *Runner) Transition(ctx context.Context, id int64, action, reason string) error {
	s, err := r.API.TransitionOnsiteSession(ctx, id, action, reason)
	if err != nil {
		return err
	}
	return r.emit(s, func(w io.Writer) { printSession(w, s) })
}

// Approve approves every accepted row of the session.
func (r *Runner) Approve(ctx context.Context, id int64) error {
	a, err := r.API.ApproveOnsiteSession(ctx, id)
	if err != nil {
		return err
	}
	return r.emit(a, func(w io.Writer) {
		fmt.Fprintf(w, "Session %d: %d applications approved, %d sent to the bank\n", a.SessionID, a.Approved, a.Sent)
	})
}

// Report prints the session's counts.
func (r *Runner) Report(ctx context.Context, id int64) error {
	rep, err := r.API.OnsiteReport(ctx, id)
	if err != nil {
		return err
	}
	return r.emit(rep, func(w io.Writer) {
		tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', tabwriter.AlignRight)
		fmt.Fprintf(w, "Session %d (%s)\n", rep.SessionID, rep.Status)
		for _, row := range []struct {
			label string
			n     int
		}{
			{"requested", rep.Requested}, {"accepted", rep.Accepted}, {"rejected", rep.Rejected},
			{"awaiting approval", rep.Submitted}, {"approved, not sent", rep.Approved}, {"sent to bank", rep.Sent},
			{"approved by bank", rep.BankApproved}, {"declined by bank", rep.BankDeclined},
			{"personalized", rep.Personalized}, {"failed", rep.Failed}, {"cancelled", rep.Cancelled},
			{"roster uploads", len(rep.Uploads)}, {"rows uploaded", rep.UploadedRows},
		} {
			fmt.Fprintf(tw, "  %s:\t%d\t\n", row.label, row.n)
		}
		_ = tw.Flush()
	})
}
