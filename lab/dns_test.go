package lab

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"io"
	"math/rand/v2"
	"net"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// dnsTimeout bounds every lookup and socket operation in these tests, so a
// broken server fails a test instead of hanging it.
const dnsTimeout = 10 * time.Second

const dnsTestName = "cluster.keel.test"

func startDNST(t *testing.T, host, name string, addrs []string) *DNSServer {
	t.Helper()
	d, err := StartDNS(host, name, addrs)
	if err != nil {
		t.Fatalf("StartDNS(%q, %q, %q): %v", host, name, addrs, err)
	}
	t.Cleanup(func() {
		if err := d.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return d
}

// dnsCtx bounds one DNS exchange of a test.
func dnsCtx(t *testing.T) context.Context { return testCtx(t, dnsTimeout) }

// lookupSorted resolves host with r and returns the sorted addresses.
func lookupSorted(t *testing.T, r *net.Resolver, host string) []string {
	t.Helper()
	got, err := r.LookupHost(dnsCtx(t), host)
	if err != nil {
		t.Fatalf("LookupHost(%q): %v", host, err)
	}
	slices.Sort(got)
	return got
}

func sorted(s []string) []string {
	s = slices.Clone(s)
	slices.Sort(s)
	return s
}

// dnsWireName encodes a dotted name as uncompressed labels.
func dnsWireName(name string) []byte {
	var b []byte
	for label := range strings.SplitSeq(strings.TrimSuffix(name, "."), ".") {
		if label == "" {
			continue
		}
		b = append(b, byte(len(label)))
		b = append(b, label...)
	}
	return append(b, 0)
}

// dnsHeader encodes a 12-byte header.
func dnsHeader(id, flags, qd, an, ns, ar uint16) []byte {
	var b []byte
	for _, v := range []uint16{id, flags, qd, an, ns, ar} {
		b = binary.BigEndian.AppendUint16(b, v)
	}
	return b
}

// dnsQueryPacket encodes a standard query with RD set and one question.
func dnsQueryPacket(id uint16, name string, qtype uint16) []byte {
	b := dnsHeader(id, dnsFlagRD, 1, 0, 0, 0)
	b = append(b, dnsWireName(name)...)
	b = binary.BigEndian.AppendUint16(b, qtype)
	return binary.BigEndian.AppendUint16(b, dnsClassIN)
}

// dnsReply is a response decoded by the tests' own minimal parser, which
// expects the answer records to be A records owned by a pointer to offset 12.
type dnsReply struct {
	id, flags  uint16
	qd, an     uint16
	question   []byte
	ips        []string
	ttls       []uint32
	rcode      int
	truncated  bool
	authorized bool
}

func parseReply(t *testing.T, b []byte) dnsReply {
	t.Helper()
	if len(b) < 12 {
		t.Fatalf("reply of %d bytes, shorter than a header", len(b))
	}
	r := dnsReply{
		id:    binary.BigEndian.Uint16(b[0:]),
		flags: binary.BigEndian.Uint16(b[2:]),
		qd:    binary.BigEndian.Uint16(b[4:]),
		an:    binary.BigEndian.Uint16(b[6:]),
	}
	r.rcode = int(r.flags & 0xF)
	r.truncated = r.flags&dnsFlagTC != 0
	r.authorized = r.flags&dnsFlagAA != 0
	if r.flags&dnsFlagQR == 0 {
		t.Fatalf("reply flags %#04x: QR not set", r.flags)
	}
	if r.flags&(1<<7) != 0 {
		t.Fatalf("reply flags %#04x: RA set", r.flags)
	}
	if ns, ar := binary.BigEndian.Uint16(b[8:]), binary.BigEndian.Uint16(b[10:]); ns != 0 || ar != 0 {
		t.Fatalf("reply NSCOUNT=%d ARCOUNT=%d, want 0 and 0", ns, ar)
	}
	off := 12
	if r.qd > 1 {
		t.Fatalf("reply QDCOUNT=%d", r.qd)
	}
	if r.qd == 1 {
		end := bytes.IndexByte(b[off:], 0)
		if end < 0 || off+end+5 > len(b) {
			t.Fatalf("reply question truncated: % x", b)
		}
		r.question = b[off : off+end+5]
		off += end + 5
	}
	for i := 0; i < int(r.an); i++ {
		if len(b)-off < 16 {
			t.Fatalf("answer %d truncated: % x", i, b[off:])
		}
		rr := b[off : off+16]
		if owner := binary.BigEndian.Uint16(rr); owner != 0xC00C {
			t.Fatalf("answer %d owner %#04x, want pointer 0xc00c", i, owner)
		}
		if typ, class, rdlen := binary.BigEndian.Uint16(rr[2:]), binary.BigEndian.Uint16(rr[4:]), binary.BigEndian.Uint16(rr[10:]); typ != dnsTypeA || class != dnsClassIN || rdlen != 4 {
			t.Fatalf("answer %d type=%d class=%d rdlength=%d, want A IN 4", i, typ, class, rdlen)
		}
		r.ttls = append(r.ttls, binary.BigEndian.Uint32(rr[6:]))
		r.ips = append(r.ips, net.IP(rr[12:16]).String())
		off += 16
	}
	if off != len(b) {
		t.Fatalf("%d trailing bytes after the answers", len(b)-off)
	}
	return r
}

// udpClient is a raw UDP socket connected to the server.
type udpClient struct {
	t    *testing.T
	conn net.Conn
}

func dialDNSUDP(t *testing.T, addr string) *udpClient {
	t.Helper()
	conn, err := net.DialTimeout("udp", addr, dnsTimeout)
	if err != nil {
		t.Fatalf("dial udp %s: %v", addr, err)
	}
	t.Cleanup(func() { conn.Close() })
	if err := conn.SetDeadline(time.Now().Add(dnsTimeout)); err != nil {
		t.Fatal(err)
	}
	return &udpClient{t: t, conn: conn}
}

func (c *udpClient) send(b []byte) {
	c.t.Helper()
	if _, err := c.conn.Write(b); err != nil {
		c.t.Fatalf("write: %v", err)
	}
}

func (c *udpClient) recv() []byte {
	c.t.Helper()
	buf := make([]byte, 65536)
	n, err := c.conn.Read(buf)
	if err != nil {
		c.t.Fatalf("read: %v", err)
	}
	return buf[:n]
}

// tcpExchange writes each message with its length prefix in one go, then
// reads as many length-prefixed replies.
func tcpExchange(t *testing.T, conn net.Conn, msgs ...[]byte) [][]byte {
	t.Helper()
	var out []byte
	for _, m := range msgs {
		out = binary.BigEndian.AppendUint16(out, uint16(len(m)))
		out = append(out, m...)
	}
	if _, err := conn.Write(out); err != nil {
		t.Fatalf("tcp write: %v", err)
	}
	var replies [][]byte
	for range msgs {
		var prefix [2]byte
		if _, err := io.ReadFull(conn, prefix[:]); err != nil {
			t.Fatalf("tcp read length: %v", err)
		}
		reply := make([]byte, binary.BigEndian.Uint16(prefix[:]))
		if _, err := io.ReadFull(conn, reply); err != nil {
			t.Fatalf("tcp read reply: %v", err)
		}
		replies = append(replies, reply)
	}
	return replies
}

func dialDNSTCP(t *testing.T, addr string) net.Conn {
	t.Helper()
	conn, err := net.DialTimeout("tcp", addr, dnsTimeout)
	if err != nil {
		t.Fatalf("dial tcp %s: %v", addr, err)
	}
	t.Cleanup(func() { conn.Close() })
	if err := conn.SetDeadline(time.Now().Add(dnsTimeout)); err != nil {
		t.Fatal(err)
	}
	return conn
}

// tcpOnlyResolver resolves through d over TCP whatever network Go's
// resolver asks for.
func tcpOnlyResolver(d *DNSServer) *net.Resolver {
	return &net.Resolver{
		PreferGo: true,
		Dial: func(ctx context.Context, _, _ string) (net.Conn, error) {
			var dialer net.Dialer
			return dialer.DialContext(ctx, "tcp", d.Addr())
		},
	}
}

func TestDNSLookupHost(t *testing.T) {
	t.Parallel()
	addrs := []string{"127.0.1.1", "127.0.1.2", "127.0.1.3"}
	d := startDNST(t, "", dnsTestName+".", addrs)
	if d.Name() != dnsTestName {
		t.Errorf("Name() = %q, want %q", d.Name(), dnsTestName)
	}
	if host, _, err := net.SplitHostPort(d.Addr()); err != nil || host != "127.0.0.1" {
		t.Errorf("Addr() = %q, want 127.0.0.1:PORT", d.Addr())
	}
	if got := d.Addrs(); !slices.Equal(got, addrs) {
		t.Errorf("Addrs() = %q, want %q", got, addrs)
	}
	r := d.Resolver()
	for _, name := range []string{dnsTestName, dnsTestName + ".", "CLUSTER.Keel.TEST"} {
		if got := lookupSorted(t, r, name); !slices.Equal(got, sorted(addrs)) {
			t.Errorf("LookupHost(%q) = %q, want %q", name, got, sorted(addrs))
		}
	}
	// Each lookup asks A and AAAA at least once.
	if q := d.Queries(); q < 6 {
		t.Errorf("Queries() = %d after 3 lookups, want at least 6", q)
	}
}

func TestDNSSetAddrs(t *testing.T) {
	t.Parallel()
	d := startDNST(t, "", dnsTestName, []string{"127.0.2.1", "127.0.2.2"})
	r := d.Resolver()
	if got, want := lookupSorted(t, r, dnsTestName), []string{"127.0.2.1", "127.0.2.2"}; !slices.Equal(got, want) {
		t.Fatalf("before SetAddrs: %q, want %q", got, want)
	}
	next := []string{"127.0.3.3", "127.0.3.1", "127.0.3.2"}
	if err := d.SetAddrs(next); err != nil {
		t.Fatalf("SetAddrs: %v", err)
	}
	if got := lookupSorted(t, r, dnsTestName); !slices.Equal(got, sorted(next)) {
		t.Fatalf("after SetAddrs: %q, want %q", got, sorted(next))
	}

	for _, bad := range [][]string{{"127.0.4.1", "::1"}, {"not-an-ip"}, {"127.0.4.1", "::ffff:127.0.0.1"}, {"127.0.4.1", "127.0.4"}, {""}} {
		if err := d.SetAddrs(bad); err == nil {
			t.Errorf("SetAddrs(%q) succeeded, want an error", bad)
		}
		if got := d.Addrs(); !slices.Equal(got, next) {
			t.Fatalf("Addrs() after failed SetAddrs(%q) = %q, want unchanged %q", bad, got, next)
		}
	}

	// No addresses: the name exists but has no records, which Go's resolver
	// reports as not found.
	if err := d.SetAddrs(nil); err != nil {
		t.Fatalf("SetAddrs(nil): %v", err)
	}
	_, err := r.LookupHost(dnsCtx(t), dnsTestName)
	var dnsErr *net.DNSError
	if !errors.As(err, &dnsErr) || !dnsErr.IsNotFound {
		t.Fatalf("LookupHost with no addresses: err = %v, want a not-found *net.DNSError", err)
	}
}

func TestDNSSetAddrsIsAtomic(t *testing.T) {
	t.Parallel()
	a := []string{"127.0.5.1", "127.0.5.2"}
	b := []string{"127.0.6.1", "127.0.6.2", "127.0.6.3"}
	d := startDNST(t, "", dnsTestName, a)
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			next := a
			if i%2 == 1 {
				next = b
			}
			if err := d.SetAddrs(next); err != nil {
				t.Errorf("SetAddrs: %v", err)
				return
			}
		}
	})
	defer wg.Wait()
	defer close(stop)
	c := dialDNSUDP(t, d.Addr())
	for i := range 200 {
		c.send(dnsQueryPacket(uint16(i), dnsTestName, dnsTypeA))
		r := parseReply(t, c.recv())
		slices.Sort(r.ips)
		if !slices.Equal(r.ips, a) && !slices.Equal(r.ips, b) {
			t.Fatalf("answer %q is neither %q nor %q", r.ips, a, b)
		}
	}
}

func TestDNSUnknownName(t *testing.T) {
	t.Parallel()
	d := startDNST(t, "", dnsTestName, []string{"127.0.1.1"})
	for _, name := range []string{"other.keel.test", "keel.test", "x." + dnsTestName, "cluster.keel.tes"} {
		_, err := d.Resolver().LookupHost(dnsCtx(t), name)
		var dnsErr *net.DNSError
		if !errors.As(err, &dnsErr) || !dnsErr.IsNotFound {
			t.Errorf("LookupHost(%q): err = %v, want a not-found *net.DNSError", name, err)
		}
	}
}

func TestDNSRawUDP(t *testing.T) {
	t.Parallel()
	addrs := []string{"127.0.1.1", "127.0.1.2"}
	d := startDNST(t, "", dnsTestName, addrs)
	c := dialDNSUDP(t, d.Addr())

	query := dnsQueryPacket(0x1234, "Cluster.Keel.Test", dnsTypeA)
	c.send(query)
	r := parseReply(t, c.recv())
	if r.id != 0x1234 || r.rcode != dnsRcodeSuccess || !r.authorized || r.truncated || r.flags&dnsFlagRD == 0 {
		t.Fatalf("A reply: id=%#x flags=%#04x, want id 0x1234, NOERROR, AA, RD, no TC", r.id, r.flags)
	}
	if !bytes.Equal(r.question, query[12:]) {
		t.Fatalf("question echoed as % x, want % x", r.question, query[12:])
	}
	if !slices.Equal(r.ips, addrs) || !slices.Equal(r.ttls, []uint32{0, 0}) {
		t.Fatalf("A answers %q with TTLs %v, want %q with TTL 0", r.ips, r.ttls, addrs)
	}

	// RD is copied, not forced.
	noRD := dnsQueryPacket(0x1235, dnsTestName, dnsTypeA)
	noRD[2] &^= dnsFlagRD >> 8
	c.send(noRD)
	if r := parseReply(t, c.recv()); r.flags&dnsFlagRD != 0 || r.an != 2 {
		t.Fatalf("query without RD: flags=%#04x an=%d, want RD clear and 2 answers", r.flags, r.an)
	}

	for _, qtype := range []uint16{dnsTypeAAAA, 16 /* TXT */, 255 /* ANY */} {
		c.send(dnsQueryPacket(7, dnsTestName, qtype))
		if r := parseReply(t, c.recv()); r.rcode != dnsRcodeSuccess || r.an != 0 || r.qd != 1 || !r.authorized {
			t.Fatalf("qtype %d: rcode=%d an=%d qd=%d flags=%#04x, want an authoritative empty NOERROR", qtype, r.rcode, r.an, r.qd, r.flags)
		}
	}

	c.send(dnsQueryPacket(8, "nope.keel.test", dnsTypeA))
	if r := parseReply(t, c.recv()); r.rcode != dnsRcodeNXDomain || r.an != 0 || r.qd != 1 || !r.authorized {
		t.Fatalf("unknown name: rcode=%d an=%d qd=%d, want NXDOMAIN with the question echoed", r.rcode, r.an, r.qd)
	}
}

func TestDNSTruncatedOverUDP(t *testing.T) {
	t.Parallel()
	var many []string
	for i := range 40 {
		many = append(many, net.IPv4(127, 0, 7, byte(i+1)).String())
	}
	d := startDNST(t, "", dnsTestName, many)

	c := dialDNSUDP(t, d.Addr())
	c.send(dnsQueryPacket(1, dnsTestName, dnsTypeA))
	raw := c.recv()
	r := parseReply(t, raw)
	if len(raw) > 512 || !r.truncated || r.an == 0 || int(r.an) >= len(many) {
		t.Fatalf("UDP reply for 40 addresses: %d bytes, TC=%v, %d answers; want at most 512 bytes, TC and some answers", len(raw), r.truncated, r.an)
	}

	// Go's resolver retries a truncated answer over TCP and gets them all.
	if got := lookupSorted(t, d.Resolver(), dnsTestName); !slices.Equal(got, sorted(many)) {
		t.Fatalf("LookupHost = %d addresses %q, want all %d", len(got), got, len(many))
	}
}

func TestDNSOverTCP(t *testing.T) {
	t.Parallel()
	addrs := []string{"127.0.8.1", "127.0.8.2"}
	d := startDNST(t, "", dnsTestName, addrs)
	r := tcpOnlyResolver(d)
	if got := lookupSorted(t, r, dnsTestName); !slices.Equal(got, addrs) {
		t.Fatalf("LookupHost over TCP = %q, want %q", got, addrs)
	}
	_, err := r.LookupHost(dnsCtx(t), "other.keel.test")
	var dnsErr *net.DNSError
	if !errors.As(err, &dnsErr) || !dnsErr.IsNotFound {
		t.Fatalf("unknown name over TCP: err = %v, want a not-found *net.DNSError", err)
	}

	// Several queries on one connection, pipelined.
	conn := dialDNSTCP(t, d.Addr())
	replies := tcpExchange(t, conn,
		dnsQueryPacket(1, dnsTestName, dnsTypeA),
		dnsQueryPacket(2, dnsTestName, dnsTypeAAAA),
		dnsQueryPacket(3, "other.keel.test", dnsTypeA),
	)
	if r := parseReply(t, replies[0]); r.id != 1 || r.rcode != dnsRcodeSuccess || !slices.Equal(r.ips, addrs) {
		t.Errorf("TCP A reply: id=%d rcode=%d ips=%q", r.id, r.rcode, r.ips)
	}
	if r := parseReply(t, replies[1]); r.id != 2 || r.rcode != dnsRcodeSuccess || r.an != 0 {
		t.Errorf("TCP AAAA reply: id=%d rcode=%d an=%d", r.id, r.rcode, r.an)
	}
	if r := parseReply(t, replies[2]); r.id != 3 || r.rcode != dnsRcodeNXDomain {
		t.Errorf("TCP unknown-name reply: id=%d rcode=%d", r.id, r.rcode)
	}
	// And the connection still works afterwards.
	if r := parseReply(t, tcpExchange(t, conn, dnsQueryPacket(4, dnsTestName, dnsTypeA))[0]); r.id != 4 || r.an != 2 {
		t.Errorf("second round on the same connection: id=%d an=%d", r.id, r.an)
	}

	// A message too short to answer ends the connection.
	if _, err := conn.Write([]byte{0, 3, 1, 2, 3}); err != nil {
		t.Fatalf("write: %v", err)
	}
	if n, err := conn.Read(make([]byte, 1)); err != io.EOF {
		t.Fatalf("read after an unanswerable message: n=%d err=%v, want EOF", n, err)
	}
}

// malformedQueries are packets the server must survive. Those with a
// complete header may get FORMERR (or NOTIMP); the rest no answer.
func malformedQueries() map[string][]byte {
	valid := dnsQueryPacket(0xAAAA, dnsTestName, dnsTypeA)
	hdr := dnsHeader(0xAAAA, dnsFlagRD, 1, 0, 0, 0)
	rng := rand.New(rand.NewPCG(1, 2))
	random := make([]byte, 300)
	for i := range random {
		random[i] = byte(rng.Uint32())
	}
	long := slices.Clone(hdr)
	for range 130 {
		long = append(long, 1, 'a')
	}
	long = append(long, 0, 0, 1, 0, 1)
	return map[string][]byte{
		"empty":              {},
		"random bytes":       random,
		"random header only": random[:12],
		"truncated header":   valid[:7],
		"no question":        hdr,
		"label past end":     append(slices.Clone(hdr), 7, 'c', 'l', 'u', 's'),
		"length past end":    append(slices.Clone(hdr), 63),
		"missing type":       valid[:len(valid)-4],
		"missing class":      valid[:len(valid)-2],
		"compression loop":   append(slices.Clone(hdr), 0xC0, 12, 0, 1, 0, 1),
		"forward pointer":    append(slices.Clone(hdr), 7, 'c', 'l', 'u', 's', 't', 'e', 'r', 0xC0, 30, 0, 1, 0, 1),
		"reserved label":     append(slices.Clone(hdr), 0x40, 0, 1, 0, 1),
		"name too long":      long,
		"two questions":      append(dnsHeader(0xAAAA, 0, 2, 0, 0, 0), valid[12:]...),
		"response":           append(dnsHeader(0xAAAA, dnsFlagQR, 1, 0, 0, 0), valid[12:]...),
		"opcode status":      append(dnsHeader(0xAAAA, 2<<11, 1, 0, 0, 0), valid[12:]...),
	}
}

func TestDNSMalformedUDP(t *testing.T) {
	t.Parallel()
	addrs := []string{"127.0.9.1"}
	d := startDNST(t, "", dnsTestName, addrs)
	c := dialDNSUDP(t, d.Addr())
	id := uint16(1)
	for name, pkt := range malformedQueries() {
		c.send(pkt)
		// A valid query right behind it; the server handles datagrams in
		// order, so any reply to the bad packet arrives first.
		id++
		c.send(dnsQueryPacket(id, dnsTestName, dnsTypeA))
		for {
			r := parseReply(t, c.recv())
			if r.id == id {
				if r.rcode != dnsRcodeSuccess || !slices.Equal(r.ips, addrs) {
					t.Fatalf("after %s: rcode=%d ips=%q, want %q", name, r.rcode, r.ips, addrs)
				}
				break
			}
			if name != "random bytes" && r.rcode != dnsRcodeFormErr && r.rcode != dnsRcodeNotImp {
				t.Errorf("%s: answered with rcode %d, want FORMERR, NOTIMP or nothing", name, r.rcode)
			}
		}
	}
	if got := lookupSorted(t, d.Resolver(), dnsTestName); !slices.Equal(got, addrs) {
		t.Fatalf("LookupHost after malformed packets = %q, want %q", got, addrs)
	}
}

func TestParseDNSQuery(t *testing.T) {
	t.Parallel()
	valid := dnsQueryPacket(0xBEEF, "Cluster.KEEL.test", dnsTypeAAAA)
	withEDNS := append(dnsHeader(9, 0, 1, 0, 0, 1), valid[12:]...)
	withEDNS = append(withEDNS, 0, 0, 41, 4, 208, 0, 0, 0, 0, 0, 0) // OPT
	odd := append(dnsHeader(5, 0, 1, 0, 0, 0), 3, 'a', '.', 'b', 2, 0xFF, ' ', 0, 0, 1, 0, 1)
	root := append(dnsHeader(6, 0, 1, 0, 0, 0), 0, 0, 2, 0, 1)
	mal := malformedQueries()
	tests := []struct {
		name   string
		msg    []byte
		want   dnsQuery
		err    error
		rcode  int
		answer bool // whether an error gets a response at all
	}{
		{name: "valid", msg: valid, want: dnsQuery{id: 0xBEEF, flags: dnsFlagRD, name: "cluster.keel.test", qtype: dnsTypeAAAA, qclass: dnsClassIN, question: valid[12:]}},
		{name: "trailing EDNS ignored", msg: withEDNS, want: dnsQuery{id: 9, name: "cluster.keel.test", qtype: dnsTypeAAAA, qclass: dnsClassIN, question: valid[12:]}},
		{name: "escaped labels", msg: odd, want: dnsQuery{id: 5, name: `a\.b.\255\032`, qtype: dnsTypeA, qclass: dnsClassIN, question: odd[12:]}},
		{name: "root", msg: root, want: dnsQuery{id: 6, name: "", qtype: 2, qclass: dnsClassIN, question: root[12:]}},
		{name: "empty", msg: mal["empty"], err: errDNSShort},
		{name: "truncated header", msg: mal["truncated header"], err: errDNSShort},
		{name: "response", msg: mal["response"], want: dnsQuery{id: 0xAAAA, flags: dnsFlagQR}, err: errDNSResponse},
		{name: "opcode", msg: mal["opcode status"], want: dnsQuery{id: 0xAAAA, flags: 2 << 11}, err: errDNSOpcode, rcode: dnsRcodeNotImp, answer: true},
		{name: "no question", msg: mal["no question"], want: dnsQuery{id: 0xAAAA, flags: dnsFlagRD}, err: errDNSTruncated, rcode: dnsRcodeFormErr, answer: true},
		{name: "two questions", msg: mal["two questions"], want: dnsQuery{id: 0xAAAA}, err: errDNSQDCount, rcode: dnsRcodeFormErr, answer: true},
		{name: "zero questions", msg: dnsHeader(3, 0, 0, 0, 0, 0), want: dnsQuery{id: 3}, err: errDNSQDCount, rcode: dnsRcodeFormErr, answer: true},
		{name: "label past end", msg: mal["label past end"], want: dnsQuery{id: 0xAAAA, flags: dnsFlagRD}, err: errDNSTruncated, rcode: dnsRcodeFormErr, answer: true},
		{name: "length past end", msg: mal["length past end"], want: dnsQuery{id: 0xAAAA, flags: dnsFlagRD}, err: errDNSTruncated, rcode: dnsRcodeFormErr, answer: true},
		{name: "missing type", msg: mal["missing type"], want: dnsQuery{id: 0xAAAA, flags: dnsFlagRD}, err: errDNSTruncated, rcode: dnsRcodeFormErr, answer: true},
		{name: "missing class", msg: mal["missing class"], want: dnsQuery{id: 0xAAAA, flags: dnsFlagRD}, err: errDNSTruncated, rcode: dnsRcodeFormErr, answer: true},
		{name: "compression loop", msg: mal["compression loop"], want: dnsQuery{id: 0xAAAA, flags: dnsFlagRD}, err: errDNSPointer, rcode: dnsRcodeFormErr, answer: true},
		{name: "forward pointer", msg: mal["forward pointer"], want: dnsQuery{id: 0xAAAA, flags: dnsFlagRD}, err: errDNSPointer, rcode: dnsRcodeFormErr, answer: true},
		{name: "reserved label", msg: mal["reserved label"], want: dnsQuery{id: 0xAAAA, flags: dnsFlagRD}, err: errDNSLabelType, rcode: dnsRcodeFormErr, answer: true},
		{name: "name too long", msg: mal["name too long"], want: dnsQuery{id: 0xAAAA, flags: dnsFlagRD}, err: errDNSNameLen, rcode: dnsRcodeFormErr, answer: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseDNSQuery(tt.msg)
			if err != tt.err {
				t.Fatalf("err = %v, want %v", err, tt.err)
			}
			if got.id != tt.want.id || got.flags != tt.want.flags || got.name != tt.want.name ||
				got.qtype != tt.want.qtype || got.qclass != tt.want.qclass || !bytes.Equal(got.question, tt.want.question) {
				t.Fatalf("got %+v, want %+v", got, tt.want)
			}
			if err == nil {
				return
			}
			rcode, ok := dnsErrorRcode(err)
			if ok != tt.answer || (ok && rcode != tt.rcode) {
				t.Fatalf("dnsErrorRcode = %d, %v; want %d, %v", rcode, ok, tt.rcode, tt.answer)
			}
		})
	}
}

func TestParseDNSQueryNeverPanics(t *testing.T) {
	t.Parallel()
	valid := dnsQueryPacket(1, dnsTestName, dnsTypeA)
	// Every prefix of a valid query, and every single-byte corruption of it.
	for n := range len(valid) {
		parseDNSQuery(valid[:n])
	}
	for i := range valid {
		for _, b := range []byte{0, 1, 63, 64, 128, 191, 192, 255} {
			pkt := slices.Clone(valid)
			pkt[i] = b
			if q, err := parseDNSQuery(pkt); err == nil && len(q.question) > len(pkt)-12 {
				t.Fatalf("question of %d bytes in a %d-byte packet", len(q.question), len(pkt))
			}
		}
	}
}

func TestBuildDNSResponse(t *testing.T) {
	t.Parallel()
	d := &DNSServer{match: dnsTestName}
	if err := d.SetAddrs([]string{"10.1.2.3", "192.0.2.44"}); err != nil {
		t.Fatal(err)
	}
	query := dnsQueryPacket(0x4242, dnsTestName, dnsTypeA)
	resp := d.answer(query, dnsMaxUDP)
	want := dnsHeader(0x4242, dnsFlagQR|dnsFlagAA|dnsFlagRD, 1, 2, 0, 0)
	want = append(want, query[12:]...)
	want = append(want,
		0xC0, 12, 0, 1, 0, 1, 0, 0, 0, 0, 0, 4, 10, 1, 2, 3,
		0xC0, 12, 0, 1, 0, 1, 0, 0, 0, 0, 0, 4, 192, 0, 2, 44,
	)
	if !bytes.Equal(resp, want) {
		t.Fatalf("response\n% x\nwant\n% x", resp, want)
	}

	// FORMERR to a question that could not be parsed: header only.
	bad := append(dnsHeader(0x0102, dnsFlagRD, 1, 0, 0, 0), 0xC0, 12)
	if got, want := d.answer(bad, dnsMaxUDP), dnsHeader(0x0102, dnsFlagQR|dnsFlagAA|dnsFlagRD|dnsRcodeFormErr, 0, 0, 0, 0); !bytes.Equal(got, want) {
		t.Fatalf("FORMERR response % x, want % x", got, want)
	}
	if got := d.answer(query[:11], dnsMaxUDP); got != nil {
		t.Fatalf("response to a short header: % x, want none", got)
	}

	// A limit that fits one record keeps one and sets TC.
	r := parseReply(t, d.answer(query, len(want)-1))
	if !r.truncated || r.an != 1 || r.ips[0] != "10.1.2.3" {
		t.Fatalf("truncated response: TC=%v ips=%q, want TC and the first address", r.truncated, r.ips)
	}
}

func TestDNSCloseIsIdempotent(t *testing.T) {
	t.Parallel()
	d, err := StartDNS("", dnsTestName, []string{"127.0.1.1"})
	if err != nil {
		t.Fatal(err)
	}
	// An idle TCP connection, which Close must end.
	conn := dialDNSTCP(t, d.Addr())
	tcpExchange(t, conn, dnsQueryPacket(1, dnsTestName, dnsTypeA))
	for i := range 3 {
		if err := d.Close(); err != nil {
			t.Fatalf("Close #%d: %v", i+1, err)
		}
	}
	if n, err := conn.Read(make([]byte, 1)); err == nil {
		t.Fatalf("idle connection still open after Close: read %d bytes", n)
	}
	if _, err := net.DialTimeout("tcp", d.Addr(), dnsTimeout); err == nil {
		t.Fatal("TCP dial succeeded after Close")
	}
}

func TestDNSConcurrentClose(t *testing.T) {
	t.Parallel()
	d, err := StartDNS("", dnsTestName, []string{"127.0.1.1"})
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			if err := d.Close(); err != nil {
				t.Errorf("Close: %v", err)
			}
		})
	}
	wg.Wait()
}

func TestDNSStartRejects(t *testing.T) {
	t.Parallel()
	for _, host := range []string{"0.0.0.0", "10.0.0.1", "192.168.1.1", "::1", "::", "localhost", "example.com", "127.0.0.1:53"} {
		if d, err := StartDNS(host, dnsTestName, nil); err == nil || !strings.Contains(err.Error(), "loopback") {
			if d != nil {
				d.Close()
			}
			t.Errorf("host %q: err = %v, want a loopback error", host, err)
		}
	}
	for _, name := range []string{"", ".", "a..b", ".a", "a b", "a/b", strings.Repeat("x", 64) + ".test", strings.Repeat("abcdefg.", 32) + "test"} {
		if d, err := StartDNS("", name, nil); err == nil {
			d.Close()
			t.Errorf("name %q accepted", name)
		}
	}
	for _, addrs := range [][]string{{"::1"}, {"127.0.0.1", "bogus"}} {
		if d, err := StartDNS("", dnsTestName, addrs); err == nil {
			d.Close()
			t.Errorf("addrs %q accepted", addrs)
		}
	}
}

func TestDNSOtherLoopbackHost(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("only Linux routes all of 127.0.0.0/8 to loopback by default")
	}
	t.Parallel()
	d := startDNST(t, "127.0.0.77", "Keel.Test", []string{"127.0.10.1"})
	if host, _, _ := net.SplitHostPort(d.Addr()); host != "127.0.0.77" {
		t.Fatalf("Addr() = %q, want host 127.0.0.77", d.Addr())
	}
	if d.Name() != "Keel.Test" {
		t.Fatalf("Name() = %q, want Keel.Test", d.Name())
	}
	for _, r := range []*net.Resolver{d.Resolver(), tcpOnlyResolver(d)} {
		if got := lookupSorted(t, r, "keel.test"); !slices.Equal(got, []string{"127.0.10.1"}) {
			t.Fatalf("LookupHost = %q, want [127.0.10.1]", got)
		}
	}
}

// Names added with SetName resolve to their own addresses, beside the main
// name, case-insensitively; setting one again replaces its addresses; the
// main name cannot be set that way.
func TestDNSSetName(t *testing.T) {
	t.Parallel()
	d := startDNST(t, "", dnsTestName, []string{"127.0.5.1", "127.0.5.2"})
	r := d.Resolver()
	if err := d.SetName("node1.keel.test", []string{"127.0.5.1"}); err != nil {
		t.Fatal(err)
	}
	if err := d.SetName("node2.keel.test.", []string{"127.0.5.2"}); err != nil {
		t.Fatal(err)
	}
	if got := lookupSorted(t, r, "NODE1.keel.test"); !slices.Equal(got, []string{"127.0.5.1"}) {
		t.Errorf("node1 = %q", got)
	}
	if err := d.SetName("node1.keel.test", []string{"127.0.5.9"}); err != nil {
		t.Fatal(err)
	}
	if got := lookupSorted(t, r, "node1.keel.test"); !slices.Equal(got, []string{"127.0.5.9"}) {
		t.Errorf("node1 after SetName again = %q", got)
	}
	if got := lookupSorted(t, r, "node2.keel.test"); !slices.Equal(got, []string{"127.0.5.2"}) {
		t.Errorf("node2 = %q", got)
	}
	if got := lookupSorted(t, r, dnsTestName); !slices.Equal(got, []string{"127.0.5.1", "127.0.5.2"}) {
		t.Errorf("main name = %q", got)
	}
	if err := d.SetName(strings.ToUpper(dnsTestName), nil); err == nil {
		t.Error("SetName of the main name succeeded")
	}
	if err := d.SetName("node3.keel.test", []string{"::1"}); err == nil {
		t.Error("SetName with an IPv6 address succeeded")
	}
}
