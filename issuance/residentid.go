package issuance

import (
	"strings"
	"time"
)

// ResidentID is a parsed, valid resident identity number (GB 11643-1999).
type ResidentID struct {
	Number     string // normalised: 18 characters, check character X upper case
	RegionCode string // first six digits (GB/T 2260 at issue time)
	BirthDate  time.Time
	Sequence   string // digits 15–17
	Gender     Gender // from the sequence digit (17th): odd male, even female
}

// provinceCodes are the first two digits of GB/T 2260 province-level codes.
var provinceCodes = map[string]bool{
	"11": true, "12": true, "13": true, "14": true, "15": true,
	"21": true, "22": true, "23": true,
	"31": true, "32": true, "33": true, "34": true, "35": true, "36": true, "37": true,
	"41": true, "42": true, "43": true, "44": true, "45": true, "46": true,
	"50": true, "51": true, "52": true, "53": true, "54": true,
	"61": true, "62": true, "63": true, "64": true, "65": true,
	"71": true, "81": true, "82": true,
}

var idWeights = [17]int{7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2}

const idCheckChars = "10X98765432"

// ResidentIDCheckChar returns the ISO 7064 MOD 11-2 check character for the
// first 17 digits of a resident ID. It returns 0 if body is not 17 digits.
func ResidentIDCheckChar(body string) byte {
	if len(body) != 17 {
		return 0
	}
	sum := 0
	for i := 0; i < 17; i++ {
		c := body[i]
		if c < '0' || c > '9' {
			return 0
		}
		sum += int(c-'0') * idWeights[i]
	}
	return idCheckChars[sum%11]
}

// ParseResidentID validates s as an 18-character resident identity number
// per GB 11643-1999: a plausible region (a real province prefix), a real
// birth date not after now, and the MOD 11-2 check character. Surrounding
// space is trimmed and a lower-case x check character is accepted and
// normalised. Errors are *ValidationError on field "id_number" and never
// contain the number.
func ParseResidentID(s string, now time.Time) (ResidentID, error) {
	s = strings.ToUpper(strings.TrimSpace(s))
	if len(s) != 18 {
		return ResidentID{}, Invalid("id_number", "resident ID must be 18 characters")
	}
	for i := 0; i < 17; i++ {
		if s[i] < '0' || s[i] > '9' {
			return ResidentID{}, Invalid("id_number", "resident ID must be 17 digits and a check character")
		}
	}
	if c := s[17]; (c < '0' || c > '9') && c != 'X' {
		return ResidentID{}, Invalid("id_number", "bad check character")
	}
	if !provinceCodes[s[:2]] {
		return ResidentID{}, Invalid("id_number", "unknown region code")
	}
	if s[2:6] == "0000" {
		return ResidentID{}, Invalid("id_number", "region code is not a county-level code")
	}
	birth, err := time.Parse("20060102", s[6:14])
	if err != nil || birth.Format("20060102") != s[6:14] {
		return ResidentID{}, Invalid("id_number", "bad birth date")
	}
	if birth.Year() < 1900 {
		return ResidentID{}, Invalid("id_number", "bad birth date")
	}
	y, m, d := now.Date()
	if birth.After(time.Date(y, m, d, 0, 0, 0, 0, time.UTC)) {
		return ResidentID{}, Invalid("id_number", "birth date in the future")
	}
	if ResidentIDCheckChar(s[:17]) != s[17] {
		return ResidentID{}, Invalid("id_number", "check character does not match")
	}
	g := GenderFemale
	if (s[16]-'0')%2 == 1 {
		g = GenderMale
	}
	return ResidentID{Number: s, RegionCode: s[:6], BirthDate: birth, Sequence: s[14:17], Gender: g}, nil
}

// AgeAt returns the age in whole years on now of someone born on birth
// (calendar dates compared, time zones ignored).
func AgeAt(birth, now time.Time) int {
	by, bm, bd := birth.Date()
	ny, nm, nd := now.Date()
	age := ny - by
	if nm < bm || (nm == bm && nd < bd) {
		age--
	}
	return age
}
