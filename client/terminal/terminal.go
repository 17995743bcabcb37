package terminal

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/volcard/volcard/cardio"
	"github.com/volcard/volcard/cardio/emv"
	"github.com/volcard/volcard/client"
	"github.com/volcard/volcard/wire"
)

// API is what the terminal needs from the server; *client.Client
// implements it.
type API interface {
	Challenge(ctx context.Context) (wire.Challenge, error)
	Tap(ctx context.Context, activityID int64, req wire.TapRequest) (wire.TapResult, error)
	// TerminalState answers the start-up check (activityID > 0) and the
	// highest sequence number the server holds for the token.
	TerminalState(ctx context.Context, activityID int64) (wire.TerminalState, error)
}

var _ API = (*client.Client)(nil)

// Config configures a Terminal. Zero fields take the defaults named.
type Config struct {
	// API is the server. Required.
	API API
	// Queue keeps sequence numbers and unsent taps. Required.
	Queue *Queue
	// ActivityID is the activity taps are recorded at. Required.
	ActivityID int64
	// Readers and Reader are where cards come from (Run only); an empty
	// Reader takes the first reader listed.
	Readers cardio.Readers
	Reader  string
	// Out receives one line per tap: a human line, or JSON with JSON set.
	Out  io.Writer
	JSON bool
	// Notices receives lines for the operator that are not about one tap
	// (another terminal uses this token, ...); default io.Discard.
	Notices io.Writer
	// Now is the clock (tap times of offline taps); default time.Now.
	Now func() time.Time
	// Rand is the source of the terminal's own unpredictable numbers;
	// default crypto/rand.
	Rand io.Reader
	// Location is the display time zone; default China Standard Time.
	Location *time.Location
	// SyncInterval is how often Run retries sending queued taps; default 5 s.
	SyncInterval time.Duration
	// Logger; default slog.Default(). Card data is never logged.
	Logger *slog.Logger
}

// Terminal is a check-in terminal. Build it with New.
type Terminal struct {
	cfg  Config
	mu   sync.Mutex // serialises sending, so that taps reach the server in sequence order
	opts emv.Options
}

// New validates cfg and returns a Terminal.
func New(cfg Config) (*Terminal, error) {
	switch {
	case cfg.API == nil:
		return nil, errors.New("terminal: no server API")
	case cfg.Queue == nil:
		return nil, errors.New("terminal: no queue")
	case cfg.ActivityID <= 0:
		return nil, errors.New("terminal: activity id must be positive")
	}
	if cfg.Out == nil {
		cfg.Out = io.Discard
	}
	if cfg.Notices == nil {
		cfg.Notices = io.Discard
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Rand == nil {
		cfg.Rand = rand.Reader
	}
	if cfg.Location == nil {
		cfg.Location = time.FixedZone("CST", 8*3600)
	}
	if cfg.SyncInterval <= 0 {
		cfg.SyncInterval = 5 * time.Second
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	return &Terminal{cfg: cfg, opts: emv.Options{Now: cfg.Now, Rand: cfg.Rand}}, nil
}

// seqGap is how far a terminal jumps past the server's last sequence number
// when it finds numbers it did not hand out: another terminal on the same
// token goes on numbering from there, and the gap lets it tap that many
// times before the two meet again.
const seqGap = 1000

// StartInfo is what Start found.
type StartInfo struct {
	// Activity is the activity the terminal taps at.
	Activity wire.Activity
	// LastSeq is the highest sequence number the server holds for the token.
	LastSeq int64
	// SkippedTo is, when the server held numbers this terminal's queue had
	// not handed out yet (another terminal uses the token, or the queue
	// file is new), the number after which numbering goes on; else 0.
	SkippedTo int64
}

// Start checks, before the first card, what would otherwise fail at the
// first volunteer: that the server accepts the token as a terminal's and
// knows the activity in the token's scope. It also moves the sequence
// numbers past those the server already holds for the token that this
// queue did not hand out, with a notice. Errors: ErrTokenRefused,
// ErrNotTerminalToken, ErrActivityUnknown (each wrapping the server's
// answer); an unreachable server gives an error for which
// client.Retryable is true: the terminal can still work offline.
func (t *Terminal) Start(ctx context.Context) (StartInfo, error) {
	st, err := t.cfg.API.TerminalState(ctx, t.cfg.ActivityID)
	if err != nil {
		return StartInfo{}, startError(err)
	}
	if st.Activity == nil {
		return StartInfo{}, fmt.Errorf("terminal: start: the server answered without activity %d", t.cfg.ActivityID)
	}
	info := StartInfo{Activity: *st.Activity, LastSeq: st.LastSeq}
	if st.LastSeq > 0 {
		skipped, err := t.cfg.Queue.SkipTo(ctx, st.LastSeq)
		if err != nil {
			return info, err
		}
		if skipped {
			if _, err := t.cfg.Queue.SkipTo(ctx, st.LastSeq+seqGap); err != nil {
				return info, err
			}
			info.SkippedTo = st.LastSeq + seqGap
			t.notice("the server already holds taps up to #%d under this token that this queue file did not number: "+
				"another terminal uses the same token, or this queue file is new. Numbering goes on after #%d. "+
				"Give every terminal its own token: volcard token create --role terminal --org ORG_ID",
				st.LastSeq, info.SkippedTo)
		}
	}
	return info, nil
}

// startError turns the server's refusal of the start-up check into
// ErrTokenRefused, ErrNotTerminalToken or ErrActivityUnknown.
func startError(err error) error {
	var pe *client.ProblemError
	if !errors.As(err, &pe) {
		return fmt.Errorf("terminal: start: %w", err)
	}
	switch {
	case pe.Status == http.StatusUnauthorized:
		return fmt.Errorf("%w: %w", ErrTokenRefused, err)
	case pe.Status == http.StatusForbidden:
		return fmt.Errorf("%w: %w", ErrNotTerminalToken, err)
	case pe.Status == http.StatusNotFound:
		return fmt.Errorf("%w: %w", ErrActivityUnknown, err)
	}
	return fmt.Errorf("terminal: start: %w", err)
}

// notice writes a line for the operator to Notices.
func (t *Terminal) notice(format string, args ...any) {
	fmt.Fprintf(t.cfg.Notices, "volcard terminal: "+format+"\n", args...)
}

// Status is the outcome class of a tap.
type Status string

// Outcome statuses.
const (
	StatusOK      Status = "ok"      // the server recorded the tap
	StatusQueued  Status = "queued"  // kept locally, sent when the server is back
	StatusRefused Status = "refused" // the card or the tap was refused
	StatusError   Status = "error"   // the card could not be read
)

// ProblemNoDDA is the Problem of a tap refused because the card cannot do
// DDA (ErrNoDDA): tapping again cannot help, the card must be replaced.
const ProblemNoDDA = "card-no-dda"

// Outcome is what happened to one tap.
type Outcome struct {
	Status  Status          `json:"status"`
	Seq     int64           `json:"seq,omitempty"`
	Name    string          `json:"name,omitempty"`    // cardholder name from the card (offline) or the server
	Problem string          `json:"problem,omitempty"` // problem type when refused, "not-financial-card", "card-removed", ...
	Message string          `json:"message"`           // the line shown
	Result  *wire.TapResult `json:"result,omitempty"`
	APDUs   int             `json:"apdus,omitempty"`
	// CardTime is the time spent talking to the card, ServerTime the time
	// waiting for the server (challenge and tap).
	CardTime   time.Duration `json:"card_ns,omitempty"`
	ServerTime time.Duration `json:"server_ns,omitempty"`
}

// TapCard runs one tap on a connected card: challenge (or the terminal's
// own number when the server is unreachable, or when taps are still
// queued), read with DDA, post, and the outcome. A tap that cannot be sent
// is queued. TapCard prints the outcome line to Out.
func (t *Terminal) TapCard(ctx context.Context, card cardio.Card) (Outcome, error) {
	o, err := t.tap(ctx, card)
	t.print(o)
	return o, err
}

func (t *Terminal) tap(ctx context.Context, card cardio.Card) (Outcome, error) {
	o, err := t.tapOnce(ctx, card)
	if o.Problem != wire.ProblemSequenceReused {
		return o, err
	}
	// Another terminal on this token took the number: go on after the
	// server's last number, and tap again with a new challenge (the card is
	// still there; the refused tap was not recorded).
	if rerr := t.skipTaken(ctx, o.Seq); rerr != nil {
		return o, err
	}
	again, err := t.tapOnce(ctx, card)
	again.APDUs += o.APDUs
	again.CardTime += o.CardTime
	again.ServerTime += o.ServerTime
	return again, err
}

// skipTaken moves the sequence numbers past the server's last one (and seq)
// with a gap, after the server answered sequence-reused for seq, and tells
// the operator.
func (t *Terminal) skipTaken(ctx context.Context, seq int64) error {
	st, err := t.cfg.API.TerminalState(ctx, 0)
	if err != nil {
		return err
	}
	after := max(st.LastSeq, seq) + seqGap
	if _, err := t.cfg.Queue.SkipTo(ctx, after); err != nil {
		return err
	}
	t.notice("sequence number #%d was already used by another terminal with this token; numbering goes on after #%d. "+
		"Two terminals share one token: give each its own (volcard token create --role terminal --org ORG_ID)", seq, after)
	return nil
}

func (t *Terminal) tapOnce(ctx context.Context, card cardio.Card) (Outcome, error) {
	online := true
	if n, err := t.cfg.Queue.Len(ctx); err != nil {
		return Outcome{Status: StatusError, Message: "✗ 本地队列不可用"}, err
	} else if n > 0 {
		// Older taps first: try to drain; if that fails, this one queues too.
		if _, err := t.Sync(ctx); err != nil || t.pending(ctx) > 0 {
			online = false
		}
	}
	var o Outcome
	var ch wire.Challenge
	un := make([]byte, 4)
	if online {
		start := time.Now()
		var err error
		ch, err = t.cfg.API.Challenge(ctx)
		o.ServerTime += time.Since(start)
		switch {
		case err == nil && len(ch.UN) == 4:
			copy(un, ch.UN)
		case err == nil || client.Retryable(err):
			online = false
		default:
			o.Status, o.Problem = StatusRefused, client.ProblemType(err)
			o.Message = "✗ 服务器拒绝终端请求（" + o.Problem + "）"
			return o, err
		}
	}
	if !online {
		if _, err := io.ReadFull(t.cfg.Rand, un); err != nil {
			o.Status, o.Message = StatusError, "✗ 无法生成随机数"
			return o, err
		}
	}
	start := time.Now()
	facts, ev, err := ReadCard(ctx, card, un, t.opts)
	o.CardTime = time.Since(start)
	if facts != nil {
		o.APDUs, o.Name = facts.APDUs, facts.CardholderName
	}
	if err != nil {
		o.Status = StatusError
		switch {
		case errors.Is(err, ErrNoDDA):
			o.Status, o.Problem = StatusRefused, ProblemNoDDA
			o.Message = "✗ 此卡不支持动态数据认证（DDA），不能用于签到，请到发卡银行换卡（card without DDA）"
		case errors.Is(err, emv.ErrNotFinancialCard):
			o.Problem, o.Message = "not-financial-card", "✗ 非金融IC卡，请使用志愿者证（not a financial card）"
		case errors.Is(err, cardio.ErrCardRemoved), errors.Is(err, cardio.ErrNoCard):
			o.Problem, o.Message = "card-removed", "✗ 卡片移开过快，请重新刷卡（card removed）"
		default:
			o.Problem, o.Message = "card-error", "✗ 读卡失败，请重新刷卡（card read failed）"
		}
		return o, err
	}
	seq, err := t.cfg.Queue.NextSeq(ctx)
	if err != nil {
		o.Status, o.Message = StatusError, "✗ 本地队列不可用"
		return o, err
	}
	o.Seq = seq
	req := wire.TapRequest{Seq: seq, Card: ev}
	if online {
		req.ChallengeID = ch.ID
		t.mu.Lock()
		start := time.Now()
		res, err := t.cfg.API.Tap(ctx, t.cfg.ActivityID, req)
		o.ServerTime += time.Since(start)
		t.mu.Unlock()
		switch {
		case err == nil:
			o.Status, o.Result, o.Name = StatusOK, &res, res.VolunteerName
			o.Message = resultLine(res, t.cfg.Location)
			return o, nil
		case !client.Retryable(err):
			o.Status, o.Problem = StatusRefused, client.ProblemType(err)
			o.Message = refusedLine(o.Problem)
			return o, nil
		}
		// Unsent or unanswered: queue it; the same seq and signature make
		// a retry of an already recorded tap return the first result.
	}
	at := t.cfg.Now().UTC()
	req.Offline, req.At = true, &at
	if err := t.cfg.Queue.Push(ctx, t.cfg.ActivityID, req, at); err != nil {
		o.Status, o.Message = StatusError, "✗ 本地队列不可用"
		return o, err
	}
	o.Status = StatusQueued
	o.Message = fmt.Sprintf("⏳ %s 已离线记录，待上传（#%d）", displayName(o.Name), seq)
	return o, nil
}

func (t *Terminal) pending(ctx context.Context) int {
	n, err := t.cfg.Queue.Len(ctx)
	if err != nil {
		return 1
	}
	return n
}

// Sync sends queued taps in sequence order until the queue is empty, the
// server cannot be reached or it refuses the terminal's token, and returns
// how many were answered (recorded or refused). Refusals of a tap are printed
// and dropped: resending cannot change them.
func (t *Terminal) Sync(ctx context.Context) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	n, renumbered := 0, 0
	for {
		qt, ok, err := t.cfg.Queue.Peek(ctx)
		var held *HeldError
		if errors.As(err, &held) {
			// Kept aside in the queue file; the taps behind it go on.
			why := "记录损坏"
			if held.Reason == heldOtherToken {
				why = "由另一终端令牌加密"
			}
			t.print(Outcome{Seq: held.Seq, Status: StatusError, Problem: "queued-tap-held",
				Message: fmt.Sprintf("✗ 离线记录 #%d 无法读取（%s），已另存，不会丢失（queued tap %s; kept aside）", held.Seq, why, held.Reason)})
			continue
		}
		if err != nil || !ok {
			return n, err
		}
		res, err := t.cfg.API.Tap(ctx, qt.ActivityID, qt.Request)
		if client.ProblemType(err) == wire.ProblemSequenceReused {
			// Another terminal on this token used the number: the queued
			// taps get new numbers, in the same order, and go on. Never
			// dropped: after maxRenumber clashes they wait for the next Sync.
			if renumbered == maxRenumber {
				return n, fmt.Errorf("terminal: queued tap %d: %w", qt.Seq, err)
			}
			if rerr := t.renumberQueue(ctx, qt.Seq); rerr != nil {
				return n, rerr
			}
			renumbered++
			continue
		}
		if err != nil && (client.Retryable(err) || credentialProblem(err)) {
			// Unreachable, or the terminal's own token is refused: the
			// taps stay queued until that is mended.
			return n, err
		}
		if err != nil && ctx.Err() != nil {
			return n, ctx.Err()
		}
		o := Outcome{Seq: qt.Seq}
		if err != nil {
			o.Status, o.Problem = StatusRefused, client.ProblemType(err)
			o.Message = fmt.Sprintf("%s（离线记录 #%d）", refusedLine(o.Problem), qt.Seq)
		} else {
			o.Status, o.Result, o.Name = StatusOK, &res, res.VolunteerName
			o.Message = fmt.Sprintf("%s（离线记录 #%d 已上传）", resultLine(res, t.cfg.Location), qt.Seq)
		}
		if err := t.cfg.Queue.Done(ctx, qt.Seq); err != nil {
			return n, err
		}
		n++
		t.print(o)
	}
}

// maxRenumber bounds how often one Sync renumbers the queue: each time the
// numbers go past the server's last one with a gap, so a second clash in
// one Sync means another terminal is racing this one.
const maxRenumber = 3

// renumberQueue gives the queued taps new numbers after the server's last
// one (and seq) with a gap, after the server answered sequence-reused for
// the queued tap seq, and tells the operator.
func (t *Terminal) renumberQueue(ctx context.Context, seq int64) error {
	st, err := t.cfg.API.TerminalState(ctx, 0)
	if err != nil {
		return err
	}
	after := max(st.LastSeq, seq) + seqGap
	k, err := t.cfg.Queue.Renumber(ctx, after)
	if err != nil {
		return err
	}
	t.notice("queued tap #%d: another terminal with this token already used that number; the %d queued tap(s) "+
		"are numbered again after #%d, in the same order, and sent. Two terminals share one token: give each its own "+
		"(volcard token create --role terminal --org ORG_ID)", seq, k, after)
	return nil
}

// credentialProblem reports whether the server refused the terminal itself
// (token unknown, revoked or without the terminal role) rather than the tap:
// resending after the token is fixed can still record it.
func credentialProblem(err error) bool {
	var pe *client.ProblemError
	if !errors.As(err, &pe) {
		return false
	}
	return pe.Status == http.StatusUnauthorized ||
		(pe.Status == http.StatusForbidden && pe.Type == wire.ProblemForbidden)
}

// Run is the terminal loop: wait for a card, tap it, wait for it to leave;
// queued taps are retried every SyncInterval. It returns when ctx ends.
func (t *Terminal) Run(ctx context.Context) error {
	if t.cfg.Readers == nil {
		return errors.New("terminal: no readers")
	}
	reader, err := pickReader(ctx, t.cfg.Readers, t.cfg.Reader)
	if err != nil {
		return err
	}
	var wg sync.WaitGroup
	defer wg.Wait()
	syncCtx, stop := context.WithCancel(ctx)
	defer stop()
	wg.Add(1)
	go func() {
		defer wg.Done()
		tick := time.NewTicker(t.cfg.SyncInterval)
		defer tick.Stop()
		for {
			select {
			case <-syncCtx.Done():
				return
			case <-tick.C:
				if t.pending(syncCtx) > 0 {
					if _, err := t.Sync(syncCtx); err != nil && syncCtx.Err() == nil {
						t.cfg.Logger.Debug("queued taps not sent yet", slog.String("err", err.Error()))
					}
				}
			}
		}
	}()
	return eachCard(ctx, t.cfg.Readers, reader, t.cfg.Logger, "tap failed",
		func(ctx context.Context, card cardio.Card) error {
			_, err := t.TapCard(ctx, card)
			return err
		})
}

func (t *Terminal) print(o Outcome) {
	if t.cfg.JSON {
		b, _ := json.Marshal(o)
		fmt.Fprintln(t.cfg.Out, string(b))
		return
	}
	fmt.Fprintln(t.cfg.Out, o.Message)
}

func displayName(n string) string {
	if strings.TrimSpace(n) == "" {
		return "持卡人"
	}
	return n
}

// Stars renders a star level: ★ per star.
func Stars(n int) string { return strings.Repeat("★", max(n, 0)) }

func formatHours(h float64) string { return strconv.FormatFloat(h, 'f', -1, 64) }

// resultLine is the line shown for a recorded tap, e.g. "✓ 张三 签到 09:02
// ★★★" or "✓ 张三 签退 3.5 h ★★★".
func resultLine(r wire.TapResult, loc *time.Location) string {
	var b strings.Builder
	b.WriteString("✓ " + displayName(r.VolunteerName))
	if r.Kind == wire.KindCheckOut {
		b.WriteString(" 签退 " + formatHours(r.SessionHours) + " h")
	} else {
		b.WriteString(" 签到 " + r.At.In(loc).Format("15:04"))
	}
	if s := Stars(r.Stars); s != "" {
		b.WriteString(" " + s)
	}
	if r.Stars > r.StarsBefore {
		fmt.Fprintf(&b, " 升至%d星！", r.Stars)
	}
	if r.OfflineEvidence {
		b.WriteString(" [offline]")
	}
	return b.String()
}

// refusedLine is the line shown for a refused tap.
func refusedLine(problem string) string {
	switch problem {
	case wire.ProblemCardNotGenuine:
		return "✗ 卡片验证失败，疑似伪造卡（card not genuine）"
	case wire.ProblemCardUnknown:
		return "✗ 未登记的卡片，请先注册志愿者（unknown card）"
	case wire.ProblemCardBlocked:
		return "✗ 卡片已挂失或停用（blocked card）"
	case wire.ProblemCardExpired:
		return "✗ 卡片已过期，请办理换卡（expired card）"
	case wire.ProblemCardClosed:
		return "✗ 卡片已注销（closed card）"
	case wire.ProblemChallengeReplayed, wire.ProblemChallengeInvalid, wire.ProblemEvidenceReplayed:
		return "✗ 验证数据无效，请重新刷卡（" + problem + "）"
	case wire.ProblemNotFound:
		return "✗ 活动不存在或不属于本终端（activity not found）"
	case wire.ProblemUnauthorized, wire.ProblemForbidden:
		return "✗ 终端令牌无效（" + problem + "）"
	case wire.ProblemSequenceReused:
		return "✗ 另一台终端正在使用本终端令牌，请重新刷卡，并为每台终端单独创建令牌（sequence-reused）"
	}
	return "✗ 刷卡未被接受（" + problem + "）"
}
