package roster

import (
	"strings"
	"unicode"
)

// Field is a roster column the service understands.
type Field string

// Roster fields. All but FieldEmbossName are required columns.
const (
	FieldName         Field = "name"
	FieldIDNumber     Field = "id_number"
	FieldPhone        Field = "phone"
	FieldLeagueMember Field = "league_member"
	FieldClothingSize Field = "clothing_size"
	FieldEmbossName   Field = "emboss_name"
)

// Fields lists the fields in the order of the rejected-rows file.
var Fields = []Field{FieldName, FieldIDNumber, FieldPhone, FieldLeagueMember, FieldClothingSize, FieldEmbossName}

// RequiredFields lists the columns a roster must have.
var RequiredFields = []Field{FieldName, FieldIDNumber, FieldPhone, FieldLeagueMember, FieldClothingSize}

var chineseLabels = map[Field]string{
	FieldName: "姓名", FieldIDNumber: "身份证号", FieldPhone: "手机号", FieldLeagueMember: "是否团员",
	FieldClothingSize: "服装尺码", FieldEmbossName: "拼音",
}

// Chinese returns the Chinese column name of f (姓名 for name).
func (f Field) Chinese() string { return chineseLabels[f] }

// Label returns both names, "姓名/name".
func (f Field) Label() string { return chineseLabels[f] + "/" + string(f) }

func (f Field) index() int {
	for i, x := range Fields {
		if x == f {
			return i
		}
	}
	return -1
}

// aliases maps normalised header texts to fields.
var aliases = map[string]Field{
	"姓名": FieldName, "name": FieldName, "fullname": FieldName, "名字": FieldName,
	"身份证号": FieldIDNumber, "身份证号码": FieldIDNumber, "身份证": FieldIDNumber, "公民身份号码": FieldIDNumber,
	"证件号码": FieldIDNumber, "idnumber": FieldIDNumber, "idno": FieldIDNumber, "idcard": FieldIDNumber,
	"手机号": FieldPhone, "手机号码": FieldPhone, "手机": FieldPhone, "联系电话": FieldPhone,
	"phone": FieldPhone, "mobile": FieldPhone, "mobilephone": FieldPhone, "phonenumber": FieldPhone,
	"是否团员": FieldLeagueMember, "团员": FieldLeagueMember, "leaguemember": FieldLeagueMember, "league": FieldLeagueMember,
	"服装尺码": FieldClothingSize, "尺码": FieldClothingSize, "服装尺寸": FieldClothingSize,
	"clothingsize": FieldClothingSize, "size": FieldClothingSize,
	"拼音": FieldEmbossName, "姓名拼音": FieldEmbossName, "凸印姓名": FieldEmbossName,
	"embossname": FieldEmbossName, "pinyin": FieldEmbossName,
}

// normalizeHeader lower-cases a header cell and drops spaces, underscores,
// hyphens, a byte-order mark, an asterisk marking required columns and a
// trailing parenthesised note: " ID_Number " → "idnumber",
// "手机号（必填）" → "手机号".
func normalizeHeader(s string) string {
	if i := strings.IndexAny(s, "(（"); i > 0 {
		s = s[:i]
	}
	var b strings.Builder
	for _, r := range s {
		switch {
		case r == '\ufeff' || r == '_' || r == '-' || r == '*' || r == '＊' || unicode.IsSpace(r):
		default:
			b.WriteRune(unicode.ToLower(r))
		}
	}
	return b.String()
}

// FieldFor returns the field a header cell names, if any.
func FieldFor(header string) (Field, bool) {
	f, ok := aliases[normalizeHeader(header)]
	return f, ok
}

// Header is the column mapping found in a header row.
type Header struct {
	Line    int           // line of the header row
	Columns map[Field]int // field → 0-based column
	Ignored []string      // header texts of columns that map to no field
}

// MapHeader maps a header row (at line) to fields. Missing required
// columns and duplicates are a *HeaderError.
func MapHeader(line int, cells []string) (Header, error) {
	h := Header{Line: line, Columns: map[Field]int{}}
	var dup []Field
	for i, c := range cells {
		f, ok := FieldFor(c)
		if !ok {
			if t := strings.TrimSpace(c); t != "" {
				h.Ignored = append(h.Ignored, t)
			}
			continue
		}
		if _, seen := h.Columns[f]; seen {
			dup = append(dup, f)
			continue
		}
		h.Columns[f] = i
	}
	var missing []Field
	for _, f := range RequiredFields {
		if _, ok := h.Columns[f]; !ok {
			missing = append(missing, f)
		}
	}
	if len(missing) > 0 || len(dup) > 0 {
		return h, &HeaderError{Line: line, Missing: missing, Duplicate: dup}
	}
	return h, nil
}

// row picks the mapped cells of a record.
func (h Header) row(line int, cells []string) Row {
	r := Row{Line: line}
	for f, i := range h.Columns {
		if i < len(cells) {
			r.values[f.index()] = strings.TrimSpace(strings.Trim(cells[i], "\ufeff"))
		}
	}
	return r
}
