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

func (s *tokenSource) rotate(token string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.token = token
}

func ExampleOptions_reauthInterval() {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cluster, err := lab.StartCluster(ctx, lab.ClusterOptions{Shards: 1, Password: "token-1"})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer cluster.Close()

	source := &tokenSource{token: "token-1"}
	client, err := keel.New(ctx, keel.Options{
		Seeds:       cluster.Addrs(),
		Credentials: source.credentials,
		// With ElastiCache IAM tokens (valid 15 minutes, connections closed
		// after 12 hours): ReauthInterval 10*time.Minute, and MaxConnAge
		// 11*time.Hour to replace connections before the server drops them.
		ReauthInterval: 50 * time.Millisecond,
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer client.Close()

	// The token is rotated: the new one is accepted, the provider returns
	// it, and the old one is revoked. The live connection re-authenticates
	// with the new token within an interval; nothing is redialled.
	node := client.Primaries()[0]
	if _, err := node.Do(ctx, "ACL", "SETUSER", "default", ">token-2"); err != nil {
		fmt.Println(err)
		return
	}
	source.rotate("token-2")
	for start := client.Stats().Reauths; client.Stats().Reauths < start+2; {
		time.Sleep(10 * time.Millisecond)
	}
	if _, err := node.Do(ctx, "ACL", "SETUSER", "default", "<token-1"); err != nil {
		fmt.Println(err)
		return
	}
	if err := client.Set(ctx, "greeting", "hello"); err != nil {
		fmt.Println(err)
		return
	}
	s := client.Stats()
	fmt.Println("re-authenticated:", s.Reauths > 0, "failures:", s.ReauthFailures, "dials:", s.Dials)
	// Output: re-authenticated: true failures: 0 dials: 1
}
