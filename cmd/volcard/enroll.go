package main

import (
	"context"
	"errors"
	"net/http"
	"os"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/volcard/volcard/client"
	"github.com/volcard/volcard/client/enroll"
	"github.com/volcard/volcard/wire"
)

func init() { rootCmd.AddCommand(newEnrollCmd()) }

// enrollFlags are the connection flags shared by the enroll subcommands.
type enrollFlags struct {
	server string
	token  string
	json   bool
}

func envOr(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}

func newEnrollCmd() *cobra.Command {
	f := &enrollFlags{}
	cmd := &cobra.Command{
		Use:   "enroll",
		Short: "On-site batch enrollment: request a session, upload its roster, follow it",
		Long: `enroll talks to a running volcard server. A group of 30 or more asks for an
on-site session; the roster (CSV in UTF-8 or GB18030, or XLSX) is uploaded and
checked row by row; the organisation's admin approves all accepted rows at once.

The server and token come from --server/--token or VOLCARD_SERVER/VOLCARD_TOKEN.`,
	}
	pf := cmd.PersistentFlags()
	pf.StringVar(&f.server, "server", envOr("VOLCARD_SERVER", "http://127.0.0.1:8080"), "server URL (VOLCARD_SERVER)")
	pf.StringVar(&f.token, "token", os.Getenv("VOLCARD_TOKEN"), "API token (VOLCARD_TOKEN)")
	pf.BoolVar(&f.json, "json", false, "print JSON instead of text")
	cmd.AddCommand(newEnrollRequestCmd(f), newEnrollListCmd(f), newEnrollUploadCmd(f), newEnrollStatusCmd(f),
		newEnrollReportCmd(f), newEnrollApproveCmd(f),
		newEnrollTransitionCmd(f, "schedule", "Confirm a requested session's date with the bank branch (bank staff, province admin)",
			"the session must be requested; the branch and its contact were assigned when it was requested"),
		newEnrollTransitionCmd(f, "start", "Start a scheduled session on the day: the bank's staff are on site",
			"the session must be scheduled; rosters can still be uploaded and approved while it runs"),
		newEnrollTransitionCmd(f, "complete", "Complete a session in progress: the visit is over",
			"the session must be in progress; its cards keep their own states afterwards"))
	return cmd
}

func (f *enrollFlags) runner(cmd *cobra.Command, timeout time.Duration) (*enroll.Runner, error) {
	c, err := client.New(f.server, f.token, client.WithHTTPClient(&http.Client{Timeout: timeout}))
	if err != nil {
		return nil, withExit(exitUsage, err)
	}
	progress := false
	if fh, ok := cmd.ErrOrStderr().(*os.File); ok {
		progress = term.IsTerminal(int(fh.Fd()))
	}
	return &enroll.Runner{API: c, Out: cmd.OutOrStdout(), Err: cmd.ErrOrStderr(), JSON: f.json, Progress: progress}, nil
}

// enrollErr makes an error readable and picks the exit code.
func enrollErr(err error) error {
	if err == nil {
		return nil
	}
	code := exitFailure
	switch {
	case errors.Is(err, enroll.ErrInput):
		code = exitUsage
	case errors.Is(err, client.ErrUnreachable):
		code = exitNoDevice
	}
	return withExit(code, errors.New(enroll.Explain(err)))
}

func sessionArg(s string) (int64, error) {
	id, err := strconv.ParseInt(s, 10, 64)
	if err != nil || id <= 0 {
		return 0, withExit(exitUsage, errors.New("the session id must be a positive integer"))
	}
	return id, nil
}

// sessionRunner parses the SESSION argument and makes a runner whose
// requests time out after timeout.
func (f *enrollFlags) sessionRunner(cmd *cobra.Command, arg string, timeout time.Duration) (int64, *enroll.Runner, error) {
	id, err := sessionArg(arg)
	if err != nil {
		return 0, nil, err
	}
	r, err := f.runner(cmd, timeout)
	if err != nil {
		return 0, nil, err
	}
	return id, r, nil
}

// newEnrollSessionCmd builds a subcommand that takes only a SESSION and
// runs do (a Runner method) on it with requests timing out after timeout.
func newEnrollSessionCmd(f *enrollFlags, use, short string, timeout time.Duration,
	do func(r *enroll.Runner, ctx context.Context, id int64) error) *cobra.Command {
	return &cobra.Command{
		Use:   use,
		Short: short,
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			id, r, err := f.sessionRunner(cmd, args[0], timeout)
			if err != nil {
				return err
			}
			return enrollErr(do(r, cmd.Context(), id))
		},
	}
}

func newEnrollRequestCmd(f *enrollFlags) *cobra.Command {
	var in wire.NewOnsiteSession
	cmd := &cobra.Command{
		Use:   "request",
		Short: "Ask the bank to enroll a group of 30 or more on site",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			r, err := f.runner(cmd, 30*time.Second)
			if err != nil {
				return err
			}
			return enrollErr(r.Request(cmd.Context(), in))
		},
	}
	fl := cmd.Flags()
	fl.Int64Var(&in.OrgID, "org", 0, "requesting organisation id")
	fl.StringVar(&in.Site, "site", "", "where the enrollment takes place")
	fl.StringVar(&in.Date, "date", "", "day of the visit, YYYY-MM-DD")
	fl.IntVar(&in.ExpectedCount, "count", 0, "expected head count (at least 30)")
	fl.StringVar(&in.Product, "product", "", "card product code, e.g. GD-RV-BOC")
	for _, n := range []string{"org", "site", "date", "count", "product"} {
		_ = cmd.MarkFlagRequired(n)
	}
	return cmd
}

func newEnrollListCmd(f *enrollFlags) *cobra.Command {
	var (
		flt client.OnsiteSessionFilter
		all bool
	)
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List the on-site sessions you may see, newest first",
		Long: `list shows the sessions in your scope (an organisation admin: its
organisation and those below it; bank staff: its bank's sessions in its
branch's city; a province admin: all) with their state, date, head count and
roster figures. One page at a time: --cursor continues, --all fetches every page.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if flt.OrgID < 0 {
				return withExit(exitUsage, errors.New("--org must be a positive organisation id"))
			}
			if flt.Limit < 0 || flt.Limit > 200 {
				return withExit(exitUsage, errors.New("--limit must be from 1 to 200"))
			}
			r, err := f.runner(cmd, 30*time.Second)
			if err != nil {
				return err
			}
			return enrollErr(r.List(cmd.Context(), flt, all))
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&flt.State, "state", "", "only sessions in this state: requested, scheduled, in_progress, completed or cancelled")
	fl.Int64Var(&flt.OrgID, "org", 0, "only sessions of this organisation and those below it")
	fl.IntVar(&flt.Limit, "limit", 0, "sessions per page, 1-200 (default: the server's, 50)")
	fl.StringVar(&flt.Cursor, "cursor", "", "continue after the page that printed this cursor")
	fl.BoolVar(&all, "all", false, "fetch every page")
	return cmd
}

func newEnrollUploadCmd(f *enrollFlags) *cobra.Command {
	var rejectedOut, encoding, mode string
	cmd := &cobra.Command{
		Use:   "upload SESSION FILE",
		Short: "Upload a roster (CSV or XLSX) and print the row report",
		Long: `upload sends the roster and prints every rejected row with its reasons.
Uploading the same file again changes nothing, so a failed or interrupted
upload can simply be repeated. --rejected-out saves the rejected rows as CSV
(UTF-8 with BOM, or --encoding gb18030) to correct and upload again.

A different file for a session that already has a roster must say what it
does: --mode append adds its rows to the roster, --mode replace makes it the
roster (earlier rows not in it are removed and their applications cancelled;
refused once the roster was approved). Without --mode the server refuses it
and says so. The roster template: GET /v1/onsite-sessions/roster-template.csv.`,
		Args: cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			id, r, err := f.sessionRunner(cmd, args[0], 5*time.Minute)
			if err != nil {
				return err
			}
			if mode != "" && mode != "append" && mode != "replace" {
				return withExit(exitUsage, errors.New("--mode must be append or replace"))
			}
			r.Mode = mode
			return enrollErr(r.Upload(cmd.Context(), id, args[1], rejectedOut, encoding))
		},
	}
	cmd.Flags().StringVar(&rejectedOut, "rejected-out", "", "save the rejected rows to this CSV file")
	cmd.Flags().StringVar(&encoding, "encoding", "", "encoding of --rejected-out: utf-8 (default) or gb18030")
	cmd.Flags().StringVar(&mode, "mode", "", "for a session with a roster: append or replace")
	return cmd
}

func newEnrollStatusCmd(f *enrollFlags) *cobra.Command {
	return newEnrollSessionCmd(f, "status SESSION", "Show a session, its state and its bank contact",
		30*time.Second, (*enroll.Runner).Status)
}

func newEnrollReportCmd(f *enrollFlags) *cobra.Command {
	return newEnrollSessionCmd(f, "report SESSION",
		"Show a session's counts: requested, accepted, rejected, sent, approved, personalized, failed",
		30*time.Second, (*enroll.Runner).Report)
}

func newEnrollApproveCmd(f *enrollFlags) *cobra.Command {
	return newEnrollSessionCmd(f, "approve SESSION", "Approve every accepted row of a session (organisation admin)",
		5*time.Minute, (*enroll.Runner).Approve)
}

// newEnrollTransitionCmd builds enroll schedule|start|complete: one state
// change of a session through the API, with an optional --reason recorded on
// the session's event.
func newEnrollTransitionCmd(f *enrollFlags, action, short, rule string) *cobra.Command {
	var reason string
	cmd := &cobra.Command{
		Use:   action + " SESSION [--reason TEXT]",
		Short: short,
		Long: short + ".\n\n" + strings.ToUpper(rule[:1]) + rule[1:] + `; any other state is refused with the
state it is in (exit 1). The session is printed as it is afterwards (--json for the
API's JSON). The server and token come from --server/--token or
VOLCARD_SERVER/VOLCARD_TOKEN.`,
		Example: "  volcard enroll " + action + " 12\n  volcard enroll " + action + " 12 --reason \"现场已确认\" --json",
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if utf8.RuneCountInString(reason) > 500 {
				return withExit(exitUsage, errors.New("--reason: at most 500 characters"))
			}
			id, r, err := f.sessionRunner(cmd, args[0], 30*time.Second)
			if err != nil {
				return err
			}
			return enrollErr(r.Transition(cmd.Context(), id, action, reason))
		},
	}
	cmd.Flags().StringVar(&reason, "reason", "", "a note recorded with the state change")
	return cmd
}
