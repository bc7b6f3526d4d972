package cluster

import (
	"errors"
	"slices"
	"strings"
	"testing"
)

func lookup(t testing.TB, name string) Command {
	t.Helper()
	c, ok := Lookup(name)
	if !ok {
		t.Fatalf("Lookup(%q): unknown", name)
	}
	return c
}

func TestKeys(t *testing.T) {
	tests := []struct {
		cmd  string
		want []string
	}{
		{"GET k", []string{"k"}},
		{"SET k v NX EX 10", []string{"k"}},
		{"HSET h f v f2 v2", []string{"h"}},
		{"MGET a b c", []string{"a", "b", "c"}},
		{"MSET a 1 b 2 c 3", []string{"a", "b", "c"}},
		{"MSETNX a 1 b 2", []string{"a", "b"}},
		{"DEL a", []string{"a"}},
		{"LCS a b", []string{"a", "b"}},
		{"RENAME a b", []string{"a", "b"}},
		{"BLPOP a b 0", []string{"a", "b"}},
		{"BZPOPMIN a 1.5", []string{"a"}},
		{"BLMOVE a b LEFT RIGHT 0", []string{"a", "b"}},
		{"EVAL return 0", nil},
		{"EVAL return 0 arg", nil},
		{"EVAL return 2 k1 k2 arg", []string{"k1", "k2"}},
		{"EVALSHA abc 1 k x", []string{"k"}},
		{"FCALL_RO f 1 k", []string{"k"}},
		{"ZUNIONSTORE d 2 a b WEIGHTS 1 2", []string{"d", "a", "b"}},
		{"ZINTERSTORE d 1 a", []string{"d", "a"}},
		{"ZDIFF 2 a b WITHSCORES", []string{"a", "b"}},
		{"SINTERCARD 2 a b LIMIT 1", []string{"a", "b"}},
		{"LMPOP 2 a b LEFT", []string{"a", "b"}},
		{"BLMPOP 0 2 a b LEFT COUNT 3", []string{"a", "b"}},
		{"XREAD STREAMS a b 0 0", []string{"a", "b"}},
		{"XREAD COUNT 5 BLOCK 100 streams a $", []string{"a"}},
		{"XREADGROUP GROUP g c COUNT 1 NOACK STREAMS s >", []string{"s"}},
		// a group named like the keyword is not taken for it
		{"XREADGROUP GROUP streams c STREAMS s >", []string{"s"}},
		{"BITOP AND dest k1 k2", []string{"dest", "k1", "k2"}},
		{"BITOP NOT dest k", []string{"dest", "k"}},
		{"OBJECT ENCODING k", []string{"k"}},
		{"OBJECT HELP", nil},
		{"MEMORY USAGE k SAMPLES 5", []string{"k"}},
		{"MEMORY STATS", nil},
		{"XGROUP CREATE s g $ MKSTREAM", []string{"s"}},
		{"XINFO STREAM s FULL", []string{"s"}},
		{"SORT k", []string{"k"}},
		{"SORT k BY w_* LIMIT 0 10 GET # STORE d", []string{"k", "d"}},
		{"SORT k BY store GET store", []string{"k"}}, // patterns spelled "store" are no option
		{"SORT k STORE d1 STORE d2", []string{"k", "d2"}},
		{"GEORADIUS g 0 0 1 km COUNT 3 STOREDIST d", []string{"g", "d"}},
		{"GEORADIUSBYMEMBER g store 1 km", []string{"g"}}, // a member named "store"
		{"GEOSEARCHSTORE d s FROMMEMBER m BYRADIUS 1 km", []string{"d", "s"}},
		{"WATCH a b", []string{"a", "b"}},
		{"SPUBLISH ch msg", []string{"ch"}},
		{"PING", nil},
		{"PUBLISH ch msg", []string{"ch"}},
		{"SCAN 0 MATCH k*", nil},
	}
	for _, tt := range tests {
		args := strings.Fields(tt.cmd)
		got, err := Keys(lookup(t, args[0]), args)
		if err != nil {
			t.Errorf("Keys(%s): %v", tt.cmd, err)
			continue
		}
		if !slices.Equal(got, tt.want) {
			t.Errorf("Keys(%s) = %q, want %q", tt.cmd, got, tt.want)
		}
	}
}

func TestKeysArity(t *testing.T) {
	for _, cmd := range []string{
		"GET",
		"MGET",
		"MSET a",
		"MSET a 1 b",
		"MSETNX a 1 b",
		"BLPOP 0",
		"RENAME a",
		"EVAL s",
		"EVAL s 2 k",
		"EVAL s -1",
		"EVAL s x k",
		"ZUNIONSTORE d",
		"ZUNIONSTORE d 3 a b",
		"XREAD COUNT 1",
		"XREAD STREAMS",
		"XREAD STREAMS a b 0",
		"OBJECT",
	} {
		args := strings.Fields(cmd)
		c := lookup(t, args[0])
		got, err := Keys(c, args)
		if !errors.Is(err, ErrArity) || got != nil {
			t.Errorf("Keys(%s) = %q, %v; want nil, ErrArity", cmd, got, err)
		}
		if _, _, err := RouteSlot(c, args); !errors.Is(err, ErrArity) {
			t.Errorf("RouteSlot(%s) error = %v, want ErrArity", cmd, err)
		}
	}
}

func TestRouteSlot(t *testing.T) {
	if Slot("a") == Slot("b") || Slot("{user}a") != Slot("{user}b") {
		t.Fatal("test keys don't hash as assumed")
	}
	tests := []struct {
		cmd       string
		slot      int
		hasKeys   bool
		crossSlot bool
	}{
		{"GET a", Slot("a"), true, false},
		{"MGET {user}a {user}b", Slot("user"), true, false},
		{"MSET {user}a 1 {user}b 2", Slot("user"), true, false},
		{"MSET a 1 a 2", Slot("a"), true, false},
		{"EVAL s 2 {user}a {user}b", Slot("user"), true, false},
		{"ZUNIONSTORE {user}d 2 {user}a {user}b", Slot("user"), true, false},
		{"XREAD BLOCK 0 STREAMS {user}a {user}b 0 0", Slot("user"), true, false},
		{"MGET a b", Slot("a"), true, true},
		{"MSET a 1 b 2", Slot("a"), true, true},
		{"ZUNIONSTORE {user}d 2 {user}a b", Slot("user"), true, true},
		{"SORT a STORE b", Slot("a"), true, true},
		{"XREAD STREAMS a b 0 0", Slot("a"), true, true},
		{"PING", 0, false, false},
		{"SCAN 0", 0, false, false},
		{"EVAL s 0 a", 0, false, false},
		{"MEMORY STATS", 0, false, false},
	}
	for _, tt := range tests {
		args := strings.Fields(tt.cmd)
		slot, hasKeys, err := RouteSlot(lookup(t, args[0]), args)
		if tt.crossSlot != errors.Is(err, ErrCrossSlot) || (err != nil && !tt.crossSlot) {
			t.Errorf("RouteSlot(%s) error = %v, want cross-slot %v", tt.cmd, err, tt.crossSlot)
		}
		if slot != tt.slot || hasKeys != tt.hasKeys {
			t.Errorf("RouteSlot(%s) = %d, %v; want %d, %v", tt.cmd, slot, hasKeys, tt.slot, tt.hasKeys)
		}
	}
}

func TestIsIdempotent(t *testing.T) {
	tests := []struct {
		cmd  string
		want bool
	}{
		{"SET k v", true},
		{"SET k v KEEPTTL", true},
		{"SET k v EXAT 1700000000", true},
		{"set k v pxat 1700000000000", true},
		{"SET k v NX", false},
		{"SET k v xx", false},
		{"SET k v GET", false},
		{"SET k v EX 10", true}, // a retry restarts the TTL: the state of one later run
		{"SET k v PX 10", true},
		{"SET k v EX 10 NX", false},
		{"SET k v IFEQ x", false}, // options keel doesn't know
		{"GETEX k", true},
		{"GETEX k PERSIST", true},
		{"GETEX k EXAT 1700000000", true},
		{"GETEX k EX 10", true},
		{"INCR k", false},
		{"INCRBY k 2", false},
		{"APPEND k v", false},
		{"SETNX k v", false},
		{"SETEX k 10 v", true},
		{"GETSET k v", false},
		{"EXPIRE k 10", false},
		{"PEXPIRE k 10", false},
		{"EXPIREAT k 1700000000", true},
		{"PEXPIREAT k 1700000000000", true},
		{"EXPIREAT k 1700000000 GT", false},
		{"PERSIST k", true},
		{"DEL a b", true},
		{"UNLINK a", true},
		{"MGET a b", true},
		{"MSET a 1 b 2", true},
		{"MSETNX a 1 b 2", false},
		{"GET k", true},
		{"HSET h f v", true},
		{"HSETNX h f v", false},
		{"HINCRBY h f 1", false},
		{"LPUSH l v", false},
		{"LSET l 0 v", true},
		{"LREM l 2 v", false},
		{"LTRIM l 1 -1", false},
		{"SADD s m", true},
		{"SMOVE a b m", false},
		{"ZADD z 1 m", true},
		{"ZADD z NX CH 1 m", true},
		{"ZADD z XX INCR 1 m", false},
		{"ZINCRBY z 1 m", false},
		{"ZREMRANGEBYRANK z 0 0", false},
		{"ZREMRANGEBYSCORE z 0 1", true},
		{"SINTERSTORE d a b", true},
		{"SDIFFSTORE d a d", false},
		{"ZUNIONSTORE d 2 a b", true},
		{"ZUNIONSTORE d 2 d b", false},
		{"ZRANGESTORE d s 1 -1", true},
		{"ZRANGESTORE s s 1 -1", false},
		{"BITOP AND d a b", true},
		{"BITOP XOR d d b", false},
		{"SORT k STORE d", true},
		{"SORT k LIMIT 1 10 STORE k", false},
		{"GEORADIUS g 0 0 1 km STOREDIST g", false},
		{"PFMERGE d d a", true},
		{"XADD s * f v", false},
		{"XACK s g 1-1", true},
		{"XREADGROUP GROUP g c STREAMS s >", false},
		{"XREAD STREAMS s 0", true},
		{"EVAL s 0", false},
		{"EVAL_RO s 0", true},
		{"FCALL f 0", false},
		{"PUBLISH ch m", false},
		{"EXEC", false},
		{"SETBIT k 1 1", false},
		{"COPY a b", false},
		{"RENAME a b", false},
		{"NOSUCH k", false},
	}
	for _, tt := range tests {
		args := strings.Fields(tt.cmd)
		c, _ := Lookup(args[0])
		if got := IsIdempotent(c, args); got != tt.want {
			t.Errorf("IsIdempotent(%s) = %v, want %v", tt.cmd, got, tt.want)
		}
	}
}

func TestIsBlocking(t *testing.T) {
	tests := []struct {
		cmd  string
		want bool
	}{
		{"BLPOP l 0", true},
		{"BRPOP l 0", true},
		{"BLMOVE a b LEFT RIGHT 0", true},
		{"BRPOPLPUSH a b 0", true},
		{"BLMPOP 0 1 l LEFT", true},
		{"BZPOPMIN z 0", true},
		{"BZMPOP 0 1 z MIN", true},
		{"WAIT 1 0", true},
		{"WAITAOF 1 0 0", true},
		// Refused as connection-state commands instead: see TestConnStateError.
		{"SUBSCRIBE ch", false},
		{"SSUBSCRIBE ch", false},
		{"MONITOR", false},
		{"XREAD STREAMS s 0", false},
		{"XREAD COUNT 10 STREAMS s 0", false},
		{"XREAD BLOCK 100 STREAMS s $", true},
		{"xread block 0 streams s $", true},
		{"XREADGROUP GROUP g c BLOCK 0 STREAMS s >", true},
		{"XREADGROUP GROUP g c COUNT 1 STREAMS s >", false},
		{"XREADGROUP GROUP block c STREAMS s >", false}, // a group named "block"
		{"XREAD STREAMS block 0", false},                // a stream named "block"
		{"LPOP l", false},
		{"GET k", false},
		{"NOSUCH", false},
	}
	for _, tt := range tests {
		args := strings.Fields(tt.cmd)
		c, _ := Lookup(args[0])
		if got := IsBlocking(c, args); got != tt.want {
			t.Errorf("IsBlocking(%s) = %v, want %v", tt.cmd, got, tt.want)
		}
	}
}

func TestLookup(t *testing.T) {
	get := lookup(t, "GET")
	for _, name := range []string{"get", "Get", "gEt"} {
		c, ok := Lookup(name)
		if !ok || c != get {
			t.Errorf("Lookup(%q) = %+v, %v; want %+v, true", name, c, ok, get)
		}
	}
	if c := lookup(t, "zunionstore"); c.Name != "ZUNIONSTORE" || c.NumKeysAt != 2 || c.FirstKey != 1 {
		t.Errorf("Lookup(zunionstore) = %+v", c)
	}
	if c := lookup(t, "georadiusbymember_ro"); c.Name != "GEORADIUSBYMEMBER_RO" || !c.ReadOnly {
		t.Errorf("Lookup(georadiusbymember_ro) = %+v", c)
	}
	long := strings.Repeat("x", maxNameLen+1)
	for _, name := range []string{"nosuch", "NOSUCH", "", "gét", long} {
		c, ok := Lookup(name)
		want := Command{Name: strings.ToUpper(name)}
		if ok || c != want {
			t.Errorf("Lookup(%q) = %+v, %v; want %+v, false", name, c, ok, want)
		}
		if ks, err := Keys(c, []string{name, "k"}); ks != nil || err != nil {
			t.Errorf("Keys(unknown %q) = %q, %v; want none", name, ks, err)
		}
		if _, hasKeys, err := RouteSlot(c, []string{name, "k"}); hasKeys || err != nil {
			t.Errorf("RouteSlot(unknown %q) = %v, %v; want keyless", name, hasKeys, err)
		}
	}
}

func TestLookupNoAlloc(t *testing.T) {
	for _, name := range []string{"GET", "get", "ZRANGEBYSCORE", "zrangebyscore"} {
		if n := testing.AllocsPerRun(100, func() { Lookup(name) }); n != 0 {
			t.Errorf("Lookup(%q) allocates %v times", name, n)
		}
	}
}

// TestTable checks the table against itself and against the lists of
// commands whose flags matter most.
func TestTable(t *testing.T) {
	splits := map[string]SplitKind{
		"MGET": SplitConcat, "MSET": SplitAllOK,
		"DEL": SplitSum, "UNLINK": SplitSum, "EXISTS": SplitSum, "TOUCH": SplitSum,
	}
	seen := map[string]bool{}
	for _, c := range commands {
		if seen[c.Name] {
			t.Errorf("%s: listed twice", c.Name)
		}
		seen[c.Name] = true
		for _, name := range []string{c.Name, strings.ToLower(c.Name)} {
			if got, ok := Lookup(name); !ok || got != c {
				t.Errorf("Lookup(%q) = %+v, %v; want %+v", name, got, ok, c)
			}
		}
		if c.Name == "" || c.Name != strings.ToUpper(c.Name) || len(c.Name) > maxNameLen {
			t.Errorf("%q: name must be upper case, at most %d bytes", c.Name, maxNameLen)
		}
		if c.FirstKey > 0 && c.KeyStep < 1 {
			t.Errorf("%s: FirstKey %d with KeyStep %d", c.Name, c.FirstKey, c.KeyStep)
		}
		if c.FirstKey > 0 && c.LastKey >= 0 && c.LastKey < c.FirstKey {
			t.Errorf("%s: LastKey %d before FirstKey %d", c.Name, c.LastKey, c.FirstKey)
		}
		if c.FirstKey == 0 && (c.LastKey != 0 || c.KeyStep != 0 || c.KeysAfter != "" || c.storeFrom != 0 || c.flags&flagSubcommand != 0) {
			t.Errorf("%s: key layout without FirstKey: %+v", c.Name, c)
		}
		if c.NumKeysAt > 0 && c.FirstKey > 0 && c.LastKey != c.NumKeysAt-1 {
			t.Errorf("%s: fixed keys must end just before numkeys at %d", c.Name, c.NumKeysAt)
		}
		if c.ReadOnly && !c.Idempotent {
			t.Errorf("%s: read-only but not idempotent", c.Name)
		}
		if c.flags&flagDestSource != 0 && (c.ReadOnly || !c.Idempotent) {
			t.Errorf("%s: flagDestSource only narrows idempotent writes", c.Name)
		}
		if want := splits[c.Name]; c.Split != want {
			t.Errorf("%s: Split %d, want %d", c.Name, c.Split, want)
		}
		if c.Split != NoSplit {
			// Splitting cuts the arguments from FirstKey to the end into
			// KeyStep-long groups.
			if c.FirstKey != 1 || c.LastKey != -1 || c.NumKeysAt != 0 || c.KeysAfter != "" {
				t.Errorf("%s: split command must have keys from 1 to the end", c.Name)
			}
			if (c.Split == SplitAllOK) != (c.KeyStep == 2) {
				t.Errorf("%s: Split %d with KeyStep %d", c.Name, c.Split, c.KeyStep)
			}
		}
	}

	// Writes that must never be retried on an unknown outcome.
	for _, name := range []string{
		"SETNX", "GETSET", "GETDEL", "APPEND", "INCR", "INCRBY", "INCRBYFLOAT",
		"DECR", "DECRBY", "MSETNX", "EXPIRE", "PEXPIRE", "RENAME", "RENAMENX", "COPY", "RESTORE",
		"HSETNX", "HINCRBY", "HINCRBYFLOAT", "LPUSH", "RPUSH", "LPUSHX", "RPUSHX", "LPOP", "RPOP",
		"LREM", "LTRIM", "LINSERT", "LMOVE", "RPOPLPUSH", "BLPOP", "BRPOP", "BLMOVE", "BRPOPLPUSH",
		"LMPOP", "BLMPOP", "SPOP", "SMOVE", "ZINCRBY", "ZREMRANGEBYRANK", "ZPOPMIN", "ZPOPMAX",
		"BZPOPMIN", "BZPOPMAX", "ZMPOP", "BZMPOP", "XADD", "XTRIM", "XREADGROUP", "XGROUP", "XCLAIM",
		"XAUTOCLAIM", "EVAL", "EVALSHA", "FCALL", "PUBLISH", "SPUBLISH", "MULTI", "EXEC", "DISCARD",
		"SETBIT", "BITFIELD", "CLIENT", "CLUSTER", "CONFIG", "SCRIPT", "FUNCTION",
	} {
		if c := lookup(t, name); c.Idempotent || c.ReadOnly {
			t.Errorf("%s: marked idempotent or read-only", name)
		}
	}
	// Commands a replica must not be sent (the server flags them write).
	for _, name := range []string{"SORT", "GEORADIUS", "GEORADIUSBYMEMBER", "BITFIELD", "XREADGROUP", "TOUCH", "PFMERGE", "WATCH"} {
		if lookup(t, name).ReadOnly {
			t.Errorf("%s: marked read-only", name)
		}
	}
	for _, name := range []string{"SORT_RO", "GEORADIUS_RO", "BITFIELD_RO", "EVAL_RO", "EVALSHA_RO", "FCALL_RO", "PFCOUNT", "XREAD", "OBJECT", "MEMORY", "XINFO"} {
		if !lookup(t, name).ReadOnly {
			t.Errorf("%s: not read-only", name)
		}
	}
}

func BenchmarkLookup(b *testing.B) {
	for _, name := range []string{"GET", "get", "ZRANGEBYSCORE"} {
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				Lookup(name)
			}
		})
	}
}

func BenchmarkRouteSlot(b *testing.B) {
	for _, cmd := range []string{"GET {user}a", "MSET {user}a 1 {user}b 2 {user}c 3 {user}d 4"} {
		args := strings.Fields(cmd)
		c := lookup(b, args[0])
		b.Run(args[0], func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, _, err := RouteSlot(c, args); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
