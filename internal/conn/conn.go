package conn

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/keel-go/keel/resp"
)

// Conn is one connection to one Redis node, safe for concurrent use.
type Conn struct {
	addr    string
	opts    Options
	nc      net.Conn
	rd      *resp.Reader // replaced only by noteReplySize, with readMu held
	readBuf readBuffer   // guarded by readMu
	proto   int

	mu       sync.Mutex
	dead     bool          // set once, by fail; guarded by mu
	cause    error         // why the connection died; guarded by mu
	queue    []*request    // waiting for the writer; guarded by mu
	inflight fifo          // written, awaiting replies, oldest first; guarded by mu
	busyAt   int64         // clock() when inflight last became non-empty; guarded by mu
	popped   uint64        // replies ever matched to requests: the monitor watches the head change; guarded by mu
	draining bool          // Shutdown began: no new requests; guarded by mu
	drained  chan struct{} // closed when draining and nothing is left; guarded by mu
	rtt      time.Duration // the handshake's round trip
	probe    probeState    // the monitor's probes of a silent server; guarded by mu

	life    context.Context // ends when the connection fails: stops its probes
	endLife context.CancelFunc

	// writeMu is held by whoever moves requests in flight and writes them:
	// the writer goroutine, or a caller writing its own (direct.go). Bytes
	// then reach the socket in the order requests entered the in-flight
	// list. Taken before mu.
	writeMu sync.Mutex
	// readMu is held by whoever reads replies: the reader goroutine, or a
	// caller reading its own (direct.go), who holds it from its write on,
	// until Sent.Read for a batch sent with SendEach. Taken after writeMu
	// (readLarge's TryLock of writeMu aside) and before mu.
	readMu   sync.Mutex
	direct   directState // a lone caller's own write and read
	lowWater lowWater    // the socket's receive low-water mark (lowat.go)

	wake     chan struct{} // capacity 1: "the queue has work"
	readWake chan struct{} // capacity 1: "replies are owed": the reader goroutine reads them
	closing  chan struct{} // closed by fail
	wg       sync.WaitGroup

	epoch     time.Time    // the monotonic origin of clock()
	lastRead  atomic.Int64 // clock() of the last read that returned bytes
	lastWrite atomic.Int64 // clock() of the last write
	authAt    atomic.Int64 // clock() of the last authentication attempt: 0, the handshake, or Reauthenticate
	enqueued  atomic.Int64 // requests ever queued: the writer watches it grow
	owed      atomic.Int64 // requests in flight (inflight.len()), read without mu
	reading   atomic.Bool  // the reader is waiting on the socket: it has processed every byte it read
	unwritten atomic.Bool  // the writer holds requests already in flight that it has not yet handed to the kernel
	diverting atomic.Bool  // the oldest request stalls: DoRead hands reads back (ErrDiverted)
}

// Dial connects to addr ("host:port"), performs the handshake and starts the
// connection's goroutines. ctx bounds the dial and handshake only.
func Dial(ctx context.Context, addr string, opts Options) (*Conn, error) {
	c, err := open(ctx, addr, opts)
	if err != nil {
		return nil, err
	}
	c.life, c.endLife = context.WithCancel(context.Background())
	now := c.clock()
	c.lastRead.Store(now)
	c.lastWrite.Store(now)
	c.wg.Add(3)
	go c.writeLoop()
	go c.readLoop()
	go c.monitor()
	return c, nil
}

// open dials addr and performs the handshake, without starting the
// connection's goroutines.
func open(ctx context.Context, addr string, opts Options) (*Conn, error) {
	opts = opts.withDefaults()
	ctx, cancel := context.WithTimeout(ctx, opts.DialTimeout)
	defer cancel()

	user, password, err := credentials(ctx, opts)
	if err != nil {
		return nil, fmt.Errorf("keel: dial %s: %w", addr, err)
	}
	socket, err := opts.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("keel: dial %s: %w", addr, err)
	}
	// Until the handshake is over, the context's end must interrupt any
	// blocked read or write on the socket (under TLS as well: the TLS
	// connection reads and writes through it). The callback uses socket,
	// which never changes, not nc, which becomes the TLS connection.
	stop := context.AfterFunc(ctx, func() { _ = socket.SetDeadline(time.Unix(1, 0)) })
	nc := socket
	defer stop()

	if opts.TLS != nil {
		cfg := opts.TLS.Clone()
		if cfg.ServerName == "" {
			cfg.ServerName, _, _ = net.SplitHostPort(addr)
		}
		tc := tls.Client(nc, cfg)
		if err := tc.HandshakeContext(ctx); err != nil {
			_ = nc.Close()
			if ctx.Err() != nil && !errors.Is(err, ctx.Err()) {
				err = fmt.Errorf("%w (%w)", err, context.Cause(ctx))
			}
			return nil, fmt.Errorf("keel: TLS handshake with %s: %w", addr, err)
		}
		nc = tc
	}

	c := &Conn{
		addr:     addr,
		opts:     opts,
		nc:       nc,
		wake:     make(chan struct{}, 1),
		readWake: make(chan struct{}, 1),
		closing:  make(chan struct{}),
		epoch:    time.Now(),
		probe:    newProbeState(),
	}
	c.rd = c.newReader(readBufferSize)
	began := time.Now()
	if err := c.handshake(user, password); err != nil {
		if tc, ok := nc.(*tls.Conn); ok {
			err = withTLSAlert(tc, err)
		}
		_ = nc.Close()
		if ctx.Err() != nil {
			err = fmt.Errorf("%w (%w)", err, context.Cause(ctx))
		}
		return nil, fmt.Errorf("keel: handshake with %s: %w", addr, err)
	}
	if !stop() {
		_ = nc.Close()
		return nil, fmt.Errorf("keel: dial %s: %w", addr, context.Cause(ctx))
	}
	if c.rd.Unasked() {
		// Nothing may follow the handshake's replies: read later, it would
		// pass for the first request's reply.
		_ = nc.Close()
		return nil, fmt.Errorf("keel: handshake with %s: %w: a reply arrived with no request waiting", addr, resp.ErrProtocol)
	}
	_ = nc.SetDeadline(time.Time{})
	c.rtt = time.Since(began)
	c.direct.init(c)
	c.lowWater.init(nc)
	return c, nil
}

// Addr returns the address the connection was dialled to.
func (c *Conn) Addr() string { return c.addr }

// Protocol returns the RESP version in use, 2 or 3.
func (c *Conn) Protocol() int { return c.proto }

// RTT returns how long the handshake's round trip took: a rough measure of
// the distance to the node.
func (c *Conn) RTT() time.Duration { return c.rtt }

// InFlight returns how many requests were written and await their replies.
func (c *Conn) InFlight() int64 { return c.owed.Load() }

// HoldsLeft reports whether a request whose caller stopped waiting (its
// context ended) is still in flight: a request sent elsewhere now could
// run before it. It looks at most at maxLeftLook requests, and reports
// true for more.
func (c *Conn) HoldsLeft() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.inflight.len() > maxLeftLook {
		return true
	}
	for i := range c.inflight.len() {
		if c.inflight.at(i).state.Load() == stateLeft {
			return true
		}
	}
	return false
}

// maxLeftLook bounds HoldsLeft's look, meant for connections with few
// requests in flight.
const maxLeftLook = 8

// Done is closed when the connection has failed or been closed.
func (c *Conn) Done() <-chan struct{} { return c.closing }

// Err returns why the connection failed, or nil while it is alive.
func (c *Conn) Err() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.cause
}

// Do sends one command and waits for its reply. An error reply from the
// server is returned both as the Value and as an *resp.Error. When ctx ends
// first, Do returns ctx's error at once; the command is then either never
// sent or its reply is read and dropped, so later replies stay in step.
// When the connection fails, the error is an *Error.
func (c *Conn) Do(ctx context.Context, args ...string) (resp.Value, error) {
	return c.do(ctx, args, false)
}

// do is Do, for a read DoRead may divert when divertible.
func (c *Conn) do(ctx context.Context, args []string, divertible bool) (resp.Value, error) {
	r, err := prepare(ctx, args)
	if err != nil {
		return resp.Value{}, err
	}
	r.divertible = divertible
	if !c.doDirect(ctx, r) {
		if err := c.enqueue(r); err != nil {
			r.release()
			return resp.Value{}, err
		}
	}
	if err := c.wait(ctx, r); err != nil {
		return resp.Value{}, err
	}
	v, err := r.reply, r.err
	if err == ErrDiverted {
		return v, err // the queue may still hold r: it is left to the garbage collector
	}
	r.release()
	if err == nil {
		err = v.Err()
	}
	return v, err
}

// prepare returns a request for args, or the error that keeps it from
// being sent at all: ctx ended, or a command the connection refuses.
func prepare(ctx context.Context, args []string) (*request, error) {
	if err := ctx.Err(); err != nil {
		return nil, err // never sent
	}
	r := newRequest(args)
	if r.expect == expectRefused {
		r.release()
		return nil, refused(args)
	}
	return r, nil
}

// DoMulti sends the commands back to back, as one pipeline, and returns
// their replies in order. Error replies stay in the slice as values of kind
// resp.KindError; the error is non-nil only when ctx ended or the connection
// failed before every reply arrived, and then the replies received so far are
// returned with it.
func (c *Conn) DoMulti(ctx context.Context, cmds ...[]string) ([]resp.Value, error) {
	replies := make([]resp.Value, 0, len(cmds))
	_, err := c.DoEach(ctx, cmds, nil, func(_ int, v resp.Value) { replies = append(replies, v) })
	return replies, err
}

// DoEach is DoMulti without a replies slice, for a subset of cmds: it sends
// cmds[indexes[0]], cmds[indexes[1]], … (all of cmds when indexes is nil)
// back to back, as one pipeline, and hands the j-th reply, in order, to
// put(j, reply). It returns how many replies put received; fewer than all
// only with an error, when ctx ended or the connection failed first.
//
// A batch is contiguous on the wire, and sent whole or not at all: it is
// queued under one lock hold, the writer takes the whole queue under one
// lock hold, and a batch cut off by ctx is abandoned under that same lock,
// so no other caller's command comes between two of its commands and none
// of its commands is skipped while another is sent (short of the connection
// failing mid-write, which closes it). Transactions (MULTI … EXEC as one
// batch) rely on this.
func (c *Conn) DoEach(ctx context.Context, cmds [][]string, indexes []int, put func(j int, v resp.Value)) (int, error) {
	s, err := c.sendEach(ctx, cmds, indexes, true)
	if err != nil {
		return 0, err
	}
	return s.Wait(ctx, put)
}

// collect hands DoEach's replies to put, in order, up to the first request
// that failed or, when ctxErr (the caller's context's error) is set, that is
// not answered yet. Without ctxErr, every request is complete: the last was
// signalled (wait took the signal), after all the others.
func (c *Conn) collect(reqs []*request, put func(j int, v resp.Value), ctxErr error) (int, error) {
	for j, r := range reqs {
		if ctxErr != nil && !r.isAnswered() {
			// Unsent requests are dropped; sent ones have their replies
			// read and dropped. Under mu, which takeBatch holds while it
			// takes the queue, so the rest are either all still queued or
			// all written: never some of each.
			c.mu.Lock()
			for _, rest := range reqs[j:] {
				rest.leave()
			}
			c.mu.Unlock()
			return j, ctxErr
		}
		if r.err != nil {
			return j, r.err // the connection failed
		}
		put(j, r.reply)
	}
	return len(reqs), nil
}

// enqueue hands requests to the writer, in order, unless the connection is dead.
func (c *Conn) enqueue(reqs ...*request) error {
	c.mu.Lock()
	if c.dead || c.draining {
		cause := c.cause
		if cause == nil {
			cause = ErrClosed
		}
		c.mu.Unlock()
		return &Error{Addr: c.addr, Err: cause}
	}
	c.queue = append(c.queue, reqs...)
	c.mu.Unlock()
	c.enqueued.Add(int64(len(reqs)))
	c.wakeWriter()
	return nil
}

// wakeWriter tells the writer there are requests to send.
func (c *Conn) wakeWriter() {
	select {
	case c.wake <- struct{}{}:
	default:
	}
}

// wait waits for r's result or ctx's end. On ctx's end, r is abandoned: the
// writer skips it, or, if already written, the reader drops its reply.
func (c *Conn) wait(ctx context.Context, r *request) error {
	err := waitDone(ctx, r)
	if err != nil {
		r.leave()
	}
	return err
}

// waitDone waits for r's result or ctx's end, abandoning nothing.
func waitDone(ctx context.Context, r *request) error {
	done := ctx.Done()
	if done == nil { // a context that never ends: a plain receive is cheaper than a select
		<-r.done
		return nil
	}
	select {
	case <-r.done:
		return nil
	case <-done:
		return ctx.Err()
	}
}

// Shutdown closes the connection gracefully: new requests fail at once with
// ErrClosed (not sent), while those already queued or in flight get their
// replies until ctx ends; then the connection is closed as by Close, failing
// whatever is left. It returns ctx's error if it had to cut requests off.
func (c *Conn) Shutdown(ctx context.Context) error {
	c.mu.Lock()
	if !c.draining {
		c.draining = true
		c.drained = make(chan struct{})
		c.checkDrained()
	}
	drained := c.drained
	c.mu.Unlock()

	var err error
	select {
	case <-drained:
	case <-c.closing:
	case <-ctx.Done():
		err = ctx.Err()
	}
	_ = c.Close()
	return err
}

// checkDrained closes drained once a draining connection has nothing left
// to do. It must be called with mu held wherever requests leave the queue
// or the in-flight list.
func (c *Conn) checkDrained() {
	if c.draining && c.inflight.len() == 0 && len(c.queue) == 0 {
		select {
		case <-c.drained:
		default:
			close(c.drained)
		}
	}
}

// Close closes the connection: queued requests fail with ErrClosed without
// being sent, in-flight ones fail with ErrClosed marked as sent. It returns
// when the connection's goroutines have exited. Close is idempotent and safe
// to call concurrently with Do.
func (c *Conn) Close() error {
	c.fail(ErrClosed)
	c.wg.Wait()
	return nil
}

// fail marks the connection dead with cause, closes the socket (which stops
// the reader and writer) and fails every waiting request. Only the first call
// has an effect.
func (c *Conn) fail(cause error) {
	c.mu.Lock()
	if c.dead {
		c.mu.Unlock()
		return
	}
	c.dead, c.cause = true, cause
	queued := c.queue
	c.queue = nil
	inflight := c.inflight.drain()
	c.addOwed(-c.owed.Load())
	c.mu.Unlock()

	close(c.closing)
	if c.endLife != nil {
		c.endLife()
	}
	c.direct.reply.wake() // a caller waiting in ppoll(2) does not see the close itself
	_ = c.nc.Close()
	for _, r := range inflight {
		r.complete(resp.Value{}, &Error{Addr: c.addr, Sent: !r.unsent, Err: cause})
	}
	for _, r := range queued {
		r.complete(resp.Value{}, &Error{Addr: c.addr, Err: cause})
	}
	if c.opts.OnClose != nil {
		c.opts.OnClose(cause)
	}
}

// clock returns monotonic nanoseconds since the connection was made.
func (c *Conn) clock() int64 { return int64(time.Since(c.epoch)) }

// readTracker records when reply bytes last arrived, for the health check,
// and sets the socket's low-water mark for each read (lowat.go). It serves
// a bufio.Reader of bufSize bytes.
type readTracker struct {
	c       *Conn
	bufSize int
}

func (t readTracker) Read(p []byte) (int, error) {
	t.c.prepareLowWater(len(p), t.bufSize)
	t.c.reading.Store(true)
	n, err := t.c.nc.Read(p)
	if n > 0 {
		t.c.lastRead.Store(t.c.clock())
	}

	// After lastRead: the monitor, seeing the reader waiting, then reads a
	// lastRead at least as recent as the bytes the reader has taken.
	t.c.reading.Store(false)
	return n, err
}
