package keel_test

import (
	"context"
	"crypto/sha1"
	"encoding/hex"
	"errors"
	"regexp"
	"strconv"
	"testing"
	"time"

	"github.com/keel-go/keel"
	"github.com/keel-go/keel/internal/testutil"
	"github.com/keel-go/keel/lab"
	"github.com/keel-go/keel/resp"
)

// setAndGet sets KEYS[1] to ARGV[1] and returns what GET then reads.
var setAndGet = keel.NewScript(`redis.call('SET', KEYS[1], ARGV[1]); return redis.call('GET', KEYS[1])`)

// hasScript asks node n whether it has the script cached.
func hasScript(t *testing.T, ctx context.Context, n *keel.Node, s *keel.Script) bool {
	t.Helper()
	v, err := n.Do(ctx, "SCRIPT", "EXISTS", s.SHA())
	if err != nil || len(v.Elems) != 1 {
		t.Fatalf("SCRIPT EXISTS on %v: %v, %v", n, v, err)
	}
	return v.Elems[0].Int == 1
}

func TestScriptLoadRunAndNoScriptFallback(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c := sharedCluster(t)
	cl := newClient(t, c, keel.Options{})
	if sum := sha1.Sum([]byte(setAndGet.Source())); setAndGet.SHA() != hex.EncodeToString(sum[:]) {
		t.Fatalf("SHA %q, want the SHA1 of the source", setAndGet.SHA())
	}
	if err := setAndGet.Load(ctx, cl); err != nil {
		t.Fatal(err)
	}
	for _, p := range cl.Primaries() {
		if !hasScript(t, ctx, p, setAndGet) {
			t.Fatalf("%v does not have the script after Load", p)
		}
	}
	if v, err := cl.Do(ctx, "SCRIPT", "EXISTS", setAndGet.SHA(), "0000000000000000000000000000000000000000"); err != nil ||
		len(v.Elems) != 2 || v.Elems[0].Int != 1 || v.Elems[1].Int != 0 {
		t.Fatalf("SCRIPT EXISTS through Do: %v, %v; want [1 0]", v, err)
	}

	// Keys on every shard: the script runs on each key's primary.
	slots, _ := shardSlots(t, c)
	for i, slot := range slots {
		key := lab.KeyInSlot(slot, "script")
		v, err := setAndGet.Run(ctx, cl, []string{key}, i)
		if err != nil || v.Str != strconv.Itoa(i) {
			t.Fatalf("Run on %s: %v, %v", key, v, err)
		}
	}

	// After SCRIPT FLUSH no primary has it; Run falls back to EVAL, which
	// caches it on the key's primary.
	if v, err := cl.Do(ctx, "SCRIPT", "FLUSH"); err != nil || v.Str != "OK" {
		t.Fatalf("SCRIPT FLUSH: %v, %v", v, err)
	}
	for _, p := range cl.Primaries() {
		if hasScript(t, ctx, p, setAndGet) {
			t.Fatalf("%v still has the script after SCRIPT FLUSH", p)
		}
	}
	key := lab.KeyInSlot(slots[1], "script")
	// A pipeline does not fall back: its EVALSHA gets NOSCRIPT.
	p := cl.Pipeline()
	f := keel.Queue(p, setAndGet.Cmd([]string{key}, "x"))
	p.Exec(ctx)
	if _, err := f.Result(); !errors.Is(err, resp.ErrNoScript) {
		t.Fatalf("pipelined EVALSHA after SCRIPT FLUSH: %v, want NOSCRIPT", err)
	}
	if v, err := setAndGet.Run(ctx, cl, []string{key}, "after-flush"); err != nil || v.Str != "after-flush" {
		t.Fatalf("Run after SCRIPT FLUSH: %v, %v", v, err)
	}
	owner, err := c.PrimaryFor(ctx, slots[1])
	if err != nil {
		t.Fatal(err)
	}
	n, err := cl.Node(owner.Addr())
	if err != nil {
		t.Fatal(err)
	}
	if !hasScript(t, ctx, n, setAndGet) {
		t.Fatalf("the key's primary %v did not cache the script on EVAL", n)
	}
	// Now the pipeline's EVALSHA finds it.
	p = cl.Pipeline()
	f = keel.Queue(p, setAndGet.Cmd([]string{key}, "piped"))
	p.Exec(ctx)
	if v, err := f.Result(); err != nil || v.Str != "piped" {
		t.Fatalf("pipelined EVALSHA: %v, %v", v, err)
	}

	// Keys in two slots are refused before anything is sent.
	if _, err := setAndGet.Run(ctx, cl, []string{lab.KeyInSlot(slots[0], "a"), lab.KeyInSlot(slots[1], "b")}, 1); !errors.Is(err, keel.ErrCrossSlot) {
		t.Fatalf("Run with keys in two slots: %v, want ErrCrossSlot", err)
	}
	if _, err := setAndGet.Run(ctx, cl, []string{key}, nil); !errors.Is(err, keel.ErrArgument) {
		t.Fatalf("Run with a nil argument: %v, want ErrArgument", err)
	}
}

// cmdstatEvalRO matches the EVAL_RO and EVALSHA_RO counts of INFO
// commandstats.
var cmdstatEvalRO = regexp.MustCompile(`cmdstat_eval(?:sha)?_ro:calls=(\d+)`)

func TestScriptRunROOnReplica(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	c := sharedCluster(t)
	writer := newClient(t, c, keel.Options{})
	reader := newClient(t, c, keel.Options{ReadPolicy: keel.ReadReplicaPreferred, RefreshInterval: 200 * time.Millisecond})
	get := keel.NewScript(`return redis.call('GET', KEYS[1])`)
	key := lab.KeyInSlot(200, "script-ro")
	if err := writer.Set(ctx, key, "v"); err != nil {
		t.Fatal(err)
	}
	_, replica := primaryAndReplica(t, ctx, c, 200)
	testutil.WaitFor(t, 15*time.Second, "a RunRO of the value reaches the replica", func() bool {
		before := nodeCalls(t, ctx, replica, cmdstatEvalRO)
		v, err := get.RunRO(ctx, reader, []string{key})
		return err == nil && v.Str == "v" && nodeCalls(t, ctx, replica, cmdstatEvalRO) > before
	})
	// A read-only script may not write.
	set := keel.NewScript(`return redis.call('SET', KEYS[1], 'w')`)
	if _, err := set.RunRO(ctx, reader, []string{key}); err == nil {
		t.Fatal("a writing script ran through RunRO")
	}
}

const testLibrary = `#!lua name=keeltest
redis.register_function('keel_set', function(keys, args) redis.call('SET', keys[1], args[1]) return args[1] end)
redis.register_function{function_name='keel_get', callback=function(keys) return redis.call('GET', keys[1]) end, flags={'no-writes'}}
`

func TestFunctionsOnEveryPrimary(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c := sharedCluster(t)
	cl := newClient(t, c, keel.Options{})
	if v, err := cl.Do(ctx, "FUNCTION", "LOAD", "REPLACE", testLibrary); err != nil || v.Str != "keeltest" {
		t.Fatalf("FUNCTION LOAD through Do: %v, %v", v, err)
	}
	t.Cleanup(func() { _, _ = cl.Do(context.Background(), "FUNCTION", "DELETE", "keeltest") })
	// Loading again without REPLACE fails on every primary, each named.
	_, err := cl.FunctionLoad(ctx, testLibrary, false)
	var ne *keel.NodeError
	if err == nil || !errors.As(err, &ne) {
		t.Fatalf("FunctionLoad of a loaded library without REPLACE: %v, want NodeErrors", err)
	}
	if name, err := cl.FunctionLoad(ctx, testLibrary, true); err != nil || name != "keeltest" {
		t.Fatalf("FunctionLoad REPLACE: %q, %v", name, err)
	}
	slots, _ := shardSlots(t, c)
	for i, slot := range slots {
		key := lab.KeyInSlot(slot, "fcall")
		if v, err := cl.FCall(ctx, "keel_set", []string{key}, i); err != nil || v.Str != strconv.Itoa(i) {
			t.Fatalf("FCALL on shard %d: %v, %v", i, v, err)
		}
		if v, err := cl.FCallRO(ctx, "keel_get", []string{key}); err != nil || v.Str != strconv.Itoa(i) {
			t.Fatalf("FCALL_RO on shard %d: %v, %v", i, v, err)
		}
	}
	// In a pipeline too.
	p := cl.Pipeline()
	f := keel.Queue(p, keel.FCallRO("keel_get", []string{lab.KeyInSlot(slots[2], "fcall")}))
	p.Exec(ctx)
	if v, err := f.Result(); err != nil || v.Str != "2" {
		t.Fatalf("pipelined FCALL_RO: %v, %v", v, err)
	}
	if v, err := cl.Do(ctx, "FUNCTION", "DELETE", "keeltest"); err != nil || v.Str != "OK" {
		t.Fatalf("FUNCTION DELETE: %v, %v", v, err)
	}
	if _, err := cl.FCall(ctx, "keel_set", []string{lab.KeyInSlot(slots[0], "fcall")}, 1); err == nil {
		t.Fatal("FCALL after FUNCTION DELETE succeeded")
	}
}

// A script run before a failover runs again right after it, on a new
// primary that never saw it.
func TestScriptRunsAfterFailover(t *testing.T) {
	testutil.SkipIfShort(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	c := lab.StartClusterT(t, lab.ClusterOptions{Shards: 3, Replicas: 1})
	cl := newClient(t, c, keel.Options{})
	slots, primaries := shardSlots(t, c)
	key := lab.KeyInSlot(slots[0], "failover-script")
	if v, err := setAndGet.Run(ctx, cl, []string{key}, "before"); err != nil || v.Str != "before" {
		t.Fatalf("Run before the failover: %v, %v", v, err)
	}
	replicas, err := c.ReplicasOf(ctx, primaries[0])
	if err != nil || len(replicas) == 0 {
		t.Fatalf("replicas of %s: %v, %v", primaries[0], replicas, err)
	}
	replica, err := cl.Node(replicas[0].Addr())
	if err != nil {
		t.Fatal(err)
	}
	if hasScript(t, ctx, replica, setAndGet) {
		t.Fatal("the replica has the script before the failover: the test proves nothing")
	}
	if err := c.WaitStable(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Failover(ctx, replicas[0], lab.FailoverForce); err != nil {
		t.Fatal(err)
	}
	if v, err := setAndGet.Run(ctx, cl, []string{key}, "after"); err != nil || v.Str != "after" {
		t.Fatalf("Run right after the failover: %v, %v", v, err)
	}
	if !hasScript(t, ctx, replica, setAndGet) {
		t.Fatal("the promoted node did not run the script")
	}
}
