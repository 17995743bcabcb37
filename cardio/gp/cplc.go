package gp

import (
	"encoding/hex"
	"fmt"
	"strings"

	"github.com/volcard/volcard/cardio"
)

// CPLCLen is the length of the card production life cycle data (tag 9F7F).
const CPLCLen = 42

// GetCPLC returns GET DATA for the CPLC (80 CA 9F 7F 00), answered by the
// security domain.
func GetCPLC() cardio.Command {
	return cardio.Command{CLA: CLAGP, INS: INSGetData, P1: 0x9F, P2: 0x7F, Le: 256}
}

// CPLC is the card production life cycle data: who made the chip and when.
// ICSerial is the chip serial number the issuer records.
type CPLC struct {
	ICFabricator     cardio.Hex `json:"icFabricator"`
	ICType           cardio.Hex `json:"icType"`
	OSID             cardio.Hex `json:"osID"`
	OSReleaseDate    cardio.Hex `json:"osReleaseDate"`
	OSReleaseLevel   cardio.Hex `json:"osReleaseLevel"`
	ICFabricationDay cardio.Hex `json:"icFabricationDate"`
	ICSerial         cardio.Hex `json:"icSerial"`
	ICBatch          cardio.Hex `json:"icBatch"`
	// Rest are the module, embedding, pre-personalization and
	// personalization fields (bytes 19-42), kept raw.
	Rest cardio.Hex `json:"rest"`
}

// ChipSerial returns fabricator || IC type || serial number as upper-case
// hex: unique per chip, what the issuer records as the card's chip serial.
func (c *CPLC) ChipSerial() string {
	return strings.ToUpper(hex.EncodeToString(c.ICFabricator) + hex.EncodeToString(c.ICType) + hex.EncodeToString(c.ICSerial))
}

// ParseCPLC parses a GET DATA 9F7F answer: either 9F 7F 2A followed by the
// 42 bytes, or the 42 bytes alone.
func ParseCPLC(b []byte) (*CPLC, error) {
	if len(b) == CPLCLen+3 && b[0] == 0x9F && b[1] == 0x7F && b[2] == CPLCLen {
		b = b[3:]
	}
	if len(b) != CPLCLen {
		return nil, fmt.Errorf("parse CPLC: %d bytes: %w", len(b), ErrMalformedCPLC)
	}
	return &CPLC{
		ICFabricator: clone(b[0:2]), ICType: clone(b[2:4]), OSID: clone(b[4:6]), OSReleaseDate: clone(b[6:8]),
		OSReleaseLevel: clone(b[8:10]), ICFabricationDay: clone(b[10:12]), ICSerial: clone(b[12:16]),
		ICBatch: clone(b[16:18]), Rest: clone(b[18:42]),
	}, nil
}
