package cardsim

import (
	"bytes"
	"context"
	"crypto/rand"
	"fmt"
	"sync"
	"time"

	"github.com/volcard/volcard/cardio"
	"github.com/volcard/volcard/cardio/emv"
)

// Status words the card answers with.
const (
	swOK              uint16 = 0x9000
	swWrongLength     uint16 = 0x6700
	swSecurity        uint16 = 0x6982
	swBlocked         uint16 = 0x6983
	swConditions      uint16 = 0x6985
	swWrongData       uint16 = 0x6A80
	swFileNotFound    uint16 = 0x6A82
	swRecordNotFound  uint16 = 0x6A83
	swIncorrectP1P2   uint16 = 0x6A86
	swDataNotFound    uint16 = 0x6A88
	swINSNotSupported uint16 = 0x6D00
	swCLANotSupported uint16 = 0x6E00
)

type selection int

const (
	selNone selection = iota
	selPPSE
	selPSE
	selApp
	selOther
	selISD // the GlobalPlatform security domain of a blank card (blank.go)
)

// app is an Application compiled for fast answers.
type app struct {
	aid     []byte
	fci     []byte
	pdolLen int
	ddolLen int
	gpo     func(atc int) []byte
	records map[[2]byte][]byte
	sfis    map[byte]bool
	data    map[uint16][]byte
	key     *emv.PrivateKey
	ddaFmt  int
	dirTLVs []cardio.TLV // 4F, 50, 87 (and 9F12) for directory entries
	aip     []byte
	// gpoFormat is also the format of GENERATE AC responses.
	gpoFormat int
	// pay is the payment part (GENERATE AC); nil when not supported.
	pay *payApp
	// logSFI, logMax and logFormat describe the transaction log (9F4D,
	// 9F4F); logSFI 0 when the application has none.
	logSFI    byte
	logMax    int
	logFormat cardio.DOL
}

type failRule struct {
	prefix []byte
	sw     uint16
}

// Card is a software PBOC card. It is safe for concurrent use; every
// command is processed atomically.
type Card struct {
	mu        sync.Mutex
	atr       []byte
	apps      []*app
	others    [][]byte
	ppseFCI   []byte
	pseFCI    []byte
	pseSFI    byte
	pseRecs   [][]byte
	pin       string
	tryLimit  int
	tries     int
	atc       int
	sel       selection
	cur       *app
	gpoDone   bool
	verified  bool
	txn       txn
	pending   []byte
	removed   bool
	count     int
	removeAt  int // remove when count reaches removeAt (0: never)
	delay     time.Duration
	fails     []failRule
	onRemoved func()
	// changes counts changes of the persistent state (see Changes).
	changes uint64
	// img is the image the card was built from (or committed by
	// personalization), exported with live counters by Image.
	img Image
	// isd is the GlobalPlatform security domain (blank.go); nil on cards
	// built from an image without a "gp" section.
	isd *isd
}

// New builds a card from an image, validating it.
func New(img Image) (*Card, error) {
	if err := checkKind(img); err != nil {
		return nil, err
	}
	c, err := build(img)
	if err != nil {
		return nil, err
	}
	if img.GP != nil {
		if c.isd, err = newISD(*img.GP); err != nil {
			return nil, err
		}
	}
	return c, nil
}

// build builds the card's applications and directories from an image,
// validating them; New adds the security domain.
func build(img Image) (*Card, error) {
	c := &Card{atr: img.ATR, pin: img.PIN, tryLimit: img.PINTryLimit, atc: img.ATC, pseSFI: 1, img: img}
	if len(c.atr) == 0 {
		c.atr = DefaultATR
	}
	if len(c.atr) < 2 || len(c.atr) > 33 || c.atr[0] != 0x3B && c.atr[0] != 0x3F {
		return nil, fmt.Errorf("cardsim: ATR: %w", ErrInvalidImage)
	}
	if img.PIN != "" {
		if _, err := emv.PINBlock(img.PIN); err != nil || img.PINTryLimit < 1 || img.PINTryLimit > 15 {
			return nil, fmt.Errorf("cardsim: PIN must be 4-12 digits with a try limit of 1-15: %w", ErrInvalidImage)
		}
	}
	c.tries = c.tryLimit
	if img.PINTryCounter != nil {
		if *img.PINTryCounter < 0 || *img.PINTryCounter > c.tryLimit {
			return nil, fmt.Errorf("cardsim: PIN try counter out of range: %w", ErrInvalidImage)
		}
		c.tries = *img.PINTryCounter
	}
	if img.PSESFI != 0 {
		if img.PSESFI < 1 || img.PSESFI > 10 {
			return nil, fmt.Errorf("cardsim: PSE SFI %d: %w", img.PSESFI, ErrInvalidImage)
		}
		c.pseSFI = byte(img.PSESFI)
	}
	for i, a := range img.Applications {
		ca, err := compileApp(a)
		if err != nil {
			return nil, fmt.Errorf("cardsim: application %d: %w", i, err)
		}
		c.apps = append(c.apps, ca)
	}
	for _, o := range img.OtherAIDs {
		if len(o) < 5 || len(o) > 16 {
			return nil, fmt.Errorf("cardsim: other AID length: %w", ErrInvalidImage)
		}
		c.others = append(c.others, o)
	}
	var err error
	if img.PPSE {
		var entries []cardio.TLV
		for _, a := range c.apps {
			entries = append(entries, cardio.NewTemplate("61", a.dirTLVs...))
		}
		c.ppseFCI, err = cardio.EncodeTLV(cardio.NewTemplate("6F",
			cardio.NewTLV("84", emv.PPSEName),
			cardio.NewTemplate("A5", cardio.NewTemplate("BF0C", entries...))))
		if err != nil {
			return nil, fmt.Errorf("cardsim: PPSE: %v: %w", err, ErrInvalidImage)
		}
	}
	if img.PSE {
		c.pseFCI, err = cardio.EncodeTLV(cardio.NewTemplate("6F",
			cardio.NewTLV("84", emv.PSEName),
			cardio.NewTemplate("A5", cardio.NewTLV("88", []byte{c.pseSFI}), cardio.NewTLV("5F2D", []byte("zhen")))))
		if err != nil {
			return nil, fmt.Errorf("cardsim: PSE: %v: %w", err, ErrInvalidImage)
		}
		for _, a := range c.apps {
			rec, err := cardio.EncodeTLV(cardio.NewTemplate("70", cardio.NewTemplate("61", a.dirTLVs...)))
			if err != nil {
				return nil, fmt.Errorf("cardsim: PSE record: %v: %w", err, ErrInvalidImage)
			}
			c.pseRecs = append(c.pseRecs, rec)
		}
	}
	return c, nil
}

func compileApp(a Application) (*app, error) {
	if len(a.AID) < 5 || len(a.AID) > 16 {
		return nil, fmt.Errorf("AID length %d: %w", len(a.AID), ErrInvalidImage)
	}
	ca := &app{aid: a.AID, records: map[[2]byte][]byte{}, sfis: map[byte]bool{}, data: map[uint16][]byte{}, key: a.ICCKey, ddaFmt: a.DDAFormat}
	var fci []cardio.TLV
	for _, f := range a.FCI {
		fci = append(fci, f.TLV())
	}
	var err error
	ca.fci, err = cardio.EncodeTLV(cardio.NewTemplate("6F", cardio.NewTLV("84", a.AID), cardio.NewTemplate("A5", fci...)))
	if err != nil {
		return nil, fmt.Errorf("FCI: %v: %w", err, ErrInvalidImage)
	}
	ca.dirTLVs = []cardio.TLV{cardio.NewTLV("4F", a.AID)}
	for _, tag := range []string{"50", "87", "9F12"} {
		if f, ok := Find(a.FCI, tag); ok {
			ca.dirTLVs = append(ca.dirTLVs, f.TLV())
		}
	}
	if f, ok := Find(a.FCI, "9F38"); ok {
		pdol, err := cardio.ParseDOL(f.Value)
		if err != nil {
			return nil, fmt.Errorf("PDOL: %w", ErrInvalidImage)
		}
		ca.pdolLen = pdol.Len()
	}
	if len(a.AIP) != 2 {
		return nil, fmt.Errorf("AIP: %w", ErrInvalidImage)
	}
	afl, err := cardio.ParseAFL(a.AFL)
	if err != nil {
		return nil, fmt.Errorf("AFL: %v: %w", err, ErrInvalidImage)
	}
	ddol := emv.DefaultDDOL
	for _, r := range a.Records {
		if r.SFI < 1 || r.SFI > 30 || r.Number < 1 || r.Number > 255 {
			return nil, fmt.Errorf("record SFI %d number %d: %w", r.SFI, r.Number, ErrInvalidImage)
		}
		raw, err := cardio.EncodeTLV(cardio.NewTemplate("70", Field{Tag: "70", Fields: r.Fields}.TLV().TLVs...))
		if err != nil || len(raw) > 256 {
			return nil, fmt.Errorf("record SFI %d number %d does not encode in 256 bytes: %w", r.SFI, r.Number, ErrInvalidImage)
		}
		ca.records[[2]byte{byte(r.SFI), byte(r.Number)}] = raw
		ca.sfis[byte(r.SFI)] = true
		if f, ok := Find(r.Fields, "9F49"); ok {
			if ddol, err = cardio.ParseDOL(f.Value); err != nil {
				return nil, fmt.Errorf("DDOL: %w", ErrInvalidImage)
			}
		}
	}
	for _, e := range afl {
		for _, n := range e.Records() {
			if _, ok := ca.records[[2]byte{e.SFI, n}]; !ok {
				return nil, fmt.Errorf("AFL names record %d of SFI %d which is missing: %w", n, e.SFI, ErrInvalidImage)
			}
		}
	}
	ca.ddolLen = ddol.Len()
	ca.aip, ca.gpoFormat = append([]byte(nil), a.AIP...), a.GPOFormat
	for _, d := range a.Data {
		tb, err := cardio.TagBytes(d.Tag)
		if err != nil || len(tb) > 2 {
			return nil, fmt.Errorf("GET DATA tag %q: %w", d.Tag, ErrInvalidImage)
		}
		raw, err := cardio.EncodeTLV(d.TLV())
		if err != nil {
			return nil, fmt.Errorf("GET DATA %s: %w", d.Tag, ErrInvalidImage)
		}
		var t uint16
		for _, b := range tb {
			t = t<<8 | uint16(b)
		}
		ca.data[t] = raw
	}
	if a.ICCKey != nil {
		// The card's own copy, validated, with the CRT values every
		// INTERNAL AUTHENTICATE uses computed once (the image may be
		// shared; a key rebuilt by STORE DATA comes precomputed).
		k := *a.ICCKey
		if err := k.Precompute(); err != nil {
			return nil, fmt.Errorf("ICC key: %v: %w", err, ErrInvalidImage)
		}
		ca.key = &k
	}
	if err := compilePayment(a, ca); err != nil {
		return nil, err
	}
	aip, aflRaw := append([]byte(nil), a.AIP...), append([]byte(nil), a.AFL...)
	switch a.GPOFormat {
	case 1:
		ca.gpo = func(int) []byte {
			b, _ := cardio.EncodeTLV(cardio.NewTLV("80", append(append([]byte(nil), aip...), aflRaw...)))
			return b
		}
	case 2:
		ca.gpo = func(atc int) []byte {
			b, _ := cardio.EncodeTLV(cardio.NewTemplate("77",
				cardio.NewTLV("82", aip), cardio.NewTLV("94", aflRaw), cardio.NewTLV("9F36", []byte{byte(atc >> 8), byte(atc)})))
			return b
		}
	default:
		return nil, fmt.Errorf("GPO format %d: %w", a.GPOFormat, ErrInvalidImage)
	}
	return ca, nil
}

// ATR returns the answer to reset.
func (c *Card) ATR() []byte { return append([]byte(nil), c.atr...) }

// Reset power-cycles the card: it clears the volatile state (selected
// application, GPO done, PIN verified, pending GET RESPONSE data) and keeps
// the persistent state (PIN try counter, ATC). A removed card stays removed.
func (c *Card) Reset() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.resetLocked()
}

func (c *Card) resetLocked() {
	c.sel, c.cur, c.gpoDone, c.verified, c.pending, c.txn = selNone, nil, false, false, nil, txn{}
	if c.isd != nil {
		c.isd.reset()
	}
}

// RemoveAfter makes the card answer n more APDUs and then behave as pulled
// out of the reader: every later Process returns cardio.ErrCardRemoved. A
// negative n cancels the fault.
func (c *Card) RemoveAfter(n int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if n < 0 {
		c.removeAt = 0
		return
	}
	c.removeAt = c.count + n + 1
}

// SetDelay makes every APDU take at least d (0 disables).
func (c *Card) SetDelay(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.delay = d
}

// FailCommand makes the card answer every command whose raw bytes start
// with prefix (e.g. 80 A8 for GPO) with status word sw.
func (c *Card) FailCommand(prefix []byte, sw uint16) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.fails = append(c.fails, failRule{prefix: append([]byte(nil), prefix...), sw: sw})
}

// ClearFaults cancels RemoveAfter, SetDelay and FailCommand.
func (c *Card) ClearFaults() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.removeAt, c.delay, c.fails = 0, 0, nil
}

// Removed reports whether the card has been pulled out (fault injection).
func (c *Card) Removed() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.removed
}

// APDUCount returns how many APDUs the card has received.
func (c *Card) APDUCount() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.count
}

// Changes counts the changes of the card's persistent state since it was
// built: ATC, PIN try counter, SCP02 sequence counter, personalization,
// payment state (GENERATE AC: last online ATC, flags, transaction log).
// A holder that keeps the card in a file (card-sim --save) saves it when
// the count moves; commands that change nothing that survives a
// power-off (SELECT, READ RECORD, STORE DATA before the last block) leave
// it alone.
func (c *Card) Changes() uint64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.changes
}

// PINTries returns the PIN try counter.
func (c *Card) PINTries() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.tries
}

// reinsert clears the removed state (the card is put back in a reader).
func (c *Card) reinsert(onRemoved func()) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.removed, c.removeAt, c.onRemoved = false, 0, onRemoved
	c.resetLocked()
}

// Process handles one raw command APDU and returns the raw response (data
// followed by SW1 SW2). Any input yields a well-formed response; the only
// error is cardio.ErrCardRemoved once the card has been removed by fault
// injection.
func (c *Card) Process(command []byte) ([]byte, error) {
	return c.process(context.Background(), command)
}

func (c *Card) process(ctx context.Context, command []byte) ([]byte, error) {
	c.mu.Lock()
	if c.removed {
		c.mu.Unlock()
		return nil, cardio.ErrCardRemoved
	}
	c.count++
	if c.removeAt > 0 && c.count >= c.removeAt {
		c.removed = true
		c.resetLocked()
		notify := c.onRemoved
		c.mu.Unlock()
		if notify != nil {
			notify()
		}
		return nil, cardio.ErrCardRemoved
	}
	delay := c.delay
	c.mu.Unlock()
	if delay > 0 {
		t := time.NewTimer(delay)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return nil, ctx.Err()
		}
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.removed {
		return nil, cardio.ErrCardRemoved
	}
	for _, f := range c.fails {
		if bytes.HasPrefix(command, f.prefix) {
			return sw(f.sw), nil
		}
	}
	return c.handle(command), nil
}

func sw(s uint16) []byte { return []byte{byte(s >> 8), byte(s)} }

func (c *Card) handle(raw []byte) []byte {
	cmd, err := cardio.ParseCommand(raw)
	if err != nil {
		c.pending = nil
		if len(raw) >= 2 && raw[0] != 0x00 && raw[0] != 0x80 {
			return sw(swCLANotSupported)
		}
		return sw(swWrongLength)
	}
	if cmd.INS != cardio.INSGetResponse {
		c.pending = nil
	}
	if c.isd != nil {
		if out, ok := c.handleISD(cmd); ok {
			return out
		}
	}
	if cmd.CLA != 0x00 && cmd.CLA != 0x80 {
		return sw(swCLANotSupported)
	}
	var cla byte
	var fn func(cardio.Command) []byte
	switch cmd.INS {
	case cardio.INSSelect:
		cla, fn = 0x00, c.doSelect
	case cardio.INSGPO:
		cla, fn = 0x80, c.doGPO
	case cardio.INSReadRecord:
		cla, fn = 0x00, c.doReadRecord
	case cardio.INSGetData:
		cla, fn = 0x80, c.doGetData
	case cardio.INSVerify:
		cla, fn = 0x00, c.doVerify
	case cardio.INSGetChallenge:
		cla, fn = 0x00, c.doGetChallenge
	case cardio.INSInternalAuth:
		cla, fn = 0x00, c.doInternalAuth
	case cardio.INSGetResponse:
		cla, fn = 0x00, c.doGetResponse
	case cardio.INSGenerateAC:
		cla, fn = 0x80, c.doGenerateAC
	case cardio.INSExternalAuth:
		cla, fn = 0x00, c.doExternalAuth
	default:
		return sw(swINSNotSupported)
	}
	if cmd.CLA != cla {
		return sw(swCLANotSupported)
	}
	if cmd.Extended {
		return sw(swWrongLength) // a PBOC card accepts short APDUs only
	}
	return fn(cmd)
}

// respond returns data with 9000, emulating T=0: with no Le the data is kept
// for GET RESPONSE and 61xx returned; a too-short Le gets 6Cxx.
func (c *Card) respond(cmd cardio.Command, data []byte) []byte {
	switch {
	case len(data) == 0:
		return sw(swOK)
	case cmd.Le == 0:
		c.pending = data
		return sw(0x6100 | uint16(len(data)&0xFF))
	case cmd.Le < len(data):
		return sw(0x6C00 | uint16(len(data)&0xFF))
	}
	return append(append([]byte(nil), data...), 0x90, 0x00)
}

func (c *Card) doGetResponse(cmd cardio.Command) []byte {
	if cmd.P1 != 0 || cmd.P2 != 0 {
		c.pending = nil
		return sw(swIncorrectP1P2)
	}
	if c.pending == nil {
		return sw(swConditions)
	}
	data := c.pending
	n := cmd.Le
	if n == 0 {
		n = 256
	}
	if n >= len(data) {
		c.pending = nil
		return append(append([]byte(nil), data...), 0x90, 0x00)
	}
	c.pending = data[n:]
	return append(append([]byte(nil), data[:n]...), 0x61, byte(len(c.pending)))
}

func (c *Card) doSelect(cmd cardio.Command) []byte {
	if cmd.P1 != 0x04 || (cmd.P2 != 0x00 && cmd.P2 != 0x02) {
		return sw(swIncorrectP1P2)
	}
	if len(cmd.Data) < 1 || len(cmd.Data) > 16 {
		return sw(swWrongLength)
	}
	if cmd.P2 == 0x02 { // next occurrence: the simulator has one occurrence of each name
		return sw(swFileNotFound)
	}
	name := cmd.Data
	switch {
	case c.ppseFCI != nil && bytes.Equal(name, emv.PPSEName):
		c.resetLocked()
		c.sel = selPPSE
		return c.respond(cmd, c.ppseFCI)
	case c.pseFCI != nil && bytes.Equal(name, emv.PSEName):
		c.resetLocked()
		c.sel = selPSE
		return c.respond(cmd, c.pseFCI)
	}
	for _, a := range c.apps {
		if len(name) >= 5 && bytes.HasPrefix(a.aid, name) {
			c.resetLocked()
			c.sel, c.cur = selApp, a
			return c.respond(cmd, a.fci)
		}
	}
	for _, o := range c.others {
		if len(name) >= 5 && bytes.HasPrefix(o, name) {
			c.resetLocked()
			c.sel = selOther
			fci, _ := cardio.EncodeTLV(cardio.NewTemplate("6F", cardio.NewTLV("84", o)))
			return c.respond(cmd, fci)
		}
	}
	return sw(swFileNotFound)
}

func (c *Card) doGPO(cmd cardio.Command) []byte {
	if cmd.P1 != 0 || cmd.P2 != 0 {
		return sw(swIncorrectP1P2)
	}
	if c.sel != selApp || c.gpoDone {
		return sw(swConditions)
	}
	a := c.cur
	if len(cmd.Data) != 2+a.pdolLen {
		return sw(swWrongLength)
	}
	if cmd.Data[0] != 0x83 || int(cmd.Data[1]) != a.pdolLen {
		return sw(swWrongData)
	}
	if c.atc >= 0xFFFF {
		return sw(swConditions) // the ATC is exhausted: the application is blocked
	}
	c.atc++
	c.changes++
	c.gpoDone, c.txn = true, txn{}
	return c.respond(cmd, a.gpo(c.atc))
}

func (c *Card) doReadRecord(cmd cardio.Command) []byte {
	if cmd.P1 == 0 || cmd.P2&0x07 != 0x04 || cmd.P2>>3 == 0 {
		return sw(swIncorrectP1P2)
	}
	sfi := cmd.P2 >> 3
	switch c.sel {
	case selPSE:
		if sfi != c.pseSFI {
			return sw(swFileNotFound)
		}
		if int(cmd.P1) > len(c.pseRecs) {
			return sw(swRecordNotFound)
		}
		return c.respond(cmd, c.pseRecs[cmd.P1-1])
	case selApp:
		if c.cur.logSFI != 0 && sfi == c.cur.logSFI {
			return c.readLog(cmd)
		}
		if !c.cur.sfis[sfi] {
			return sw(swFileNotFound)
		}
		rec, ok := c.cur.records[[2]byte{sfi, cmd.P1}]
		if !ok {
			return sw(swRecordNotFound)
		}
		return c.respond(cmd, rec)
	}
	return sw(swConditions)
}

func (c *Card) doGetData(cmd cardio.Command) []byte {
	if c.sel != selApp {
		return sw(swConditions)
	}
	tag := uint16(cmd.P1)<<8 | uint16(cmd.P2)
	var data []byte
	switch tag {
	case 0x9F36:
		data = []byte{0x9F, 0x36, 0x02, byte(c.atc >> 8), byte(c.atc)}
	case 0x9F17:
		if c.pin == "" {
			return sw(swDataNotFound)
		}
		data = []byte{0x9F, 0x17, 0x01, byte(c.tries)}
	case 0x9F13:
		if c.cur.pay == nil {
			var ok bool
			if data, ok = c.cur.data[tag]; !ok {
				return sw(swDataNotFound)
			}
			break
		}
		n := c.cur.pay.state.LastOnlineATC
		data = []byte{0x9F, 0x13, 0x02, byte(n >> 8), byte(n)}
	default:
		var ok bool
		if data, ok = c.cur.data[tag]; !ok {
			return sw(swDataNotFound)
		}
	}
	return c.respond(cmd, data)
}

func (c *Card) doVerify(cmd cardio.Command) []byte {
	if cmd.P1 != 0 || cmd.P2 != 0x80 {
		return sw(swIncorrectP1P2)
	}
	if c.sel != selApp {
		return sw(swConditions)
	}
	if c.pin == "" {
		return sw(swDataNotFound)
	}
	if len(cmd.Data) == 0 { // ask for the counter
		if c.tries == 0 {
			return sw(swBlocked)
		}
		return sw(0x63C0 | uint16(c.tries))
	}
	if len(cmd.Data) != 8 {
		return sw(swWrongLength)
	}
	if c.tries == 0 {
		return sw(swBlocked)
	}
	pin, ok := parsePINBlock(cmd.Data)
	if !ok {
		return sw(swWrongData)
	}
	c.txn.pinTried = true
	if pin != c.pin {
		c.tries--
		c.changes++
		c.verified, c.txn.pinFailed = false, true
		return sw(0x63C0 | uint16(c.tries))
	}
	if c.tries != c.tryLimit {
		c.tries = c.tryLimit
		c.changes++
	}
	c.verified, c.txn.pinFailed = true, false
	return sw(swOK)
}

// parsePINBlock decodes a plaintext PIN block 2L PPPP...F.
func parsePINBlock(b []byte) (string, bool) {
	nib := make([]byte, 0, 16)
	for _, x := range b {
		nib = append(nib, x>>4, x&0x0F)
	}
	if nib[0] != 2 || nib[1] < 4 || nib[1] > 12 {
		return "", false
	}
	n := int(nib[1])
	pin := make([]byte, n)
	for i := 0; i < n; i++ {
		if nib[2+i] > 9 {
			return "", false
		}
		pin[i] = '0' + nib[2+i]
	}
	for _, x := range nib[2+n:] {
		if x != 0x0F {
			return "", false
		}
	}
	return string(pin), true
}

func (c *Card) doGetChallenge(cmd cardio.Command) []byte {
	if cmd.P1 != 0 || cmd.P2 != 0 || len(cmd.Data) != 0 {
		return sw(swIncorrectP1P2)
	}
	n := cmd.Le
	if n == 0 {
		n = 8
	}
	if n != 4 && n != 8 && n != 256 {
		return sw(swWrongLength)
	}
	if n == 256 {
		n = 8
	}
	ch := make([]byte, n)
	_, _ = rand.Read(ch)
	cmd.Le = n
	return c.respond(cmd, ch)
}

func (c *Card) doInternalAuth(cmd cardio.Command) []byte {
	if cmd.P1 != 0 || cmd.P2 != 0 {
		return sw(swIncorrectP1P2)
	}
	if c.sel != selApp {
		return sw(swConditions)
	}
	a := c.cur
	if a.key == nil {
		return sw(swINSNotSupported)
	}
	if !c.gpoDone {
		return sw(swConditions)
	}
	if len(cmd.Data) != a.ddolLen {
		return sw(swWrongLength)
	}
	dyn := make([]byte, 8)
	dyn[0], dyn[1] = byte(c.atc>>8), byte(c.atc)
	_, _ = rand.Read(dyn[2:])
	sdad, err := emv.SignDynamicData(a.key, dyn, cmd.Data)
	if err != nil {
		return sw(0x6F00)
	}
	var out []byte
	if a.ddaFmt == 1 {
		out, err = cardio.EncodeTLV(cardio.NewTLV("80", sdad))
	} else {
		out, err = cardio.EncodeTLV(cardio.NewTemplate("77", cardio.NewTLV("9F4B", sdad)))
	}
	if err != nil {
		return sw(0x6F00)
	}
	c.txn.ddaDone = true
	return c.respond(cmd, out)
}
