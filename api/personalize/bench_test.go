package personalize_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/volcard/volcard/api/personalize"
	"github.com/volcard/volcard/cardio"
	"github.com/volcard/volcard/cardio/emv"
	"github.com/volcard/volcard/cardio/gp"
	"github.com/volcard/volcard/cardio/pcsc/pcsctest"
)

// BenchmarkPersonalizePCSC personalizes one blank cardsim card per
// iteration through the real pcscd/vpcd, against the HTTP server on
// PostgreSQL. Setup (apply, approve, bank answer, card insertion) runs with
// the timer stopped. Reported per card: APDUs, HTTP round trips after the
// session opened, wall time (open → result), card time (first APDU → last
// response, which includes the one HTTP round trip between the batches),
// and both over the floor: APDUs × the APDU round trip measured through
// pcscd in the same run (a SELECT PPSE), and card time over the card's own
// APDU I/O time for the same commands (card/apdu-io: what the server adds
// while the card is in the reader).
//
//	scripts/with-postgres.sh go test ./api/personalize -run '^$' -bench PersonalizePCSC -benchtime 20x
func BenchmarkPersonalizePCSC(b *testing.B) {
	w := newWorld(b)
	readers := pcsctest.Start(b)
	slot := pcsctest.Slot(b)
	ctx := b.Context()
	r := &personalize.Runner{API: w.api, Readers: readers, Reader: slot.Reader}
	var apdus, trips int
	var wall, cardTime, open, cardIO time.Duration
	b.StopTimer()
	for i := 0; i < b.N; i++ {
		v := w.apply(fmt.Sprintf("刘%s", string(rune('一'+i%50))))
		w.waitBankApproved(v)
		vs := pcsctest.Insert(b, slot, w.blankCard(uint32(0x7000+i)))
		b.StartTimer()
		_, st, err := r.Personalize(ctx, personalize.Request{ApplicationID: v.AppID, PIN: "1357"})
		b.StopTimer()
		require.NoError(b, err)
		apdus += st.APDUs
		trips += st.RoundTrips
		wall += st.Total // wait for card → result
		cardTime += st.CardTime
		open += st.Open
		cardIO += st.CardIO
		if i < b.N-1 {
			require.NoError(b, vs.Remove())
			rctx, cancel := context.WithTimeout(ctx, 10*time.Second)
			require.NoError(b, readers.WaitForRemoval(rctx, slot.Reader))
			cancel()
		}
	}
	// The floor: one APDU round trip through pcscd to the same card.
	conn, err := readers.Connect(ctx, slot.Reader, cardio.ShareExclusive)
	require.NoError(b, err)
	defer conn.Disconnect(context.Background())
	sel, err := gp.Select(emv.PPSEName).Encode()
	require.NoError(b, err)
	const probes = 300
	t0 := time.Now()
	for range probes {
		_, err := conn.Transmit(ctx, sel)
		require.NoError(b, err)
	}
	rtt := time.Since(t0) / probes
	n := float64(b.N)
	perAPDUs := float64(apdus) / n
	floor := time.Duration(perAPDUs * float64(rtt))
	ms := func(d time.Duration) float64 { return float64(d) / n / float64(time.Millisecond) }
	b.ReportMetric(perAPDUs, "apdus/card")
	b.ReportMetric(float64(trips)/n, "roundtrips/card")
	b.ReportMetric(ms(wall), "wall-ms/card")
	b.ReportMetric(ms(open), "open-ms/card")
	b.ReportMetric(ms(cardTime), "card-ms/card")
	b.ReportMetric(ms(cardIO), "cardio-ms/card")
	b.ReportMetric(float64(rtt)/float64(time.Microsecond), "apdu-rtt-µs")
	b.ReportMetric(float64(floor)/float64(time.Millisecond), "floor-ms")
	b.ReportMetric(ms(cardTime)/(float64(floor)/float64(time.Millisecond)), "card/floor")
	b.ReportMetric(ms(wall)/(float64(floor)/float64(time.Millisecond)), "wall/floor")
	// The stricter floor: the personalization's own APDU exchanges (bigger
	// APDUs, RSA on the card) without any server time in between.
	b.ReportMetric(float64(cardTime)/float64(cardIO), "card/apdu-io")
}
