package checkin

import (
	"context"
	"encoding/base64"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/volcard/volcard/issuance"
)

// Activity is a volunteer activity at a service site, run by an
// organisation between StartsAt and EndsAt. Hours are credited only inside
// that window.
type Activity struct {
	ID        int64
	OrgID     int64
	OrgPath   string // copy of the org's Path, for scoped queries
	Title     string
	Site      string
	StartsAt  time.Time
	EndsAt    time.Time
	CreatedAt time.Time
}

// NewActivity is the input of Checkin.CreateActivity.
type NewActivity struct {
	OrgID    int64
	Title    string
	Site     string
	StartsAt time.Time
	EndsAt   time.Time
}

// MaxActivityLength bounds an activity's window.
const MaxActivityLength = 31 * 24 * time.Hour

// CreateActivity creates an activity of an organisation inside the actor's
// scope. Roles: province_admin, org_admin (own subtree), system.
func (c *Service) CreateActivity(ctx context.Context, a issuance.Actor, in NewActivity) (Activity, error) {
	if err := issuance.RequireRole(a, issuance.RoleProvinceAdmin, issuance.RoleOrgAdmin, issuance.RoleSystem); err != nil {
		return Activity{}, err
	}
	// Microseconds, as PostgreSQL keeps them: the activity returned is the
	// one later read back and listed.
	act := Activity{OrgID: in.OrgID, Title: strings.TrimSpace(in.Title), Site: strings.TrimSpace(in.Site),
		StartsAt: in.StartsAt.UTC().Truncate(time.Microsecond), EndsAt: in.EndsAt.UTC().Truncate(time.Microsecond),
		CreatedAt: c.svc.Now().UTC().Truncate(time.Microsecond)}
	if act.OrgID <= 0 {
		return Activity{}, issuance.Invalid("org_id", "required")
	}
	if err := issuance.ValidName("title", act.Title, 100); err != nil {
		return Activity{}, err
	}
	if act.Site != "" {
		if err := issuance.ValidName("site", act.Site, 200); err != nil {
			return Activity{}, err
		}
	}
	if act.StartsAt.IsZero() || act.EndsAt.IsZero() {
		return Activity{}, issuance.Invalid("starts_at", "start and end are required")
	}
	if !act.EndsAt.After(act.StartsAt) {
		return Activity{}, issuance.Invalid("ends_at", "must be after starts_at")
	}
	if act.EndsAt.Sub(act.StartsAt) > MaxActivityLength {
		return Activity{}, issuance.Invalid("ends_at", "an activity lasts at most 31 days")
	}
	sc, err := c.svc.Scope(ctx, a)
	if err != nil {
		return Activity{}, err
	}
	sc.BankCode = ""
	err = c.st.InTx(ctx, func(ctx context.Context) error {
		o, err := c.st.GetOrg(ctx, act.OrgID, sc)
		if err != nil {
			if isNotFound(err) {
				return issuance.Invalid("org_id", "no such organisation")
			}
			return err
		}
		act.OrgPath = o.Path
		return c.st.CreateActivity(ctx, &act)
	})
	if err != nil {
		return Activity{}, fmt.Errorf("create activity: %w", err)
	}
	return act, nil
}

// GetActivity returns an activity whose organisation lies inside the
// actor's scope, else ErrNotFound.
func (c *Service) GetActivity(ctx context.Context, a issuance.Actor, id int64) (Activity, error) {
	sc, err := c.svc.Scope(ctx, a)
	if err != nil {
		return Activity{}, err
	}
	sc.BankCode = ""
	act, err := c.st.GetActivity(ctx, id, sc)
	if err != nil {
		return Activity{}, fmt.Errorf("get activity %d: %w", id, err)
	}
	return act, nil
}

// ActivityFilter selects activities in Checkin.ListActivities. Zero fields
// do not filter. From and To select the activities whose window overlaps
// [From, To): with From alone, those still running or ahead at From.
type ActivityFilter struct {
	OrgID  int64     // activities of this organisation's subtree
	From   time.Time // only activities ending after From
	To     time.Time // only activities starting before To
	Cursor string    // opaque, from a previous page's NextCursor
	Limit  int       // default DefaultPageSize, at most MaxPageSize
}

// ActivityQuery is the storage-level form of ActivityFilter.
type ActivityQuery struct {
	Scope   issuance.Scope // path prefix (no bank)
	OrgPath string         // subtree filter, empty: any
	From    time.Time
	To      time.Time
	// BeforeStart and BeforeID continue after the last item of a page:
	// only activities starting before BeforeStart, or at BeforeStart with
	// an id below BeforeID. Ignored when BeforeID is zero.
	BeforeStart time.Time
	BeforeID    int64
	Limit       int
}

// ActivitySummary is an activity as listed: with its organisation's name
// and its check-in figures.
type ActivitySummary struct {
	Activity
	OrgName  string
	CheckIns int64 // attendances recorded (one per check-in)
	OnSite   int64 // attendances not checked out yet
}

// ActivityPage is one page of activities, newest start first.
type ActivityPage struct {
	Items      []ActivitySummary
	NextCursor string // empty on the last page
}

// ActivityLister lists activities in one statement.
type ActivityLister interface {
	// ListActivities returns up to q.Limit activities inside q.Scope
	// matching q, ordered by start then id, both descending, in one
	// statement.
	ListActivities(ctx context.Context, q ActivityQuery) ([]ActivitySummary, error)
}

// activityCursorPrefix marks activity cursors (application and session
// cursors use other prefixes, so one is not taken for another).
const activityCursorPrefix = "t1:"

func encodeActivityCursor(start time.Time, id int64) string {
	return base64.RawURLEncoding.EncodeToString([]byte(activityCursorPrefix +
		strconv.FormatInt(start.UnixNano(), 10) + ":" + strconv.FormatInt(id, 10)))
}

func decodeActivityCursor(c string) (time.Time, int64, error) {
	bad := issuance.Invalid("cursor", "malformed")
	b, err := base64.RawURLEncoding.DecodeString(c)
	if err != nil || !strings.HasPrefix(string(b), activityCursorPrefix) {
		return time.Time{}, 0, bad
	}
	ns, idText, ok := strings.Cut(string(b[len(activityCursorPrefix):]), ":")
	if !ok {
		return time.Time{}, 0, bad
	}
	n, err := strconv.ParseInt(ns, 10, 64)
	if err != nil {
		return time.Time{}, 0, bad
	}
	id, err := strconv.ParseInt(idText, 10, 64)
	if err != nil || id <= 0 {
		return time.Time{}, 0, bad
	}
	return time.Unix(0, n).UTC(), id, nil
}

// ListActivities returns the activities inside the actor's scope that
// match f, newest start first, one page at a time: pass the returned
// NextCursor back in f.Cursor for the next page. Scope as GetActivity: an
// org admin or a terminal sees its organisation's subtree, bank staff its
// branch's city, a province admin and the platform all. An f.OrgID
// outside the scope is ErrNotFound. Roles: province_admin, org_admin,
// bank_staff, terminal, platform, system.
func (c *Service) ListActivities(ctx context.Context, a issuance.Actor, f ActivityFilter) (ActivityPage, error) {
	if err := issuance.RequireRole(a, issuance.RoleProvinceAdmin, issuance.RoleOrgAdmin, issuance.RoleBankStaff, issuance.RoleTerminal, issuance.RolePlatform, issuance.RoleSystem); err != nil {
		return ActivityPage{}, err
	}
	q := ActivityQuery{From: f.From.UTC(), To: f.To.UTC(), Limit: f.Limit}
	switch {
	case q.Limit < 0 || q.Limit > issuance.MaxPageSize:
		return ActivityPage{}, issuance.Invalid("limit", fmt.Sprintf("must be 1–%d", issuance.MaxPageSize))
	case q.Limit == 0:
		q.Limit = issuance.DefaultPageSize
	}
	if !q.From.IsZero() && !q.To.IsZero() && !q.To.After(q.From) {
		return ActivityPage{}, issuance.Invalid("to", "must be after from")
	}
	if f.OrgID < 0 {
		return ActivityPage{}, issuance.Invalid("org", "must be a positive integer")
	}
	if f.Cursor != "" {
		var err error
		if q.BeforeStart, q.BeforeID, err = decodeActivityCursor(f.Cursor); err != nil {
			return ActivityPage{}, err
		}
	}
	sc, err := c.svc.Scope(ctx, a)
	if err != nil {
		return ActivityPage{}, err
	}
	sc.BankCode = ""
	q.Scope = sc
	if f.OrgID != 0 {
		o, err := c.st.GetOrg(ctx, f.OrgID, sc)
		if err != nil {
			return ActivityPage{}, fmt.Errorf("list activities: org filter: %w", err)
		}
		q.OrgPath = o.Path
	}
	want := q.Limit
	q.Limit++
	items, err := c.st.ListActivities(ctx, q)
	if err != nil {
		return ActivityPage{}, fmt.Errorf("list activities: %w", err)
	}
	page := ActivityPage{Items: items}
	if len(items) > want {
		page.Items = items[:want]
		last := page.Items[want-1]
		page.NextCursor = encodeActivityCursor(last.StartsAt, last.ID)
	}
	return page, nil
}

// credit returns the minutes credited for a session from in to out at act:
// the session clipped to the activity window, rounded by r.
func credit(act Activity, in, out time.Time, r Rounding) int64 {
	start, end := in, out
	if start.Before(act.StartsAt) {
		start = act.StartsAt
	}
	if end.After(act.EndsAt) {
		end = act.EndsAt
	}
	return r.Minutes(end.Sub(start))
}
