package conn_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/keel-go/keel/internal/conn"
	"github.com/keel-go/keel/internal/resptest"
	"github.com/keel-go/keel/internal/testutil"
	"github.com/keel-go/keel/resp"
)

// A transaction's queued commands are answered QUEUED; but when the server
// refuses the MULTI itself (an ACL without it), they run on their own and
// get their usual replies. Neither is a connection out of step.
func TestTransactionRepliesAreNotOutOfStep(t *testing.T) {
	for name, multi := range map[string]resptest.Reply{
		"queued":        resptest.OK(),
		"MULTI refused": resptest.Err("NOPERM this user has no permissions to run the 'multi' command"),
	} {
		t.Run(name, func(t *testing.T) {
			srv := resptest.New(t)
			refused := multi.Value.Kind == resp.KindError
			srv.Handle("MULTI", func([]string) resptest.Reply { return multi })
			srv.Handle("INCR", func([]string) resptest.Reply {
				if refused {
					return resptest.Int(1)
				}
				return resptest.Value(resp.Value{Kind: resp.KindSimpleString, Str: "QUEUED"})
			})
			srv.Handle("EXEC", func([]string) resptest.Reply {
				if refused {
					return resptest.Err("ERR EXEC without MULTI")
				}
				return resptest.Value(resp.Value{Kind: resp.KindArray, Elems: []resp.Value{{Kind: resp.KindInteger, Int: 1}}})
			})
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			c, err := conn.Dial(ctx, srv.Addr(), conn.Options{})
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			replies, err := c.DoMulti(ctx, []string{"MULTI"}, []string{"INCR", "k"}, []string{"EXEC"})
			if err != nil || len(replies) != 3 {
				t.Fatalf("DoMulti = %v, %v", replies, err)
			}
			if err := c.Err(); err != nil {
				t.Fatalf("the connection was closed: %v", err)
			}
			// A queued command answered with what it can never get is still
			// out of step.
			srv.Handle("INCR", func([]string) resptest.Reply { return resptest.Bulk("nonsense") })
			if _, err := c.DoMulti(ctx, []string{"MULTI"}, []string{"INCR", "k"}, []string{"EXEC"}); err == nil {
				t.Fatal("an INCR answered with a bulk string inside a transaction was accepted")
			}
		})
	}
}

// A reply over the limits fails the request it answers with the limit's
// error; the others in flight lose their connection, with a cause that says
// so, not with an error that would make them look refused for size.
func TestOversizedReplyFailsOnlyItsRequest(t *testing.T) {
	srv := resptest.New(t)
	srv.Handle("GET", func(args []string) resptest.Reply {
		if len(args) > 1 && args[1] == "big" {
			return resptest.Reply{Raw: "$5000\r\n", Delay: 50 * time.Millisecond}
		}
		return resptest.Bulk("small")
	})
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c, err := conn.Dial(ctx, srv.Addr(), conn.Options{Limits: resp.Limits{MaxBulkLen: 1000}})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	bigErr := make(chan error, 1)
	go func() {
		_, err := c.Do(ctx, "GET", "big")
		bigErr <- err
	}()
	testutil.WaitFor(t, 5*time.Second, "the server read the big GET", func() bool { return srv.Count("GET") == 1 })
	_, smallErr := c.Do(ctx, "GET", "small")
	if err := <-bigErr; !errors.Is(err, resp.ErrTooLarge) {
		t.Errorf("the oversized reply's request: %v, want resp.ErrTooLarge", err)
	}
	if errors.Is(smallErr, resp.ErrTooLarge) || !errors.Is(smallErr, conn.ErrOversizedReply) || !errors.Is(smallErr, conn.ErrConnLost) {
		t.Errorf("the request behind it: %v, want ErrOversizedReply and ErrConnLost, not ErrTooLarge", smallErr)
	}
}
