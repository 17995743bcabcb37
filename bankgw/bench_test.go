package bankgw_test

import (
	"context"
	"fmt"
	"log/slog"
	"sync/atomic"
	"testing"
	"time"

	connection "github.com/moov-io/iso8583-connection"

	"github.com/volcard/volcard/bankgw"
	"github.com/volcard/volcard/bankgw/banksim"
)

// BenchmarkRoundTrip measures 0300 inquiry round trips per second against
// the same banksim server through the bankgw.Client and through a raw
// iso8583-connection client with the same spec. Run both in one invocation:
//
//	go test -run '^$' -bench RoundTrip ./bankgw
func BenchmarkRoundTrip(b *testing.B) {
	quiet := slog.New(slog.DiscardHandler)
	sim, err := banksim.New(banksim.Config{Logger: quiet})
	if err != nil {
		b.Fatal(err)
	}
	if err := sim.Start("127.0.0.1:0"); err != nil {
		b.Fatal(err)
	}
	defer sim.Close()
	const an = "GD-BENCH-0001"

	b.Run("client", func(b *testing.B) {
		cfg := bankgw.DefaultConfig([]string{sim.Addr()}, tid, iid)
		cfg.Logger, cfg.MinConnections, cfg.MaxInFlight = quiet, 1, 256
		c, err := bankgw.NewClient(cfg)
		if err != nil {
			b.Fatal(err)
		}
		ctx := context.Background()
		if err := c.Connect(ctx); err != nil {
			b.Fatal(err)
		}
		defer c.Close(ctx)
		if _, err := c.Apply(ctx, adult(an)); err != nil {
			b.Fatal(err)
		}
		b.SetParallelism(16)
		b.ResetTimer()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				if _, err := c.Inquire(ctx, bankgw.InquiryRequest{ApplicationNumber: an}); err != nil {
					b.Error(err)
					return
				}
			}
		})
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "rt/s")
	})

	b.Run("raw", func(b *testing.B) {
		conn, err := connection.New(sim.Addr(), bankgw.Spec, bankgw.ReadLength, bankgw.WriteLength,
			connection.SendTimeout(10*time.Second), connection.IdleTime(time.Hour))
		if err != nil {
			b.Fatal(err)
		}
		if err := conn.Connect(); err != nil {
			b.Fatal(err)
		}
		defer conn.Close()
		var stan atomic.Uint32
		now := bankgw.TransmissionDateTime(time.Now())
		send := func(v any) error {
			msg, err := bankgw.NewMessage(v)
			if err != nil {
				return err
			}
			resp, err := conn.Send(msg)
			if err != nil {
				return err
			}
			if rc, _ := resp.GetString(bankgw.FieldResponseCode); rc != bankgw.CodeApproved {
				return fmt.Errorf("response code %s", rc)
			}
			return nil
		}
		next := func(mti string) bankgw.Header {
			s := fmt.Sprintf("%06d", stan.Add(1)%999999+1)
			return bankgw.Header{MTI: mti, TransmissionDateTime: now, STAN: s, TerminalID: tid, InstitutionID: iid}
		}
		if err := send(&bankgw.NetworkMessage{Header: next("0800"), NetworkCode: bankgw.NetworkSignOn}); err != nil {
			b.Fatal(err)
		}
		data, _ := bankgw.PrivateData{bankgw.TagApplicationNumber: an}.Encode()
		b.SetParallelism(16)
		b.ResetTimer()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				h := next("0300")
				if err := send(&bankgw.FileUpdateMessage{Header: h, RRN: "6328" + "00" + h.STAN, PrivateData: data,
					FileUpdateCode: string(bankgw.FileInquiry), FileName: bankgw.FileName}); err != nil {
					b.Error(err)
					return
				}
			}
		})
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "rt/s")
	})
}
