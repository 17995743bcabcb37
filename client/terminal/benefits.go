package terminal

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"time"

	"github.com/volcard/volcard/cardio"
	"github.com/volcard/volcard/cardio/emv"
	"github.com/volcard/volcard/client"
	"github.com/volcard/volcard/wire"
)

// The benefits mode of the terminal, at a caring merchant: a tap is read
// and authenticated as at check-in (DDA over the server's challenge), the
// server answers the holder's tier and the offers this merchant honours,
// and when one of them requires it the holder's PIN is verified offline on
// the card (plaintext offline PIN, VERIFY 00 20 00 80). The PIN goes from
// the PIN pad to the card only: it is never logged, shown or sent to the
// server. With RedeemOffer set the terminal is the till of that offer: when
// the check grants it, the terminal records the redemption on the server
// with the cardholder verification (offline_pin when the card verified the
// PIN at this check, else none). The server trusts the terminal's token (an
// authenticated device of the merchant's organisation) for the result of
// the PIN check, which it never sees.

// BenefitsAPI is what the benefits terminal needs from the server;
// *client.Client implements it.
type BenefitsAPI interface {
	Challenge(ctx context.Context) (wire.Challenge, error)
	CheckBenefits(ctx context.Context, in wire.BenefitsRequest) (wire.Benefits, error)
	// TerminalState with activityID 0 checks the token at start.
	TerminalState(ctx context.Context, activityID int64) (wire.TerminalState, error)
	Redeem(ctx context.Context, in wire.RedemptionRequest) (wire.Redemption, error)
}

var _ BenefitsAPI = (*client.Client)(nil)

// PINPad asks the cardholder for the offline PIN. An error means no PIN
// was entered (cancelled, nothing typed): the PIN offers are refused and
// the card is not asked.
type PINPad interface {
	PIN(ctx context.Context) (string, error)
}

// PINPadFunc adapts a function to PINPad.
type PINPadFunc func(ctx context.Context) (string, error)

// PIN implements PINPad.
func (f PINPadFunc) PIN(ctx context.Context) (string, error) { return f(ctx) }

// MerchantConfig configures a Merchant. Zero fields take the defaults
// named.
type MerchantConfig struct {
	// API is the server. Required.
	API BenefitsAPI
	// PINPad asks for the PIN when an offer requires it. Required.
	PINPad PINPad
	// Readers and Reader are where cards come from (Run only); an empty
	// Reader takes the first reader listed.
	Readers cardio.Readers
	Reader  string
	// RedeemOffer, when set, is the offer this terminal redeems: granted
	// at a check, it is recorded on the server (POST
	// /v1/benefits/redemptions). Zero: the terminal only shows.
	RedeemOffer int64
	// Out receives the result of each tap: human lines, or one JSON
	// object with JSON set.
	Out  io.Writer
	JSON bool
	// Now is the terminal clock (terminal data of the DDOL); default
	// time.Now.
	Now func() time.Time
	// Rand fills terminal data of the DDOL; default crypto/rand.
	Rand io.Reader
	// Logger; default slog.Default(). Card data and PINs are never logged.
	Logger *slog.Logger
}

// Merchant is the benefits terminal of a caring merchant. Build it with
// NewMerchant.
type Merchant struct {
	cfg  MerchantConfig
	opts emv.Options
}

// NewMerchant validates cfg and returns a Merchant.
func NewMerchant(cfg MerchantConfig) (*Merchant, error) {
	switch {
	case cfg.API == nil:
		return nil, errors.New("terminal: no server API")
	case cfg.PINPad == nil:
		return nil, errors.New("terminal: no PIN pad")
	}
	if cfg.Out == nil {
		cfg.Out = io.Discard
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Rand == nil {
		cfg.Rand = rand.Reader
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	return &Merchant{cfg: cfg, opts: emv.Options{Now: cfg.Now, Rand: cfg.Rand}}, nil
}

// Start checks the token with the server before the first card: errors
// ErrTokenRefused and ErrNotTerminalToken as Terminal.Start; an
// unreachable server gives an error for which client.Retryable is true
// (benefit checks need the server: the terminal cannot work offline).
func (m *Merchant) Start(ctx context.Context) error {
	if _, err := m.cfg.API.TerminalState(ctx, 0); err != nil {
		return startError(err)
	}
	return nil
}

// PINCheck is the outcome of the offline PIN check of a benefit check.
type PINCheck string

// PIN check outcomes.
const (
	// PINNotNeeded: no offer offered requires the PIN; it was not asked.
	PINNotNeeded PINCheck = "not_needed"
	// PINVerified: the card accepted the PIN (9000).
	PINVerified PINCheck = "verified"
	// PINWrong: the card refused the PIN (63Cx); PINTriesLeft tells how
	// many tries remain (0: this try blocked it).
	PINWrong PINCheck = "wrong"
	// PINBlocked: the PIN is blocked (try counter 0, or 6983): the card's
	// issuing bank unblocks it.
	PINBlocked PINCheck = "blocked"
	// PINNone: the card holds no offline PIN (6A88).
	PINNone PINCheck = "no_pin"
	// PINNotEntered: the PIN pad gave no PIN, or not 4 to 12 digits; the
	// card was not asked and its counter is as it was.
	PINNotEntered PINCheck = "not_entered"
)

// OfferOutcome is an offer answered by the server and whether this tap
// grants it.
type OfferOutcome struct {
	wire.Offer
	Granted bool `json:"granted"`
}

// BenefitsOutcome is what happened to one benefit check.
type BenefitsOutcome struct {
	Status  Status         `json:"status"`
	Name    string         `json:"name,omitempty"` // masked, from the server
	Stars   int            `json:"stars"`
	Tier    string         `json:"tier,omitempty"`
	Offers  []OfferOutcome `json:"offers"`
	PIN     PINCheck       `json:"pin,omitempty"`
	Problem string         `json:"problem,omitempty"`
	// PINTriesLeft is the card's PIN try counter after the check, when
	// known (GET DATA 9F17 before it, 63Cx after a wrong PIN).
	PINTriesLeft *int `json:"pin_tries_left,omitempty"`
	// Redeemed is the redemption recorded of RedeemOffer, when granted.
	Redeemed *wire.Redemption `json:"redeemed,omitempty"`
	Message  string           `json:"message"` // the lines shown
	APDUs    int              `json:"apdus,omitempty"`
}

// Check runs one benefit check on a connected card and prints the outcome
// to Out. The returned error is the cause of a failed read or request (for
// the log; never with card data or the PIN); the outcome tells the
// operator what to do.
func (m *Merchant) Check(ctx context.Context, card cardio.Card) (BenefitsOutcome, error) {
	o, err := m.check(ctx, card)
	m.print(o)
	return o, err
}

func (m *Merchant) check(ctx context.Context, card cardio.Card) (BenefitsOutcome, error) {
	o := BenefitsOutcome{Offers: []OfferOutcome{}}
	ch, err := m.cfg.API.Challenge(ctx)
	switch {
	case err == nil && len(ch.UN) == 4:
	case err == nil || client.Retryable(err):
		o.Status, o.Problem = StatusError, "server-unreachable"
		o.Message = "✗ 无法连接服务器，暂不能查询优惠，请稍后再刷卡（server unreachable）"
		if err == nil {
			err = errors.New("terminal: the server's challenge is not 4 bytes")
		}
		return o, err
	default:
		o.Status, o.Problem = StatusRefused, client.ProblemType(err)
		o.Message = "✗ 服务器拒绝终端请求（" + o.Problem + "）"
		return o, err
	}
	facts, ev, err := ReadCard(ctx, card, ch.UN, m.opts)
	if facts != nil {
		o.APDUs = facts.APDUs
	}
	if err != nil {
		o.Status, o.Problem, o.Message = readFailure(err)
		return o, err
	}
	b, err := m.cfg.API.CheckBenefits(ctx, wire.BenefitsRequest{ChallengeID: ch.ID, Card: ev})
	switch {
	case err == nil:
	case client.Retryable(err):
		o.Status, o.Problem = StatusError, "server-unreachable"
		o.Message = "✗ 无法连接服务器，暂不能查询优惠，请稍后再刷卡（server unreachable）"
		return o, err
	default:
		o.Status, o.Problem = StatusRefused, client.ProblemType(err)
		o.Message = refusedLine(o.Problem)
		return o, nil
	}
	o.Status, o.Name, o.Stars, o.Tier = StatusOK, b.Name, b.Stars, b.Tier
	o.PIN = PINNotNeeded
	for _, off := range b.Offers {
		if off.RequiresPIN {
			o.PIN = ""
		}
	}
	if o.PIN == "" {
		var n int
		o.PIN, o.PINTriesLeft, n, err = m.verifyPIN(ctx, card)
		o.APDUs += n
		if err != nil {
			o.Status, o.Problem, o.Message = readFailure(err)
			return o, err
		}
	}
	for _, off := range b.Offers {
		o.Offers = append(o.Offers, OfferOutcome{Offer: off, Granted: !off.RequiresPIN || o.PIN == PINVerified})
	}
	o.Message = benefitsLines(o)
	if m.cfg.RedeemOffer != 0 {
		line, err := m.redeem(ctx, &o, b.CheckID)
		o.Message += "\n" + line
		return o, err
	}
	return o, nil
}

// redeem records the redemption of RedeemOffer when the check granted it,
// and returns the line that says what happened.
func (m *Merchant) redeem(ctx context.Context, o *BenefitsOutcome, checkID string) (string, error) {
	idx := -1
	for i, off := range o.Offers {
		if off.ID == m.cfg.RedeemOffer {
			idx = i
		}
	}
	switch {
	case idx < 0:
		o.Problem = "offer-not-offered"
		return fmt.Sprintf("  未核销：本卡不享有优惠 #%d（offer not offered to this card here）", m.cfg.RedeemOffer), nil
	case !o.Offers[idx].Granted:
		o.Problem = "pin-required"
		return "  未核销：" + o.Offers[idx].Title + "（需验证 PIN / PIN required）", nil
	}
	cvm := wire.CVMNone
	if o.PIN == PINVerified {
		cvm = wire.CVMOfflinePIN
	}
	r, err := m.cfg.API.Redeem(ctx, wire.RedemptionRequest{CheckID: checkID, OfferID: m.cfg.RedeemOffer, CVM: cvm})
	if err != nil {
		o.Problem = client.ProblemType(err)
		if client.Retryable(err) {
			o.Problem = "server-unreachable"
		}
		return "  ✗ 核销未记录，请重新刷卡（redemption not recorded: " + o.Problem + "）", err
	}
	o.Redeemed = &r
	return fmt.Sprintf("  已核销：%s（#%d）", o.Offers[idx].Title, r.ID), nil
}

// verifyPIN runs the offline PIN check on the selected application: the
// try counter first (GET DATA 9F17; a blocked PIN is not asked for), then
// the PIN from the pad and VERIFY. It returns the outcome, the tries left
// when known, the APDUs sent, and an error only when the card could not be
// talked to.
func (m *Merchant) verifyPIN(ctx context.Context, card cardio.Card) (PINCheck, *int, int, error) {
	apdus := 1
	tries, err := emv.PINTryCounter(ctx, card)
	switch {
	case err == nil && tries == 0:
		return PINBlocked, &tries, apdus, nil
	case err == nil:
	case errors.Is(err, emv.ErrMissingData):
		// No counter to read: no PIN on the card, or a card that does not
		// answer GET DATA 9F17; VERIFY tells which.
		tries = -1
	default:
		return "", nil, apdus, fmt.Errorf("terminal: PIN try counter: %w", err)
	}
	pin, err := m.cfg.PINPad.PIN(ctx)
	if err != nil {
		if ctx.Err() != nil {
			return "", nil, apdus, ctx.Err()
		}
		return PINNotEntered, known(tries), apdus, nil
	}
	if _, err := emv.PINBlock(pin); err != nil {
		return PINNotEntered, known(tries), apdus, nil
	}
	apdus++
	err = emv.VerifyPIN(ctx, card, pin)
	var pe *cardio.PINError
	switch {
	case err == nil:
		// A right PIN sets the counter back to the try limit (not read
		// again here).
		return PINVerified, nil, apdus, nil
	case errors.As(err, &pe):
		left := pe.TriesLeft
		if left == 0 {
			return PINBlocked, &left, apdus, nil
		}
		return PINWrong, &left, apdus, nil
	case errors.Is(err, cardio.ErrBlocked):
		zero := 0
		return PINBlocked, &zero, apdus, nil
	case errors.Is(err, cardio.ErrDataNotFound):
		return PINNone, nil, apdus, nil
	}
	return "", nil, apdus, fmt.Errorf("terminal: %w", err)
}

func known(tries int) *int {
	if tries < 0 {
		return nil
	}
	return &tries
}

// readFailure is the status, problem and line of a card that could not be
// read or talked to.
func readFailure(err error) (Status, string, string) {
	switch {
	case errors.Is(err, ErrNoDDA):
		return StatusRefused, ProblemNoDDA, "✗ 此卡不支持动态数据认证（DDA），不能查询优惠，请到发卡银行换卡（card without DDA）"
	case errors.Is(err, emv.ErrNotFinancialCard):
		return StatusError, "not-financial-card", "✗ 非金融IC卡，请使用志愿者证（not a financial card）"
	case errors.Is(err, cardio.ErrCardRemoved), errors.Is(err, cardio.ErrNoCard):
		return StatusError, "card-removed", "✗ 卡片移开过快，请重新刷卡（card removed）"
	}
	return StatusError, "card-error", "✗ 读卡失败，请重新刷卡（card read failed）"
}

// TierName is the Chinese name of a benefit tier.
func TierName(tier string) string {
	switch tier {
	case "card_holder":
		return "持卡志愿者"
	case "star":
		return "星级志愿者"
	case "five_star":
		return "五星志愿者"
	}
	return tier
}

// pinLine says what the PIN check did, for an offer that requires it:
// Chinese, then English after " / ".
func pinLine(o BenefitsOutcome) string {
	switch o.PIN {
	case PINVerified:
		return "PIN 已验证 / PIN verified"
	case PINWrong:
		en := fmt.Sprintf("%d tries left", *o.PINTriesLeft)
		if *o.PINTriesLeft == 1 {
			en = "1 try left"
		}
		return fmt.Sprintf("PIN 错误，还可尝试 %d 次 / wrong PIN, %s", *o.PINTriesLeft, en)
	case PINBlocked:
		return "PIN 已锁定，请持卡人到发卡银行解锁 / PIN blocked"
	case PINNone:
		return "此卡未设置 PIN / the card has no PIN"
	case PINNotEntered:
		return "未输入有效 PIN（4 至 12 位数字）/ no PIN entered"
	}
	return ""
}

// benefitsLines renders a benefit check: the holder, then one line per
// offer, granted (✓) or not (✗, with why).
func benefitsLines(o BenefitsOutcome) string {
	var b strings.Builder
	b.WriteString("✓ " + displayName(o.Name))
	if s := Stars(o.Stars); s != "" {
		b.WriteString(" " + s)
	}
	b.WriteString(" " + TierName(o.Tier))
	if len(o.Offers) == 0 {
		b.WriteString("\n  本店暂无适用优惠（no offer here for this tier）")
	}
	for _, off := range o.Offers {
		line := off.Title
		if off.Description != "" {
			line += " — " + off.Description
		}
		switch {
		case off.Granted && off.RequiresPIN:
			b.WriteString("\n  ✓ " + line + "（" + pinLine(o) + "）")
		case off.Granted:
			b.WriteString("\n  ✓ " + line)
		default:
			b.WriteString("\n  ✗ " + line + "（需验证 PIN：" + pinLine(o) + "）")
		}
	}
	return b.String()
}

func (m *Merchant) print(o BenefitsOutcome) {
	if m.cfg.JSON {
		b, _ := json.Marshal(o)
		fmt.Fprintln(m.cfg.Out, string(b))
		return
	}
	fmt.Fprintln(m.cfg.Out, o.Message)
}

// Run is the benefits terminal loop: wait for a card, check it, wait for
// it to leave. It returns when ctx ends.
func (m *Merchant) Run(ctx context.Context) error {
	if m.cfg.Readers == nil {
		return errors.New("terminal: no readers")
	}
	reader, err := pickReader(ctx, m.cfg.Readers, m.cfg.Reader)
	if err != nil {
		return err
	}
	return eachCard(ctx, m.cfg.Readers, reader, m.cfg.Logger, "benefit check failed",
		func(ctx context.Context, card cardio.Card) error {
			_, err := m.Check(ctx, card)
			return err
		})
}
