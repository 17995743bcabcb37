// Package rostertest makes roster files for tests and benchmarks: people
// with valid (or deliberately broken) resident ID numbers, written as CSV in
// UTF-8 or GB18030 or as XLSX, and the 45-row fixtures with five bad rows
// kept under testdata/rosters.
package rostertest

import (
	"archive/zip"
	"bytes"
	"encoding/csv"
	"fmt"
	"io"
	"strconv"

	"github.com/xuri/excelize/v2"
	"golang.org/x/text/encoding/simplifiedchinese"

	"github.com/volcard/volcard/issuance"
)

// Person is one roster row as written to a file.
type Person struct {
	Name         string
	IDNumber     string
	Phone        string
	LeagueMember string
	ClothingSize string
	EmbossName   string
	College      string // an extra column the parser must ignore
}

// Bad lines of the 45-row fixtures (1-based data row numbers; the file
// line is one more, after the header).
const (
	BadChecksumRow = 8  // check character altered
	UnderAgeRow    = 15 // born 2013
	DuplicateRow   = 22 // same ID number as row 3
	BadPhoneRow    = 30 // seven digits
	MissingNameRow = 38 // empty name
	FixtureRows    = 45
	FixtureBad     = 5
)

var surnames = []string{"李", "王", "张", "刘", "陈", "杨", "黄", "赵", "吴", "周", "徐", "孙", "马", "朱", "胡", "郭", "何", "林", "罗", "高", "梁", "郑", "谢", "宋", "唐", "许", "邓", "冯", "韩", "曹", "曾", "彭", "萧", "蔡", "潘", "田", "董", "袁", "于", "余", "叶", "蒋", "杜", "苏", "魏", "欧阳"}
var given = []string{"伟", "芳", "娜", "敏", "静", "丽", "强", "磊", "军", "洋", "勇", "艳", "杰", "娟", "涛", "明", "超", "秀英", "霞", "平", "刚", "桂英", "思远", "嘉欣", "子涵", "浩然", "雨桐", "梓轩", "欣怡", "宇航"}
var sizes = []string{"S", "M", "L", "XL", "M", "L", "XXL", "XS", "XXXL"}
var colleges = []string{"文学院", "数学学院", "物理与电子工程学院", "外国语学院", "医学院"}

// ResidentID returns a valid GB 11643 number for a region code, a birth
// date (yyyymmdd) and a sequence 0–999.
func ResidentID(region, birth string, seq int) string {
	body := fmt.Sprintf("%s%s%03d", region, birth, seq%1000)
	return body + string(issuance.ResidentIDCheckChar(body))
}

// People returns n valid people (adults, Meizhou ID numbers) starting at
// seed; different seeds give different ID numbers and phones.
func People(n, seed int) []Person {
	out := make([]Person, n)
	for i := range out {
		k := seed + i
		year := 1990 + k%15         // 1990–2004
		day := 1 + (k/15)%28        // 1–28
		month := 1 + (k/(15*28))%12 // 1–12
		birth := fmt.Sprintf("%04d%02d%02d", year, month, day)
		region := []string{"441402", "441403", "441422", "441481"}[(k/(15*28*12))%4]
		out[i] = Person{
			Name:         surnames[k%len(surnames)] + given[(k/len(surnames)+k)%len(given)],
			IDNumber:     ResidentID(region, birth, (k/(15*28*12*4))%1000),
			Phone:        "13" + strconv.Itoa(5+k%5) + fmt.Sprintf("%08d", k%100_000_000),
			LeagueMember: []string{"是", "否", "是"}[k%3],
			ClothingSize: sizes[k%len(sizes)],
			College:      colleges[k%len(colleges)],
		}
	}
	return out
}

// Fixture45 returns the 45 people of the fixtures with the five bad rows.
func Fixture45(seed int) []Person {
	p := People(FixtureRows, seed)
	id := p[BadChecksumRow-1].IDNumber
	last := id[17]
	if last == '0' {
		last = '1'
	} else {
		last = '0'
	}
	p[BadChecksumRow-1].IDNumber = id[:17] + string(last)
	p[UnderAgeRow-1].IDNumber = ResidentID("441402", "20130604", 7)
	p[DuplicateRow-1].IDNumber = p[2].IDNumber
	p[BadPhoneRow-1].Phone = "1380013"
	p[MissingNameRow-1].Name = ""
	return p
}

// CSV writes people as a roster with Chinese headers in an unusual column
// order with an extra column, in UTF-8 (with a BOM when bom) or GB18030.
func CSV(people []Person, gb18030, bom bool) []byte {
	var buf bytes.Buffer
	w := csv.NewWriter(&buf)
	w.UseCRLF = true
	_ = w.Write([]string{"序号", "身份证号", "姓名", "学院", "服装尺码", "手机号", "是否团员", "拼音"})
	for i, p := range people {
		_ = w.Write([]string{strconv.Itoa(i + 1), p.IDNumber, p.Name, p.College, p.ClothingSize, p.Phone, p.LeagueMember, p.EmbossName})
	}
	w.Flush()
	b := buf.Bytes()
	if gb18030 {
		out, err := simplifiedchinese.GB18030.NewEncoder().Bytes(b)
		if err != nil {
			panic(err) // cannot happen: GB18030 encodes all of Unicode
		}
		return out
	}
	if bom {
		return append([]byte("\ufeff"), b...)
	}
	return b
}

// XLSX writes people as a one-sheet workbook with English headers, using
// excelize's stream writer (fast for 10,000 rows).
func XLSX(people []Person) ([]byte, error) {
	f := excelize.NewFile()
	defer f.Close()
	sw, err := f.NewStreamWriter("Sheet1")
	if err != nil {
		return nil, err
	}
	header := []any{"name", "phone", "id_number", "clothing_size", "league_member", "emboss_name", "college"}
	if err := sw.SetRow("A1", header); err != nil {
		return nil, err
	}
	for i, p := range people {
		league := "N"
		if p.LeagueMember == "是" {
			league = "Y"
		}
		cell, _ := excelize.CoordinatesToCellName(1, i+2)
		if err := sw.SetRow(cell, []any{p.Name, p.Phone, p.IDNumber, p.ClothingSize, league, p.EmbossName, p.College}); err != nil {
			return nil, err
		}
	}
	if err := sw.Flush(); err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	if _, err := f.WriteTo(&buf); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// Inflate returns a copy of the zip (an XLSX) in which the member name is
// padded with spaces to size bytes: a small file that unzips huge, to test
// the zip-bomb limit.
func Inflate(data []byte, name string, size int) ([]byte, error) {
	zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, f := range zr.File {
		rc, err := f.Open()
		if err != nil {
			return nil, err
		}
		body, err := io.ReadAll(rc)
		_ = rc.Close()
		if err != nil {
			return nil, err
		}
		w, err := zw.CreateHeader(&zip.FileHeader{Name: f.Name, Method: zip.Deflate})
		if err != nil {
			return nil, err
		}
		if _, err := w.Write(body); err != nil {
			return nil, err
		}
		if f.Name == name {
			pad := bytes.Repeat([]byte(" "), 1<<20)
			for n := len(body); n < size; n += len(pad) {
				if _, err := w.Write(pad); err != nil {
					return nil, err
				}
			}
		}
	}
	if err := zw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}
