package cardio

import "fmt"

// AFLEntry is one 4-byte entry of an application file locator (tag 94).
type AFLEntry struct {
	// SFI is the short file identifier, 1..30.
	SFI byte
	// First and Last are the first and last record numbers, 1..255.
	First, Last byte
	// ODA is how many records, starting with First, take part in offline
	// data authentication.
	ODA byte
}

// Records returns the record numbers First..Last.
func (e AFLEntry) Records() []byte {
	out := make([]byte, 0, int(e.Last)-int(e.First)+1)
	for r := int(e.First); r <= int(e.Last); r++ {
		out = append(out, byte(r))
	}
	return out
}

// ForODA reports whether record rec of this entry is signed for ODA.
func (e AFLEntry) ForODA(rec byte) bool {
	return rec >= e.First && int(rec) < int(e.First)+int(e.ODA)
}

// ParseAFL parses an AFL: a multiple of 4 bytes, each entry SFI<<3, first
// record, last record, number of records for ODA (EMV Book 3, 10.2).
func ParseAFL(b []byte) ([]AFLEntry, error) {
	if len(b) == 0 || len(b)%4 != 0 {
		return nil, fmt.Errorf("parse AFL: length %d is not a positive multiple of 4: %w", len(b), ErrMalformedAFL)
	}
	out := make([]AFLEntry, 0, len(b)/4)
	for i := 0; i < len(b); i += 4 {
		e := AFLEntry{SFI: b[i] >> 3, First: b[i+1], Last: b[i+2], ODA: b[i+3]}
		switch {
		case b[i]&0x07 != 0:
			return nil, fmt.Errorf("parse AFL entry %d: low bits of SFI byte set: %w", i/4+1, ErrMalformedAFL)
		case e.SFI == 0 || e.SFI > 30:
			return nil, fmt.Errorf("parse AFL entry %d: SFI %d out of 1..30: %w", i/4+1, e.SFI, ErrMalformedAFL)
		case e.First == 0:
			return nil, fmt.Errorf("parse AFL entry %d: first record 0: %w", i/4+1, ErrMalformedAFL)
		case e.Last < e.First:
			return nil, fmt.Errorf("parse AFL entry %d: last record %d before first %d: %w", i/4+1, e.Last, e.First, ErrMalformedAFL)
		case int(e.ODA) > int(e.Last)-int(e.First)+1:
			return nil, fmt.Errorf("parse AFL entry %d: %d ODA records exceed the range: %w", i/4+1, e.ODA, ErrMalformedAFL)
		}
		out = append(out, e)
	}
	return out, nil
}

// EncodeAFL returns the wire form of entries.
func EncodeAFL(entries []AFLEntry) []byte {
	out := make([]byte, 0, 4*len(entries))
	for _, e := range entries {
		out = append(out, e.SFI<<3, e.First, e.Last, e.ODA)
	}
	return out
}

// RecordCount returns how many READ RECORD commands the AFL needs.
func RecordCount(entries []AFLEntry) int {
	n := 0
	for _, e := range entries {
		n += int(e.Last) - int(e.First) + 1
	}
	return n
}
