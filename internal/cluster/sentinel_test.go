package cluster

import (
	"fmt"
	"testing"

	"github.com/keel-go/keel/resp"
)

func TestInstanceAddrs(t *testing.T) {
	inst := func(ip, port, flags string) resp.Value {
		return resp.Value{Kind: resp.KindArray, Elems: []resp.Value{
			bulk("name"), bulk(ip + ":" + port), bulk("ip"), bulk(ip), bulk("port"), bulk(port), bulk("flags"), bulk(flags),
		}}
	}
	v := resp.Value{Kind: resp.KindArray, Elems: []resp.Value{
		inst("127.0.0.2", "6379", "slave"),
		inst("127.0.0.3", "6379", "s_down,slave"),
		inst("127.0.0.4", "6379", "slave,disconnected"),
		inst("127.0.0.5", "6379", "slave,master_down"),
	}}
	if got := fmt.Sprint(instanceAddrs(v, true)); got != "[127.0.0.2:6379 127.0.0.5:6379]" {
		t.Fatalf("healthy = %s", got)
	}
	if got := len(instanceAddrs(v, false)); got != 4 {
		t.Fatalf("%d instances, want 4", got)
	}
}

func TestSentinelsLearned(t *testing.T) {
	var s sentinels
	s.learned("a:1", []string{"b:1", "c:1"})
	s.learned("c:1", []string{"a:1"}) // b missing from one answer is kept
	if got := fmt.Sprint(s.list()); got != "[c:1 a:1 b:1]" {
		t.Fatalf("list = %s", got)
	}
}
