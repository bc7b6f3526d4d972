package conn_test

import (
	"context"
	"io"
	"net"
	"testing"
	"time"

	"github.com/keel-go/keel/internal/conn"
	"github.com/keel-go/keel/resp"
)

// fuzzCommands are sent as one pipeline; each lists the reply kinds it can
// ever receive (nil: any), written out here independently of conn's table.
var fuzzCommands = []struct {
	args  []string
	kinds []resp.Kind
	pong  bool
}{
	{args: []string{"GET", "k"}, kinds: []resp.Kind{resp.KindBulkString, resp.KindNull}},
	{args: []string{"SET", "k", "v"}, kinds: []resp.Kind{resp.KindSimpleString, resp.KindNull}},
	{args: []string{"INCR", "n"}, kinds: []resp.Kind{resp.KindInteger}},
	{args: []string{"PING"}, pong: true},
	{args: []string{"MGET", "a", "b"}, kinds: []resp.Kind{resp.KindArray}},
	{args: []string{"HGETALL", "h"}, kinds: []resp.Kind{resp.KindArray, resp.KindMap}},
	{args: []string{"OBJECT", "FREQ", "k"}},
}

func canAnswer(i int, v resp.Value) bool {
	c := fuzzCommands[i]
	switch {
	case v.Kind == resp.KindError:
		return true
	case c.pong:
		return v.Kind == resp.KindSimpleString && v.Str == "PONG"
	case c.kinds == nil:
		return true
	}
	for _, k := range c.kinds {
		if v.Kind == k {
			return true
		}
	}
	return false
}

// FuzzRepliesReachOnlyTheirRequests feeds arbitrary bytes as the replies to
// a pipeline of requests in flight, and checks that no request is handed a
// reply its command can never receive.
func FuzzRepliesReachOnlyTheirRequests(f *testing.F) {
	f.Add([]byte("$1\r\nv\r\n+OK\r\n:1\r\n+PONG\r\n*2\r\n_\r\n$1\r\nb\r\n%0\r\n,1.5\r\n"))
	f.Add([]byte("+OK\r\n:1\r\n+PONG\r\n*0\r\n%0\r\n:3\r\n"))                       // GET's reply skipped
	f.Add([]byte("$1\r\nv\r\n$1\r\nv\r\n+OK\r\n:1\r\n+PONG\r\n*0\r\n%0\r\n:3\r\n")) // one reply too many
	f.Add([]byte("_\r\n_\r\n-ERR no\r\n+PONG\r\n*-1\r\n~0\r\n#t\r\n"))
	f.Add([]byte(">2\r\n+message\r\n:1\r\n|1\r\n+a\r\n:1\r\n$1\r\nv\r\n+OK\r\n"))
	f.Fuzz(func(t *testing.T, replies []byte) {
		client, server := net.Pipe()
		defer server.Close()
		go serveFuzz(server, replies)
		c, err := conn.Dial(context.Background(), "pipe", conn.Options{
			HealthTimeout: -1, PingInterval: -1,
			DialContext: func(context.Context, string, string) (net.Conn, error) { return client, nil },
		})
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		cmds := make([][]string, len(fuzzCommands))
		for i, fc := range fuzzCommands {
			cmds[i] = fc.args
		}
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		got, _ := c.DoMulti(ctx, cmds...)
		if len(got) > len(cmds) {
			t.Fatalf("%d replies for %d commands", len(got), len(cmds))
		}
		for i, v := range got {
			if !canAnswer(i, v) {
				t.Fatalf("%v was handed %v, a reply it can never receive", fuzzCommands[i].args, v)
			}
		}
	})
}

// serveFuzz answers the handshake, reads the pipeline of fuzzCommands, then
// writes replies and hangs up.
func serveFuzz(nc net.Conn, replies []byte) {
	defer nc.Close()
	rd := resp.NewReader(nc, resp.Limits{})
	if _, err := rd.Read(); err != nil {
		return
	}
	if _, err := io.WriteString(nc, helloOK); err != nil {
		return
	}
	for range fuzzCommands {
		if _, err := rd.Read(); err != nil {
			return
		}
	}
	_, _ = nc.Write(replies)
}
