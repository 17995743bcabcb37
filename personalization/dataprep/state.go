package dataprep

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/volcard/volcard/cardio"
	"github.com/volcard/volcard/cardio/emv"
	"github.com/volcard/volcard/cardio/gp"
)

// preparedState is the serialized form of a Prepared card. It holds clear
// key material and personal data: Export's output must be sealed before it
// is stored (personalization seals it with pii).
type preparedState struct {
	AID        cardio.Hex   `json:"aid"`
	DGIs       []dgiState   `json:"dgis"`
	PAN        string       `json:"pan"`
	PSN        byte         `json:"psn"`
	Expiry     time.Time    `json:"expiry"`
	Records    []emv.Record `json:"records"`
	KDD        cardio.Hex   `json:"kdd,omitempty"`
	LegalName  string       `json:"legalName"`
	EmbossName string       `json:"embossName"`
	IDNumber   string       `json:"idNumber"`
	IDType     emv.IDType   `json:"idType"`
}

type dgiState struct {
	Tag       uint16     `json:"tag"`
	Data      cardio.Hex `json:"data"`
	Sensitive bool       `json:"sensitive,omitempty"`
}

// Export serializes p, clear keys and personal data included, so that a
// personalization can continue in another request or process. The bytes
// are secret: seal them (AES-GCM) before they leave memory, never log them.
func (p *Prepared) Export() ([]byte, error) {
	st := preparedState{
		AID: p.AID, PAN: p.PAN.Digits(), PSN: p.PSN, Expiry: p.Expiry, Records: p.Records, KDD: p.KDD,
		LegalName: p.legalName, EmbossName: p.embossName, IDNumber: p.idNumber.Clear(), IDType: p.idType,
	}
	for _, d := range p.DGIs {
		st.DGIs = append(st.DGIs, dgiState{Tag: d.Tag, Data: d.Data, Sensitive: d.Sensitive})
	}
	b, err := json.Marshal(st)
	if err != nil {
		return nil, fmt.Errorf("dataprep: export prepared card: %w", err)
	}
	return b, nil
}

// ImportPrepared restores a Prepared card made by Export. The ICC public
// key is not kept (the read-back checks the certificate record byte for
// byte instead).
func ImportPrepared(b []byte) (*Prepared, error) {
	var st preparedState
	if err := json.Unmarshal(b, &st); err != nil {
		return nil, fmt.Errorf("dataprep: import prepared card: %w", ErrInvalidInput)
	}
	pan, err := emv.NewPAN(st.PAN)
	if err != nil || len(st.DGIs) == 0 || len(st.Records) == 0 {
		return nil, invalid("prepared card", "incomplete")
	}
	p := &Prepared{
		AID: st.AID, PAN: pan, PSN: st.PSN, Expiry: st.Expiry, Records: st.Records, KDD: st.KDD,
		legalName: st.LegalName, embossName: st.EmbossName, idNumber: emv.NewIDNumber(st.IDNumber), idType: st.IDType,
	}
	for _, d := range st.DGIs {
		p.DGIs = append(p.DGIs, gp.DGI{Tag: d.Tag, Data: d.Data, Sensitive: d.Sensitive})
	}
	return p, nil
}

// batchState is the serialized form of a Batch: commands as raw APDUs.
type batchState struct {
	Commands []cardio.Hex `json:"commands"`
	ReadBack int          `json:"readBack"`
	Now      time.Time    `json:"now"`
	UN       cardio.Hex   `json:"un"`
}

// Export serializes b (its commands carry protected data only: MACed and,
// for sensitive DGIs, encrypted under the session DEK).
func (b *Batch) Export() ([]byte, error) {
	st := batchState{ReadBack: b.ReadBack, Now: b.Now, UN: b.UN}
	for _, c := range b.Commands {
		raw, err := c.Encode()
		if err != nil {
			return nil, fmt.Errorf("dataprep: export batch: %w", err)
		}
		st.Commands = append(st.Commands, raw)
	}
	out, err := json.Marshal(st)
	if err != nil {
		return nil, fmt.Errorf("dataprep: export batch: %w", err)
	}
	return out, nil
}

// ImportBatch restores a Batch made by Batch.Export.
func ImportBatch(raw []byte) (*Batch, error) {
	var st batchState
	if err := json.Unmarshal(raw, &st); err != nil {
		return nil, fmt.Errorf("dataprep: import batch: %w", ErrInvalidInput)
	}
	if st.ReadBack < 0 || st.ReadBack > len(st.Commands) || len(st.UN) != 4 {
		return nil, invalid("batch", "inconsistent")
	}
	b := &Batch{ReadBack: st.ReadBack, Now: st.Now, UN: st.UN}
	for _, c := range st.Commands {
		cmd, err := cardio.ParseCommand(c)
		if err != nil {
			return nil, invalid("batch", "malformed command")
		}
		b.Commands = append(b.Commands, cmd)
	}
	return b, nil
}
