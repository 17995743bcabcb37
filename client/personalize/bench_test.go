package personalize_test

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/volcard/volcard/cardio"
	"github.com/volcard/volcard/cardio/emv"
	"github.com/volcard/volcard/cardio/gp"
	"github.com/volcard/volcard/cardio/pcsc/pcsctest"
	"github.com/volcard/volcard/client/personalize"
)

// BenchmarkPersonalizePCSC personalizes one blank software card per
// iteration through the real pcscd/vpcd, against the HTTP server on
// PostgreSQL. As in production, neither the server nor the card shares the
// client's process: the server (newWorld) runs in one child process and
// the blank cards are served by another (this test binary re-executed).
// Setup (apply, approve, bank answer, card insertion) runs with the timer
// stopped. Reported per card: apdus/card;
// roundtrips/card, the HTTP requests after the session opened (goal ≤ 2);
// wall-ms/card, card detected → result, and open-ms/card, the opening
// request in it (data preparation: the per-card RSA key); card-ms/card,
// the time spent in the APDU exchanges, and server-step-ms/card, the one
// HTTP round trip the card waits through between INITIALIZE UPDATE and
// EXTERNAL AUTHENTICATE (the server holds the keys), reported apart as for
// check-in taps; floor-ms, APDUs × the APDU round trip measured through
// pcscd to the same card right after each personalization (a SELECT PPSE);
// card/floor (the totals' ratio), card/floor-p50 and -p90
// (the same ratio card by card, each against the floor measured after it:
// its median and 90th percentile), and card+step/floor, which counts the server
// step in as well. card-busy-ms/card is the software card's own
// computation inside those exchanges (its DES and RSA: SCP02 unwrapping,
// the commit of the application, the DDA signature), measured in the card
// process around each command (pcsctest.CardProcess.Busy, read right after
// the personalization, as BenchmarkTapPCSC reads it after each tap);
// (card−busy)/floor is the exchanges' time without it: what the client,
// pcscd and the driver add to the floor, and card/(floor+busy) counts it in
// the floor instead (a hardware card's computation is part of any
// transaction with it). The goal is (card−busy)/floor ≤ 1.25 (totals'
// ratio); card/floor stays reported.
//
//	scripts/with-postgres.sh go test ./client/personalize -run '^$' -bench PersonalizePCSC -benchtime 20x
func BenchmarkPersonalizePCSC(b *testing.B) {
	w := startServerProcess(b)
	readers := pcsctest.Start(b)
	slot := pcsctest.Slot(b)
	ctx := b.Context()
	r := &personalize.Runner{API: w.api, Readers: readers, Reader: slot.Reader}
	sel, err := gp.Select(emv.PPSEName).Encode()
	require.NoError(b, err)
	var apdus, trips, probes int
	var wall, cardTime, open, cardIO, busy, probeT time.Duration
	var card *pcsctest.CardProcess
	var ratios []float64 // per card: its exchanges ÷ its own floor
	b.StopTimer()
	for i := 0; i < b.N; i++ {
		v := w.apply(fmt.Sprintf("刘%s", string(rune('一'+i%50))))
		w.waitBankApproved(v)
		if img := w.blankImage(uint32(0x7000 + i)); card == nil {
			card = pcsctest.InsertProcess(b, slot, img)
		} else {
			card.Swap(b, img)
		}
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
		busy += card.Busy(b)
		// The floor, under the same conditions: as many APDU round trips
		// (a SELECT PPSE) to the card just personalized, through pcscd.
		conn, err := readers.Connect(ctx, slot.Reader, cardio.ShareExclusive)
		require.NoError(b, err)
		var cardFloor time.Duration
		for range st.APDUs {
			t0 := time.Now()
			_, err := conn.Transmit(ctx, sel)
			cardFloor += time.Since(t0)
			require.NoError(b, err)
			probes++
		}
		probeT += cardFloor
		ratios = append(ratios, float64(st.CardIO)/float64(cardFloor))
		require.NoError(b, conn.Disconnect(ctx))
	}
	slices.Sort(ratios)
	rtt := probeT / time.Duration(probes)
	n := float64(b.N)
	perAPDUs := float64(apdus) / n
	floor := perAPDUs * float64(rtt) / float64(time.Millisecond)
	ms := func(d time.Duration) float64 { return float64(d) / n / float64(time.Millisecond) }
	b.ReportMetric(perAPDUs, "apdus/card")
	b.ReportMetric(float64(trips)/n, "roundtrips/card")
	b.ReportMetric(ms(wall), "wall-ms/card")
	b.ReportMetric(ms(open), "open-ms/card")
	b.ReportMetric(ms(cardIO), "card-ms/card")
	b.ReportMetric(ms(cardTime-cardIO), "server-step-ms/card")
	b.ReportMetric(ms(busy), "card-busy-ms/card")
	b.ReportMetric(float64(rtt)/float64(time.Microsecond), "apdu-rtt-µs")
	b.ReportMetric(floor, "floor-ms")
	b.ReportMetric(ms(cardIO)/floor, "card/floor")
	b.ReportMetric(ms(cardTime)/floor, "card+step/floor")
	b.ReportMetric(ms(cardIO-busy)/floor, "(card−busy)/floor")
	b.ReportMetric(ms(cardIO)/(floor+ms(busy)), "card/(floor+busy)")
	b.ReportMetric(ratios[len(ratios)/2], "card/floor-p50")
	b.ReportMetric(ratios[len(ratios)*9/10], "card/floor-p90")
}
