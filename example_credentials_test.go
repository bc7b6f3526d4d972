package keel_test

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/keel-go/keel"
	"github.com/keel-go/keel/lab"
)

// tokenSource stands for a secret manager or an IAM token generator: keel
// asks it for credentials for every new connection, so a rotated password
// or renewed token is used from the next connection on.
type tokenSource struct {
	mu    sync.Mutex
	token string
}

func (s *tokenSource) credentials(ctx context.Context) (username, password string, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return "default", s.token, nil
}

func ExampleOptions_credentials() {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	// A local cluster whose default user's password is "token-1".
	cluster, err := lab.StartCluster(ctx, lab.ClusterOptions{Shards: 1, Password: "token-1"})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer cluster.Close()

	source := &tokenSource{token: "token-1"}
	client, err := keel.New(ctx, keel.Options{Seeds: cluster.Addrs(), Credentials: source.credentials})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer client.Close()

	if err := client.Set(ctx, "greeting", "hello"); err != nil {
		fmt.Println(err)
		return
	}
	whoami, err := client.Primaries()[0].Do(ctx, "ACL", "WHOAMI")
	if err != nil {
		fmt.Println(err)
		return
	}
	user, _ := whoami.Text()
	fmt.Println("authenticated as", user)
	// Output: authenticated as default
}
