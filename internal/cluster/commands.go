package cluster

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/keel-go/keel/resp"
)

// ErrCrossSlot is returned (wrapped) by RouteSlot when a command's keys hash
// to more than one slot. It also matches resp.ErrCrossSlot, as the server's
// own CROSSSLOT reply does, so that callers test both with one sentinel.
var ErrCrossSlot error = crossSlotError{}

// crossSlotError is keel's own CROSSSLOT: found before sending, so not a
// *resp.Error (which is the server's word), yet matched by its code sentinel.
type crossSlotError struct{}

func (crossSlotError) Error() string { return "keel: keys in request don't hash to the same slot" }

// Is matches resp.ErrCrossSlot.
func (crossSlotError) Is(target error) bool { return target == resp.ErrCrossSlot }

// ErrArity is returned (wrapped, with detail) by Keys and RouteSlot when the
// arguments don't have the shape the command's key layout needs. keel still
// sends such a command and lets the server answer with its own error.
var ErrArity = errors.New("keel: wrong number of arguments")

// SplitKind says how a multi-key command whose keys span several slots is run.
type SplitKind uint8

// SplitKind values.
const (
	NoSplit     SplitKind = iota // keys must share one slot; otherwise the caller gets a CROSSSLOT error
	SplitConcat                  // MGET: one sub-command per slot, replies (arrays) re-assembled in the caller's key order
	SplitAllOK                   // MSET: key/value pairs grouped per slot; reply OK when every part answered OK
	SplitSum                     // DEL, UNLINK, EXISTS, TOUCH: integer replies summed
)

// Command is what keel knows of one command: where its keys are, whether a
// replica may serve it, whether it is safe to retry, whether it blocks, and
// how it is split across slots.
//
// Keys are found the way Redis key specs find them:
//
//   - FirstKey/LastKey/KeyStep: keys at fixed positions, args[FirstKey],
//     args[FirstKey+KeyStep], … up to args[LastKey] (LastKey < 0 counts from
//     the end: -1 is the last argument). With KeyStep 2 the arguments from
//     FirstKey to LastKey must pair up (MSET key value …).
//   - NumKeysAt: args[NumKeysAt] is a count n of keys that follow it. It may
//     be combined with fixed keys before it (ZUNIONSTORE dest numkeys key …:
//     FirstKey = LastKey = 1, NumKeysAt = 2); fixed keys come first in Keys.
//   - KeysAfter: keys are the first half of the arguments after the first
//     occurrence of this keyword at or after index FirstKey (XREAD … STREAMS
//     key … id …); LastKey and KeyStep are then unused.
//
// A command has keys when FirstKey > 0 or NumKeysAt > 0 — or, for a
// command missing from the table, when the server's key specs find some
// (see Engine.learn).
type Command struct {
	Name       string // upper case first word, e.g. "GET"
	FirstKey   int    // index in args (args[0] is the name) of the first key; 0 = no fixed keys
	LastKey    int    // index of the last key; -1 = the last argument, -2 = second-to-last, …
	KeyStep    int    // distance between keys (2 for MSET: key value key value)
	NumKeysAt  int    // index of a numkeys argument the keys follow (EVAL, ZUNIONSTORE, …); 0 = none
	KeysAfter  string // keyword the keys follow (XREAD … STREAMS), searched for from FirstKey; "" = none
	ReadOnly   bool   // never writes: may be served by a replica
	Idempotent bool   // running its plain form twice has the same effect as once: safe to retry when the outcome is unknown (see IsIdempotent)
	Blocking   bool   // may block the connection: run on a dedicated one (see IsBlocking, blocking.go)
	Split      SplitKind

	// storeFrom, when not 0, is the index from which a STORE/STOREDIST
	// option naming a destination key is searched for (SORT, GEORADIUS).
	storeFrom uint8
	flags     cmdFlags
	// connState, when not 0, marks a command that changes the state of the
	// connection it is sent on (see ConnStateError).
	connState connStateKind
	// learned, for a command not in the table, is what the server told of
	// it (see Engine.learn): its key specs replace the fields above.
	learned *commandInfo
}

type cmdFlags uint8

const (
	// flagSubcommand: the key follows a subcommand (OBJECT ENCODING key,
	// MEMORY USAGE key, XINFO STREAM key, XGROUP CREATE key …); when the
	// subcommand is the only argument (OBJECT HELP, MEMORY STATS) there is
	// no key.
	flagSubcommand cmdFlags = 1 << iota
	// flagDestSource: the command overwrites a destination computed from
	// source keys (SINTERSTORE, ZUNIONSTORE, BITOP, SORT … STORE, …). It is
	// idempotent only while the destination is not also a source: SDIFFSTORE
	// d a d, ZUNIONSTORE d 2 d k or BITOP XOR d d k change d again when
	// repeated.
	flagDestSource
	// flagRouteOnly: the "key" only picks the node (PUBLISH's channel, so
	// one channel's messages leave from one node, in order); it binds no
	// slot, so a transaction or a watch may hold it beside any keys, as
	// the server allows.
	flagRouteOnly
)

// props are the flags a table entry is built with.
type props uint8

const (
	isIdem  props = 1 << iota // safe to retry
	isRO                      // read-only (implies isIdem)
	isBlock                   // may block the connection

	isWrite props = 0 // may write; not safe to retry
)

func newCommand(name string, first, last, step int, p props) Command {
	return Command{
		Name:       name,
		FirstKey:   first,
		LastKey:    last,
		KeyStep:    step,
		ReadOnly:   p&isRO != 0,
		Idempotent: p&(isRO|isIdem) != 0,
		Blocking:   p&isBlock != 0,
	}
}

// oneKey is a command with one key, args[1].
func oneKey(name string, p props) Command { return newCommand(name, 1, 1, 1, p) }

// keyRange is a command with keys args[first], args[first+step], … args[last].
func keyRange(name string, first, last, step int, p props) Command {
	return newCommand(name, first, last, step, p)
}

// keyless is a command without keys.
func keyless(name string, p props) Command { return newCommand(name, 0, 0, 0, p) }

// countedKeys is a command whose keys follow a count at args[at].
func countedKeys(name string, at int, p props) Command {
	c := newCommand(name, 0, 0, 0, p)
	c.NumKeysAt = at
	return c
}

func (c Command) withNumKeys(at int) Command     { c.NumKeysAt = at; return c }
func (c Command) split(k SplitKind) Command      { c.Split = k; return c }
func (c Command) with(f cmdFlags) Command        { c.flags |= f; return c }
func (c Command) storeOption(from uint8) Command { c.storeFrom = from; return c }
func (c Command) after(keyword string) Command   { c.KeysAfter = keyword; return c }
func (c Command) connStateOf(k connStateKind) Command {
	c.connState = k
	return c
}

// connStateOnly is a command keel refuses because it changes its connection's
// state; what to use instead depends on k.
func connStateOnly(name string, k connStateKind) Command {
	c := keyless(name, isWrite)
	c.connState = k
	return c
}

// commands is the table. ReadOnly follows the server's "readonly" flag (the
// server refuses anything else on a read-only replica) except where noted;
// Idempotent is keel's own judgement, conservative: a command is marked only
// when a second run leaves the same data and a reply the caller reads the
// same way (counts of removed or added members, as DEL's, may differ).
// Conditional writes whose reply says who won (SETNX, SET NX, HSETNX,
// MSETNX, RENAMENX, SMOVE, COPY), counters, pushes and pops, relative
// expiries (a retry extends them) and scripts are not.
var commands = [...]Command{
	// Strings.
	oneKey("GET", isRO),
	oneKey("SET", isIdem), // not with NX, XX, GET or unknown options: see IsIdempotent
	oneKey("SETNX", isWrite),
	oneKey("SETEX", isIdem),   // a retry restarts the TTL: see onlyTTLOptions
	oneKey("PSETEX", isIdem),  // likewise
	oneKey("GETSET", isWrite), // a retry returns the new value, not the old one
	oneKey("GETDEL", isWrite),
	oneKey("GETEX", isIdem), // only with known options: see IsIdempotent
	oneKey("GETRANGE", isRO),
	oneKey("SUBSTR", isRO),
	oneKey("SETRANGE", isIdem),
	oneKey("APPEND", isWrite),
	oneKey("STRLEN", isRO),
	oneKey("INCR", isWrite),
	oneKey("INCRBY", isWrite),
	oneKey("INCRBYFLOAT", isWrite),
	oneKey("DECR", isWrite),
	oneKey("DECRBY", isWrite),
	keyRange("MGET", 1, -1, 1, isRO).split(SplitConcat),
	keyRange("MSET", 1, -1, 2, isIdem).split(SplitAllOK),
	keyRange("MSETNX", 1, -1, 2, isWrite), // all or nothing: never split
	keyRange("LCS", 1, 2, 1, isRO),

	// Keys.
	keyRange("DEL", 1, -1, 1, isIdem).split(SplitSum),
	keyRange("UNLINK", 1, -1, 1, isIdem).split(SplitSum),
	keyRange("EXISTS", 1, -1, 1, isRO).split(SplitSum),
	// The server flags TOUCH readonly, but touching a replica's copy does
	// nothing for the primary's eviction: keep it on the primary.
	keyRange("TOUCH", 1, -1, 1, isIdem).split(SplitSum),
	oneKey("EXPIRE", isWrite),   // relative: a retry extends the TTL
	oneKey("PEXPIRE", isWrite),  // relative
	oneKey("EXPIREAT", isIdem),  // absolute; not with NX/XX/GT/LT: see IsIdempotent
	oneKey("PEXPIREAT", isIdem), // absolute; ditto
	oneKey("EXPIRETIME", isRO),
	oneKey("PEXPIRETIME", isRO),
	oneKey("TTL", isRO),
	oneKey("PTTL", isRO),
	oneKey("PERSIST", isIdem),
	oneKey("TYPE", isRO),
	keyRange("RENAME", 1, 2, 1, isWrite), // a retry fails: no such key
	keyRange("RENAMENX", 1, 2, 1, isWrite),
	keyRange("COPY", 1, 2, 1, isWrite), // without REPLACE a retry answers 0
	oneKey("DUMP", isRO),
	oneKey("RESTORE", isWrite), // without REPLACE a retry fails: BUSYKEY
	keyRange("OBJECT", 2, 2, 1, isRO).with(flagSubcommand),
	keyRange("MEMORY", 2, 2, 1, isRO).with(flagSubcommand),
	// SORT is flagged write (STORE), so replicas refuse it even without
	// STORE; SORT_RO is the replica-safe form.
	oneKey("SORT", isIdem).storeOption(2).with(flagDestSource),
	oneKey("SORT_RO", isRO),
	keyless("SCAN", isRO),
	keyless("KEYS", isRO),
	keyless("RANDOMKEY", isRO),
	keyless("DBSIZE", isRO),

	// Hashes.
	oneKey("HGET", isRO),
	oneKey("HSET", isIdem),
	oneKey("HSETNX", isWrite),
	oneKey("HMSET", isIdem),
	oneKey("HMGET", isRO),
	oneKey("HGETALL", isRO),
	oneKey("HDEL", isIdem),
	oneKey("HEXISTS", isRO),
	oneKey("HINCRBY", isWrite),
	oneKey("HINCRBYFLOAT", isWrite),
	oneKey("HKEYS", isRO),
	oneKey("HVALS", isRO),
	oneKey("HLEN", isRO),
	oneKey("HSTRLEN", isRO),
	oneKey("HSCAN", isRO),
	oneKey("HRANDFIELD", isRO),

	// Lists.
	oneKey("LPUSH", isWrite),
	oneKey("RPUSH", isWrite),
	oneKey("LPUSHX", isWrite),
	oneKey("RPUSHX", isWrite),
	oneKey("LPOP", isWrite),
	oneKey("RPOP", isWrite),
	oneKey("LLEN", isRO),
	oneKey("LRANGE", isRO),
	oneKey("LINDEX", isRO),
	oneKey("LSET", isIdem),
	oneKey("LREM", isWrite),  // LREM k 2 v removes two more when repeated
	oneKey("LTRIM", isWrite), // LTRIM k 1 -1 drops one more when repeated
	oneKey("LINSERT", isWrite),
	oneKey("LPOS", isRO),
	keyRange("LMOVE", 1, 2, 1, isWrite),
	keyRange("RPOPLPUSH", 1, 2, 1, isWrite),
	keyRange("BLPOP", 1, -2, 1, isWrite|isBlock),
	keyRange("BRPOP", 1, -2, 1, isWrite|isBlock),
	keyRange("BLMOVE", 1, 2, 1, isWrite|isBlock),
	keyRange("BRPOPLPUSH", 1, 2, 1, isWrite|isBlock),
	countedKeys("LMPOP", 1, isWrite),
	countedKeys("BLMPOP", 2, isWrite|isBlock),

	// Sets.
	oneKey("SADD", isIdem),
	oneKey("SREM", isIdem),
	oneKey("SMEMBERS", isRO),
	oneKey("SISMEMBER", isRO),
	oneKey("SMISMEMBER", isRO),
	oneKey("SCARD", isRO),
	oneKey("SPOP", isWrite),
	oneKey("SRANDMEMBER", isRO),
	keyRange("SMOVE", 1, 2, 1, isWrite), // a retry answers 0
	keyRange("SINTER", 1, -1, 1, isRO),
	keyRange("SUNION", 1, -1, 1, isRO),
	keyRange("SDIFF", 1, -1, 1, isRO),
	keyRange("SINTERSTORE", 1, -1, 1, isIdem).with(flagDestSource),
	keyRange("SUNIONSTORE", 1, -1, 1, isIdem).with(flagDestSource),
	keyRange("SDIFFSTORE", 1, -1, 1, isIdem).with(flagDestSource),
	countedKeys("SINTERCARD", 1, isRO),
	oneKey("SSCAN", isRO),

	// Sorted sets.
	oneKey("ZADD", isIdem), // not with INCR: see IsIdempotent
	oneKey("ZREM", isIdem),
	oneKey("ZSCORE", isRO),
	oneKey("ZMSCORE", isRO),
	oneKey("ZINCRBY", isWrite),
	oneKey("ZCARD", isRO),
	oneKey("ZCOUNT", isRO),
	oneKey("ZRANGE", isRO),
	oneKey("ZRANGEBYSCORE", isRO),
	oneKey("ZREVRANGE", isRO),
	oneKey("ZREVRANGEBYSCORE", isRO),
	oneKey("ZRANGEBYLEX", isRO),
	oneKey("ZREVRANGEBYLEX", isRO),
	oneKey("ZRANK", isRO),
	oneKey("ZREVRANK", isRO),
	oneKey("ZREMRANGEBYRANK", isWrite), // ranks shift: a retry removes more
	oneKey("ZREMRANGEBYSCORE", isIdem),
	oneKey("ZREMRANGEBYLEX", isIdem),
	oneKey("ZPOPMIN", isWrite),
	oneKey("ZPOPMAX", isWrite),
	keyRange("BZPOPMIN", 1, -2, 1, isWrite|isBlock),
	keyRange("BZPOPMAX", 1, -2, 1, isWrite|isBlock),
	countedKeys("ZMPOP", 1, isWrite),
	countedKeys("BZMPOP", 2, isWrite|isBlock),
	keyRange("ZRANGESTORE", 1, 2, 1, isIdem).with(flagDestSource),
	oneKey("ZUNIONSTORE", isIdem).withNumKeys(2).with(flagDestSource),
	oneKey("ZINTERSTORE", isIdem).withNumKeys(2).with(flagDestSource),
	oneKey("ZDIFFSTORE", isIdem).withNumKeys(2).with(flagDestSource),
	countedKeys("ZUNION", 1, isRO),
	countedKeys("ZINTER", 1, isRO),
	countedKeys("ZDIFF", 1, isRO),
	countedKeys("ZINTERCARD", 1, isRO),
	oneKey("ZSCAN", isRO),
	oneKey("ZRANDMEMBER", isRO),
	oneKey("ZLEXCOUNT", isRO),

	// Streams.
	oneKey("XADD", isWrite),
	oneKey("XLEN", isRO),
	oneKey("XRANGE", isRO),
	oneKey("XREVRANGE", isRO),
	oneKey("XDEL", isIdem),
	oneKey("XTRIM", isWrite), // with LIMIT a retry trims more
	// XREAD [COUNT n] [BLOCK ms] STREAMS key … id …
	keyRange("XREAD", 1, 1, 1, isRO).after("STREAMS"),
	// XREADGROUP GROUP group consumer [COUNT n] [BLOCK ms] [NOACK] STREAMS key … id …:
	// the search starts after the group and consumer names, which may be anything.
	keyRange("XREADGROUP", 4, 4, 1, isWrite).after("STREAMS"),
	oneKey("XACK", isIdem),
	keyRange("XGROUP", 2, 2, 1, isWrite).with(flagSubcommand),
	keyRange("XINFO", 2, 2, 1, isRO).with(flagSubcommand),
	oneKey("XPENDING", isRO),
	oneKey("XCLAIM", isWrite), // bumps delivery counts
	oneKey("XAUTOCLAIM", isWrite),

	// Scripting: what a script does is unknown, so only the _RO forms are
	// safe to retry.
	countedKeys("EVAL", 2, isWrite),
	countedKeys("EVALSHA", 2, isWrite),
	countedKeys("EVAL_RO", 2, isRO),
	countedKeys("EVALSHA_RO", 2, isRO),
	countedKeys("FCALL", 2, isWrite),
	countedKeys("FCALL_RO", 2, isRO),

	// Connection, server and cluster. Keyless read-only commands may go to
	// any node.
	keyless("PING", isRO),
	keyless("ECHO", isRO),
	keyless("INFO", isRO),
	keyless("TIME", isRO),
	keyless("COMMAND", isRO),
	keyless("CLUSTER", isWrite),
	// CLIENT REPLY, TRACKING, SETNAME… change the connection: see
	// ConnStateError. CLIENT LIST, INFO, ID, KILL… do not.
	connStateOnly("CLIENT", connStateClient),
	keyless("CONFIG", isWrite),
	keyless("SCRIPT", isWrite),
	keyless("FUNCTION", isWrite),
	keyless("WAIT", isIdem|isBlock),
	keyless("WAITAOF", isIdem|isBlock),

	// Commands that change the state of the connection they are sent on,
	// which every goroutine shares: refused (ConnStateError).
	connStateOnly("MULTI", connStateTx),
	connStateOnly("EXEC", connStateTx),
	connStateOnly("DISCARD", connStateTx),
	keyRange("WATCH", 1, -1, 1, isIdem).connStateOf(connStateWatch),
	connStateOnly("UNWATCH", connStateWatch),
	connStateOnly("SELECT", connStateSelect),
	connStateOnly("MONITOR", connStateMonitor),
	connStateOnly("RESET", connStateManaged),
	connStateOnly("HELLO", connStateManaged),
	connStateOnly("AUTH", connStateManaged),
	connStateOnly("QUIT", connStateManaged),
	connStateOnly("READONLY", connStateManaged),
	connStateOnly("READWRITE", connStateManaged),
	connStateOnly("ASKING", connStateManaged),

	// Pub/Sub. The cluster bus spreads a PUBLISH from any node, but keel
	// routes it by its channel's slot, as a shard channel: every PUBLISH to
	// one channel then leaves from one node and its subscribers receive
	// them in order. Subscribing turns the connection into a subscriber's:
	// refused (ConnStateError).
	oneKey("PUBLISH", isWrite).with(flagRouteOnly),
	oneKey("SPUBLISH", isWrite),
	connStateOnly("SUBSCRIBE", connStatePubSub),
	connStateOnly("PSUBSCRIBE", connStatePubSub),
	connStateOnly("UNSUBSCRIBE", connStatePubSub),
	connStateOnly("PUNSUBSCRIBE", connStatePubSub),
	keyRange("SSUBSCRIBE", 1, -1, 1, isWrite).connStateOf(connStatePubSub),
	connStateOnly("SUNSUBSCRIBE", connStatePubSub),

	// HyperLogLog. PFCOUNT may rewrite its cache, but the server flags it
	// readonly and replicas serve it.
	oneKey("PFADD", isIdem),
	keyRange("PFCOUNT", 1, -1, 1, isRO),
	keyRange("PFMERGE", 1, -1, 1, isIdem), // a union: repeatable even into a source

	// Bitmaps.
	oneKey("GETBIT", isRO),
	oneKey("SETBIT", isWrite), // answers the previous bit: a retry answers the new one
	oneKey("BITCOUNT", isRO),
	oneKey("BITPOS", isRO),
	keyRange("BITOP", 2, -1, 1, isIdem).with(flagDestSource), // BITOP op dest key …
	oneKey("BITFIELD", isWrite),
	oneKey("BITFIELD_RO", isRO),

	// Geo. GEORADIUS and GEORADIUSBYMEMBER are flagged write (STORE), so
	// replicas refuse them; their _RO forms are replica-safe.
	oneKey("GEOADD", isIdem),
	oneKey("GEOPOS", isRO),
	oneKey("GEODIST", isRO),
	oneKey("GEOHASH", isRO),
	oneKey("GEOSEARCH", isRO),
	keyRange("GEOSEARCHSTORE", 1, 2, 1, isIdem).with(flagDestSource),
	oneKey("GEORADIUS", isIdem).storeOption(6).with(flagDestSource),         // key lon lat radius unit [options]
	oneKey("GEORADIUSBYMEMBER", isIdem).storeOption(5).with(flagDestSource), // key member radius unit [options]
	oneKey("GEORADIUS_RO", isRO),
	oneKey("GEORADIUSBYMEMBER_RO", isRO),
}

// maxNameLen bounds the length of command names; longer names are unknown.
const maxNameLen = 32

// commandIndexSize is the size of index: a power of two over twice the commands.
const commandIndexSize = 512

// commandIndex is an open-addressing hash table over commands: 1 + the position in
// commands of each name, 0 for an empty slot. Lookup hashes and compares
// names folding ASCII case as it goes, so it neither allocates nor copies.
var commandIndex = func() (t [commandIndexSize]uint16) {
	for i, c := range commands {
		if c.Name == "" || len(c.Name) > maxNameLen || c.Name != strings.ToUpper(c.Name) {
			panic("cluster: bad command name " + c.Name)
		}
		h := hashName(c.Name)
		for ; t[h] != 0; h = (h + 1) % commandIndexSize {
			if commands[t[h]-1].Name == c.Name {
				panic("cluster: command listed twice: " + c.Name)
			}
		}
		t[h] = uint16(i + 1)
	}
	return t
}()

// hashName hashes name as if upper-cased, to an index slot.
func hashName(name string) uint32 {
	h := uint32(2166136261) // FNV-1a
	for i := 0; i < len(name); i++ {
		c := name[i]
		if 'a' <= c && c <= 'z' {
			c -= 'a' - 'A'
		}
		h = (h ^ uint32(c)) * 16777619
	}
	return (h ^ h>>16) % commandIndexSize
}

// equalUpper reports whether name, upper-cased in ASCII, is upper.
func equalUpper(upper, name string) bool {
	if len(upper) != len(name) {
		return false
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		if 'a' <= c && c <= 'z' {
			c -= 'a' - 'A'
		}
		if c != upper[i] {
			return false
		}
	}
	return true
}

// Lookup returns the command named name, in any case. Unknown commands
// return a Command with only Name (upper-cased) set: no keys, not read-only,
// not idempotent, not blocking. The Engine completes those from what the
// server says of them (Engine.learn).
func Lookup(name string) (Command, bool) {
	if len(name) <= maxNameLen {
		for h := hashName(name); commandIndex[h] != 0; h = (h + 1) % commandIndexSize {
			if c := &commands[commandIndex[h]-1]; equalUpper(c.Name, name) {
				return *c, true
			}
		}
	}
	return Command{Name: strings.ToUpper(name)}, false
}

// keySpan is a run of key positions in args: from, from+step, … below to.
type keySpan struct{ from, to, step int }

// keySpans finds where cmd's keys are in args: at most two runs (fixed keys
// and either counted keys or a STORE destination).
func keySpans(cmd *Command, args []string) (sp [2]keySpan, n int, err error) {
	if cmd.KeysAfter != "" {
		at := -1
		for i := max(cmd.FirstKey, 1); i < len(args); i++ {
			if strings.EqualFold(args[i], cmd.KeysAfter) {
				at = i
				break
			}
		}
		if at < 0 {
			return sp, 0, fmt.Errorf("%w: %s without %s", ErrArity, cmd.Name, cmd.KeysAfter)
		}
		rest := len(args) - at - 1
		if rest == 0 || rest%2 != 0 {
			return sp, 0, fmt.Errorf("%w: %s: %d arguments after %s, want keys and as many IDs", ErrArity, cmd.Name, rest, cmd.KeysAfter)
		}
		sp[0] = keySpan{at + 1, at + 1 + rest/2, 1}
		return sp, 1, nil
	}
	if cmd.FirstKey > 0 && !(cmd.flags&flagSubcommand != 0 && len(args) == 2) {
		last := cmd.LastKey
		if last < 0 {
			last += len(args)
		}
		if last >= len(args) || last < cmd.FirstKey {
			return sp, 0, fmt.Errorf("%w: %s with %d arguments has no key at %d", ErrArity, cmd.Name, len(args)-1, cmd.FirstKey)
		}
		step := max(cmd.KeyStep, 1)
		if (last-cmd.FirstKey+1)%step != 0 {
			return sp, 0, fmt.Errorf("%w: %s: keys come with %d arguments each, got %d", ErrArity, cmd.Name, step, last-cmd.FirstKey+1)
		}
		sp[n] = keySpan{cmd.FirstKey, last + 1, step}
		n++
	}
	if cmd.NumKeysAt > 0 {
		if cmd.NumKeysAt >= len(args) {
			return sp, 0, fmt.Errorf("%w: %s has no numkeys argument", ErrArity, cmd.Name)
		}
		k, perr := strconv.Atoi(args[cmd.NumKeysAt])
		switch {
		case perr != nil:
			return sp, 0, fmt.Errorf("%w: %s numkeys %q is not a number", ErrArity, cmd.Name, args[cmd.NumKeysAt])
		case k < 0:
			return sp, 0, fmt.Errorf("%w: %s numkeys %d is negative", ErrArity, cmd.Name, k)
		case k > len(args)-cmd.NumKeysAt-1:
			return sp, 0, fmt.Errorf("%w: %s numkeys %d, but %d arguments follow", ErrArity, cmd.Name, k, len(args)-cmd.NumKeysAt-1)
		case k > 0:
			sp[n] = keySpan{cmd.NumKeysAt + 1, cmd.NumKeysAt + 1 + k, 1}
			n++
		}
	}
	if cmd.storeFrom > 0 {
		if i := storeKeyAt(args, int(cmd.storeFrom)); i > 0 {
			sp[n] = keySpan{i, i + 1, 1}
			n++
		}
	}
	return sp, n, nil
}

// storeKeyAt returns the index of the destination key named by the last STORE
// or STOREDIST option in args[from:], or 0. Like the server, it skips the
// arguments of SORT's LIMIT, BY and GET and of GEORADIUS's COUNT, so a
// pattern spelled "store" is not taken for the option.
func storeKeyAt(args []string, from int) int {
	at := 0
	for i := from; i < len(args); i++ {
		a := args[i]
		switch {
		case strings.EqualFold(a, "LIMIT"):
			i += 2
		case strings.EqualFold(a, "BY"), strings.EqualFold(a, "GET"), strings.EqualFold(a, "COUNT"):
			i++
		case (strings.EqualFold(a, "STORE") || strings.EqualFold(a, "STOREDIST")) && i+1 < len(args):
			i++
			at = i
		}
	}
	return at
}

// Keys returns the keys of the command in args (args[0] is its name), in
// argument order, fixed keys first. A keyless command, or a numkeys of 0,
// gives nil. When the arguments don't fit the command's key layout it
// returns nil and an error wrapping ErrArity.
func Keys(cmd Command, args []string) ([]string, error) {
	if cmd.learned != nil {
		return keysIn(args, cmd.learned.spans(args)), nil
	}
	sp, n, err := keySpans(&cmd, args)
	if err != nil {
		return nil, err
	}
	return keysIn(args, sp[:n]), nil
}

// keysIn returns the keys of args at spans.
func keysIn(args []string, spans []keySpan) []string {
	total := 0
	for _, s := range spans {
		total += (s.to - s.from + s.step - 1) / s.step
	}
	if total == 0 {
		return nil
	}
	out := make([]string, 0, total)
	for _, s := range spans {
		for i := s.from; i < s.to; i += s.step {
			out = append(out, args[i])
		}
	}
	return out
}

// RouteSlot returns the one slot all of the command's keys hash to. For a
// keyless command (or numkeys 0) hasKeys is false. When keys hash to
// different slots, slot is the first key's, hasKeys is true and err wraps
// ErrCrossSlot; the caller may split the command when cmd.Split != NoSplit.
// Malformed arguments give an error wrapping ErrArity.
func RouteSlot(cmd Command, args []string) (slot int, hasKeys bool, err error) {
	if cmd.learned != nil {
		return spansSlot(cmd.Name, args, cmd.learned.spans(args))
	}
	sp, n, err := keySpans(&cmd, args)
	if err != nil {
		return 0, false, err
	}
	return spansSlot(cmd.Name, args, sp[:n])
}

// spansSlot is RouteSlot for the keys of args at spans.
func spansSlot(name string, args []string, spans []keySpan) (slot int, hasKeys bool, err error) {
	first := ""
	slot = -1
	for _, s := range spans {
		for i := s.from; i < s.to; i += s.step {
			k := Slot(args[i])
			if slot < 0 {
				slot, first = k, args[i]
			} else if k != slot {
				return slot, true, fmt.Errorf("%w: %s: %q is in slot %d, %q in slot %d", ErrCrossSlot, name, first, slot, args[i], k)
			}
		}
	}
	if slot < 0 {
		return 0, false, nil
	}
	return slot, true, nil
}

// BindsSlot reports whether a command's keys tie it to their slot, where
// commands must share one (a transaction, a watch): false for a command
// whose key only picks the node (PUBLISH).
func BindsSlot(cmd Command) bool { return cmd.flags&flagRouteOnly == 0 }

// IsBlocking reports whether the command in args may block its connection:
// cmd.Blocking, or an XREAD/XREADGROUP (a command with KeysAfter) with a
// BLOCK option before its keys.
func IsBlocking(cmd Command, args []string) bool {
	if cmd.Blocking {
		return true
	}
	if cmd.KeysAfter == "" {
		return false
	}
	for i := max(cmd.FirstKey, 1); i < len(args); i++ {
		if strings.EqualFold(args[i], cmd.KeysAfter) {
			break
		}
		if strings.EqualFold(args[i], "BLOCK") {
			return true
		}
	}
	return false
}

// IsIdempotent reports whether the command in args is safe to retry when
// its outcome is unknown. It is cmd.Idempotent narrowed by options that
// make a second run differ:
//
//   - SET: only plain or with KEEPTTL, EX, PX, EXAT or PXAT (a retry with EX
//     or PX restarts the TTL, as SETEX's does). NX, XX and GET make the reply
//     of a retry differ (a lock would look lost), and options keel does not
//     know are taken as unsafe.
//   - GETEX: only plain or with PERSIST, EX, PX, EXAT or PXAT.
//   - EXPIREAT, PEXPIREAT: only without NX, XX, GT or LT (conditional
//     replies).
//   - ZADD: not with INCR.
//   - Commands that store into a destination computed from sources
//     (SINTERSTORE, ZUNIONSTORE, BITOP, ZRANGESTORE, SORT … STORE, …): not
//     when a key repeats, as the destination is then also a source.
//
// Arguments that don't fit the command's key layout give false.
func IsIdempotent(cmd Command, args []string) bool {
	if !cmd.Idempotent {
		return false
	}
	if cmd.ReadOnly {
		return true
	}
	switch cmd.Name {
	case "SET": // SET key value [NX|XX] [GET] [EX s|PX ms|EXAT t|PXAT t|KEEPTTL]
		return onlyTTLOptions(args, 3, "KEEPTTL")
	case "GETEX": // GETEX key [EX s|PX ms|EXAT t|PXAT t|PERSIST]
		return onlyTTLOptions(args, 2, "PERSIST")
	case "EXPIREAT", "PEXPIREAT": // EXPIREAT key time [NX|XX|GT|LT]
		return len(args) <= 3
	case "ZADD": // ZADD key [NX|XX] [GT|LT] [CH] [INCR] score member …
		for _, a := range args[min(2, len(args)):] {
			switch {
			case strings.EqualFold(a, "INCR"):
				return false
			case strings.EqualFold(a, "NX"), strings.EqualFold(a, "XX"), strings.EqualFold(a, "GT"),
				strings.EqualFold(a, "LT"), strings.EqualFold(a, "CH"):
			default:
				return true // the first score: options are over
			}
		}
		return true
	}
	if cmd.flags&flagDestSource != 0 {
		ks, err := Keys(cmd, args)
		return err == nil && !repeatsKey(ks)
	}
	return true
}

// onlyTTLOptions reports whether args[from:] holds only the option flag and
// EX/PX/EXAT/PXAT with their values. A relative TTL is restarted by a retry,
// which leaves the state a single, slightly later run would have left: such
// writes count as idempotent (as SET without GET is). NX, XX and GET
// do not, since a retry would report the wrong outcome.
func onlyTTLOptions(args []string, from int, flag string) bool {
	for i := from; i < len(args); i++ {
		switch a := args[i]; {
		case strings.EqualFold(a, flag):
		case strings.EqualFold(a, "EX"), strings.EqualFold(a, "PX"),
			strings.EqualFold(a, "EXAT"), strings.EqualFold(a, "PXAT"):
			i++
		default:
			return false
		}
	}
	return true
}

// repeatsKey reports whether a key occurs more than once in ks.
func repeatsKey(ks []string) bool {
	if len(ks) > 16 {
		seen := make(map[string]struct{}, len(ks))
		for _, k := range ks {
			if _, ok := seen[k]; ok {
				return true
			}
			seen[k] = struct{}{}
		}
		return false
	}
	for i, k := range ks {
		for _, l := range ks[:i] {
			if k == l {
				return true
			}
		}
	}
	return false
}
