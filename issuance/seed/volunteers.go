package seed

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"runtime"
	"strings"
	"sync"
	"time"

	"github.com/volcard/volcard/issuance"
)

// BulkLoader is the storage a bulk volunteer load needs; issuance/store
// implements it.
type BulkLoader interface {
	ListOrgs(ctx context.Context, pathPrefix string) ([]issuance.Org, error)
	ReserveVolunteerIDs(ctx context.Context, n int64) (int64, error)
	BulkInsert(ctx context.Context, vs []issuance.Volunteer, as []issuance.Application) error
	FinishBulk(ctx context.Context) error
}

// VolunteersOptions tune Volunteers. Zero fields take the defaults.
type VolunteersOptions struct {
	// Batch is the number of volunteers per insert (default 20,000).
	Batch int
	// Seed makes the data reproducible (default 1).
	Seed uint64
	// Workers prepare rows in parallel (default GOMAXPROCS).
	Workers int
	// Progress, when set, is called after each batch with the number done.
	Progress func(done int64)
}

// VolunteersResult counts what Volunteers inserted.
type VolunteersResult struct {
	Volunteers   int64
	Applications int64
	Elapsed      time.Duration
}

var (
	surnames = []rune("王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤")
	given    = []rune("伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰萍红建文辉力斌宇浩凯健俊帆帅旭宁欣怡佳琪晨阳雪梅婷颖鹏飞志远海波峰林春燕国庆思源家豪子涵雨轩梓萱")
	sizes    = []issuance.ClothingSize{issuance.SizeXS, issuance.SizeS, issuance.SizeM, issuance.SizeM, issuance.SizeL,
		issuance.SizeL, issuance.SizeL, issuance.SizeXL, issuance.SizeXL, issuance.SizeXXL, issuance.SizeXXXL}
	sources = []issuance.Channel{issuance.ChannelPlatform, issuance.ChannelPlatform, issuance.ChannelPlatform,
		issuance.ChannelOnline, issuance.ChannelBranch, issuance.ChannelOnSite}
)

// Birth dates span 1962-01-01 plus birthDays days; ID sequence numbers
// 000–999 per day. Volunteer k gets the k-th element of a permutation of
// birthDays×1000 (multiplying by a prime), so IDs never repeat for k below
// that product (14 million) whatever the region code.
const (
	birthDays = 14000
	idSpace   = birthDays * 1000
	idPrime   = 1000003
)

type weighted struct {
	org    issuance.Org
	code   string // region code for the ID number
	weight int64
	city   bool // Meizhou: offers the city card
}

// Volunteers inserts n generated volunteers into the demo organisations
// (run Demo first): spread over the 21 cities by resident population (a
// city's share split between the city itself, its counties and its
// universities), registered between 2015 and 2018, about 35 % of them
// with a provincial card application (most issued or activated) and, in
// Meizhou, about 20 % with a Meizhou card. ID numbers are valid GB 11643
// numbers (region, birth date, check character) and unique; ID numbers and
// phones are sealed with the Service's keys like any registration. The
// counters are made consistent at the end (loader.FinishBulk).
func Volunteers(ctx context.Context, svc *issuance.Service, loader BulkLoader, n int64, opt VolunteersOptions) (VolunteersResult, error) {
	start := time.Now()
	var res VolunteersResult
	if n <= 0 {
		return res, errors.New("seed volunteers: n must be positive")
	}
	if opt.Batch <= 0 {
		opt.Batch = 20000
	}
	if opt.Seed == 0 {
		opt.Seed = 1
	}
	if opt.Workers <= 0 {
		opt.Workers = runtime.GOMAXPROCS(0)
	}
	orgs, err := loader.ListOrgs(ctx, "")
	if err != nil {
		return res, err
	}
	targets, err := weights(orgs)
	if err != nil {
		return res, err
	}
	var total int64
	for _, w := range targets {
		total += w.weight
	}
	first, err := loader.ReserveVolunteerIDs(ctx, n)
	if err != nil {
		return res, err
	}
	if first+n > idSpace {
		return res, fmt.Errorf("seed volunteers: ids up to %d exceed the %d unique ID numbers the generator makes", first+n, idSpace)
	}
	type batch struct {
		vs  []issuance.Volunteer
		as  []issuance.Application
		err error
	}
	nb := (n + int64(opt.Batch) - 1) / int64(opt.Batch)
	results := make([]chan batch, nb)
	for i := range results {
		results[i] = make(chan batch, 1)
	}
	sem := make(chan struct{}, opt.Workers)
	var wg sync.WaitGroup
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go func() {
		for b := int64(0); b < nb; b++ {
			select {
			case sem <- struct{}{}:
			case <-ctx.Done():
				return
			}
			wg.Add(1)
			go func(b int64) {
				defer wg.Done()
				defer func() { <-sem }()
				lo := b * int64(opt.Batch)
				hi := min(lo+int64(opt.Batch), n)
				vs, as, err := makeBatch(svc, targets, total, first, lo, hi, opt.Seed)
				results[b] <- batch{vs, as, err}
			}(b)
		}
	}()
	for b := int64(0); b < nb; b++ {
		var got batch
		select {
		case got = <-results[b]:
		case <-ctx.Done():
			return res, ctx.Err()
		}
		if got.err != nil {
			cancel()
			return res, got.err
		}
		if err := loader.BulkInsert(ctx, got.vs, got.as); err != nil {
			cancel()
			return res, err
		}
		res.Volunteers += int64(len(got.vs))
		res.Applications += int64(len(got.as))
		if opt.Progress != nil {
			opt.Progress(res.Volunteers)
		}
	}
	wg.Wait()
	if err := loader.FinishBulk(ctx); err != nil {
		return res, err
	}
	res.Elapsed = time.Since(start)
	return res, nil
}

// weights spreads the population over the orgs volunteers go to.
func weights(orgs []issuance.Org) ([]weighted, error) {
	children := map[int64][]issuance.Org{}
	for _, o := range orgs {
		children[o.ParentID] = append(children[o.ParentID], o)
	}
	var out []weighted
	for _, c := range orgs {
		if c.Kind != issuance.OrgCity || c.ResidentPopulation <= 0 {
			continue
		}
		meizhou := c.RegionCode == "441400"
		w := c.ResidentPopulation
		var counties, unis []issuance.Org
		for _, k := range children[c.ID] {
			switch k.Kind {
			case issuance.OrgCounty:
				counties = append(counties, k)
			case issuance.OrgUniversity:
				unis = append(unis, k)
			}
		}
		// Universities get 3 % of their city each; counties share 80 %
		// by population; the city keeps the rest.
		uniW := w * 3 / 100
		rest := w - uniW*int64(len(unis))
		for _, u := range unis {
			out = append(out, weighted{org: u, code: c.RegionCode, weight: uniW, city: meizhou})
		}
		if len(counties) > 0 {
			var cp int64
			for _, k := range counties {
				cp += max(k.ResidentPopulation, 1)
			}
			share := rest * 80 / 100
			for _, k := range counties {
				out = append(out, weighted{org: k, code: k.RegionCode, weight: share * max(k.ResidentPopulation, 1) / cp, city: meizhou})
			}
			rest -= share
		}
		out = append(out, weighted{org: c, code: c.RegionCode, weight: rest, city: meizhou})
	}
	if len(out) == 0 {
		return nil, errors.New("seed volunteers: no cities with a population; run seed --demo first")
	}
	return out, nil
}

// pick returns the org for the x-th unit of the total weight.
func pick(ws []weighted, x int64) weighted {
	for _, w := range ws {
		if x < w.weight {
			return w
		}
		x -= w.weight
	}
	return ws[len(ws)-1]
}

var birthBase = time.Date(1962, 1, 1, 0, 0, 0, 0, time.UTC)

func makeBatch(svc *issuance.Service, ws []weighted, total, first, lo, hi int64, seed uint64) ([]issuance.Volunteer, []issuance.Application, error) {
	rng := rand.New(rand.NewPCG(seed, uint64(lo)))
	vs := make([]issuance.Volunteer, 0, hi-lo)
	as := make([]issuance.Application, 0, (hi-lo)/2)
	yearStart := time.Date(2015, 1, 1, 0, 0, 0, 0, time.UTC)
	var name strings.Builder
	for i := lo; i < hi; i++ {
		id := first + i
		w := pick(ws, rng.Int64N(total))
		m := (id * idPrime) % idSpace
		birth := birthBase.AddDate(0, 0, int(m/1000))
		body := fmt.Sprintf("%s%s%03d", w.code, birth.Format("20060102"), m%1000)
		name.Reset()
		name.WriteRune(surnames[rng.IntN(len(surnames))])
		name.WriteRune(given[rng.IntN(len(given))])
		if rng.IntN(3) > 0 {
			name.WriteRune(given[rng.IntN(len(given))])
		}
		// Registration: 2015–2016 20 %, 2017 45 %, 2018 35 %.
		var reg time.Time
		switch r := rng.IntN(100); {
		case r < 20:
			reg = yearStart.Add(time.Duration(rng.Int64N(int64(2 * 365 * 24 * time.Hour))))
		case r < 65:
			reg = time.Date(2017, 1, 1, 0, 0, 0, 0, time.UTC).Add(time.Duration(rng.Int64N(int64(364 * 24 * time.Hour))))
		default:
			reg = time.Date(2018, 1, 1, 0, 0, 0, 0, time.UTC).Add(time.Duration(rng.Int64N(int64(364 * 24 * time.Hour))))
		}
		age := reg.Year() - birth.Year()
		v, err := svc.PrepareVolunteer(issuance.NewVolunteer{
			OrgID: w.org.ID, Name: name.String(), IDNumber: body + string(issuance.ResidentIDCheckChar(body)),
			Phone:        fmt.Sprintf("13%09d", id%1000000000),
			LeagueMember: age <= 28 && rng.IntN(100) < 70 || age > 28 && rng.IntN(100) < 8,
			PartyMember:  age > 22 && rng.IntN(100) < 10,
			ClothingSize: sizes[rng.IntN(len(sizes))], Source: sources[rng.IntN(len(sources))],
			VolunteerNumber: fmt.Sprintf("GDV%010d", id),
		}, reg)
		if err != nil {
			return nil, nil, fmt.Errorf("seed volunteer %d: %w", id, err)
		}
		v.ID, v.OrgPath = id, w.org.Path
		vs = append(vs, v)
		if rng.IntN(100) < 35 {
			as = append(as, seedApplication(rng, v, "GD-RV-BOC", "BOC", "P"))
			if rng.IntN(3) == 0 {
				as[len(as)-1].ProductCode, as[len(as)-1].BankCode = "GD-RV-CEB", "CEB"
			}
		}
		if w.city && rng.IntN(100) < 20 {
			as = append(as, seedApplication(rng, v, "MZ-VC-CCB", "CCB", "M"))
		}
	}
	return vs, as, nil
}

func seedApplication(rng *rand.Rand, v issuance.Volunteer, product, bank, tag string) issuance.Application {
	st := issuance.StatusIssued
	switch r := rng.IntN(100); {
	case r < 8:
		st = issuance.StatusSubmitted
	case r < 12:
		st = issuance.StatusApproved
	case r < 16:
		st = issuance.StatusBankPending
	case r < 18:
		st = issuance.StatusRejected
	case r < 55:
		st = issuance.StatusIssued
	default:
		st = issuance.StatusActivated
	}
	created := v.CreatedAt.Add(time.Duration(rng.Int64N(int64(30 * 24 * time.Hour))))
	updated := created.Add(time.Duration(rng.Int64N(int64(20 * 24 * time.Hour))))
	ch := v.Source
	return issuance.Application{
		Number: fmt.Sprintf("SEED%s%012d", tag, v.ID), VolunteerID: v.ID, OrgID: v.OrgID, OrgPath: v.OrgPath,
		ProductCode: product, BankCode: bank, Channel: ch, Status: st, Version: 1,
		CreatedAt: created, UpdatedAt: updated,
	}
}
