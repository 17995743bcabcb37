package bankgw

import (
	"context"
	"log/slog"
	"net"
	"testing"
	"testing/synctest"
	"time"

	"github.com/moov-io/iso8583"
	connection "github.com/moov-io/iso8583-connection"
	"github.com/stretchr/testify/require"
)

// TestTimeoutThenLateResponse runs a request over net.Pipe in a synctest
// bubble: the bank answers after 15 s of fake time, the request times out
// at 10 s with ErrTimeout, and the answer reaches the LateResponseHandler.
func TestTimeoutThenLateResponse(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		late := make(chan LateResponse, 1)
		c, err := NewClient(Config{
			Addrs: []string{"pipe"}, TerminalID: "VOLCARD1", InstitutionID: "GDVOLCARD000001",
			Logger:              slog.New(slog.DiscardHandler),
			LateResponseHandler: func(_ context.Context, r LateResponse) { late <- r },
		})
		require.NoError(t, err)
		ours, theirs := net.Pipe()

		bankOpts := []connection.Option{
			connection.IdleTime(time.Hour), connection.ReadTimeout(time.Hour),
			connection.InboundMessageHandler(func(bc *connection.Connection, m *iso8583.Message) {
				var req FileUpdateMessage
				if Decode(m, &req) != nil {
					return
				}
				time.Sleep(15 * time.Second)
				resp := req
				resp.MTI, resp.ResponseCode = MTIFileUpdateResponse, CodeRecordNotFound
				msg, err := NewMessage(&resp)
				if err == nil {
					_ = bc.Reply(msg)
				}
			}),
			func(o *connection.Options) error {
				o.RequestIDGenerator, o.MessageReader, o.MessageWriter = requestIDs{}, c.codec, c.codec
				return nil
			},
		}
		bank, err := connection.NewFrom(theirs, Spec, ReadLength, WriteLength, bankOpts...)
		require.NoError(t, err)
		conn, err := connection.NewFrom(ours, Spec, ReadLength, WriteLength,
			connection.IdleTime(time.Hour), connection.ReadTimeout(time.Hour),
			connection.InboundMessageHandler(c.inbound),
			func(o *connection.Options) error {
				o.RequestIDGenerator, o.MessageReader, o.MessageWriter = requestIDs{}, c.codec, c.codec
				return nil
			})
		require.NoError(t, err)

		h, tr, err := c.header(t.Context(), MTIFileUpdateRequest)
		require.NoError(t, err)
		pd, _ := PrivateData{TagApplicationNumber: "GD-S-0001"}.Encode()
		msg, err := NewMessage(&FileUpdateMessage{Header: h, RRN: tr.RRN, PrivateData: pd, FileUpdateCode: "5", FileName: FileName})
		require.NoError(t, err)

		start := time.Now()
		_, err = c.sendOn(t.Context(), conn, msg)
		require.ErrorIs(t, err, ErrTimeout)
		require.Equal(t, 10*time.Second, time.Since(start))

		r := <-late
		require.Equal(t, 15*time.Second, time.Since(start))
		require.Equal(t, tr.STAN, r.STAN)
		require.Equal(t, CodeRecordNotFound, r.ResponseCode)
		require.Equal(t, "GD-S-0001", r.Result.ApplicationNumber)

		require.NoError(t, conn.Close())
		require.NoError(t, bank.Close())
		require.NoError(t, c.Close(t.Context()))
	})
}
