package webhook

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"net"
	"net/http"
	"net/netip"
	"os"
	"syscall"
	"time"

	"github.com/volcard/volcard/issuance/feed"
)

// guardedClient is the default client: no proxy, no redirects, and a
// dialer that refuses every address the policy does not permit after the
// name was resolved, so that a name pointed at an internal address after
// the endpoint was registered (DNS rebinding) is refused as well.
func guardedClient(timeout time.Duration, p feed.AddrPolicy) *http.Client {
	d := &net.Dialer{Timeout: timeout, KeepAlive: 30 * time.Second, Control: dialControl(p)}
	tr := &http.Transport{
		Proxy:                 nil, // a proxy would reach what the dialer refuses
		DialContext:           d.DialContext,
		ForceAttemptHTTP2:     true,
		MaxIdleConns:          100,
		MaxIdleConnsPerHost:   32,
		IdleConnTimeout:       90 * time.Second,
		TLSHandshakeTimeout:   timeout,
		ExpectContinueTimeout: time.Second,
	}
	return &http.Client{Timeout: timeout, Transport: tr,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

// dialControl runs after resolution, once per address tried, before the
// connection is made.
func dialControl(p feed.AddrPolicy) func(network, address string, _ syscall.RawConn) error {
	return func(_, address string, _ syscall.RawConn) error {
		ap, err := netip.ParseAddrPort(address)
		if err != nil || !p.Permits(ap.Addr()) {
			return feed.ErrAddrNotAllowed
		}
		return nil
	}
}

// reason is the stored, shown reason of a failed request: a fixed phrase,
// never the dial error itself (it names internal addresses).
func reason(err error) string {
	var (
		dns  *net.DNSError
		ne   net.Error
		cert *tls.CertificateVerificationError
		rec  tls.RecordHeaderError
		uae  x509.UnknownAuthorityError
		hne  x509.HostnameError
		cie  x509.CertificateInvalidError
	)
	switch {
	case errors.Is(err, feed.ErrAddrNotAllowed):
		return "address not allowed"
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, os.ErrDeadlineExceeded),
		errors.As(err, &ne) && ne.Timeout():
		return "timeout"
	case errors.Is(err, syscall.ECONNREFUSED):
		return "connection refused"
	case errors.Is(err, syscall.ECONNRESET):
		return "connection reset"
	case errors.Is(err, syscall.EHOSTUNREACH), errors.Is(err, syscall.ENETUNREACH):
		return "host unreachable"
	case errors.As(err, &dns):
		return "host not found"
	case errors.As(err, &cert), errors.As(err, &uae), errors.As(err, &hne), errors.As(err, &cie):
		return "TLS certificate not accepted"
	case errors.As(err, &rec):
		return "TLS handshake failed"
	case errors.Is(err, context.Canceled):
		return "canceled"
	default:
		return "connection failed"
	}
}
