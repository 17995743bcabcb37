package seed

// PopulationYear is the year the resident populations are meant to refer
// to: year-end 2016 resident population (年末常住人口), the figures of the
// Guangdong Statistical Yearbook 2017 (广东统计年鉴2017, table 3-3), in units
// of 10,000 people.
//
// Provenance: none of the 21 city figures below nor the province total has
// been checked against the Yearbook itself; a search of public pages found
// the Yearbook's population tables only with their values hidden. Only
// Guangzhou's 1,404.35 appears in an independent (non-official) list. The
// 21 city figures add up to 10,993.05, not to the province total 10,999.00,
// so some of them are off by a few units of 10,000. Treat them all as
// approximate demo figures, good enough for rates to the nearest percent,
// and replace them with the official table (Service.SetOrgFigures) before
// the targets report is used for real.
const PopulationYear = 2016

// City is a prefecture-level city of Guangdong.
type City struct {
	Code   string // GB/T 2260
	Name   string
	NameEN string
	// Population10k is the (approximate, see PopulationYear) 2016 year-end
	// resident population in units of 10,000 people, times 100 (140435 =
	// 1,404.35 × 10,000 people).
	Population10k int64
}

// People returns the population in people.
func (c City) People() int64 { return c.Population10k * 100 }

// ProvincePopulation10k is Guangdong's 2016 year-end resident population
// (10,999.00 × 10,000; not checked against the Yearbook, see
// PopulationYear), same unit as City.Population10k. The cities below add up
// to 1099305, not to this.
const ProvincePopulation10k = 1099900

// Cities are Guangdong's 21 prefecture-level cities in GB/T 2260 order with
// approximate 2016 year-end resident populations (10,000 people): the
// figures intended are those of the Guangdong Statistical Yearbook 2017, but
// none is confirmed against it (see PopulationYear).
var Cities = []City{
	{"440100", "广州市", "Guangzhou", 140435},
	{"440200", "韶关市", "Shaoguan", 29315},
	{"440300", "深圳市", "Shenzhen", 119084},
	{"440400", "珠海市", "Zhuhai", 16753},
	{"440500", "汕头市", "Shantou", 55792},
	{"440600", "佛山市", "Foshan", 74627},
	{"440700", "江门市", "Jiangmen", 45440},
	{"440800", "湛江市", "Zhanjiang", 72730},
	{"440900", "茂名市", "Maoming", 61232},
	{"441200", "肇庆市", "Zhaoqing", 40846},
	{"441300", "惠州市", "Huizhou", 47750},
	{"441400", "梅州市", "Meizhou", 43788},
	{"441500", "汕尾市", "Shanwei", 30216},
	{"441600", "河源市", "Heyuan", 30911},
	{"441700", "阳江市", "Yangjiang", 25112},
	{"441800", "清远市", "Qingyuan", 38543},
	{"441900", "东莞市", "Dongguan", 82614},
	{"442000", "中山市", "Zhongshan", 32300},
	{"445100", "潮州市", "Chaozhou", 26405},
	{"445200", "揭阳市", "Jieyang", 60604},
	{"445300", "云浮市", "Yunfu", 24808},
}

// County is a county-level division (populations not seeded).
type County struct {
	CityCode string
	Code     string
	Name     string
}

// MeizhouCounties are Meizhou's county-level divisions; the Meizhou notice
// sets targets per county.
var MeizhouCounties = []County{
	{"441400", "441402", "梅江区"},
	{"441400", "441403", "梅县区"},
	{"441400", "441422", "大埔县"},
	{"441400", "441423", "丰顺县"},
	{"441400", "441424", "五华县"},
	{"441400", "441426", "平远县"},
	{"441400", "441427", "蕉岭县"},
	{"441400", "441481", "兴宁市"},
}

// University is a university organisation under a city.
type University struct {
	CityCode string
	Name     string
}

// Universities seeded under their cities.
var Universities = []University{
	{"440100", "中山大学"},
	{"440100", "华南理工大学"},
	{"440100", "暨南大学"},
	{"441400", "嘉应学院"},
}

// Bank codes.
const (
	BOC  = "BOC"
	CEB  = "CEB"
	CCB  = "CCB"
	PSBC = "PSBC"
)

// Banks are the partner banks.
var Banks = []struct{ Code, Name string }{
	{BOC, "中国银行"},
	{CEB, "中国光大银行"},
	{CCB, "中国建设银行"},
	{PSBC, "中国邮政储蓄银行"},
}

// AIDs of the UnionPay (PBOC) debit and credit applications.
const (
	AIDDebit  = "A000000333010101"
	AIDCredit = "A000000333010102"
)

// Product codes.
const (
	ProductProvinceBOC = "GD-RV-BOC"  // provincial registered-volunteer card, Bank of China
	ProductProvinceCEB = "GD-RV-CEB"  // provincial registered-volunteer card, China Everbright Bank
	ProductMeizhouCCB  = "MZ-VC-CCB"  // Meizhou volunteer card, CCB debit
	ProductMeizhouPSBC = "MZ-VC-PSBC" // Meizhou volunteer card, PSBC credit
)

// Product is a seeded card product; CityCode empty means province-wide.
// BINs are demonstration values for the simulators, not the banks' real
// issuer BINs.
type Product struct {
	Code, Name, Bank, BIN, AID, Kind, CityCode string
}

// Products are the card products.
var Products = []Product{
	{ProductProvinceBOC, "广东省注册志愿者证（中国银行借记卡）", BOC, "621785", AIDDebit, "debit", ""},
	{ProductProvinceCEB, "广东省注册志愿者证（光大银行借记卡）", CEB, "622660", AIDDebit, "debit", ""},
	{ProductMeizhouCCB, "梅州志愿者卡（建设银行借记卡）", CCB, "621700", AIDDebit, "debit", "441400"},
	{ProductMeizhouPSBC, "梅州志愿者卡（邮储银行信用卡）", PSBC, "628258", AIDCredit, "credit", "441400"},
}
