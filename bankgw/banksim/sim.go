package banksim

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/moov-io/iso8583"
	connection "github.com/moov-io/iso8583-connection"
	"github.com/moov-io/iso8583-connection/server"

	"github.com/volcard/volcard/bankgw"
)

// Errors returned by this package.
var (
	// ErrNoClient means no signed-on client is connected to push to.
	ErrNoClient = errors.New("banksim: no signed-on client connected")
	// ErrInvalidConfig means a Config failed validation.
	ErrInvalidConfig = errors.New("banksim: invalid configuration")
	// ErrUnknownApplication means the ledger has no card for that
	// application number.
	ErrUnknownApplication = errors.New("banksim: unknown application")
)

// Config configures a Sim; zero values take the documented defaults.
type Config struct {
	// BIN is the product BIN the PANs start with. Default "621660" (BOC).
	BIN string
	// ProductBINs maps a bank product code (field 48 product subfield) to
	// the BIN of that product's PANs; products not listed use BIN. serve's
	// embedded simulator fills it from the product catalog so that PANs
	// match the issuer certificates of personalization.
	ProductBINs map[string]string
	// PANLength is the PAN length, 16–19. Default 19.
	PANLength int
	// FirstCardSeq is the account sequence of the first card issued (a
	// PAN is the BIN, the sequence zero-filled and the Luhn digit); later
	// cards count up from it. Default 1. Tests use it to issue the PAN of
	// a software card image.
	FirstCardSeq int
	// Taken, when set, reports whether a PAN is already a card elsewhere;
	// the simulator skips such sequence numbers when it issues. serve's
	// embedded simulator asks our database (a card with the PAN's token),
	// so that a simulator restarted with its counter back at FirstCardSeq
	// never issues an existing card's PAN again. An error answers the
	// request 96 (try again later).
	Taken func(pan string) (bool, error)
	// DenyIDs are ID numbers declined with 62.
	DenyIDs []string
	// MinAge is the minimum applicant age. Default 16.
	MinAge int
	// TerminalID and InstitutionID are fields 41/42 of pushed advices.
	// Defaults "BANKSIM1" and "BANKSIM00000001".
	TerminalID    string
	InstitutionID string
	// MACKey enables field 128 (bankgw.MACKeySize bytes).
	MACKey []byte
	// MasterKeyAC is the issuer master key for application cryptograms
	// (IMK-AC, 16 bytes, the same key data preparation derives the cards'
	// MK-AC from). With it the simulator answers chip authorizations
	// (0100): it checks the ARQC and returns an ARPC. Without it every 0100
	// is declined 05 without issuer authentication data.
	MasterKeyAC []byte
	// Renewal is the bank's renewal rule for ST N (docs/bank-interface.md
	// section 7.1): RenewSamePAN (the default) keeps the PAN and gives a
	// new expiry and the next PSN; RenewNewPAN issues a new PAN, like a
	// replacement.
	Renewal RenewalRule
	// AuthLimit is the largest amount (fen) approved in one authorization;
	// more is declined 51. Default 500000 (5,000 CNY).
	AuthLimit int64
	// TLS, when set, makes the simulator a TLS server (with ClientAuth
	// and ClientCAs set, one that requires our client certificate, as a
	// bank asking for mutual TLS does). Connections that fail the
	// handshake are closed and logged at debug level.
	TLS *tls.Config
	// Logger defaults to slog.Default().
	Logger *slog.Logger
	// Now is the clock. Default time.Now.
	Now func() time.Time
}

// RenewalRule is how a bank renews a card.
type RenewalRule string

// Renewal rules.
const (
	RenewSamePAN RenewalRule = "same_pan"
	RenewNewPAN  RenewalRule = "new_pan"
)

// Faults are switched on with SetFaults and apply to file updates and
// reversals (0300/0301/0420/0421), never to network management, so sign-on
// and echo keep working.
type Faults struct {
	// Latency delays every answer.
	Latency time.Duration
	// Drop closes the connection on receipt, before processing.
	Drop bool
	// NoAnswer processes the request but sends nothing.
	NoAnswer bool
	// Garbage processes the request and sends an unparsable frame instead
	// of the answer.
	Garbage bool
	// LateAnswer processes the request and answers after this delay (set it
	// beyond the client's request timeout).
	LateAnswer time.Duration
	// Duplicate sends the answer twice.
	Duplicate bool
	// Times limits the faults to the next Times requests; 0 means until
	// changed.
	Times int
}

// Sim is the simulated bank host.
type Sim struct {
	cfg   Config
	codec *bankgw.Codec
	srv   *server.Server
	log   *slog.Logger
	deny  map[string]bool
	stans bankgw.MemorySTAN

	mu        sync.Mutex
	apps      map[string]Application
	cards     map[string]*CardRecord
	journal   map[string]journalEntry
	answers   map[string]answer
	reversals []string
	reversed  map[string]bool
	seq       int
	faults    Faults
	conns     map[*connection.Connection]*peer
	stats     map[string]int
	auths     []Authorization
	holders   map[string]Holder // by application number: the last holder update
}

// Holder is the holder data the bank last received for an application in
// a change without ST (a holder update); empty fields were not sent.
type Holder struct {
	Name, EmbossName, Phone, Branch, ClothingSize string
	// Updates counts the holder updates processed for the application.
	Updates int
}

type peer struct {
	net      net.Conn
	signedOn bool
}

// journalEntry records what a processed file update did, for reversals.
type journalEntry struct {
	an       string
	code     bankgw.FileUpdateCode
	pan      string
	before   bankgw.CardState
	changed  bool
	newCard  string
	prevPAN  string
	prevCode string
}

// answer is the recorded answer to a change request, by matching key: a
// repeat (0301) or duplicate of the request is answered the same way and
// never acted on twice (docs/bank-interface.md sections 7.1 and 9).
type answer struct {
	code string
	pan  string
}

// New validates cfg and returns a Sim; Start listens.
func New(cfg Config) (*Sim, error) {
	if cfg.BIN == "" {
		cfg.BIN = "621660"
	}
	if cfg.PANLength == 0 {
		cfg.PANLength = 19
	}
	if cfg.MinAge == 0 {
		cfg.MinAge = 16
	}
	if cfg.FirstCardSeq < 0 {
		return nil, fmt.Errorf("first card sequence %d: %w", cfg.FirstCardSeq, ErrInvalidConfig)
	}
	if cfg.FirstCardSeq > 0 {
		cfg.FirstCardSeq-- // issue increments before use
	}
	if cfg.TerminalID == "" {
		cfg.TerminalID = "BANKSIM1"
	}
	if cfg.InstitutionID == "" {
		cfg.InstitutionID = "BANKSIM00000001"
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.AuthLimit == 0 {
		cfg.AuthLimit = 500000
	}
	switch cfg.Renewal {
	case "":
		cfg.Renewal = RenewSamePAN
	case RenewSamePAN, RenewNewPAN:
	default:
		return nil, fmt.Errorf("renewal rule %q (same_pan or new_pan): %w", cfg.Renewal, ErrInvalidConfig)
	}
	if len(cfg.MasterKeyAC) != 0 && len(cfg.MasterKeyAC) != 16 {
		return nil, fmt.Errorf("issuer master key of %d bytes: %w", len(cfg.MasterKeyAC), ErrInvalidConfig)
	}
	if len(cfg.BIN) < 6 || cfg.PANLength < 16 || cfg.PANLength > 19 || len(cfg.BIN) >= cfg.PANLength-1 ||
		strings.Trim(cfg.BIN, "0123456789") != "" || len(cfg.TerminalID) != 8 || len(cfg.InstitutionID) != 15 {
		return nil, fmt.Errorf("BIN %q, PAN length %d, ids: %w", cfg.BIN, cfg.PANLength, ErrInvalidConfig)
	}
	for product, bin := range cfg.ProductBINs {
		if len(bin) < 6 || len(bin) >= cfg.PANLength-1 || strings.Trim(bin, "0123456789") != "" {
			return nil, fmt.Errorf("BIN %q of product %q: %w", bin, product, ErrInvalidConfig)
		}
	}
	codec, err := bankgw.NewCodec(cfg.MACKey, cfg.Logger)
	if err != nil {
		return nil, fmt.Errorf("banksim: %w", err)
	}
	s := &Sim{
		cfg: cfg, codec: codec, log: cfg.Logger,
		deny:     map[string]bool{},
		apps:     map[string]Application{},
		holders:  map[string]Holder{},
		cards:    map[string]*CardRecord{},
		journal:  map[string]journalEntry{},
		answers:  map[string]answer{},
		reversed: map[string]bool{},
		seq:      cfg.FirstCardSeq,
		conns:    map[*connection.Connection]*peer{},
		stats:    map[string]int{},
	}
	for _, id := range cfg.DenyIDs {
		s.deny[id] = true
	}
	return s, nil
}

// requestIDs matches responses to requests by bankgw.MatchKey.
type requestIDs struct{}

// GenerateRequestID implements connection.RequestIDGenerator.
func (requestIDs) GenerateRequestID(m *iso8583.Message) (string, error) { return bankgw.MatchKey(m) }

// Start listens on addr ("127.0.0.1:0" for any port) and serves.
func (s *Sim) Start(addr string) error {
	srv := server.New(bankgw.Spec, bankgw.ReadLength, bankgw.WriteLength)
	err := srv.SetOptions(server.WithConnectionFactory(func(nc net.Conn) (*connection.Connection, error) {
		if s.cfg.TLS != nil {
			tc := tls.Server(nc, s.cfg.TLS)
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			err := tc.HandshakeContext(ctx)
			cancel()
			if err != nil {
				nc.Close()
				return nil, fmt.Errorf("banksim: TLS handshake: %w", err)
			}
			nc = tc
		}
		p := &peer{net: nc}
		c, err := connection.NewFrom(nc, bankgw.Spec, bankgw.ReadLength, bankgw.WriteLength,
			connection.InboundMessageHandler(s.handle),
			connection.IdleTime(time.Hour),
			connection.ReadTimeout(time.Hour),
			connection.SendTimeout(10*time.Second),
			connection.ErrorHandler(func(err error) { s.log.Debug("banksim: connection", slog.String("err", err.Error())) }),
			connection.ConnectionClosedHandler(func(c *connection.Connection) {
				s.mu.Lock()
				delete(s.conns, c)
				s.mu.Unlock()
			}),
			func(o *connection.Options) error {
				o.RequestIDGenerator = requestIDs{}
				o.MessageReader = s.codec
				o.MessageWriter = s.codec
				return nil
			},
		)
		if err != nil {
			return nil, err
		}
		s.mu.Lock()
		s.conns[c] = p
		s.mu.Unlock()
		return c, nil
	}), server.WithErrorHandler(func(err error) { s.log.Debug("banksim: server", slog.String("err", err.Error())) }))
	if err != nil {
		return fmt.Errorf("banksim: %w", err)
	}
	if err := srv.Start(addr); err != nil {
		return fmt.Errorf("banksim: listen %s: %w", addr, err)
	}
	s.srv = srv
	return nil
}

// Addr returns the address the Sim listens on.
func (s *Sim) Addr() string { return s.srv.Addr }

// Close stops listening and closes every connection.
func (s *Sim) Close() {
	if s.srv == nil {
		return
	}
	s.mu.Lock()
	var conns []*connection.Connection
	for c := range s.conns {
		conns = append(conns, c)
	}
	s.mu.Unlock()
	for _, c := range conns {
		_ = c.Close()
	}
	s.srv.Close()
}

// SetFaults replaces the active faults.
func (s *Sim) SetFaults(f Faults) {
	s.mu.Lock()
	s.faults = f
	s.mu.Unlock()
}

// Faults returns the active faults.
func (s *Sim) Faults() Faults {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.faults
}

// Stats returns how many messages of each MTI the Sim received.
func (s *Sim) Stats() map[string]int {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make(map[string]int, len(s.stats))
	for k, v := range s.stats {
		out[k] = v
	}
	return out
}

// SignedOn returns how many connections are signed on.
func (s *Sim) SignedOn() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, p := range s.conns {
		if p.signedOn {
			n++
		}
	}
	return n
}

// DropConnections closes every client connection abruptly.
func (s *Sim) DropConnections() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, p := range s.conns {
		_ = p.net.Close()
	}
}

func (s *Sim) takeFault() Faults {
	s.mu.Lock()
	defer s.mu.Unlock()
	f := s.faults
	if f.Times > 0 {
		s.faults.Times--
		if s.faults.Times == 0 {
			s.faults = Faults{}
		}
	}
	return f
}

func (s *Sim) handle(c *connection.Connection, msg *iso8583.Message) {
	mti, _ := msg.GetMTI()
	s.mu.Lock()
	s.stats[mti]++
	p := s.conns[c]
	s.mu.Unlock()
	if p == nil {
		return
	}
	switch mti {
	case bankgw.MTINetworkRequest:
		s.reply(c, s.network(p, msg))
	case bankgw.MTIFileUpdateRequest, bankgw.MTIFileUpdateRepeat, bankgw.MTIReversalRequest, bankgw.MTIReversalRepeat:
		f := s.takeFault()
		if f.Drop {
			_ = p.net.Close()
			return
		}
		var resp any
		if mti == bankgw.MTIReversalRequest || mti == bankgw.MTIReversalRepeat {
			resp = s.reversal(p, msg)
		} else {
			resp = s.fileUpdate(p, msg)
		}
		if f.NoAnswer {
			return
		}
		time.Sleep(f.Latency + f.LateAnswer)
		if f.Garbage {
			_, _ = c.Write([]byte{0x00, 0x08, 0xFF, 0xFE, 'G', 'A', 'R', 'B', 'A', 'G'})
			return
		}
		s.reply(c, resp)
		if f.Duplicate {
			time.Sleep(5 * time.Millisecond)
			s.reply(c, resp)
		}
	case bankgw.MTIAuthRequest:
		s.reply(c, s.authorize(p, msg))
	default:
		s.log.Warn("banksim: unexpected MTI, ignored", slog.String("mti", mti))
	}
}

func (s *Sim) reply(c *connection.Connection, v any) {
	if v == nil {
		return
	}
	msg, err := bankgw.NewMessage(v)
	if err == nil {
		err = c.Reply(msg)
	}
	if err != nil {
		s.log.Debug("banksim: reply", slog.String("err", err.Error()))
	}
}

func (s *Sim) network(p *peer, msg *iso8583.Message) any {
	var m bankgw.NetworkMessage
	if err := bankgw.Decode(msg, &m); err != nil {
		return nil
	}
	m.MTI = bankgw.MTINetworkResponse
	m.ResponseCode = bankgw.CodeApproved
	s.mu.Lock()
	switch m.NetworkCode {
	case bankgw.NetworkSignOn:
		p.signedOn = true
	case bankgw.NetworkSignOff:
		p.signedOn = false
	case bankgw.NetworkEcho:
	default:
		m.ResponseCode = bankgw.CodeInvalidTxn
	}
	s.mu.Unlock()
	return &m
}

func journalKey(stan, transmission, terminal, institution string) string {
	return stan + "|" + transmission + "|" + terminal + "|" + institution
}

// declineTexts are the RT texts banksim puts on its declines, as a bank
// host explains a refusal to the branch (no personal data).
var declineTexts = map[string]string{
	bankgw.CodeRestricted: "申请人在本行限制名单中，请到柜台咨询",
	bankgw.CodeUnderAge:   "申请人未满十六周岁",
}

func (s *Sim) fileUpdate(p *peer, msg *iso8583.Message) any {
	var m bankgw.FileUpdateMessage
	if err := bankgw.Decode(msg, &m); err != nil {
		return nil
	}
	resp := &bankgw.FileUpdateMessage{Header: m.Header, RRN: m.RRN, FileUpdateCode: m.FileUpdateCode, FileName: m.FileName}
	resp.MTI = bankgw.MTIFileUpdateResponse
	pd, err := bankgw.ParsePrivateData(m.PrivateData)
	an := pd[bankgw.TagApplicationNumber]
	out := bankgw.PrivateData{bankgw.TagApplicationNumber: an}
	finish := func(code string, card *CardRecord) any {
		resp.ResponseCode = code
		if text, ok := declineTexts[code]; ok {
			out[bankgw.TagDeclineText] = text
		}
		if card != nil {
			resp.PAN, resp.Expiry, resp.PSN = card.PAN, card.Expiry, card.PSN
			out[bankgw.TagCardReference] = card.Reference
			out[bankgw.TagStatus] = string(card.State)
		}
		resp.PrivateData, _ = out.Encode()
		return resp
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	switch {
	case !p.signedOn:
		return finish(bankgw.CodeIssuerUnavailable, nil)
	case err != nil || an == "" || m.FileName != bankgw.FileName || m.RRN == "":
		return finish(bankgw.CodeFormatError, nil)
	}
	key := journalKey(m.STAN, m.TransmissionDateTime, m.TerminalID, m.InstitutionID)
	switch bankgw.FileUpdateCode(m.FileUpdateCode) {
	case bankgw.FileAdd:
		code, card := s.add(an, pd, key)
		return finish(code, card)
	case bankgw.FileInquiry:
		app, ok := s.apps[an]
		if !ok {
			return finish(bankgw.CodeRecordNotFound, nil)
		}
		if app.PAN == "" {
			return finish(app.Code, nil)
		}
		return finish(bankgw.CodeApproved, s.cards[app.PAN])
	case bankgw.FileChange:
		if a, ok := s.answers[key]; ok {
			return finish(a.code, s.cards[a.pan])
		}
		code, card := s.change(an, pd, m.PAN, key)
		if code != bankgw.CodeFormatError && code != bankgw.CodeSystemMalfunction {
			a := answer{code: code}
			if card != nil {
				a.pan = card.PAN
			}
			s.answers[key] = a
		}
		return finish(code, card)
	default:
		return finish(bankgw.CodeInvalidTxn, nil)
	}
}

// add handles an add; s.mu is held.
func (s *Sim) add(an string, pd bankgw.PrivateData, key string) (string, *CardRecord) {
	for _, t := range []string{bankgw.TagName, bankgw.TagEmbossName, bankgw.TagIDType, bankgw.TagIDNumber,
		bankgw.TagPhone, bankgw.TagProduct, bankgw.TagBranch} {
		if pd[t] == "" {
			return bankgw.CodeFormatError, nil
		}
	}
	now := s.cfg.Now()
	if app, ok := s.apps[an]; ok {
		app.Adds++
		s.apps[an] = app
		if app.PAN == "" {
			return app.Code, nil
		}
		card := s.cards[app.PAN]
		if card.State == bankgw.CardCancelled {
			card.State = bankgw.CardIssued
			s.journal[key] = journalEntry{an: an, code: bankgw.FileAdd, pan: card.PAN, before: bankgw.CardCancelled, changed: true}
		} else {
			s.journal[key] = journalEntry{an: an, code: bankgw.FileAdd, pan: card.PAN, before: card.State, changed: true}
		}
		return bankgw.CodeApproved, card
	}
	app := Application{Number: an, Adds: 1, ReceivedAt: now, Branch: pd[bankgw.TagBranch], Product: pd[bankgw.TagProduct]}
	birth, ok := birthDate(pd)
	switch {
	case !ok:
		app.Code = bankgw.CodeFormatError
	case s.deny[pd[bankgw.TagIDNumber]]:
		app.Code = bankgw.CodeRestricted
	case birth.AddDate(s.cfg.MinAge, 0, 0).After(now):
		app.Code = bankgw.CodeUnderAge
	default:
		app.Code = bankgw.CodeApproved
	}
	if app.Code == bankgw.CodeFormatError {
		return app.Code, nil // not recorded: a corrected request may follow
	}
	var card *CardRecord
	if app.Code == bankgw.CodeApproved {
		var err error
		if card, err = s.issue(an, app.Product, 0); err != nil {
			return bankgw.CodeSystemMalfunction, nil // not recorded: the add is sent again
		}
		app.PAN = card.PAN
		s.journal[key] = journalEntry{an: an, code: bankgw.FileAdd, pan: card.PAN, before: bankgw.CardCancelled, changed: true, newCard: card.PAN}
	}
	s.apps[an] = app
	return app.Code, card
}

// issue creates a card with the next free sequence number; s.mu is held.
// A PAN that Config.Taken reports as an existing card is skipped.
func (s *Sim) issue(an, product string, replaceSeq int) (*CardRecord, error) {
	bin := s.cfg.BIN
	if b, ok := s.cfg.ProductBINs[product]; ok {
		bin = b
	}
	var pan string
	for {
		s.seq++
		body := bin + fmt.Sprintf("%0*d", s.cfg.PANLength-1-len(bin), s.seq)
		pan = body + string(luhnDigit(body))
		if _, ok := s.cards[pan]; ok {
			continue
		}
		if s.cfg.Taken == nil {
			break
		}
		taken, err := s.cfg.Taken(pan)
		if err != nil {
			s.seq-- // try this number again next time
			s.log.Warn("banksim: cannot check whether a PAN is taken", slog.String("err", err.Error()))
			return nil, err
		}
		if !taken {
			break
		}
	}
	card := &CardRecord{
		PAN:               pan,
		Expiry:            s.cfg.Now().AddDate(5, 0, 0).In(time.FixedZone("CST", 8*3600)).Format("0601"),
		PSN:               "001",
		Reference:         fmt.Sprintf("CR%010d", s.seq),
		State:             bankgw.CardIssued,
		ApplicationNumber: an,
		ReplaceSeq:        replaceSeq,
	}
	s.cards[pan] = card
	return card, nil
}

// birthDate is BD, or for a resident ID (01) the ID's digits 7–14.
func birthDate(pd bankgw.PrivateData) (time.Time, bool) {
	bd := pd[bankgw.TagBirthDate]
	if bd == "" && pd[bankgw.TagIDType] == "01" && len(pd[bankgw.TagIDNumber]) == 18 {
		bd = pd[bankgw.TagIDNumber][6:14]
	}
	t, err := time.ParseInLocation("20060102", bd, time.FixedZone("CST", 8*3600))
	return t, err == nil
}

// change handles a status or data change; s.mu is held.
func (s *Sim) change(an string, pd bankgw.PrivateData, pan, key string) (string, *CardRecord) {
	app, ok := s.apps[an]
	if !ok || app.PAN == "" {
		return bankgw.CodeRecordNotFound, nil
	}
	card := s.cards[app.PAN]
	if pan != "" && pan != card.PAN {
		return bankgw.CodeRecordNotFound, nil
	}
	st := pd[bankgw.TagStatus]
	if st == "" {
		// Holder data: kept (the last values sent) for tests to read.
		h := s.holders[an]
		for tag, f := range map[string]*string{bankgw.TagName: &h.Name, bankgw.TagEmbossName: &h.EmbossName,
			bankgw.TagPhone: &h.Phone, bankgw.TagBranch: &h.Branch, bankgw.TagClothingSize: &h.ClothingSize} {
			if v := pd[tag]; v != "" {
				*f = v
			}
		}
		h.Updates++
		s.holders[an] = h
		return bankgw.CodeApproved, card
	}
	before := card.State
	entry := journalEntry{an: an, code: bankgw.FileChange, pan: card.PAN, before: before, changed: true}
	switch bankgw.StatusChange(st) {
	case bankgw.StatusActivate:
		switch before {
		case bankgw.CardActive:
			entry.changed = false
		case bankgw.CardIssued:
			card.State = bankgw.CardActive
			card.ActivatedAt = s.cfg.Now()
			card.Changes++
		default:
			return bankgw.CodeNotPermitted, card
		}
	case bankgw.StatusBlock:
		switch before {
		case bankgw.CardBlocked:
			entry.changed = false
		case bankgw.CardIssued, bankgw.CardActive:
			card.before, card.State = before, bankgw.CardBlocked
			card.Changes++
		default:
			return bankgw.CodeNotPermitted, card
		}
	case bankgw.StatusUnblock:
		if before != bankgw.CardBlocked {
			return bankgw.CodeNotPermitted, card
		}
		card.State = card.before
		card.Changes++
	case bankgw.StatusClose:
		switch before {
		case bankgw.CardCancelled:
			entry.changed = false
		case bankgw.CardIssued, bankgw.CardActive, bankgw.CardBlocked:
			card.State = bankgw.CardCancelled
			card.Changes++
		default:
			return bankgw.CodeNotPermitted, card
		}
	case bankgw.StatusRenew:
		seq, err := strconv.Atoi(pd[bankgw.TagReplaceSeq])
		if err != nil || seq < 1 || seq > 99 {
			return bankgw.CodeFormatError, nil
		}
		if card.ReplaceSeq == seq {
			return bankgw.CodeApproved, card // this renewal was done already (same PAN or the new card)
		}
		if before != bankgw.CardIssued && before != bankgw.CardActive {
			return bankgw.CodeNotPermitted, card
		}
		expiry := s.cfg.Now().AddDate(5, 0, 0).In(time.FixedZone("CST", 8*3600)).Format("0601")
		if s.cfg.Renewal == RenewSamePAN {
			psn, _ := strconv.Atoi(card.PSN)
			card.Expiry, card.PSN, card.ReplaceSeq = expiry, fmt.Sprintf("%03d", psn%999+1), seq
			card.Reference = fmt.Sprintf("CR%010dN%02d", s.seq, seq)
			card.State, card.Changes = bankgw.CardIssued, card.Changes+1
			// Not journalled for reversal: status changes are never
			// reversed (section 7.3).
			s.journal[key] = journalEntry{an: an, code: bankgw.FileChange, pan: card.PAN, before: before}
			return bankgw.CodeApproved, card
		}
		nc, err := s.issue(an, app.Product, seq)
		if err != nil {
			return bankgw.CodeSystemMalfunction, nil
		}
		card.State = bankgw.CardReplaced
		card.Changes++
		app.PAN = nc.PAN
		s.apps[an] = app
		entry.newCard, entry.prevPAN = nc.PAN, card.PAN
		s.journal[key] = entry
		return bankgw.CodeApproved, nc
	case bankgw.StatusReplace:
		seq, err := strconv.Atoi(pd[bankgw.TagReplaceSeq])
		if err != nil || seq < 1 || seq > 99 {
			return bankgw.CodeFormatError, nil
		}
		for _, c := range s.cards {
			if c.ApplicationNumber != an || c.ReplaceSeq != seq {
				continue
			}
			if c.State == bankgw.CardCancelled && c.PAN != card.PAN {
				// the replacement was reversed: reinstate the same card
				entry.newCard, entry.prevPAN = c.PAN, card.PAN
				card.State, c.State = bankgw.CardReplaced, bankgw.CardIssued
				app.PAN = c.PAN
				s.apps[an] = app
				s.journal[key] = entry
			}
			return bankgw.CodeApproved, c // this replacement was done already
		}
		if before != bankgw.CardIssued && before != bankgw.CardActive && before != bankgw.CardBlocked {
			return bankgw.CodeNotPermitted, card
		}
		nc, err := s.issue(an, app.Product, seq)
		if err != nil {
			return bankgw.CodeSystemMalfunction, nil
		}
		card.State = bankgw.CardReplaced
		card.Changes++
		app.PAN = nc.PAN
		s.apps[an] = app
		entry.newCard, entry.prevPAN = nc.PAN, card.PAN
		s.journal[key] = entry
		return bankgw.CodeApproved, nc
	default:
		return bankgw.CodeInvalidTxn, nil
	}
	s.journal[key] = entry
	return bankgw.CodeApproved, card
}

func (s *Sim) reversal(p *peer, msg *iso8583.Message) any {
	var m bankgw.ReversalMessage
	if err := bankgw.Decode(msg, &m); err != nil {
		return nil
	}
	resp := &bankgw.ReversalMessage{Header: m.Header, RRN: m.RRN, OriginalData: m.OriginalData}
	resp.MTI = bankgw.MTIReversalResponse
	s.mu.Lock()
	defer s.mu.Unlock()
	switch {
	case !p.signedOn:
		resp.ResponseCode = bankgw.CodeIssuerUnavailable
		return resp
	case len(m.OriginalData) != 42:
		resp.ResponseCode = bankgw.CodeFormatError
		return resp
	}
	resp.ResponseCode = bankgw.CodeApproved
	if s.reversed[m.OriginalData] {
		return resp
	}
	key := journalKey(m.OriginalData[4:10], m.OriginalData[10:20], m.TerminalID, m.InstitutionID)
	e, ok := s.journal[key]
	if !ok {
		return resp // nothing received: nothing to undo
	}
	s.reversed[m.OriginalData] = true
	if !e.changed {
		return resp
	}
	card := s.cards[e.pan]
	switch {
	case e.code == bankgw.FileAdd:
		card.State = bankgw.CardCancelled
	case e.newCard != "":
		s.cards[e.newCard].State = bankgw.CardCancelled
		card.State = e.before
		app := s.apps[e.an]
		app.PAN = e.prevPAN
		s.apps[e.an] = app
	default:
		card.State = e.before
	}
	s.reversals = append(s.reversals, m.OriginalData)
	return resp
}

// AdviceRequest describes an advice to push.
type AdviceRequest struct {
	Kind bankgw.AdviceKind
	// PAN of the card; ApplicationNumber and Reference are filled from the
	// ledger when the card is known.
	PAN string
	// Spending is the kind of a spending advice (field 48 SK); empty is a
	// purchase, sent without SK as before.
	Spending bankgw.SpendingKind
	// Amount in fen (spending).
	Amount       int64
	MCC          string
	MerchantName string
	// Repeat sends a 0221 with the given Trace (STAN, time, RRN).
	Repeat bool
	Trace  bankgw.Trace
}

// PushAdvice sends a 0220 (or 0221) to a signed-on client and returns the
// response code of its 0230 and the trace used. An activation advice also
// activates the card in the ledger.
func (s *Sim) PushAdvice(ctx context.Context, r AdviceRequest) (string, bankgw.Trace, error) {
	now := s.cfg.Now()
	tr := r.Trace
	if tr.IsZero() {
		stan, err := s.stans.Next(ctx, now)
		if err != nil {
			return "", tr, err
		}
		tr = bankgw.Trace{MTI: bankgw.MTIAdvice, STAN: stan, TransmittedAt: now.UTC().Truncate(time.Second), RRN: "S" + bankgw.NewRRN(now, stan)[1:]}
	}
	local := tr.TransmittedAt.In(time.FixedZone("CST", 8*3600))
	m := bankgw.AdviceMessage{
		Header: bankgw.Header{MTI: bankgw.MTIAdvice, TransmissionDateTime: tr.Transmission(), STAN: tr.STAN,
			TerminalID: s.cfg.TerminalID, InstitutionID: s.cfg.InstitutionID},
		PAN: r.PAN, RRN: tr.RRN, LocalDate: local.Format("0102"), LocalTime: local.Format("150405"),
	}
	if r.Repeat {
		m.MTI = bankgw.MTIAdviceRepeat
	}
	switch r.Kind {
	case bankgw.AdviceActivation:
		m.ProcessingCode = bankgw.ProcessingActivation
	case bankgw.AdviceSpending:
		m.ProcessingCode = bankgw.ProcessingSpending
		m.Amount = fmt.Sprintf("%012d", r.Amount)
		m.Currency = bankgw.CurrencyCNY
		m.MCC = r.MCC
		if m.MCC == "" {
			m.MCC = "5411"
		}
		m.AcceptorName = r.MerchantName
		if m.AcceptorName == "" {
			m.AcceptorName = "爱心商户 梅州"
		}
	default:
		return "", tr, fmt.Errorf("advice kind %q: %w", r.Kind, ErrInvalidConfig)
	}
	pd := bankgw.PrivateData{}
	if r.Kind == bankgw.AdviceSpending && r.Spending != "" && r.Spending != bankgw.SpendingPurchase {
		pd[bankgw.TagSpendingKind] = string(r.Spending)
	}
	var conn *connection.Connection
	s.mu.Lock()
	if card, ok := s.cards[r.PAN]; ok {
		pd[bankgw.TagApplicationNumber], pd[bankgw.TagCardReference] = card.ApplicationNumber, card.Reference
		if r.Kind == bankgw.AdviceActivation && card.State == bankgw.CardIssued {
			card.State = bankgw.CardActive
			card.ActivatedAt = s.cfg.Now()
		}
	}
	for c, p := range s.conns {
		if p.signedOn {
			conn = c
			break
		}
	}
	s.mu.Unlock()
	if conn == nil {
		return "", tr, ErrNoClient
	}
	m.PrivateData, _ = pd.Encode()
	msg, err := bankgw.NewMessage(&m)
	if err != nil {
		return "", tr, err
	}
	resp, err := conn.Send(msg)
	if err != nil {
		return "", tr, fmt.Errorf("banksim: push advice: %w", err)
	}
	var am bankgw.AdviceMessage
	if err := bankgw.Decode(resp, &am); err != nil {
		return "", tr, err
	}
	return am.ResponseCode, tr, nil
}

// HolderData returns the holder data the bank last received for an
// application number through holder updates, and whether it received any.
func (s *Sim) HolderData(an string) (Holder, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	h, ok := s.holders[an]
	return h, ok
}
