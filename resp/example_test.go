package resp_test

import (
	"errors"
	"fmt"
	"strings"

	"github.com/keel-go/keel/resp"
)

func ExampleReader() {
	// Replies as a server sends them: a status, a RESP3 map, and an error.
	replies := "+OK\r\n" +
		"%2\r\n+server\r\n$5\r\nredis\r\n+proto\r\n:3\r\n" +
		"-MOVED 3999 127.0.0.1:6381\r\n"
	r := resp.NewReader(strings.NewReader(replies), resp.Limits{})
	for range 3 {
		v, err := r.Read()
		if err != nil {
			fmt.Println("read:", err)
			return
		}
		fmt.Printf("%s: %v\n", v.Kind, v)
		if err := v.Err(); err != nil {
			var e *resp.Error
			if errors.As(err, &e) {
				slot, addr, _ := e.Redirect()
				fmt.Println("redirect: slot", slot, "to", addr)
			}
		}
	}
	// Output:
	// simple-string: OK
	// map: {server: "redis" proto: 3}
	// error: (error) MOVED 3999 127.0.0.1:6381
	// redirect: slot 3999 to 127.0.0.1:6381
}

func ExampleAppendCommand() {
	buf := resp.AppendCommand(nil, []string{"SET", "greeting", "hello"})
	fmt.Printf("%q\n", buf)

	// The buffer can be reused for the next command without allocating.
	buf = resp.AppendCommand(buf[:0], []string{"GET", "greeting"})
	fmt.Printf("%q\n", buf)
	// Output:
	// "*3\r\n$3\r\nSET\r\n$8\r\ngreeting\r\n$5\r\nhello\r\n"
	// "*2\r\n$3\r\nGET\r\n$8\r\ngreeting\r\n"
}

func ExampleIsUnknownCommand() {
	// A server before Redis 7 refuses CLUSTER SHARDS; the caller falls back
	// to CLUSTER SLOTS.
	err := resp.ParseError("ERR Unknown subcommand or wrong number of arguments for 'SHARDS'. Try CLUSTER HELP.")
	if resp.IsUnknownCommand(err) {
		fmt.Println("fall back to CLUSTER SLOTS")
	}
	// Output: fall back to CLUSTER SLOTS
}
