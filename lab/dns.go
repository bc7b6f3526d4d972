package lab

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// This file holds a tiny authoritative DNS server (RFC 1035, no EDNS). It
// exists so tests can exercise a client that re-resolves a seed hostname,
// the way a Redis Cluster client re-resolves an ElastiCache configuration
// endpoint: one name answers with the current node IPs, and the test moves
// them.

// DNS wire constants (RFC 1035 section 4.1).
const (
	dnsHeaderLen = 12

	dnsTypeA    = 1
	dnsTypeAAAA = 28
	dnsClassIN  = 1

	dnsFlagQR     = 1 << 15
	dnsOpcodeMask = 0xF << 11
	dnsFlagAA     = 1 << 10
	dnsFlagTC     = 1 << 9
	dnsFlagRD     = 1 << 8

	dnsRcodeSuccess  = 0
	dnsRcodeFormErr  = 1
	dnsRcodeNXDomain = 3
	dnsRcodeNotImp   = 4

	// dnsMaxName is the longest name on the wire, length bytes included.
	dnsMaxName = 255
	// dnsMaxLabel is the longest label.
	dnsMaxLabel = 63
	// dnsAnswerLen is the size of one A record whose owner is a
	// compression pointer: pointer, type, class, TTL, RDLENGTH, address.
	dnsAnswerLen = 2 + 2 + 2 + 4 + 2 + 4

	// dnsMaxUDP is the largest UDP response without EDNS (RFC 1035 4.2.1).
	dnsMaxUDP = 512
	// dnsMaxTCP is the largest message the 2-byte TCP length prefix allows.
	dnsMaxTCP = 65535
)

// Reasons parseDNSQuery rejects a packet. The first two mean the packet
// gets no answer at all; errDNSOpcode gets NOTIMP and the rest FORMERR.
var (
	errDNSShort     = errors.New("dns: message shorter than a header")
	errDNSResponse  = errors.New("dns: message is a response, not a query")
	errDNSOpcode    = errors.New("dns: opcode not implemented")
	errDNSQDCount   = errors.New("dns: question count is not 1")
	errDNSTruncated = errors.New("dns: question runs past the end of the message")
	errDNSPointer   = errors.New("dns: compression pointer in question")
	errDNSLabelType = errors.New("dns: reserved label type")
	errDNSNameLen   = errors.New("dns: name longer than 255 bytes")
)

// dnsQuery is what the server needs from a request.
type dnsQuery struct {
	id    uint16
	flags uint16
	// name is the question name in presentation form: lower-cased labels
	// joined by dots, without the trailing dot ("" for the root), with '.',
	// '\' and bytes outside printable ASCII escaped as in master files, so
	// two different wire names never compare equal.
	name   string
	qtype  uint16
	qclass uint16
	// question is the raw question section (name, type, class), echoed in
	// the response exactly as the client sent it. nil when the question
	// could not be parsed.
	question []byte
}

// parseDNSQuery decodes the header and the single question of a request.
// It never panics on hostile input. On error the returned query still holds
// whatever was decoded before the problem (the ID and flags once the header
// is complete), so the caller can answer with an error code; see
// dnsErrorRcode. Sections after the question are ignored.
func parseDNSQuery(msg []byte) (dnsQuery, error) {
	var q dnsQuery
	if len(msg) < dnsHeaderLen {
		return q, errDNSShort
	}
	q.id = binary.BigEndian.Uint16(msg[0:])
	q.flags = binary.BigEndian.Uint16(msg[2:])
	if q.flags&dnsFlagQR != 0 {
		return q, errDNSResponse
	}
	if q.flags&dnsOpcodeMask != 0 {
		return q, errDNSOpcode
	}
	if qd := binary.BigEndian.Uint16(msg[4:]); qd != 1 {
		return q, errDNSQDCount
	}
	name, off, err := parseDNSName(msg, dnsHeaderLen)
	if err != nil {
		return q, err
	}
	if len(msg)-off < 4 {
		return q, errDNSTruncated
	}
	q.name = name
	q.qtype = binary.BigEndian.Uint16(msg[off:])
	q.qclass = binary.BigEndian.Uint16(msg[off+2:])
	q.question = msg[dnsHeaderLen : off+4]
	return q, nil
}

// parseDNSName decodes the uncompressed name starting at msg[off] and
// returns it in presentation form (see dnsQuery.name) with the offset just
// past it.
func parseDNSName(msg []byte, off int) (string, int, error) {
	var b strings.Builder
	wire := 0
	for {
		if off >= len(msg) {
			return "", 0, errDNSTruncated
		}
		n := int(msg[off])
		switch n & 0xC0 {
		case 0xC0:
			return "", 0, errDNSPointer
		case 0x40, 0x80:
			return "", 0, errDNSLabelType
		}
		wire += 1 + n
		if wire > dnsMaxName {
			return "", 0, errDNSNameLen
		}
		off++
		if n == 0 {
			return b.String(), off, nil
		}
		if len(msg)-off < n {
			return "", 0, errDNSTruncated
		}
		if b.Len() > 0 {
			b.WriteByte('.')
		}
		for _, c := range msg[off : off+n] {
			switch {
			case 'A' <= c && c <= 'Z':
				b.WriteByte(c + ('a' - 'A'))
			case c == '.' || c == '\\':
				b.WriteByte('\\')
				b.WriteByte(c)
			case c < '!' || c > '~':
				fmt.Fprintf(&b, "\\%03d", c)
			default:
				b.WriteByte(c)
			}
		}
		off += n
	}
}

// dnsErrorRcode maps a parseDNSQuery error to the response code to answer
// with; ok is false when the packet must be dropped without an answer
// (there is no complete header to answer to, or it is itself a response).
func dnsErrorRcode(err error) (rcode int, ok bool) {
	switch err {
	case errDNSShort, errDNSResponse:
		return 0, false
	case errDNSOpcode:
		return dnsRcodeNotImp, true
	default:
		return dnsRcodeFormErr, true
	}
}

// buildDNSResponse encodes the response to q: the question echoed (when
// there is one) and one A record per address, each owned by a compression
// pointer to the question name at offset 12, with TTL 0. If the message
// would exceed limit bytes, it carries as many records as fit and sets TC.
func buildDNSResponse(q dnsQuery, rcode int, answers []netip.Addr, limit int) []byte {
	if q.question == nil {
		answers = nil
	}
	flags := dnsFlagQR | q.flags&(dnsOpcodeMask|dnsFlagRD) | dnsFlagAA | uint16(rcode&0xF)
	if room := (limit - dnsHeaderLen - len(q.question)) / dnsAnswerLen; len(answers) > room {
		answers = answers[:max(room, 0)]
		flags |= dnsFlagTC
	}
	msg := make([]byte, 0, dnsHeaderLen+len(q.question)+dnsAnswerLen*len(answers))
	msg = binary.BigEndian.AppendUint16(msg, q.id)
	msg = binary.BigEndian.AppendUint16(msg, flags)
	qd := 0
	if q.question != nil {
		qd = 1
	}
	msg = binary.BigEndian.AppendUint16(msg, uint16(qd))
	msg = binary.BigEndian.AppendUint16(msg, uint16(len(answers)))
	msg = binary.BigEndian.AppendUint16(msg, 0) // NSCOUNT
	msg = binary.BigEndian.AppendUint16(msg, 0) // ARCOUNT
	msg = append(msg, q.question...)
	for _, a := range answers {
		msg = binary.BigEndian.AppendUint16(msg, 0xC000|dnsHeaderLen)
		msg = binary.BigEndian.AppendUint16(msg, dnsTypeA)
		msg = binary.BigEndian.AppendUint16(msg, dnsClassIN)
		msg = binary.BigEndian.AppendUint32(msg, 0) // TTL
		msg = binary.BigEndian.AppendUint16(msg, 4)
		ip := a.As4()
		msg = append(msg, ip[:]...)
	}
	return msg
}

// DNSServer answers A queries for one name with a settable list of IPv4
// addresses, over UDP and TCP on a loopback port. Other names get NXDOMAIN;
// other query types for the name get an empty NOERROR answer.
//
// It plays the part of a cluster configuration endpoint (such as an AWS
// ElastiCache one) whose name resolves to the current node IPs: point a
// client at it with [DNSServer.Resolver] and move the answer with
// [DNSServer.SetAddrs]. Answers carry TTL 0 so nothing caches them. Requests
// with EDNS are answered as if they had none.
type DNSServer struct {
	name  string // as given, without the trailing dot
	match string // lower-cased, for comparing with dnsQuery.name
	addr  string

	udp *net.UDPConn
	tcp *net.TCPListener

	addrs   atomic.Pointer[[]netip.Addr]
	queries atomic.Int64
	// others holds the addresses of the names set with SetName, keyed by
	// lower-cased name; replaced whole (copy on write) under mu.
	others atomic.Pointer[map[string][]netip.Addr]

	done chan struct{} // closed by Close, to stop accept back-off
	wg   sync.WaitGroup

	mu     sync.Mutex
	closed bool
	conns  map[net.Conn]struct{} // open TCP connections
}

// StartDNS starts a DNS server on host:0 (host must be a 127.x address; ""
// means 127.0.0.1), listening on the same port for UDP and TCP, that answers
// A queries for name (such as "cluster.keel.test"; case-insensitive, the
// trailing dot is optional) with addrs (IPv4 addresses in dotted form, may
// be empty). Close it with [DNSServer.Close].
func StartDNS(host, name string, addrs []string) (*DNSServer, error) {
	host, ip, err := loopbackHost(host)
	if err != nil {
		return nil, err
	}
	name, err = checkDNSName(name)
	if err != nil {
		return nil, err
	}
	parsed, err := parseIPv4s(addrs)
	if err != nil {
		return nil, err
	}
	udp, tcp, err := listenDNS(ip)
	if err != nil {
		return nil, fmt.Errorf("lab: DNS server on %s: %w", host, err)
	}
	d := &DNSServer{
		name:  name,
		match: strings.ToLower(name),
		addr:  net.JoinHostPort(host, strconv.Itoa(udp.LocalAddr().(*net.UDPAddr).Port)),
		udp:   udp,
		tcp:   tcp,
		done:  make(chan struct{}),
		conns: make(map[net.Conn]struct{}),
	}
	d.addrs.Store(&parsed)
	d.wg.Add(2)
	go d.serveUDP()
	go d.acceptTCP()
	return d, nil
}

// listenDNS binds UDP on a free port of ip, then TCP on the same port,
// trying again with a new port when TCP's is already taken.
func listenDNS(ip net.IP) (*net.UDPConn, *net.TCPListener, error) {
	var lastErr error
	for range 20 {
		udp, err := net.ListenUDP("udp4", &net.UDPAddr{IP: ip})
		if err != nil {
			return nil, nil, err
		}
		port := udp.LocalAddr().(*net.UDPAddr).Port
		tcp, err := net.ListenTCP("tcp4", &net.TCPAddr{IP: ip, Port: port})
		if err == nil {
			return udp, tcp, nil
		}
		udp.Close()
		lastErr = err
	}
	return nil, nil, fmt.Errorf("no port free for both UDP and TCP: %w", lastErr)
}

// checkDNSName validates a host name for StartDNS and strips one trailing
// dot. Labels are letters, digits, '-' and '_', 1 to 63 bytes each.
func checkDNSName(name string) (string, error) {
	trimmed := strings.TrimSuffix(name, ".")
	if trimmed == "" || len(trimmed)+2 > dnsMaxName {
		return "", fmt.Errorf("lab: DNS name %q: must be 1 to %d bytes", name, dnsMaxName-2)
	}
	for label := range strings.SplitSeq(trimmed, ".") {
		if label == "" || len(label) > dnsMaxLabel {
			return "", fmt.Errorf("lab: DNS name %q: labels must be 1 to %d bytes", name, dnsMaxLabel)
		}
		for _, c := range []byte(label) {
			if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '_') {
				return "", fmt.Errorf("lab: DNS name %q: labels may only hold letters, digits, '-' and '_'", name)
			}
		}
	}
	return trimmed, nil
}

// parseIPv4s parses dotted IPv4 addresses.
func parseIPv4s(addrs []string) ([]netip.Addr, error) {
	out := make([]netip.Addr, 0, len(addrs))
	for _, s := range addrs {
		a, err := netip.ParseAddr(s)
		if err != nil || !a.Is4() {
			return nil, fmt.Errorf("lab: DNS address %q is not an IPv4 address", s)
		}
		out = append(out, a)
	}
	return out, nil
}

// Addr returns the server's address, "127.0.0.1:PORT"; UDP and TCP share
// the port.
func (d *DNSServer) Addr() string { return d.addr }

// Name returns the name the server answers for, without a trailing dot.
func (d *DNSServer) Name() string { return d.name }

// SetAddrs replaces the addresses the name resolves to. Queries see either
// the old list or the new one, never a mix. If any address is not IPv4,
// SetAddrs returns an error and changes nothing.
func (d *DNSServer) SetAddrs(addrs []string) error {
	parsed, err := parseIPv4s(addrs)
	if err != nil {
		return err
	}
	d.addrs.Store(&parsed)
	return nil
}

// SetName makes the server answer for another name too, with addrs (nil
// or empty: the name exists without addresses), such as each cluster node's
// own host name. name follows StartDNS's rules; it may not be the server's
// main name, whose addresses SetAddrs sets.
func (d *DNSServer) SetName(name string, addrs []string) error {
	name, err := checkDNSName(name)
	if err != nil {
		return err
	}
	if strings.EqualFold(name, d.name) {
		return fmt.Errorf("lab: DNS name %q is the server's main name: use SetAddrs", name)
	}
	parsed, err := parseIPv4s(addrs)
	if err != nil {
		return err
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	next := map[string][]netip.Addr{}
	if cur := d.others.Load(); cur != nil {
		for k, v := range *cur {
			next[k] = v
		}
	}
	next[strings.ToLower(name)] = parsed
	d.others.Store(&next)
	return nil
}

// Addrs returns the addresses the name currently resolves to.
func (d *DNSServer) Addrs() []string {
	cur := *d.addrs.Load()
	out := make([]string, len(cur))
	for i, a := range cur {
		out[i] = a.String()
	}
	return out
}

// Queries returns how many queries the server has answered, over UDP and
// TCP, error answers included, counted as each answer is sent; dropped
// packets do not count.
func (d *DNSServer) Queries() int64 { return d.queries.Load() }

// Resolver returns a pure-Go resolver that sends every query to this server,
// over UDP or TCP as the resolver asks (it switches to TCP when a UDP answer
// is truncated). The resolver still consults the hosts file first, as Go's
// resolver always does.
func (d *DNSServer) Resolver() *net.Resolver {
	return &net.Resolver{
		PreferGo: true,
		Dial: func(ctx context.Context, network, _ string) (net.Conn, error) {
			var dialer net.Dialer
			return dialer.DialContext(ctx, network, d.addr)
		},
	}
}

// Close stops both listeners, closes open TCP connections and waits for all
// of the server's goroutines to exit. It is safe to call more than once;
// later calls also wait, and return nil.
func (d *DNSServer) Close() error {
	d.mu.Lock()
	if d.closed {
		d.mu.Unlock()
		d.wg.Wait()
		return nil
	}
	d.closed = true
	close(d.done)
	for c := range d.conns {
		c.Close()
	}
	d.mu.Unlock()
	err := errors.Join(d.udp.Close(), d.tcp.Close())
	d.wg.Wait()
	return err
}

// answer returns the response to msg, or nil when msg gets no response.
func (d *DNSServer) answer(msg []byte, limit int) []byte {
	q, err := parseDNSQuery(msg)
	if err != nil {
		rcode, ok := dnsErrorRcode(err)
		if !ok {
			return nil
		}
		return buildDNSResponse(q, rcode, nil, limit)
	}
	addrs, ok := d.lookup(q.name)
	if !ok {
		return buildDNSResponse(q, dnsRcodeNXDomain, nil, limit)
	}
	var answers []netip.Addr
	if q.qtype == dnsTypeA && q.qclass == dnsClassIN {
		answers = addrs
	}
	return buildDNSResponse(q, dnsRcodeSuccess, answers, limit)
}

// lookup returns the addresses of name (lower-cased, as dnsQuery.name is)
// and whether the server answers for it.
func (d *DNSServer) lookup(name string) ([]netip.Addr, bool) {
	if name == d.match {
		return *d.addrs.Load(), true
	}
	if others := d.others.Load(); others != nil {
		addrs, ok := (*others)[name]
		return addrs, ok
	}
	return nil, false
}

// serveUDP answers datagrams one at a time until the socket is closed.
func (d *DNSServer) serveUDP() {
	defer d.wg.Done()
	buf := make([]byte, 65536)
	for {
		n, from, err := d.udp.ReadFromUDPAddrPort(buf)
		if err != nil {
			if d.isClosed() {
				return
			}
			continue
		}
		resp := d.answer(buf[:n], dnsMaxUDP)
		if resp == nil {
			continue
		}
		// Counted before the answer leaves, so a client that got it never
		// sees a count without it.
		d.queries.Add(1)
		_, _ = d.udp.WriteToUDPAddrPort(resp, from)
	}
}

// acceptTCP accepts connections until the listener is closed, serving each
// on its own goroutine.
func (d *DNSServer) acceptTCP() {
	defer d.wg.Done()
	for {
		c, err := d.tcp.Accept()
		if err != nil {
			if d.isClosed() {
				return
			}
			// Most likely out of file descriptors: back off briefly
			// rather than spin, but stop at once on Close.
			t := time.NewTimer(10 * time.Millisecond)
			select {
			case <-d.done:
				t.Stop()
				return
			case <-t.C:
			}
			continue
		}
		d.mu.Lock()
		if d.closed {
			d.mu.Unlock()
			c.Close()
			return
		}
		d.conns[c] = struct{}{}
		d.wg.Add(1)
		d.mu.Unlock()
		go d.serveTCP(c)
	}
}

// serveTCP answers length-prefixed queries on c until the client hangs up,
// sends something unanswerable, or the server closes.
func (d *DNSServer) serveTCP(c net.Conn) {
	defer d.wg.Done()
	defer func() {
		d.mu.Lock()
		delete(d.conns, c)
		d.mu.Unlock()
		c.Close()
	}()
	var prefix [2]byte
	for {
		if _, err := io.ReadFull(c, prefix[:]); err != nil {
			return
		}
		msg := make([]byte, binary.BigEndian.Uint16(prefix[:]))
		if _, err := io.ReadFull(c, msg); err != nil {
			return
		}
		resp := d.answer(msg, dnsMaxTCP)
		if resp == nil {
			return
		}
		out := binary.BigEndian.AppendUint16(make([]byte, 0, 2+len(resp)), uint16(len(resp)))
		d.queries.Add(1) // before the answer leaves, as over UDP
		if _, err := c.Write(append(out, resp...)); err != nil {
			return
		}
	}
}

func (d *DNSServer) isClosed() bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.closed
}
