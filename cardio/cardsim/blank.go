package cardsim

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sort"

	"github.com/volcard/volcard/cardio"
	"github.com/volcard/volcard/cardio/emv"
	"github.com/volcard/volcard/cardio/gp"
)

// KindBlank is Image.Kind of a blank card: a GlobalPlatform security domain
// and application instances waiting for personalization (STORE DATA).
const KindBlank = "blank"

// DefaultISDAID is the AID of the issuer security domain (card manager) of
// blank cards: A000000151000000 (GlobalPlatform).
var DefaultISDAID = cardio.Hex{0xA0, 0x00, 0x00, 0x01, 0x51, 0x00, 0x00, 0x00}

// DefaultKMCID is the KMC identifier placed in the first six bytes of the
// key diversification data of blank cards made by NewBlankImage.
var DefaultKMCID = cardio.Hex{0x00, 0x00, 0x00, 0x00, 0x00, 0x01}

// DGI numbers of the volcard personalization profile (docs/card-profile.md,
// "Personalization"). Records are DGI SFI||record (0101 to 1EFF).
const (
	DGIFCI        uint16 = 0x9102 // content of FCI template A5 (50, 87, 9F38, 5F2D, 9F11, 9F12, BF0C)
	DGIGPO        uint16 = 0x9104 // GPO data: 82 AIP, 94 AFL
	DGIGetData    uint16 = 0x9103 // extra GET DATA objects (optional)
	DGIKeyKCV     uint16 = 0x9000 // key check values of DGI 8000 (3 x 3 bytes)
	DGIPINTry     uint16 = 0x9010 // PIN try counter, PIN try limit
	DGIAppKeys    uint16 = 0x8000 // AC, SMI, SMC keys (3 x 16 bytes), encrypted
	DGIPIN        uint16 = 0x8010 // offline PIN block, encrypted
	DGIICCQInv    uint16 = 0x8201 // ICC private key CRT: q^-1 mod p, encrypted
	DGIICCDQ      uint16 = 0x8202 // d mod (q-1), encrypted
	DGIICCDP      uint16 = 0x8203 // d mod (p-1), encrypted
	DGIICCPrimeQ  uint16 = 0x8204 // q, encrypted
	DGIICCPrimeP  uint16 = 0x8205 // p, encrypted
	maxRecordDGI  uint16 = 0x1EFF
	minRecordDGI  uint16 = 0x0101
	sensitiveDGIs uint16 = 0x8000 // DGIs 8xxx are sensitive (encrypted), all others clear
)

// Status words specific to the security domain.
const (
	swRefDataNotFound uint16 = 0x6A88
)

// GPImage is the GlobalPlatform security domain of a card image: its AID,
// SCP02 option, static keys (already diversified from the KMC: a card never
// knows the KMC), key diversification data, sequence counter, CPLC and the
// application instances not yet personalized.
type GPImage struct {
	// ISDAID is the security domain AID; DefaultISDAID when empty.
	ISDAID cardio.Hex `json:"isdAID,omitempty"`
	// I is the SCP02 implementation option (0x15 or 0x55; 0x55 when zero).
	I int `json:"i,omitempty"`
	// KeyVersion is the key version number of the key set (e.g. 0x20 = 32).
	KeyVersion int `json:"keyVersion"`
	// ENC, MAC and DEK are the card's static keys (TEST keys).
	ENC cardio.Hex `json:"enc"`
	MAC cardio.Hex `json:"mac"`
	DEK cardio.Hex `json:"dek"`
	// KDD is the key diversification data returned by INITIALIZE UPDATE:
	// KMC ID (6 bytes) || chip serial number (4 bytes).
	KDD cardio.Hex `json:"kdd"`
	// SequenceCounter is the SCP02 sequence counter (incremented by every
	// successful EXTERNAL AUTHENTICATE).
	SequenceCounter int `json:"sequenceCounter"`
	// CPLC is the 42-byte card production life cycle data (GET DATA 9F7F).
	CPLC cardio.Hex `json:"cplc"`
	// Instances are the installed application instances (AIDs) awaiting
	// personalization; SELECT answers 6A82 for them until then.
	Instances []cardio.Hex `json:"instances,omitempty"`
}

// BlankOptions describes a blank card for NewBlankImage.
type BlankOptions struct {
	// Description of the card; a default when empty.
	Description string
	// KMC is the key master key the card's keys are diversified from.
	KMC gp.Key
	// Diversification is the method (the volcard profile uses gp.DiversifyEMV).
	Diversification gp.Diversification
	// Serial is the chip serial number (CPLC IC serial, last 4 bytes of the KDD).
	Serial uint32
	// KMCID is the first six bytes of the KDD; DefaultKMCID when empty.
	KMCID cardio.Hex
	// KeyVersion is the key version number; 0x20 when zero.
	KeyVersion byte
	// I is the SCP02 option; 0x55 when zero.
	I byte
	// Instances are the application instances; the UnionPay debit AID when empty.
	Instances []cardio.Hex
}

// NewBlankImage makes the image of a blank card (Kind "blank") with PPSE and
// PSE support, whose security domain keys are diversified from o.KMC.
func NewBlankImage(o BlankOptions) (Image, error) {
	if err := o.KMC.Validate(); err != nil {
		return Image{}, fmt.Errorf("cardsim: blank image: KMC: %w", err)
	}
	if len(o.KMCID) == 0 {
		o.KMCID = DefaultKMCID
	}
	if len(o.KMCID) != 6 {
		return Image{}, fmt.Errorf("cardsim: blank image: KMC ID must be 6 bytes: %w", ErrInvalidImage)
	}
	if o.KeyVersion == 0 {
		o.KeyVersion = 0x20
	}
	if o.I == 0 {
		o.I = gp.I55
	}
	if len(o.Instances) == 0 {
		o.Instances = []cardio.Hex{emv.AIDDebit}
	}
	if o.Description == "" {
		o.Description = "Blank volunteer card: GlobalPlatform card manager with TEST keys diversified from the test KMC; UnionPay debit instance not personalized."
	}
	serial := binary.BigEndian.AppendUint32(nil, o.Serial)
	kdd := append(append(cardio.Hex{}, o.KMCID...), serial...)
	keys, err := gp.Diversify(o.KMC, o.Diversification, kdd, o.KeyVersion)
	if err != nil {
		return Image{}, fmt.Errorf("cardsim: blank image: %w", err)
	}
	cplc := make(cardio.Hex, 0, gp.CPLCLen)
	cplc = append(cplc, 0x47, 0x90, 0x51, 0x68, 0x47, 0x91, 0x72, 0x07, 0x01, 0x00, 0x72, 0x09)
	cplc = append(cplc, serial...)
	cplc = append(cplc, 0x00, 0x01)
	cplc = append(cplc, make([]byte, gp.CPLCLen-len(cplc))...)
	return Image{
		Format: CurrentFormat, Description: o.Description, Kind: KindBlank, ATR: DefaultATR, PPSE: true, PSE: true,
		GP: &GPImage{
			ISDAID: DefaultISDAID, I: int(o.I), KeyVersion: int(o.KeyVersion),
			ENC: cardio.Hex(keys.ENC), MAC: cardio.Hex(keys.MAC), DEK: cardio.Hex(keys.DEK),
			KDD: kdd, CPLC: cplc, Instances: o.Instances,
		},
	}, nil
}

// MaxBlankSeries is the most cards NewBlankImages makes at once.
const MaxBlankSeries = 10000

// NewBlankImages makes n blank cards with consecutive chip serials from
// o.Serial: each has its own CPLC (IC serial) and key diversification
// data, hence its own security domain keys, as real cards of a production
// batch do. The same options give the same cards (tests, demos). Serials
// must not wrap past FFFFFFFF.
func NewBlankImages(o BlankOptions, n int) ([]Image, error) {
	if n < 1 || n > MaxBlankSeries {
		return nil, fmt.Errorf("cardsim: blank series of %d cards: 1 to %d: %w", n, MaxBlankSeries, ErrInvalidImage)
	}
	if uint64(o.Serial)+uint64(n)-1 > 0xFFFFFFFF {
		return nil, fmt.Errorf("cardsim: blank series from serial %08X: %d cards pass FFFFFFFF: %w", o.Serial, n, ErrInvalidImage)
	}
	out := make([]Image, 0, n)
	for i := range n {
		c := o
		c.Serial = o.Serial + uint32(i)
		img, err := NewBlankImage(c)
		if err != nil {
			return nil, err
		}
		out = append(out, img)
	}
	return out, nil
}

// checkKind validates the kind of an image before it is built.
func checkKind(img Image) error {
	switch img.Kind {
	case "":
		return nil
	case KindBlank:
		if img.GP == nil || len(img.GP.Instances) == 0 {
			return fmt.Errorf("cardsim: blank card without security domain or instance: %w", ErrInvalidImage)
		}
		if len(img.Applications) > 0 || img.PIN != "" {
			return fmt.Errorf("cardsim: blank card with application data: %w", ErrInvalidImage)
		}
		return nil
	}
	return fmt.Errorf("cardsim: image kind %q: %w", img.Kind, ErrInvalidImage)
}

// isd is the issuer security domain of a card: SCP02 and personalization
// with staging. Persistent: cfg (counter, instances). Volatile (lost on
// reset, SELECT of another application, removal, any error): the secure
// channel and the staging area.
type isd struct {
	cfg     GPImage
	aid     []byte
	fci     []byte
	ch      *gp.CardChannel
	counter uint16
	// staging
	target []byte
	next   int
	asm    gp.DGIAssembler
	staged map[uint16][]byte
}

func newISD(cfg GPImage) (*isd, error) {
	fail := func(what string) error {
		return fmt.Errorf("cardsim: security domain: %s: %w", what, ErrInvalidImage)
	}
	if len(cfg.ISDAID) == 0 {
		cfg.ISDAID = DefaultISDAID
	}
	if cfg.I == 0 {
		cfg.I = int(gp.I55)
	}
	if len(cfg.ISDAID) < 5 || len(cfg.ISDAID) > 16 {
		return nil, fail("AID length")
	}
	if cfg.KeyVersion < 1 || cfg.KeyVersion > 0xFF || cfg.SequenceCounter < 0 || cfg.SequenceCounter > 0xFFFF {
		return nil, fail("key version or sequence counter out of range")
	}
	if len(cfg.CPLC) != gp.CPLCLen {
		return nil, fail("CPLC must be 42 bytes")
	}
	for _, a := range cfg.Instances {
		if len(a) < 5 || len(a) > 16 {
			return nil, fail("instance AID length")
		}
	}
	keys := gp.KeySet{Version: byte(cfg.KeyVersion), ENC: gp.Key(cfg.ENC), MAC: gp.Key(cfg.MAC), DEK: gp.Key(cfg.DEK)}
	ch, err := gp.NewCardChannel(keys, cfg.KDD, byte(cfg.I), cfg.ISDAID)
	if err != nil {
		return nil, fail(err.Error())
	}
	fci, err := cardio.EncodeTLV(cardio.NewTemplate("6F", cardio.NewTLV("84", cfg.ISDAID),
		cardio.NewTemplate("A5", cardio.NewTLV("9F65", []byte{0xFF}))))
	if err != nil {
		return nil, fail("FCI")
	}
	cfg.Instances = append([]cardio.Hex(nil), cfg.Instances...)
	return &isd{cfg: cfg, aid: cfg.ISDAID, fci: fci, ch: ch, counter: uint16(cfg.SequenceCounter)}, nil
}

// reset drops the volatile state: secure channel and staging.
func (s *isd) reset() {
	s.ch.Close()
	s.abort()
}

// abort discards the staging area.
func (s *isd) abort() {
	s.target, s.next, s.staged = nil, 0, nil
	s.asm.Reset()
}

func (s *isd) export() GPImage {
	g := s.cfg
	g.SequenceCounter = int(s.counter)
	g.Instances = append([]cardio.Hex(nil), s.cfg.Instances...)
	return g
}

func (s *isd) instance(aid []byte) int {
	for i, a := range s.cfg.Instances {
		if bytes.Equal(a, aid) {
			return i
		}
	}
	return -1
}

// handleISD processes commands for the security domain: SELECT of its AID
// and, while it is selected, INITIALIZE UPDATE, EXTERNAL AUTHENTICATE, GET
// DATA (CPLC), INSTALL [for personalization] and STORE DATA. Other commands
// fall through to the payment-card handler.
func (c *Card) handleISD(cmd cardio.Command) ([]byte, bool) {
	s := c.isd
	if cmd.CLA == 0x00 && cmd.INS == cardio.INSSelect && cmd.P1 == 0x04 && cmd.P2 == 0x00 &&
		len(cmd.Data) >= 5 && bytes.HasPrefix(s.aid, cmd.Data) {
		c.resetLocked()
		c.sel = selISD
		return c.respond(cmd, s.fci), true
	}
	if c.sel != selISD {
		return nil, false
	}
	switch cmd.INS {
	case gp.INSInitializeUpdate:
		if cmd.CLA != gp.CLAGP {
			return sw(swCLANotSupported), true
		}
		s.abort()
		resp, err := s.ch.InitializeUpdate(cmd, s.counter, nil)
		switch {
		case errors.Is(err, gp.ErrKeyVersion):
			return sw(swRefDataNotFound), true
		case err != nil:
			return sw(swWrongLength), true
		}
		return c.respond(cmd, resp), true
	case gp.INSExternalAuth:
		s.abort()
		if err := s.ch.ExternalAuthenticate(cmd); err != nil {
			if errors.Is(err, gp.ErrState) {
				return sw(swConditions), true
			}
			return sw(swSecurity), true
		}
		if s.counter < 0xFFFF {
			s.counter++
			c.changes++
		}
		return sw(swOK), true
	case gp.INSGetData:
		if cmd.CLA == gp.CLAGP {
			return c.isdGetData(cmd), true
		}
		return c.isdSecured(cmd), true
	case gp.INSInstall, gp.INSStoreData:
		return c.isdSecured(cmd), true
	}
	return nil, false
}

func (c *Card) isdGetData(cmd cardio.Command) []byte {
	if cmd.P1 == 0x9F && cmd.P2 == 0x7F {
		return c.respond(cmd, append([]byte{0x9F, 0x7F, gp.CPLCLen}, c.isd.cfg.CPLC...))
	}
	return sw(swDataNotFound)
}

// isdSecured handles commands that need the open secure channel.
func (c *Card) isdSecured(cmd cardio.Command) []byte {
	s := c.isd
	if !s.ch.Authenticated() {
		s.abort()
		return sw(swConditions) // wrong order: no authenticated session
	}
	clear, err := s.ch.Unwrap(cmd) // closes the channel on failure
	if err != nil {
		s.abort()
		return sw(swSecurity)
	}
	switch clear.INS {
	case gp.INSGetData:
		return c.isdGetData(clear)
	case gp.INSInstall:
		return c.isdInstall(clear)
	default:
		return c.isdStoreData(clear)
	}
}

func (c *Card) isdInstall(cmd cardio.Command) []byte {
	s := c.isd
	s.abort()
	if cmd.P1 != 0x20 || cmd.P2 != 0 {
		return sw(swIncorrectP1P2)
	}
	aid, err := gp.ParseInstallForPersonalization(cmd.Data)
	if err != nil {
		return sw(swWrongData)
	}
	if s.instance(aid) < 0 {
		for _, a := range c.apps {
			if bytes.Equal(a.aid, aid) {
				return sw(swConditions) // already personalized
			}
		}
		return sw(swRefDataNotFound)
	}
	s.target, s.staged = aid, map[uint16][]byte{}
	return sw(swOK)
}

func (c *Card) isdStoreData(cmd cardio.Command) []byte {
	s := c.isd
	if s.target == nil {
		return sw(swConditions) // no INSTALL [for personalization] (or already committed)
	}
	if int(cmd.P2) != s.next {
		s.abort()
		return sw(swConditions) // block out of sequence
	}
	enc := cmd.P1 & 0x60
	if cmd.P1&0x1F != 0 || (enc != 0 && enc != gp.P1Encrypted) {
		s.abort()
		return sw(swIncorrectP1P2)
	}
	dgis, err := s.asm.Add(cmd.Data, enc == gp.P1Encrypted)
	if err != nil {
		s.abort()
		return sw(swWrongData)
	}
	for _, d := range dgis {
		if st := s.stage(d); st != swOK {
			s.abort()
			return sw(st)
		}
	}
	s.next++
	if cmd.P1&gp.P1LastBlock == 0 {
		return sw(swOK)
	}
	if s.asm.Pending() {
		s.abort()
		return sw(swWrongData)
	}
	img, st := c.personalizedImage()
	if st != swOK {
		s.abort()
		return sw(st)
	}
	nc, err := build(img)
	if err != nil {
		s.abort()
		return sw(swWrongData)
	}
	c.adopt(nc)
	c.changes++
	s.abort()
	return sw(swOK)
}

func knownDGI(tag uint16) bool {
	switch tag {
	case DGIFCI, DGIGPO, DGIGetData, DGIKeyKCV, DGIPINTry, DGIAppKeys, DGIPIN, DGICardRisk,
		DGIICCQInv, DGIICCDQ, DGIICCDP, DGIICCPrimeQ, DGIICCPrimeP:
		return true
	}
	return isRecordDGI(tag)
}

func isRecordDGI(tag uint16) bool {
	return tag >= minRecordDGI && tag <= maxRecordDGI && tag&0xFF != 0
}

// stage checks one DGI and puts it in the staging area (decrypted).
func (s *isd) stage(d gp.DGI) uint16 {
	if !knownDGI(d.Tag) {
		return swRefDataNotFound
	}
	if d.Sensitive != (d.Tag&0xF000 == sensitiveDGIs) {
		return swWrongData // sensitive DGIs must come encrypted, others in clear
	}
	if _, dup := s.staged[d.Tag]; dup {
		return swWrongData
	}
	data := d.Data
	if d.Sensitive {
		var err error
		if data, err = s.ch.DecryptSensitive(d.Data); err != nil {
			return swWrongData
		}
	}
	s.staged[d.Tag] = data
	return swOK
}

// personalizedImage builds the card image from the staging area: the
// blank card's structure plus the new application. It returns 6985 when a
// mandatory DGI is missing and 6A80 when data is inconsistent.
func (c *Card) personalizedImage() (Image, uint16) {
	s := c.isd
	st := s.staged
	for _, tag := range []uint16{DGIFCI, DGIGPO, DGIPIN, DGIPINTry, DGIAppKeys, DGIKeyKCV, DGICardRisk} {
		if _, ok := st[tag]; !ok {
			return Image{}, swConditions
		}
	}
	// The blank image's own fields (ATR, PPSE, ...) carry over; nothing
	// below changes what the copy shares with c.img.
	img := c.img
	img.Applications = slices.Clone(img.Applications)
	img.Kind = ""
	img.Description = "Volunteer card personalized from a blank card (STORE DATA)."
	app := Application{AID: append(cardio.Hex(nil), s.target...), GPOFormat: 1, DDAFormat: 2}
	fci, err := cardio.DecodeTLV(st[DGIFCI])
	if err != nil {
		return Image{}, swWrongData
	}
	app.FCI = fieldsOf(fci)
	gpo, err := cardio.DecodeTLV(st[DGIGPO])
	if err != nil {
		return Image{}, swWrongData
	}
	app.AIP, _ = cardio.FindValue(gpo, "82")
	app.AFL, _ = cardio.FindValue(gpo, "94")
	if len(app.AIP) != 2 || len(app.AFL) == 0 {
		return Image{}, swWrongData
	}
	if v, ok := st[DGIGetData]; ok {
		tlvs, err := cardio.DecodeTLV(v)
		if err != nil {
			return Image{}, swWrongData
		}
		app.Data = fieldsOf(tlvs)
	}
	tags := make([]int, 0, len(st))
	for tag := range st {
		tags = append(tags, int(tag))
	}
	sort.Ints(tags)
	for _, t := range tags {
		tag := uint16(t)
		if !isRecordDGI(tag) {
			continue
		}
		tlvs, err := cardio.DecodeTLV(st[tag])
		if err != nil || len(tlvs) != 1 || tlvs[0].Tag != "70" {
			return Image{}, swWrongData
		}
		app.Records = append(app.Records, Record{SFI: int(tag >> 8), Number: int(tag & 0xFF), Fields: fieldsOf(tlvs[0].TLVs)})
	}
	afl, err := cardio.ParseAFL(app.AFL)
	if err != nil {
		return Image{}, swWrongData
	}
	for _, e := range afl {
		for _, n := range e.Records() {
			if _, ok := st[uint16(e.SFI)<<8|uint16(n)]; !ok {
				return Image{}, swConditions
			}
		}
	}
	// Application keys must match their check values.
	keys, kcv := st[DGIAppKeys], st[DGIKeyKCV]
	if len(keys) != 3*gp.KeyLen || len(kcv) != 9 {
		return Image{}, swWrongData
	}
	for i := range 3 {
		if !bytes.Equal(gp.Key(keys[i*16:(i+1)*16]).KCV(), kcv[i*3:(i+1)*3]) {
			return Image{}, swWrongData
		}
	}
	risk := st[DGICardRisk]
	if len(risk) != 11 || risk[10]&0xFE != 0 {
		return Image{}, swWrongData
	}
	app.Payment = &Payment{
		AC: cardio.Hex(bytes.Clone(keys[:16])), SMI: cardio.Hex(bytes.Clone(keys[16:32])), SMC: cardio.Hex(bytes.Clone(keys[32:48])),
		CIACDecline: cardio.Hex(bytes.Clone(risk[0:3])), CIACOnline: cardio.Hex(bytes.Clone(risk[3:6])), CIACDefault: cardio.Hex(bytes.Clone(risk[6:9])),
		DKI: int(risk[9]), IssuerAuthRequired: risk[10]&0x01 != 0,
	}
	if f, ok := Find(app.Data, "9F13"); ok && len(f.Value) == 2 {
		app.Payment.LastOnlineATC = int(f.Value[0])<<8 | int(f.Value[1])
	}
	pin, ok := parsePINBlock(st[DGIPIN])
	if !ok || len(st[DGIPIN]) != 8 {
		return Image{}, swWrongData
	}
	tries := st[DGIPINTry]
	if len(tries) != 2 || tries[1] < 1 || tries[1] > 15 || tries[0] > tries[1] {
		return Image{}, swWrongData
	}
	counter := int(tries[0])
	img.PIN, img.PINTryLimit, img.PINTryCounter = pin, int(tries[1]), &counter
	if app.AIP[0]&0x20 != 0 { // DDA: the ICC private key is mandatory
		key, st2 := iccKey(st, app.Records)
		if st2 != swOK {
			return Image{}, st2
		}
		app.ICCKey = key
	}
	img.Applications = append(img.Applications, app)
	g := s.export()
	if i := s.instance(s.target); i >= 0 {
		g.Instances = append(g.Instances[:i:i], g.Instances[i+1:]...)
	}
	if len(g.Instances) == 0 {
		g.Instances = nil
	}
	img.GP = &g
	return img, swOK
}

// iccKey rebuilds the ICC private key from its CRT DGIs and the exponent in
// the records (9F47), checking that the parts belong together.
func iccKey(st map[uint16][]byte, records []Record) (*emv.PrivateKey, uint16) {
	for _, tag := range []uint16{DGIICCQInv, DGIICCDQ, DGIICCDP, DGIICCPrimeQ, DGIICCPrimeP} {
		if _, ok := st[tag]; !ok {
			return nil, swConditions
		}
	}
	var e []byte
	for _, r := range records {
		if f, ok := Find(r.Fields, "9F47"); ok {
			e = f.Value
		}
	}
	if len(e) == 0 {
		return nil, swConditions
	}
	k, err := emv.NewCRTKey(e, st[DGIICCPrimeP], st[DGIICCPrimeQ], st[DGIICCDP], st[DGIICCDQ], st[DGIICCQInv])
	if err != nil {
		return nil, swWrongData
	}
	return k, swOK
}

// fieldsOf converts decoded TLVs to image fields.
func fieldsOf(tlvs []cardio.TLV) []Field {
	out := make([]Field, 0, len(tlvs))
	for _, t := range tlvs {
		f := Field{Tag: t.Tag}
		if cardio.IsConstructed(t.Tag) {
			f.Fields = fieldsOf(t.TLVs)
		} else {
			f.Value = append(cardio.Hex(nil), t.Value...)
		}
		out = append(out, f)
	}
	return out
}

// adopt makes c the personalized card nc, built without a security domain
// (c keeps its own, its fault injection and its counters of APDUs).
func (c *Card) adopt(nc *Card) {
	c.apps, c.others = nc.apps, nc.others
	c.ppseFCI, c.pseFCI, c.pseSFI, c.pseRecs = nc.ppseFCI, nc.pseFCI, nc.pseSFI, nc.pseRecs
	c.pin, c.tryLimit, c.tries, c.atc = nc.pin, nc.tryLimit, nc.tries, nc.atc
	c.img = nc.img
	if nc.img.GP != nil {
		c.isd.cfg.Instances = nc.img.GP.Instances
	}
}

// Image returns the card's current content as an image (a deep copy):
// after personalization, the personalized card, loadable with New; live
// counters (ATC, PIN try counter, SCP02 sequence counter) included.
func (c *Card) Image() (Image, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	b, err := json.Marshal(c.img)
	if err != nil {
		return Image{}, fmt.Errorf("cardsim: export image: %w", err)
	}
	var img Image
	if err := json.Unmarshal(b, &img); err != nil {
		return Image{}, fmt.Errorf("cardsim: export image: %w", err)
	}
	img.Format, img.ATC = CurrentFormat, c.atc
	for i, a := range c.apps {
		if a.pay != nil && i < len(img.Applications) {
			img.Applications[i].Payment = a.pay.state.clone()
		}
	}
	if c.pin != "" {
		t := c.tries
		img.PINTryCounter = &t
	}
	if c.isd != nil {
		g := c.isd.export()
		img.GP = &g
	}
	return img, nil
}

// Save writes the card's current state (Image) to a card file, which
// Load puts back into service later: a personalized card keeps its data,
// keys and counters across runs of card-sim.
func (c *Card) Save(path string) error {
	img, err := c.Image()
	if err != nil {
		return err
	}
	return img.Save(path)
}

// Personalized reports whether the card holds a payment application.
func (c *Card) Personalized() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.apps) > 0
}
