package drill

import (
	"bufio"
	"context"
	"net"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/keel-go/keel/lab"
	"github.com/keel-go/keel/resp"
)

func TestLayoutShardOfFirstSlots(t *testing.T) {
	l := Layout{Shards: []ShardLayout{
		{Primary: "a:1", Ranges: [][2]int{{0, 99}, {200, 299}}},
		{Primary: "b:1", Ranges: [][2]int{{100, 199}}},
		{Primary: "c:1"},
	}}
	for slot, want := range map[int]int{0: 0, 99: 0, 100: 1, 199: 1, 200: 0, 299: 0, 300: -1, 16383: -1, -1: -1} {
		if got := l.ShardOf(slot); got != want {
			t.Errorf("ShardOf(%d) = %d, want %d", slot, got, want)
		}
	}
	if got := l.FirstSlots(); !reflect.DeepEqual(got, []int{0, 100, -1}) {
		t.Errorf("FirstSlots = %v, want [0 100 -1]", got)
	}
	if got := (Layout{}).FirstSlots(); len(got) != 0 {
		t.Errorf("empty FirstSlots = %v", got)
	}
}

// fakeNode serves RESP2 on loopback: each command (words joined by spaces,
// upper-cased) gets its reply from replies, and anything else an unknown
// command error, as from a server without HELLO.
func fakeNode(t *testing.T, replies map[string]resp.Value) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	t.Cleanup(func() { ln.Close(); wg.Wait() })
	wg.Go(func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			wg.Go(func() {
				defer c.Close()
				context.AfterFunc(t.Context(), func() { c.Close() })
				rd := resp.NewReader(bufio.NewReader(c), resp.Limits{})
				for {
					v, err := rd.Read()
					if err != nil {
						return
					}
					args, _ := v.Strings()
					reply, ok := replies[strings.ToUpper(strings.Join(args, " "))]
					if !ok {
						reply = resp.Value{Kind: resp.KindError, Str: "ERR unknown command '" + args[0] + "'"}
					}
					if _, err := c.Write(resp.AppendValue(nil, reply)); err != nil {
						return
					}
				}
			})
		}
	})
	return ln.Addr().String()
}

func arr(elems ...resp.Value) resp.Value { return resp.Value{Kind: resp.KindArray, Elems: elems} }
func num(n int) resp.Value               { return resp.Value{Kind: resp.KindInteger, Int: int64(n)} }
func bulk(s string) resp.Value           { return resp.Value{Kind: resp.KindBulkString, Str: s} }

// slotsEntry is a CLUSTER SLOTS entry; nodes are ports on 127.0.0.1.
func slotsEntry(start, end int, ports ...int) resp.Value {
	e := arr(num(start), num(end))
	for _, p := range ports {
		e.Elems = append(e.Elems, arr(bulk("127.0.0.1"), num(p), bulk("id"+strconv.Itoa(p))))
	}
	return e
}

func TestDiscoverFake(t *testing.T) {
	ok := resp.Value{Kind: resp.KindSimpleString, Str: "OK"}
	unknownShards := resp.Value{Kind: resp.KindError, Str: "ERR unknown subcommand 'SHARDS'. Try CLUSTER HELP."}
	slots := func(entries ...resp.Value) map[string]resp.Value {
		return map[string]resp.Value{"CLIENT SETNAME KEEL-DRILL": ok, "CLUSTER SHARDS": unknownShards, "CLUSTER SLOTS": arr(entries...)}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()

	// A refusing seed first, then a pre-7 server answering CLUSTER SLOTS
	// with split ranges.
	dead, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	dead.Close()
	good := fakeNode(t, slots(slotsEntry(0, 99, 7001, 7002), slotsEntry(100, 199, 7003), slotsEntry(200, 16383, 7001, 7002)))
	l, err := Discover(ctx, Target{Seeds: []string{dead.Addr().String(), good}})
	if err != nil {
		t.Fatal(err)
	}
	want := Layout{Shards: []ShardLayout{
		{Primary: "127.0.0.1:7001", Replicas: []string{"127.0.0.1:7002"}, Ranges: [][2]int{{0, 99}, {200, 16383}}},
		{Primary: "127.0.0.1:7003", Ranges: [][2]int{{100, 199}}},
	}}
	if !reflect.DeepEqual(l, want) {
		t.Fatalf("Discover = %+v\nwant %+v", l, want)
	}

	for name, tc := range map[string]struct {
		replies map[string]resp.Value
		want    string
	}{
		"no shards":    {map[string]resp.Value{"CLIENT SETNAME KEEL-DRILL": ok, "CLUSTER SHARDS": arr()}, "serves no slot"},
		"no slots":     {slots(), "serves no slot"},
		"not an array": {map[string]resp.Value{"CLIENT SETNAME KEEL-DRILL": ok, "CLUSTER SHARDS": ok}, "malformed"},
		"bad range":    {slots(slotsEntry(10, 5, 7001)), "malformed"},
		"out of range": {slots(slotsEntry(0, 16384, 7001)), "malformed"},
		"overlap":      {slots(slotsEntry(0, 100, 7001), slotsEntry(100, 200, 7003)), "slot 100 claimed by both"},
		"node twice":   {slots(slotsEntry(0, 100, 7001, 7002), slotsEntry(101, 200, 7002)), "listed in the shards of both"},
		"no cluster":   {map[string]resp.Value{"CLIENT SETNAME KEEL-DRILL": ok}, "unknown command"},
	} {
		_, err := Discover(ctx, Target{Seeds: []string{fakeNode(t, tc.replies)}})
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: Discover error %v, want one saying %q", name, err, tc.want)
		}
	}
	if _, err := Discover(ctx, Target{}); err == nil {
		t.Error("Discover without seeds succeeded")
	}
}

func TestDiscoverLab(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a cluster")
	}
	c := lab.StartClusterT(t, lab.ClusterOptions{Shards: 3, Replicas: 1})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	topo, err := c.Topology(ctx)
	if err != nil {
		t.Fatal(err)
	}
	l, err := Discover(ctx, Target{Seeds: c.Addrs()[1:2]})
	if err != nil {
		t.Fatal(err)
	}
	if len(l.Shards) != len(topo.Shards) {
		t.Fatalf("Discover found %d shards, lab %d: %+v", len(l.Shards), len(topo.Shards), l)
	}
	for i, sh := range topo.Shards {
		got := l.Shards[i]
		var ranges [][2]int
		for _, r := range sh.Slots {
			ranges = append(ranges, [2]int{r.Start, r.End})
		}
		var replicas []string
		for _, r := range sh.Replicas {
			replicas = append(replicas, r.Addr())
		}
		if got.Primary != sh.Primary.Addr() || !reflect.DeepEqual(got.Ranges, ranges) || !reflect.DeepEqual(got.Replicas, replicas) {
			t.Errorf("shard %d: Discover %+v, lab primary %s replicas %v ranges %v", i, got, sh.Primary.Addr(), replicas, ranges)
		}
		if l.ShardOf(ranges[0][0]) != i {
			t.Errorf("ShardOf(%d) = %d, want %d", ranges[0][0], l.ShardOf(ranges[0][0]), i)
		}
	}
	if first := l.FirstSlots(); len(first) != 3 || first[0] != 0 {
		t.Errorf("FirstSlots = %v", first)
	}
}
