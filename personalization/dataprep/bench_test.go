package dataprep_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/volcard/volcard/cardio"
	"github.com/volcard/volcard/cardio/cardsim"
	"github.com/volcard/volcard/personalization/dataprep"
)

// BenchmarkCardPersonalize is the software card's own work in one
// personalization: the card's answers to both batches (SELECT, GET DATA,
// INITIALIZE UPDATE; EXTERNAL AUTHENTICATE, INSTALL, every STORE DATA with
// its SCP02 unwrapping and the commit of the application, the read-back and
// the DDA signature), in process, without a reader, a driver or the server.
// The server's parts (data preparation, the second batch) and a fresh blank
// card per iteration are made with the timer stopped. It is the part of
// BenchmarkPersonalizePCSC's card-busy-ms/card that the card's code decides.
//
//	go test ./personalization/dataprep -run '^$' -bench CardPersonalize
func BenchmarkCardPersonalize(b *testing.B) {
	ctx := context.Background()
	e := newEnv(b)
	p, err := e.prep.Prepare(ctx, input(b, "246810"))
	require.NoError(b, err)
	process := func(card *cardsim.Card, cmds []cardio.Command) [][]byte {
		out := make([][]byte, len(cmds))
		for i, c := range cmds {
			raw, err := c.Encode()
			if err != nil {
				b.Fatal(err)
			}
			b.StartTimer()
			out[i], err = card.Process(raw)
			b.StopTimer()
			if err != nil || len(out[i]) < 2 || out[i][len(out[i])-2] != 0x90 {
				b.Fatalf("command %d: % X %v", i, out[i], err)
			}
		}
		return out
	}
	var apdus int
	b.StopTimer()
	for i := 0; i < b.N; i++ {
		card := blankCard(b, e.kmc, uint32(0x100+i))
		s, first, err := dataprep.FirstBatch(ctx, e.keys, dataprep.SessionOptions{})
		require.NoError(b, err)
		r1 := process(card, first)
		iu := r1[2][:len(r1[2])-2]
		batch, err := dataprep.SecondBatch(s, iu, p, testNow, []byte{0x12, 0x34, 0x56, 0x78})
		require.NoError(b, err)
		process(card, batch.Commands)
		apdus += len(first) + len(batch.Commands)
	}
	b.ReportMetric(float64(apdus)/float64(b.N), "apdus/card")
}
