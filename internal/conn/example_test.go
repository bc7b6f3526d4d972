package conn_test

import (
	"context"
	"fmt"
	"log"

	"github.com/keel-go/keel/internal/conn"
	"github.com/keel-go/keel/lab"
)

func ExampleDial() {
	ctx := context.Background()
	srv, err := lab.StartServer(ctx, lab.ServerOptions{})
	if err != nil {
		log.Fatal(err)
	}
	defer srv.Close()

	c, err := conn.Dial(ctx, srv.Addr(), conn.Options{ClientName: "example"})
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()

	if _, err := c.Do(ctx, "SET", "greeting", "hello"); err != nil {
		log.Fatal(err)
	}
	v, err := c.Do(ctx, "GET", "greeting")
	if err != nil {
		log.Fatal(err)
	}
	text, _ := v.Text()
	fmt.Println(text, "over RESP", c.Protocol())
	// Output: hello over RESP 3
}
