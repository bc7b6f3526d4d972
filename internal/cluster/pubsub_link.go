package cluster

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/keel-go/keel/internal/conn"
	"github.com/keel-go/keel/resp"
)

// errSubOutOfStep closes a subscriber connection that sent something no
// command on it can explain.
var errSubOutOfStep = errors.New("keel: subscriber connection out of step")

// subLink is one subscriber connection, to one node. Its reader goroutine
// reads every value the node sends: messages go straight to the
// subscription's Deliver, confirmations and errors are matched to the
// commands awaiting them and reported to the subscription's run loop. Only
// the run loop writes to it.
type subLink struct {
	addr string
	raw  *conn.Raw
	s    *Subscriber

	mu      sync.Mutex
	pending []*subCmd // commands awaiting their replies, oldest first; guarded by mu

	made     time.Time    // when the connection was made
	lastRead atomic.Int64 // unix nanoseconds of the last value read

	// names are the channels (or patterns) placed on this link: the only
	// ones whose messages it delivers. The run loop writes them (place,
	// unplace) under namesMu, and reads them without it; the reader reads
	// them under namesMu. (Not under mu: send holds mu while it writes,
	// and a reader waiting for it could not read the replies that let the
	// write end.)
	namesMu sync.RWMutex
	names   map[string]struct{}
	// gapFrom and gapCause are the earliest loss that the commands now on
	// this link are restoring; run loop only.
	gapFrom  time.Time
	gapCause string
}

// subCmd is a command sent on a subscriber connection: the server confirms
// it with one reply per name, or answers one error. A PING (verb "ping", no
// names) gets one reply, a pong or an error.
type subCmd struct {
	verb  string // the confirmation's kind, lower case: "subscribe", "sunsubscribe"…; "ping"
	names []string
	left  int // confirmations still due
}

// subNote is what a link's reader (or a dial) tells the run loop.
type subNote struct {
	link *subLink
	kind subNoteKind
	cmd  *subCmd // noteConfirmed (when complete) and noteFailed
	verb string  // noteConfirmed: the confirmation's kind
	name string  // noteConfirmed, noteServerUnsub
	err  error   // noteFailed, noteDead, noteDialed
	more bool    // noteConfirmed: other subscribe commands still pending on the link
	addr string  // noteDialed, noteOwners
	raw  *conn.Raw
	// claims is who serves what, in the view of the node at addr
	// (noteOwners).
	claims []Claim
}

type subNoteKind uint8

const (
	noteConfirmed   subNoteKind = iota + 1 // a name's confirmation arrived
	noteFailed                             // a command got an error reply
	noteServerUnsub                        // the server unsubscribed a sharded channel (its slot moved, or a failover)
	noteDead                               // the connection failed
	noteDialed                             // a dial ended, with raw or err
	noteOwners                             // a node that unsubscribed channels said who serves what, or err
)

func newSubLink(s *Subscriber, addr string, raw *conn.Raw) *subLink {
	l := &subLink{addr: addr, raw: raw, s: s, made: time.Now(), names: map[string]struct{}{}}
	l.lastRead.Store(time.Now().UnixNano())
	return l
}

// send writes one command. A command with names expects a confirmation per
// name and is recorded before it is written, so that its first
// confirmation always finds it.
func (l *subLink) send(verb string, args []string, names []string) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if names != nil {
		l.pending = append(l.pending, &subCmd{verb: verb, names: names, left: len(names)})
	}
	if ht := l.s.health; ht > 0 {
		_ = l.raw.SetWriteDeadline(time.Now().Add(ht))
	}
	_, err := l.raw.Write(resp.AppendCommand(nil, args))
	if err != nil {
		_ = l.raw.Close() // the reader reports the failure
	}
	return err
}

// ping sends PING unless one already awaits its reply, and gives the reply
// HealthTimeout from now: the read deadline set here is the link's only
// one, so that a connection is found dead exactly when a PING goes
// unanswered, never while a healthy one is idle (SetReadDeadline is safe
// beside the reader's Read).
func (l *subLink) ping() {
	l.mu.Lock()
	defer l.mu.Unlock()
	if slices.ContainsFunc(l.pending, isPing) {
		return // a second PING would push the first one's deadline back
	}
	l.pending = append(l.pending, &subCmd{verb: "ping", left: 1})
	if ht := l.s.health; ht > 0 {
		_ = l.raw.SetReadDeadline(time.Now().Add(ht))
		_ = l.raw.SetWriteDeadline(time.Now().Add(ht))
	}
	if _, err := l.raw.Write(resp.AppendCommand(nil, []string{"PING"})); err != nil {
		_ = l.raw.Close() // the reader reports the failure
	}
}

// ponged takes a PING's reply: the node is alive, the read deadline lifted.
func (l *subLink) ponged() {
	l.mu.Lock()
	defer l.mu.Unlock()
	if i := slices.IndexFunc(l.pending, isPing); i >= 0 {
		l.pending = slices.Delete(l.pending, i, i+1)
		_ = l.raw.SetReadDeadline(time.Time{})
	}
}

func isPing(c *subCmd) bool { return c.verb == "ping" }

// place adds names to the link's; run loop only.
func (l *subLink) place(names ...string) {
	l.namesMu.Lock()
	defer l.namesMu.Unlock()
	for _, n := range names {
		l.names[n] = struct{}{}
	}
}

// unplace removes name from the link's: from now on, its messages on this
// link are not delivered; run loop only.
func (l *subLink) unplace(name string) {
	l.namesMu.Lock()
	defer l.namesMu.Unlock()
	delete(l.names, name)
}

// serves reports whether name is placed on the link; the reader's.
func (l *subLink) serves(name string) bool {
	l.namesMu.RLock()
	defer l.namesMu.RUnlock()
	_, ok := l.names[name]
	return ok
}

// close closes the connection; its reader ends on its own. The run
// goroutine must not wait for it: the reader may be waiting to hand the run
// goroutine a note.
func (l *subLink) close() { _ = l.raw.Close() }

// read is the link's reader goroutine.
func (l *subLink) read() {
	defer l.s.wg.Done()
	for {
		v, err := l.raw.Reader.Read()
		if err != nil {
			if errors.Is(err, resp.ErrTooLarge) && l.s.o.Lost != nil {
				l.s.o.Lost() // the message is dropped with the connection
			}
			l.s.note(subNote{link: l, kind: noteDead, err: err})
			_ = l.raw.Close()
			return
		}
		l.lastRead.Store(time.Now().UnixNano())
		if err := l.handle(v); err != nil {
			l.s.note(subNote{link: l, kind: noteDead, err: err})
			_ = l.raw.Close()
			return
		}
	}
}

// handle dispatches one value from the server.
func (l *subLink) handle(v resp.Value) error {
	switch v.Kind {
	case resp.KindError:
		cmd := l.popHead()
		if cmd == nil {
			return fmt.Errorf("%w: unexpected error %q", errSubOutOfStep, v.Str)
		}
		if isPing(cmd) {
			// -BUSY, -LOADING…: the node is alive, and the subscriptions
			// pending behind the PING still wait for their replies.
			return nil
		}
		l.s.note(subNote{link: l, kind: noteFailed, cmd: cmd, err: v.Err()})
		return nil
	case resp.KindSimpleString:
		if strings.EqualFold(v.Str, "PONG") { // RESP3 answers PING so
			l.ponged()
			return nil
		}
	case resp.KindArray, resp.KindPush:
		return l.handleEvent(v.Elems)
	}
	return fmt.Errorf("%w: unexpected %s", errSubOutOfStep, v.Kind)
}

// handleEvent handles a message, a confirmation or a RESP2 pong.
func (l *subLink) handleEvent(elems []resp.Value) error {
	if len(elems) == 0 {
		return fmt.Errorf("%w: empty event", errSubOutOfStep)
	}
	kind := strings.ToLower(elems[0].Str)
	switch {
	// A message is delivered only while its channel (or pattern) is placed
	// on this link. Once the run loop moved the name elsewhere, or dropped
	// the link, what the link still brings (read before the connection
	// closed, or sent before the server processed the unsubscription) is
	// from a subscription already given up: its messages fall in the gap
	// the restoration reports, and the new subscription, on another node,
	// may deliver the same ones again.
	case (kind == "message" || kind == "smessage") && len(elems) == 3:
		if l.serves(elems[1].Str) {
			l.s.o.Deliver(Message{Channel: elems[1].Str, Payload: elems[2].Str})
		}
		return nil
	case kind == "pmessage" && len(elems) == 4:
		if l.serves(elems[1].Str) {
			l.s.o.Deliver(Message{Pattern: elems[1].Str, Channel: elems[2].Str, Payload: elems[3].Str})
		}
		return nil
	case kind == "pong":
		l.ponged()
		return nil
	case isConfirmation(kind) && len(elems) == 3:
		name := elems[1].Str
		cmd, complete, more := l.confirm(kind, name)
		switch {
		case cmd != nil:
			if !complete {
				cmd = nil
			}
			l.s.note(subNote{link: l, kind: noteConfirmed, cmd: cmd, verb: kind, name: name, more: more})
		case kind == "sunsubscribe":
			// Not asked for: the channel's slot left this node's shard,
			// or a failover demoted the node.
			l.s.note(subNote{link: l, kind: noteServerUnsub, name: name})
		default:
			return fmt.Errorf("%w: %s %q confirmed but not asked for", errSubOutOfStep, kind, name)
		}
		return nil
	}
	return fmt.Errorf("%w: unexpected %q event", errSubOutOfStep, kind)
}

func isConfirmation(kind string) bool {
	switch kind {
	case "subscribe", "psubscribe", "ssubscribe", "unsubscribe", "punsubscribe", "sunsubscribe":
		return true
	}
	return false
}

// confirm matches a confirmation to the oldest pending command it answers.
// complete reports that it was the command's last; more, that a subscribe
// command is still pending after it.
func (l *subLink) confirm(kind, name string) (cmd *subCmd, complete, more bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for i, c := range l.pending {
		if c.verb != kind || c.left == 0 || !slices.Contains(c.names, name) {
			continue
		}
		c.left--
		if c.left == 0 {
			l.pending = append(l.pending[:i], l.pending[i+1:]...)
			complete = true
		}
		for _, p := range l.pending {
			if !isUnsub(p.verb) && !isPing(p) {
				more = true
			}
		}
		return c, complete, more
	}
	return nil, false, false
}

// popHead removes the oldest pending command: an error reply answers it.
// A PING's read deadline is lifted with it.
func (l *subLink) popHead() *subCmd {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.pending) == 0 {
		return nil
	}
	c := l.pending[0]
	l.pending = l.pending[1:]
	if isPing(c) {
		_ = l.raw.SetReadDeadline(time.Time{})
	}
	return c
}

// pendingCmds returns the (un)subscribe commands still awaiting
// confirmation.
func (l *subLink) pendingCmds() []*subCmd {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []*subCmd
	for _, c := range l.pending {
		if !isPing(c) {
			out = append(out, c)
		}
	}
	return out
}

// idle reports whether nothing was read for d.
func (l *subLink) idle(d time.Duration) bool {
	return time.Since(time.Unix(0, l.lastRead.Load())) >= d
}
