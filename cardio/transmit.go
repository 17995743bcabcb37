package cardio

import (
	"context"
	"fmt"
)

// maxChain bounds the GET RESPONSE / re-send loop so a misbehaving card
// cannot keep Transmit busy forever.
const maxChain = 32

// Transmit sends cmd to card and returns the complete response.
//
// It handles the T=0 style status words transparently: on 61xx it sends
// GET RESPONSE (00 C0 00 00 xx) and concatenates the data until the card
// stops answering 61xx; on 6Cxx it re-sends cmd once with Le=xx. The
// returned Response always carries the final status word; the error is
// non-nil either for a transport failure (for example ErrCardRemoved), a
// malformed response, or a status word other than 9000 (see Response.Err),
// in which case the Response is returned too.
func Transmit(ctx context.Context, card Card, cmd Command) (Response, error) {
	if card == nil {
		return Response{}, fmt.Errorf("transmit %02X%02X: nil card: %w", cmd.CLA, cmd.INS, ErrNoCard)
	}
	resp, err := exchange(ctx, card, cmd)
	if err != nil {
		return Response{}, err
	}
	resent := false
	var data []byte
	for i := 0; ; i++ {
		if i >= maxChain {
			return resp, fmt.Errorf("transmit %02X%02X: %w", cmd.CLA, cmd.INS, ErrTooManyResponses)
		}
		switch resp.SW1() {
		case 0x6C:
			if resent {
				return resp, fmt.Errorf("transmit %02X%02X: repeated 6Cxx: %w", cmd.CLA, cmd.INS, ErrTooManyResponses)
			}
			resent = true
			again := cmd
			again.Le = shortLe(resp.SW2())
			resp, err = exchange(ctx, card, again)
			if err != nil {
				return Response{}, err
			}
			continue
		case 0x61:
			data = append(data, resp.Data...)
			gr := Command{CLA: cmd.CLA & 0x03, INS: INSGetResponse, Le: shortLe(resp.SW2())}
			resp, err = exchange(ctx, card, gr)
			if err != nil {
				return Response{}, err
			}
			continue
		}
		break
	}
	if len(data) > 0 {
		resp.Data = append(data, resp.Data...)
	}
	if err := resp.Err(); err != nil {
		return resp, fmt.Errorf("transmit %02X%02X%02X%02X: %w", cmd.CLA, cmd.INS, cmd.P1, cmd.P2, err)
	}
	return resp, nil
}

func exchange(ctx context.Context, card Card, cmd Command) (Response, error) {
	if err := ctx.Err(); err != nil {
		return Response{}, fmt.Errorf("transmit %02X%02X: %w", cmd.CLA, cmd.INS, err)
	}
	raw, err := cmd.Encode()
	if err != nil {
		return Response{}, err
	}
	out, err := card.Transmit(ctx, raw)
	if err != nil {
		return Response{}, fmt.Errorf("transmit %02X%02X: %w", cmd.CLA, cmd.INS, err)
	}
	resp, err := ParseResponse(out)
	if err != nil {
		return Response{}, fmt.Errorf("transmit %02X%02X: %w", cmd.CLA, cmd.INS, err)
	}
	return resp, nil
}
