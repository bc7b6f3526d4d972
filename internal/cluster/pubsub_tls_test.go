package cluster

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"io"
	"math/big"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/keel-go/keel/internal/resptest"
	"github.com/keel-go/keel/internal/testutil"
)

// A subscriber connection to an address found by resolving a seed is
// verified against the seed's host name, as every other connection is: the
// node's certificate carries names, not addresses.
func TestSubscriberTLSUsesSeedName(t *testing.T) {
	const seedHost = "seed.keel.test"
	fc := newFakeCluster(t, 1)
	serverConf, clientConf := tlsPair(t, seedHost)
	front := tlsFront(t, serverConf, fc.addr(0))
	_, port, _ := net.SplitHostPort(front)
	fc.setView(oneShard(1, front))
	fc.nodes[0].Handle("SUBSCRIBE", func(cmd []string) resptest.Reply {
		return resptest.Raw(resp2(1, "subscribe", cmd[1]))
	})
	opts := Options{
		Seeds:    []string{net.JoinHostPort(seedHost, port)},
		Resolver: testutil.Resolver{seedHost: {"127.0.0.1"}},
	}
	opts.Conn.TLS = clientConf
	opts.Conn.DialTimeout = time.Second
	e := newFakeEngine(t, fc, opts)
	ctx := testutil.Context(t, 2*time.Second)
	s, err := e.Subscribe(ctx, SubChannels, []string{"ch"}, SubOptions{Deliver: func(Message) {}})
	if err != nil {
		t.Fatalf("Subscribe over TLS to %s (found as %s): %v", front, seedHost, err)
	}
	s.Close()
	if clientConf.ServerName != "" {
		t.Errorf("the caller's tls.Config was changed: ServerName %q", clientConf.ServerName)
	}
}

// tlsPair returns a server configuration with a self-signed certificate for
// name only (no IP address), and a client configuration trusting it.
func tlsPair(t *testing.T, name string) (server, client *tls.Config) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: name},
		DNSNames:              []string{name},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(leaf)
	server = &tls.Config{Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}}}
	return server, &tls.Config{RootCAs: pool}
}

// tlsFront serves TLS on 127.0.0.1 in front of backend, passing the bytes
// both ways, until the test ends; it returns its address.
func tlsFront(t *testing.T, conf *tls.Config, backend string) string {
	t.Helper()
	ln, err := tls.Listen("tcp", "127.0.0.1:0", conf)
	if err != nil {
		t.Fatal(err)
	}
	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		conns []net.Conn
	)
	track := func(c net.Conn) {
		mu.Lock()
		conns = append(conns, c)
		mu.Unlock()
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			in, err := ln.Accept()
			if err != nil {
				return
			}
			out, err := net.Dial("tcp", backend)
			if err != nil {
				_ = in.Close()
				continue
			}
			track(in)
			track(out)
			for _, pair := range [][2]net.Conn{{in, out}, {out, in}} {
				wg.Add(1)
				go func() {
					defer wg.Done()
					_, _ = io.Copy(pair[0], pair[1])
					_ = pair[0].Close()
					_ = pair[1].Close()
				}()
			}
		}
	}()
	t.Cleanup(func() {
		_ = ln.Close()
		mu.Lock()
		for _, c := range conns {
			_ = c.Close()
		}
		mu.Unlock()
		wg.Wait()
	})
	return ln.Addr().String()
}
