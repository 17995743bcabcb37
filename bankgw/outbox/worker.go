package outbox

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	mrand "math/rand/v2"
	"os"
	"sync"
	"time"

	"github.com/volcard/volcard/bankgw"
	"github.com/volcard/volcard/issuance"
	"github.com/volcard/volcard/pii"
)

// Gateway is what the worker needs from bankgw.Client.
type Gateway interface {
	NewTrace(ctx context.Context, mti string) (bankgw.Trace, error)
	Apply(ctx context.Context, r bankgw.ApplicationRequest) (bankgw.ApplicationResult, error)
	ChangeStatus(ctx context.Context, r bankgw.StatusChangeRequest) (bankgw.ApplicationResult, error)
	UpdateHolder(ctx context.Context, r bankgw.HolderUpdateRequest) (bankgw.ApplicationResult, error)
	Reverse(ctx context.Context, r bankgw.ReversalRequest) error
}

var _ Gateway = (*bankgw.Client)(nil)

// Point names a step of processing a row, for Config.Hook.
type Point string

// Points at which Config.Hook is called.
const (
	PointClaimed    Point = "claimed"     // row leased, nothing done yet
	PointTraceSaved Point = "trace_saved" // trace stored, request not sent
	PointSent       Point = "sent"        // answer (or error) received, not applied
)

// Config configures a Worker. Zero values take the defaults given.
type Config struct {
	// Gateway sends to the bank (a *bankgw.Client). Required.
	Gateway Gateway
	// Service applies the results to applications. Required; it must have
	// been built with issuance.WithBankOutbox over the same storage as
	// Outbox.
	Service *issuance.Service
	// Outbox stores the rows (an *issuance/store.Store). Required.
	Outbox Rows
	// Owner names this worker in leases. Default host-pid-random.
	Owner string
	// Workers is the number of claim loops. Default 2.
	Workers int
	// Batch is the number of rows claimed (and sent concurrently) at once.
	// Default 16.
	Batch int
	// PollInterval is the wait when nothing is due. Default 500 ms.
	PollInterval time.Duration
	// Lease is how long a claimed row stays ours; it must exceed the
	// gateway's request timeout. Default 60 s.
	Lease time.Duration
	// RetryBase and RetryMax bound the exponential back-off (with jitter)
	// after temporary declines and an unreachable bank. Defaults 1 s, 5 min.
	RetryBase time.Duration
	RetryMax  time.Duration
	// Repeats is how many 0301 repeats follow an unanswered add before it
	// is reversed. 0 means 2; negative means reverse at once.
	Repeats int
	// PermanentTries bounds the tries of a row whose final answer from the
	// bank cannot be applied for a reason that repeats (a unique conflict
	// such as duplicate card_pan, an illegal transition): once this many
	// tries have got such an answer the row ends failed (tries that failed
	// for a passing cause, such as the bank being down, do not count).
	// Default 3.
	PermanentTries int
	// Banks, when set, limits the worker to the rows of these bank codes:
	// serve runs one worker per bank link, so that a link that is down
	// holds only its own bank's requests. Empty: every bank's rows.
	Banks []string
	// NoDispatch stops the worker from turning approved applications into
	// outbox rows (issuance.Service.SubmitApprovedToBank); with one worker
	// per link, one of them dispatches for all.
	NoDispatch bool
	// Renewal is the bank's declared renewal rule (docs/bank-interface.md
	// section 7.1): issuance.RenewSamePAN or issuance.RenewNewPAN. A
	// renewal answered against it (a new PAN from a same-PAN bank, or the
	// reverse) is not applied: the row ends failed for an operator. Empty:
	// either answer is applied.
	Renewal issuance.RenewalRule
	// Logger defaults to slog.Default().
	Logger *slog.Logger
	// Now is the clock. Default time.Now.
	Now func() time.Time
	// Hook, when set, is called at each Point; ErrCrash stops the worker
	// there as if the process had died (for tests).
	Hook func(ctx context.Context, p Point, r Request) error
}

// Worker drains the bank outbox. Run it in one goroutine; Notify wakes it.
type Worker struct {
	cfg  Config
	log  *slog.Logger
	wake chan struct{}
}

// New validates cfg and returns a Worker.
func New(cfg Config) (*Worker, error) {
	if cfg.Gateway == nil || cfg.Service == nil || cfg.Outbox == nil {
		return nil, fmt.Errorf("gateway, service and outbox required: %w", ErrInvalidConfig)
	}
	if cfg.Owner == "" {
		host, _ := os.Hostname()
		b := make([]byte, 4)
		_, _ = rand.Read(b)
		cfg.Owner = fmt.Sprintf("%s-%d-%s", host, os.Getpid(), hex.EncodeToString(b))
	}
	if cfg.Workers == 0 {
		cfg.Workers = 2
	}
	if cfg.Batch == 0 {
		cfg.Batch = 16
	}
	if cfg.PollInterval == 0 {
		cfg.PollInterval = 500 * time.Millisecond
	}
	if cfg.Lease == 0 {
		cfg.Lease = time.Minute
	}
	if cfg.RetryBase == 0 {
		cfg.RetryBase = time.Second
	}
	if cfg.RetryMax == 0 {
		cfg.RetryMax = 5 * time.Minute
	}
	if cfg.Repeats == 0 {
		cfg.Repeats = 2
	}
	if cfg.Repeats < 0 {
		cfg.Repeats = 0
	}
	if cfg.PermanentTries == 0 {
		cfg.PermanentTries = 3
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Workers < 0 || cfg.Batch < 0 || cfg.PermanentTries < 0 || cfg.PollInterval < 0 || cfg.Lease < 0 || cfg.RetryBase < 0 || cfg.RetryMax < cfg.RetryBase {
		return nil, fmt.Errorf("negative size or duration: %w", ErrInvalidConfig)
	}
	return &Worker{cfg: cfg, log: cfg.Logger, wake: make(chan struct{}, 1)}, nil
}

// Resume makes the rows of the worker's banks that wait out a back-off due
// now and wakes the worker: the bank just signed on again, so requests held
// while it was down go out at once instead of after their back-off (up to
// RetryMax). A worker for every bank (Banks empty) does nothing.
func (w *Worker) Resume(ctx context.Context) {
	if len(w.cfg.Banks) == 0 {
		return
	}
	n, err := w.cfg.Outbox.ResumeBankRequests(ctx, w.cfg.Banks, w.cfg.Now())
	if err != nil {
		w.log.Warn("outbox: resume held bank requests", slog.String("err", err.Error()))
		return
	}
	if n > 0 {
		w.log.Info("outbox: bank signed on; held requests due now", slog.Int64("rows", n))
	}
	w.Notify()
}

// Owner returns the name this worker leases rows under.
func (w *Worker) Owner() string { return w.cfg.Owner }

// Notify wakes the worker (for example after an approval) instead of
// waiting for the next poll.
func (w *Worker) Notify() {
	select {
	case w.wake <- struct{}{}:
	default:
	}
}

// Run drains the outbox until ctx is done, then hands the rows it still
// holds back (claimable at once by others) and returns nil. After a Hook
// returned ErrCrash it returns ErrCrash and releases nothing.
func (w *Worker) Run(ctx context.Context) error {
	var (
		wg      sync.WaitGroup
		crashMu sync.Mutex
		crashed error
	)
	loopCtx, stop := context.WithCancel(ctx)
	defer stop()
	for i := range w.cfg.Workers {
		wg.Go(func() {
			if err := w.loop(loopCtx, w.loopOwner(i), i == 0 && !w.cfg.NoDispatch); errors.Is(err, ErrCrash) {
				crashMu.Lock()
				crashed = err
				crashMu.Unlock()
				stop()
			}
		})
	}
	wg.Wait()
	if crashed != nil {
		return crashed
	}
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	var n int64
	for i := range w.cfg.Workers {
		k, err := w.cfg.Outbox.ReleaseBankRequests(rctx, w.loopOwner(i))
		if err != nil {
			return fmt.Errorf("outbox: release leases: %w", err)
		}
		n += k
	}
	if n > 0 {
		w.log.Info("outbox: released leased bank requests", slog.Int64("rows", n))
	}
	return nil
}

// loopOwner is the lease owner of claim loop i: each loop leases under its
// own name, so that a row whose lease expired while one loop still works on
// it cannot be taken over by a sibling loop unnoticed.
func (w *Worker) loopOwner(i int) string { return fmt.Sprintf("%s/%d", w.cfg.Owner, i) }

func (w *Worker) loop(ctx context.Context, owner string, dispatch bool) error {
	for ctx.Err() == nil {
		busy := false
		if dispatch {
			n, err := w.cfg.Service.SubmitApprovedToBank(ctx, w.cfg.Batch)
			if err != nil && ctx.Err() == nil {
				w.log.Warn("outbox: submit approved applications", slog.String("err", err.Error()))
			}
			busy = n > 0
		}
		// The claim is not cancelled with ctx: a claim cancelled mid-flight
		// may still commit on the server after Run has released this loop's
		// leases, leaving rows leased to a stopped worker until the lease
		// ends. Run releases whatever a finished claim took.
		cctx, ccancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
		rows, err := w.cfg.Outbox.ClaimBankRequests(cctx, Claim{
			Owner: owner, Now: w.cfg.Now(), Lease: w.cfg.Lease, Limit: w.cfg.Batch, Banks: w.cfg.Banks})
		ccancel()
		if ctx.Err() != nil {
			return nil // stopping: Run releases the rows just claimed
		}
		if err != nil {
			w.log.Warn("outbox: claim", slog.String("err", err.Error()))
		}
		if len(rows) > 0 {
			busy = true
			var (
				wg    sync.WaitGroup
				mu    sync.Mutex
				crash error
			)
			for _, r := range rows {
				wg.Go(func() {
					if err := w.process(ctx, r); errors.Is(err, ErrCrash) {
						mu.Lock()
						crash = err
						mu.Unlock()
					}
				})
			}
			wg.Wait()
			if crash != nil {
				return crash
			}
		}
		if busy {
			continue
		}
		t := time.NewTimer(w.cfg.PollInterval)
		select {
		case <-ctx.Done():
		case <-w.wake:
		case <-t.C:
		}
		t.Stop()
	}
	return nil
}

func (w *Worker) hook(ctx context.Context, p Point, r Request) error {
	if w.cfg.Hook == nil {
		return nil
	}
	return w.cfg.Hook(ctx, p, r)
}

func (w *Worker) process(ctx context.Context, r Request) error {
	if err := w.hook(ctx, PointClaimed, r); err != nil {
		return err
	}
	var err error
	switch r.Kind {
	case KindApply:
		err = w.apply(ctx, r)
	case KindReversal:
		err = w.reverse(ctx, r)
	case KindStatusChange:
		err = w.statusChange(ctx, r)
	case KindHolderUpdate:
		err = w.holderUpdate(ctx, r)
	default:
		err = w.fail(ctx, &r, "", "unsupported kind "+string(r.Kind), "outbox: unsupported kind; needs an operator")
	}
	switch {
	case err == nil, errors.Is(err, ErrCrash):
	case ctx.Err() != nil:
		// shutting down: Run releases the lease
	case errors.Is(err, ErrLeaseLost):
		w.log.Debug("outbox: row resolved or taken over elsewhere", slog.Int64("row", r.ID))
		err = nil
	default:
		w.log.Warn("outbox: process bank request", slog.Int64("row", r.ID),
			slog.String("application", r.ApplicationNumber), slog.String("err", err.Error()))
	}
	return err
}

// prepare allocates (or reuses) the row's trace and stores it with
// MaybeSent before anything is sent; it returns the trace and whether the
// send is a repeat.
// A reversal's trace keeps the original's RRN (field 37 of a 0420).
func (w *Worker) prepare(ctx context.Context, r *Request, mti, rrn string) (bankgw.Trace, bool, error) {
	repeat := r.MaybeSent
	if r.Trace.IsZero() {
		tr, err := w.cfg.Gateway.NewTrace(ctx, mti)
		if err != nil {
			return bankgw.Trace{}, false, err
		}
		if rrn != "" {
			tr.RRN = rrn
		}
		r.Trace = tr
		repeat = false
	}
	r.MaybeSent = true
	if err := w.cfg.Outbox.SaveBankRequest(ctx, r, r.LeaseOwner); err != nil {
		return bankgw.Trace{}, false, err
	}
	if err := w.hook(ctx, PointTraceSaved, *r); err != nil {
		return bankgw.Trace{}, false, err
	}
	return r.Trace, repeat, nil
}

func (w *Worker) apply(ctx context.Context, r Request) error {
	tr, repeat, err := w.prepare(ctx, &r, bankgw.MTIFileUpdateRequest, "")
	if err != nil {
		if errors.Is(err, ErrCrash) || errors.Is(err, ErrLeaseLost) || ctx.Err() != nil {
			return err
		}
		return w.retry(ctx, &r, err, false)
	}
	a, err := w.cfg.Service.BankApplicant(ctx, r.ApplicationID)
	if err != nil {
		if ctx.Err() != nil {
			return err
		}
		r.MaybeSent = repeat
		return w.retry(ctx, &r, err, false)
	}
	res, err := w.cfg.Gateway.Apply(ctx, bankgw.ApplicationRequest{
		ApplicationNumber: r.ApplicationNumber, Applicant: applicant(a), Trace: tr, Repeat: repeat})
	if ctx.Err() != nil {
		return ctx.Err() // the row stays sent; Run releases it
	}
	if err := w.hook(ctx, PointSent, r); err != nil {
		return err
	}
	var de *bankgw.DeclinedError
	switch {
	case err == nil:
		if res.Card == nil {
			return w.fail(ctx, &r, bankgw.CodeApproved, "approved without a card",
				"outbox: the bank approved without a card; needs an operator")
		}
		card := issuance.IssuedCard{PAN: pii.NewSecret(pii.KindOther, res.Card.PAN), Expiry: res.Card.Expiry,
			PSN: res.Card.PSN, Reference: res.Card.Reference}
		return w.resolve(ctx, &r, r.LeaseOwner, bankgw.CodeApproved, func(ctx context.Context) error {
			_, err := w.cfg.Service.RecordBankApproval(ctx, r.ApplicationID, card)
			return err
		})
	case errors.As(err, &de) && de.Temporary():
		return w.retry(ctx, &r, err, false)
	case errors.As(err, &de) && de.Code == bankgw.CodeFormatError:
		return w.fail(ctx, &r, de.Code, errText(err), "outbox: bank refused our request as malformed; needs an operator")
	case errors.As(err, &de):
		return w.resolve(ctx, &r, r.LeaseOwner, de.Code, func(ctx context.Context) error {
			_, err := w.cfg.Service.RecordBankDecline(ctx, r.ApplicationID, de.Code, de.Reason)
			return err
		})
	case errors.Is(err, bankgw.ErrUnavailable):
		r.MaybeSent = repeat // not sent this time
		return w.retry(ctx, &r, err, false)
	case errors.Is(err, bankgw.ErrTimeout), errors.Is(err, bankgw.ErrConnectionLost):
		r.Repeats++
		if r.Repeats > w.cfg.Repeats {
			return w.startReversal(ctx, &r, err)
		}
		return w.retry(ctx, &r, err, true)
	default:
		return w.retry(ctx, &r, err, false)
	}
}

// reversalPayload is the payload of a reversal row.
type reversalPayload struct {
	Original     bankgw.Trace `json:"original"`
	OriginalCode string       `json:"original_code"`
	Reason       string       `json:"reason"`
}

// startReversal parks the apply row (waiting) and enqueues the reversal of
// its last trace, in one transaction.
func (w *Worker) startReversal(ctx context.Context, r *Request, cause error) error {
	p, err := json.Marshal(reversalPayload{Original: r.Trace, OriginalCode: string(bankgw.FileAdd), Reason: bankgw.ReasonTimeout})
	if err != nil {
		return err
	}
	now := w.cfg.Now()
	rev := Request{ApplicationID: r.ApplicationID, ApplicationNumber: r.ApplicationNumber, ParentID: r.ID,
		Kind: KindReversal, Payload: p, State: StatePending, NextAttemptAt: now, CreatedAt: now, UpdatedAt: now}
	r.State, r.LastError = StateWaiting, errText(cause)
	err = w.cfg.Service.InTx(ctx, func(ctx context.Context) error {
		if err := w.cfg.Outbox.SaveBankRequest(ctx, r, r.LeaseOwner); err != nil {
			return err
		}
		return w.cfg.Outbox.InsertBankRequest(ctx, &rev)
	})
	if err != nil {
		return fmt.Errorf("start reversal: %w", err)
	}
	w.log.Warn("outbox: no answer from the bank, reversing", slog.Int64("row", r.ID),
		slog.String("application", r.ApplicationNumber), slog.String("stan", r.Trace.STAN), slog.Int("repeats", r.Repeats))
	w.Notify()
	return nil
}

func (w *Worker) reverse(ctx context.Context, r Request) error {
	var p reversalPayload
	if err := json.Unmarshal(r.Payload, &p); err != nil || p.Original.IsZero() {
		return w.fail(ctx, &r, "", "reversal payload unreadable", "outbox: reversal payload unreadable; needs an operator")
	}
	tr, repeat, err := w.prepare(ctx, &r, bankgw.MTIReversalRequest, p.Original.RRN)
	if err != nil {
		if errors.Is(err, ErrCrash) || errors.Is(err, ErrLeaseLost) || ctx.Err() != nil {
			return err
		}
		return w.retry(ctx, &r, err, false)
	}
	err = w.cfg.Gateway.Reverse(ctx, bankgw.ReversalRequest{Original: p.Original,
		OriginalCode: bankgw.FileUpdateCode(p.OriginalCode), ApplicationNumber: r.ApplicationNumber,
		Reason: p.Reason, Trace: tr, Repeat: repeat})
	if ctx.Err() != nil {
		return ctx.Err()
	}
	if err := w.hook(ctx, PointSent, r); err != nil {
		return err
	}
	var de *bankgw.DeclinedError
	switch {
	case err == nil:
		defer w.Notify()
		return w.resolve(ctx, &r, r.LeaseOwner, bankgw.CodeApproved, func(ctx context.Context) error {
			return reopen(ctx, w.cfg.Outbox, r, time.Now())
		})
	case errors.As(err, &de) && !de.Temporary():
		return w.fail(ctx, &r, de.Code, errText(err), "outbox: reversal refused; needs an operator")
	case errors.Is(err, bankgw.ErrUnavailable):
		r.MaybeSent = repeat
		return w.retry(ctx, &r, err, false)
	default:
		// no answer, temporary decline: repeat as 0421 until acknowledged
		return w.retry(ctx, &r, err, errors.Is(err, bankgw.ErrTimeout) || errors.Is(err, bankgw.ErrConnectionLost))
	}
}

// reopen makes the apply parked behind an acknowledged (or cancelled)
// reversal due at now again with a fresh trace (a new 0300: the bank
// reinstates the same card).
func reopen(ctx context.Context, box RowStore, rev Request, now time.Time) error {
	if rev.ParentID == 0 {
		return nil
	}
	parent, err := box.GetBankRequest(ctx, rev.ParentID)
	if err != nil {
		return err
	}
	if parent.State != StateWaiting {
		return nil
	}
	parent.State, parent.Trace, parent.MaybeSent, parent.Repeats = StatePending, bankgw.Trace{}, false, 0
	parent.NextAttemptAt = now
	return box.SaveBankRequest(ctx, &parent, "")
}

// resolve applies a final answer and marks the row done in one
// transaction. A concurrent resolution (late response, another worker)
// wins quietly.
func resolveRow(ctx context.Context, svc *issuance.Service, box RowStore, r *Request, owner, code string, apply func(ctx context.Context) error) error {
	r.State, r.ResultCode, r.LastError = StateDone, code, ""
	var err error
	for range 2 {
		err = svc.InTx(ctx, func(ctx context.Context) error {
			if err := apply(ctx); err != nil {
				return err
			}
			return box.SaveBankRequest(ctx, r, owner)
		})
		if !errors.Is(err, issuance.ErrConflict) {
			break
		}
	}
	if err == nil {
		return nil
	}
	if cur, gerr := box.GetBankRequest(ctx, r.ID); gerr == nil && cur.State == StateDone {
		return ErrLeaseLost // resolved by someone else
	}
	return err
}

func (w *Worker) resolve(ctx context.Context, r *Request, owner, code string, apply func(ctx context.Context) error) error {
	err := resolveRow(ctx, w.cfg.Service, w.cfg.Outbox, r, owner, code, apply)
	if errors.Is(err, issuance.ErrBankCardRefused) {
		// Asking again brings the same card: an operator must settle it
		// with the bank (volcard outbox list --state failed).
		return w.fail(ctx, r, code, errText(err), "outbox: the bank's card does not fit the product; needs an operator")
	}
	if permanent(err) {
		r.PermanentErrors++
	}
	if permanent(err) && r.PermanentErrors >= w.cfg.PermanentTries {
		// The bank answers a repeat the same way (idempotency), so the
		// same answer clashes again: give the row to an operator.
		return w.fail(ctx, r, code, errText(err),
			"outbox: the bank's answer cannot be applied and the cause repeats; needs an operator")
	}
	if err != nil && !errors.Is(err, ErrLeaseLost) && ctx.Err() == nil {
		// keep the row: the next attempt repeats the request and gets the
		// same answer from the bank
		if permanent(err) {
			w.log.Warn("outbox: the bank's answer cannot be applied; trying again", slog.Int64("row", r.ID),
				slog.String("application", r.ApplicationNumber), slog.Int("tries", r.PermanentErrors),
				slog.Int("max", w.cfg.PermanentTries), slog.String("err", errText(err)))
		}
		return w.retry(ctx, r, err, false)
	}
	return err
}

// permanent reports whether err is a cause that repeats when the request
// is sent again: a unique conflict (*issuance.ConflictError, for example a
// PAN that is already another application's card) or an illegal
// transition (the application left bank_pending). A plain
// issuance.ErrConflict (a concurrent change) is temporary.
func permanent(err error) bool {
	var ce *issuance.ConflictError
	var te *issuance.TransitionError
	return errors.As(err, &ce) || errors.As(err, &te)
}

// fail parks r as failed with its result code and reason, and appends an
// event to its application, in one transaction; it logs msg at ERROR. The
// row then shows in volcard outbox list --state failed and in
// volcard_outbox_failed_rows until an operator retries or cancels it.
func (w *Worker) fail(ctx context.Context, r *Request, code, reason, msg string) error {
	r.State, r.ResultCode, r.LastError = StateFailed, code, reason
	err := w.cfg.Service.InTx(ctx, func(ctx context.Context) error {
		if err := w.save(ctx, r); err != nil {
			return err
		}
		if r.ApplicationID == 0 {
			return nil
		}
		return w.cfg.Service.RecordBankRequestFailed(ctx, r.ApplicationID, fmt.Sprintf("%s row %d: %s", r.Kind, r.ID, reason))
	})
	if err != nil {
		return fmt.Errorf("fail row %d: %w", r.ID, err)
	}
	w.log.Error(msg, slog.Int64("row", r.ID), slog.String("application", r.ApplicationNumber),
		slog.String("kind", string(r.Kind)), slog.String("rc", code), slog.Int("attempts", r.Attempts),
		slog.String("reason", reason))
	return nil
}

// retry schedules the row again: soon (RetryBase) after an unanswered
// request that will be repeated, with exponential back-off and jitter
// otherwise.
func (w *Worker) retry(ctx context.Context, r *Request, cause error, soon bool) error {
	delay := w.cfg.RetryBase
	if !soon {
		delay = w.backoff(r.Attempts)
	}
	r.State = StatePending
	if r.MaybeSent {
		r.State = StateSent
	}
	r.NextAttemptAt, r.LastError = w.cfg.Now().Add(delay), errText(cause)
	w.log.Info("outbox: bank request rescheduled", slog.Int64("row", r.ID), slog.String("application", r.ApplicationNumber),
		slog.String("kind", string(r.Kind)), slog.Duration("in", delay), slog.String("err", errText(cause)))
	return w.save(ctx, r)
}

// backoff is RetryBase·2^(attempts-1), capped at RetryMax, scaled by a
// random factor in [0.5, 1).
func (w *Worker) backoff(attempts int) time.Duration {
	d := w.cfg.RetryBase
	for i := 1; i < attempts && d < w.cfg.RetryMax; i++ {
		d *= 2
	}
	d = min(d, w.cfg.RetryMax)
	return time.Duration(float64(d) * (0.5 + mrand.Float64()/2))
}

// save writes r while it is leased to the loop that claimed it (the store
// drops the lease when r leaves in_flight).
func (w *Worker) save(ctx context.Context, r *Request) error {
	return w.cfg.Outbox.SaveBankRequest(ctx, r, r.LeaseOwner)
}

// errText is the stored (and logged) form of an error: bankgw and issuance
// errors hold no card or personal data, and text from the libraries below
// them is scrubbed as well (pii.Scrub); it is cut to 300 bytes.
func errText(err error) string {
	if err == nil {
		return ""
	}
	s := pii.Scrub(err.Error())
	if len(s) > 300 {
		s = s[:300]
	}
	return s
}

var idTypes = map[issuance.IDType]string{
	issuance.IDResident: "01", issuance.IDPassport: "02", issuance.IDHKMacau: "03", issuance.IDTaiwan: "04",
}

// applicant maps the domain's applicant to field 48's subfields.
func applicant(a issuance.BankApplicant) bankgw.Applicant {
	out := bankgw.Applicant{
		Name: a.Name.Reveal(), EmbossName: a.EmbossName, IDType: idTypes[a.IDType], IDNumber: a.IDNumber.Reveal(),
		Phone: a.Phone.Reveal(), Product: a.BankProduct, Branch: a.BranchCode, ClothingSize: string(a.ClothingSize),
	}
	if out.IDType != "01" && !a.BirthDate.IsZero() {
		out.BirthDate = a.BirthDate.Format("20060102")
	}
	return out
}
