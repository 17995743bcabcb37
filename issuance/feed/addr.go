package feed

import (
	"errors"
	"net/netip"
	"strings"
)

// ErrAddrNotAllowed is returned when a webhook URL names, or its host
// resolves to, an address webhooks may not reach.
var ErrAddrNotAllowed = errors.New("feed: webhook address not allowed")

// internalNets are the addresses a webhook may not reach unless the
// operator allows them: this host, private networks, link-local (cloud
// metadata at 169.254.169.254), carrier-grade NAT, "this network" and
// broadcast. Unspecified and multicast addresses are refused by
// Internal as well.
var internalNets = []netip.Prefix{
	netip.MustParsePrefix("0.0.0.0/8"),
	netip.MustParsePrefix("10.0.0.0/8"),
	netip.MustParsePrefix("100.64.0.0/10"),
	netip.MustParsePrefix("127.0.0.0/8"),
	netip.MustParsePrefix("169.254.0.0/16"),
	netip.MustParsePrefix("172.16.0.0/12"),
	netip.MustParsePrefix("192.168.0.0/16"),
	netip.MustParsePrefix("255.255.255.255/32"),
	netip.MustParsePrefix("::1/128"),
	netip.MustParsePrefix("fc00::/7"),
	netip.MustParsePrefix("fe80::/10"),
}

// Internal reports whether ip is an address a webhook may not reach by
// default: loopback, private (RFC 1918, fc00::/7), link-local
// (169.254/16, fe80::/10), CGNAT (100.64/10), unspecified, multicast or
// broadcast. IPv4-mapped IPv6 addresses are judged as IPv4.
func Internal(ip netip.Addr) bool {
	ip = ip.Unmap().WithZone("")
	if !ip.IsValid() || ip.IsUnspecified() || ip.IsMulticast() {
		return true
	}
	for _, p := range internalNets {
		if p.Contains(ip) {
			return true
		}
	}
	return false
}

// AddrPolicy says which addresses webhook requests may reach: every
// address that is not Internal, and the Internal ones inside Allow (the
// operator's VOLCARD_WEBHOOK_ALLOW_PRIVATE, for tests, the simulator or
// a receiver on the same private network). The zero policy allows no
// Internal address.
type AddrPolicy struct {
	Allow []netip.Prefix
}

// ParseAddrPolicy reads a comma-separated list of addresses or prefixes
// ("127.0.0.1", "10.1.0.0/16", "::1"); the empty text is the zero
// policy.
func ParseAddrPolicy(s string) (AddrPolicy, error) {
	var p AddrPolicy
	for f := range strings.SplitSeq(s, ",") {
		f = strings.TrimSpace(f)
		if f == "" {
			continue
		}
		if !strings.Contains(f, "/") {
			a, err := netip.ParseAddr(f)
			if err != nil {
				return AddrPolicy{}, errors.New("feed: allowed webhook address: want an IP address or prefix such as 127.0.0.1 or 10.0.0.0/8")
			}
			a = a.Unmap()
			p.Allow = append(p.Allow, netip.PrefixFrom(a, a.BitLen()))
			continue
		}
		pf, err := netip.ParsePrefix(f)
		if err != nil {
			return AddrPolicy{}, errors.New("feed: allowed webhook address: want an IP address or prefix such as 127.0.0.1 or 10.0.0.0/8")
		}
		p.Allow = append(p.Allow, pf.Masked())
	}
	return p, nil
}

// Permits reports whether a webhook request may reach ip.
func (p AddrPolicy) Permits(ip netip.Addr) bool {
	ip = ip.Unmap().WithZone("")
	if !Internal(ip) {
		return true
	}
	for _, a := range p.Allow {
		if a.Contains(ip) {
			return true
		}
	}
	return false
}

// String lists the allowed prefixes, comma-separated.
func (p AddrPolicy) String() string {
	s := make([]string, len(p.Allow))
	for i, a := range p.Allow {
		s[i] = a.String()
	}
	return strings.Join(s, ",")
}
