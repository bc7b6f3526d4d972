// Package resptest is a scripted RESP server on 127.0.0.1 for deterministic
// tests of any package of the module: the test says, per command, what the
// server answers (a value, raw bytes, nothing), when (after a delay) and
// whether the connection then breaks, and counts what the server received.
//
// It answers keel's handshake by itself (HELLO 3, AUTH, CLIENT SETNAME,
// READONLY, PING) unless a handler for those commands is set, and can serve
// a cluster topology (CLUSTER SHARDS, SLOTS and INFO) from a description
// the test changes as it goes (HandleTopology).
package resptest

import (
	"context"
	"io"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/keel-go/keel/resp"
)

// Handler answers one command; cmd holds the command's name and arguments
// as sent.
type Handler func(cmd []string) Reply

// Reply is what the server does with one command. The zero Reply answers
// nothing and keeps serving (a skipped reply).
type Reply struct {
	// Value is written, in RESP3, unless Raw or Stream is set.
	Value resp.Value
	// Raw is written as it is (hostile or malformed replies).
	Raw string
	// Stream writes the reply itself, for as long as it likes; it should
	// return once a write fails (the client hung up).
	Stream func(w io.Writer)
	// Delay is waited before replying.
	Delay time.Duration
	// Drop closes the connection after the reply (if any) is written: with
	// no reply, the client has sent the command and will never learn
	// whether it ran.
	Drop bool
	// Hang stops the connection: it answers nothing more (this command
	// included) and reads nothing more, until the server closes.
	Hang bool
}

// Value constructors for the replies tests write most.
func OK() Reply                      { return Reply{Value: resp.Value{Kind: resp.KindSimpleString, Str: "OK"}} }
func Bulk(s string) Reply            { return Reply{Value: resp.Value{Kind: resp.KindBulkString, Str: s}} }
func Int(n int64) Reply              { return Reply{Value: resp.Value{Kind: resp.KindInteger, Int: n}} }
func Null() Reply                    { return Reply{Value: resp.Value{Kind: resp.KindNull}} }
func Err(msg string) Reply           { return Reply{Value: resp.Value{Kind: resp.KindError, Str: msg}} }
func Value(v resp.Value) Reply       { return Reply{Value: v} }
func Drop() Reply                    { return Reply{Drop: true} }
func Hang() Reply                    { return Reply{Hang: true} }
func Raw(s string) Reply             { return Reply{Raw: s} }
func Stream(f func(io.Writer)) Reply { return Reply{Stream: f} }

// HelloRESP3 is the reply to HELLO 3 of a Redis 7 server, reduced to what
// keel reads.
const HelloRESP3 = "%1\r\n+proto\r\n:3\r\n"

// Server is a scripted RESP server. Its methods are safe for concurrent use,
// also while it serves.
type Server struct {
	ln   net.Listener
	addr string

	mu       sync.Mutex
	handlers map[string]Handler // by Key
	fallback Handler
	counts   map[string]int // commands received, by Key
	conns    map[net.Conn]struct{}
	frozen   bool
	closed   bool
	unfreeze chan struct{} // closed by Thaw or Close

	wg sync.WaitGroup // the accept loop and every connection's goroutine
}

// New starts a server on 127.0.0.1 and closes it when the test ends. With
// no handler set it answers the handshake, and every other command with
// "ERR unknown command".
func New(t testing.TB) *Server {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &Server{
		ln:       ln,
		addr:     ln.Addr().String(),
		handlers: map[string]Handler{},
		counts:   map[string]int{},
		conns:    map[net.Conn]struct{}{},
		unfreeze: make(chan struct{}),
	}
	s.wg.Add(1)
	go s.accept()
	t.Cleanup(s.Close)
	return s
}

// Addr is the server's "127.0.0.1:port".
func (s *Server) Addr() string { return s.addr }

// Key names a command as Handle and Count take it: the upper-case name,
// and for container commands (CLUSTER, CLIENT, COMMAND, CONFIG…) a space and
// the upper-case subcommand: "GET", "CLUSTER SHARDS".
func Key(cmd []string) string {
	if len(cmd) == 0 {
		return ""
	}
	name := strings.ToUpper(cmd[0])
	if len(cmd) > 1 && containers[name] {
		return name + " " + strings.ToUpper(cmd[1])
	}
	return name
}

var containers = map[string]bool{
	"CLUSTER": true, "CLIENT": true, "COMMAND": true, "CONFIG": true,
	"OBJECT": true, "MEMORY": true, "SCRIPT": true, "FUNCTION": true,
	"XINFO": true, "XGROUP": true, "ACL": true,
}

// Handle sets the handler for the commands of key (see Key), replacing any.
func (s *Server) Handle(key string, h Handler) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.handlers[key] = h
}

// HandleFunc sets the handler of every command without one of its own.
func (s *Server) HandleFunc(h Handler) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.fallback = h
}

// Count returns how many commands of key (see Key) the server has read.
func (s *Server) Count(key string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.counts[key]
}

// Freeze makes the server stop answering, as a hung process does: every
// connection, open or new, reads and answers nothing until Thaw.
func (s *Server) Freeze() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.frozen = true
}

// Thaw undoes Freeze: connections read and answer again.
func (s *Server) Thaw() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.frozen && !s.closed {
		s.frozen = false
		close(s.unfreeze)
		s.unfreeze = make(chan struct{})
	}
}

// DropConnections closes every open connection (the server keeps
// accepting new ones).
func (s *Server) DropConnections() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for nc := range s.conns {
		_ = nc.Close()
	}
}

// Close stops the server, closes its connections and waits for its
// goroutines. It is idempotent.
func (s *Server) Close() {
	s.mu.Lock()
	if !s.closed {
		s.closed = true
		_ = s.ln.Close()
		for nc := range s.conns {
			_ = nc.Close()
		}
		close(s.unfreeze)
	}
	s.mu.Unlock()
	s.wg.Wait()
}

func (s *Server) accept() {
	defer s.wg.Done()
	for {
		nc, err := s.ln.Accept()
		if err != nil {
			return
		}
		s.mu.Lock()
		if s.closed {
			s.mu.Unlock()
			_ = nc.Close()
			return
		}
		s.conns[nc] = struct{}{}
		s.wg.Add(1)
		s.mu.Unlock()
		go s.serve(nc)
	}
}

// serve answers one connection's commands in order until it ends.
func (s *Server) serve(nc net.Conn) {
	defer s.wg.Done()
	defer func() {
		s.mu.Lock()
		delete(s.conns, nc)
		s.mu.Unlock()
		_ = nc.Close()
	}()
	rd := resp.NewReader(nc, resp.Limits{})
	var out []byte
	for {
		if !s.waitThawed() {
			return
		}
		v, err := rd.Read()
		if err != nil {
			return
		}
		cmd := make([]string, len(v.Elems))
		for i, e := range v.Elems {
			cmd[i], _ = e.Text()
		}
		r, ok := s.answer(cmd)
		if !ok || r.Hang {
			s.hang()
			return
		}
		if r.Delay > 0 && !s.sleep(r.Delay) {
			return
		}
		switch {
		case r.Stream != nil:
			r.Stream(nc)
		case r.Raw != "":
			_, err = io.WriteString(nc, r.Raw)
		case r.Value.Kind != resp.KindInvalid:
			out = resp.AppendValue(out[:0], r.Value)
			_, err = nc.Write(out)
		}
		if err != nil || r.Drop {
			return
		}
	}
}

// answer counts cmd and finds its reply; ok is false when the server froze
// while the command was read (it is then not answered).
func (s *Server) answer(cmd []string) (r Reply, ok bool) {
	key := Key(cmd)
	s.mu.Lock()
	if s.frozen {
		s.mu.Unlock()
		return Reply{}, false
	}
	s.counts[key]++
	h := s.handlers[key]
	if h == nil {
		h = s.fallback
	}
	s.mu.Unlock()
	if h != nil {
		return h(cmd), true
	}
	return builtin(cmd), true
}

// builtin answers the handshake and PING the way Redis 7 does, and anything
// else as an unknown command.
func builtin(cmd []string) Reply {
	switch Key(cmd) {
	case "HELLO":
		return Raw(HelloRESP3)
	case "AUTH", "CLIENT SETNAME", "READONLY", "READWRITE", "ASKING":
		return OK()
	case "PING":
		return Reply{Value: resp.Value{Kind: resp.KindSimpleString, Str: "PONG"}}
	}
	return Err("ERR unknown command '" + cmd[0] + "'")
}

// waitThawed waits while the server is frozen; false when it closed.
func (s *Server) waitThawed() bool {
	for {
		s.mu.Lock()
		frozen, closed, thawed := s.frozen, s.closed, s.unfreeze
		s.mu.Unlock()
		if closed {
			return false
		}
		if !frozen {
			return true
		}
		<-thawed
	}
}

// hang waits until the server closes.
func (s *Server) hang() {
	for {
		s.mu.Lock()
		closed, ch := s.closed, s.unfreeze
		s.mu.Unlock()
		if closed {
			return
		}
		<-ch // also wakes on Thaw; a hung connection stays hung
	}
}

// sleep waits d, or until the server closes (false).
func (s *Server) sleep(d time.Duration) bool {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	for {
		s.mu.Lock()
		closed, ch := s.closed, s.unfreeze
		s.mu.Unlock()
		if closed {
			return false
		}
		select {
		case <-ctx.Done():
			return true
		case <-ch:
		}
	}
}
