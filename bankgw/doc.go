// Package bankgw is the partner-bank gateway: the ISO 8583 message
// specification of docs/bank-interface.md (Spec), one typed struct per
// message, the field 48 TLV subfields, masking for logs, the framing (2-byte
// length header, optional HMAC-SHA256 MAC in field 128), STAN and RRN
// allocation, and the Client that talks to one or more bank hosts over
// moov-io/iso8583-connection (sign-on, echo, reconnect, bounded requests in
// flight, inbound advices and late responses), with Prometheus metrics of
// the link when Config.Registerer is set.
//
// The durable outbox and the mapping to application states live elsewhere;
// this package only moves messages and turns answers into typed results and
// errors.
package bankgw
