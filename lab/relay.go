package lab

import (
	"io"
	"net"
	"sync"
	"sync/atomic"
	"time"
)

// delayRelay forwards TCP connections from ln to target and holds every
// byte target sends back for delay before passing it on: the round trip
// grows by delay. lab puts one in front of each node's client port on
// kernels without the netem qdisc (see [Cluster.AddLatency]). It adds no
// delay until one is set.
type delayRelay struct {
	ln     net.Listener
	target string
	delay  atomic.Int64 // nanoseconds

	mu     sync.Mutex
	conns  map[net.Conn]struct{}
	closed bool
	wg     sync.WaitGroup // the accept loop and every connection's pumps
}

// relayDialTimeout bounds the relay's dial of its node, which hangs while
// the node is partitioned.
const relayDialTimeout = 2 * time.Second

func startDelayRelay(ln net.Listener, target string) *delayRelay {
	r := &delayRelay{ln: ln, target: target, conns: map[net.Conn]struct{}{}}
	r.wg.Add(1)
	go r.accept()
	return r
}

func (r *delayRelay) setDelay(d time.Duration) { r.delay.Store(int64(d)) }

func (r *delayRelay) accept() {
	defer r.wg.Done()
	for {
		c, err := r.ln.Accept()
		if err != nil {
			return // closed
		}
		if !r.track(c) {
			c.Close()
			return
		}
		r.wg.Add(1)
		go r.serve(c)
	}
}

// track records c so that close can end it; false once closed.
func (r *delayRelay) track(c net.Conn) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		return false
	}
	r.conns[c] = struct{}{}
	return true
}

func (r *delayRelay) untrack(c net.Conn) {
	r.mu.Lock()
	delete(r.conns, c)
	r.mu.Unlock()
	c.Close()
}

// serve relays one client connection until either side closes it.
func (r *delayRelay) serve(client net.Conn) {
	defer r.wg.Done()
	defer r.untrack(client)
	server, err := net.DialTimeout("tcp", r.target, relayDialTimeout)
	if err != nil {
		return
	}
	if !r.track(server) {
		server.Close()
		return
	}
	defer r.untrack(server)
	done := make(chan struct{}, 2)
	go func() {
		_, _ = io.Copy(server, client)
		done <- struct{}{}
	}()
	go func() {
		r.delayedCopy(client, server)
		done <- struct{}{}
	}()
	<-done
	// Closing both ends (deferred untracks) ends the other pump; wait for
	// it so that no goroutine outlives serve.
	client.Close()
	server.Close()
	<-done
}

// chunk is bytes read from the node and when they may be passed on.
type chunk struct {
	b   []byte
	due time.Time
}

// delayedCopy copies src to dst, each read's bytes written delay after
// they were read, in order. Reading goes on meanwhile, so the delay adds
// latency without limiting throughput.
func (r *delayRelay) delayedCopy(dst, src net.Conn) {
	q := make(chan chunk, 1024)
	go func() {
		defer close(q)
		for {
			buf := make([]byte, 32<<10)
			n, err := src.Read(buf)
			if n > 0 {
				q <- chunk{buf[:n], time.Now().Add(time.Duration(r.delay.Load()))}
			}
			if err != nil {
				return
			}
		}
	}()
	failed := false
	for c := range q {
		if failed {
			continue // drain, so the reader ends
		}
		if wait := time.Until(c.due); wait > 0 {
			time.Sleep(wait)
		}
		if _, err := dst.Write(c.b); err != nil {
			failed = true
			src.Close() // ends the reader
		}
	}
}

// close stops accepting, ends every relayed connection and waits for
// their goroutines.
func (r *delayRelay) close() error {
	r.mu.Lock()
	r.closed = true
	for c := range r.conns {
		c.Close()
	}
	r.mu.Unlock()
	err := r.ln.Close()
	r.wg.Wait()
	return err
}
