package conn

import (
	"strings"

	"github.com/keel-go/keel/resp"
)

// expect is the set of reply kinds a request's command can ever receive, as
// a bit mask over resp.Kind (an error reply is always acceptable). A reply
// outside the set proves the connection out of step: the server skipped or
// added a reply, so every later reply would reach the wrong caller. Only
// commands whose replies are certain in both RESP2 and RESP3 are listed;
// every other command accepts anything.
type expect uint16

func kinds(ks ...resp.Kind) expect {
	var e expect
	for _, k := range ks {
		e |= 1 << k
	}
	return e | 1<<resp.KindError
}

var (
	expectAny     expect = 0 // no check
	expectBulk           = kinds(resp.KindBulkString, resp.KindNull)
	expectInt            = kinds(resp.KindInteger)
	expectStatus         = kinds(resp.KindSimpleString)
	expectSet            = kinds(resp.KindSimpleString, resp.KindNull)
	expectSetGet         = kinds(resp.KindBulkString, resp.KindNull)
	expectArray          = kinds(resp.KindArray)
	expectHash           = kinds(resp.KindArray, resp.KindMap)
	expectMembers        = kinds(resp.KindArray, resp.KindSet)
	// expectPong is PING without an argument: the simple string PONG only.
	// It makes the monitor's pings sentinels: a ping answered with anything
	// else was handed another command's reply.
	expectPong expect = 1<<15 | 1<<resp.KindError
	// expectRefused marks a command that must not be sent on a shared
	// connection: CLIENT REPLY OFF or SKIP makes the server withhold replies,
	// which would hand every later reply to the wrong caller.
	expectRefused expect = 1 << 14
)

// accepts reports whether v can be the reply to a command expecting e.
func (e expect) accepts(v resp.Value) bool {
	switch {
	case e == expectAny:
		return true
	case e == expectPong:
		return v.Kind == resp.KindError || (v.Kind == resp.KindSimpleString && v.Str == "PONG")
	}
	return e&(1<<v.Kind) != 0
}

// maxCommandName is the longest command name expectFor looks up; longer ones
// are not in its table.
const maxCommandName = 16

// expectFor returns what the command args can be answered with. It is on the
// hot path: the usual upper-case name costs one string switch, and no case
// allocates.
func expectFor(args []string) expect {
	if len(args) == 0 {
		return expectAny
	}
	name := args[0]
	if e, ok := expectByName(name, args); ok {
		return e
	}
	if len(name) > maxCommandName || !hasLower(name) {
		return expectAny
	}
	var buf [maxCommandName]byte
	for i := 0; i < len(name); i++ {
		c := name[i]
		if 'a' <= c && c <= 'z' {
			c -= 'a' - 'A'
		}
		buf[i] = c
	}
	e, _ := expectByName(string(buf[:len(name)]), args)
	return e
}

func hasLower(s string) bool {
	for i := 0; i < len(s); i++ {
		if 'a' <= s[i] && s[i] <= 'z' {
			return true
		}
	}
	return false
}

// expectByName looks up an upper-case command name.
func expectByName(name string, args []string) (expect, bool) {
	switch name {
	case "GET", "GETDEL", "GETEX", "GETSET", "HGET", "LINDEX", "RPOPLPUSH", "LMOVE", "GETRANGE", "ECHO", "DUMP":
		return expectBulk, true
	case "SET":
		if hasArg(args[min(3, len(args)):], "GET") {
			return expectSetGet, true
		}
		return expectSet, true
	case "INCR", "DECR", "INCRBY", "DECRBY", "DEL", "UNLINK", "EXISTS", "TOUCH", "TTL", "PTTL",
		"EXPIRE", "PEXPIRE", "PERSIST", "STRLEN", "APPEND", "SETRANGE", "LLEN", "LPUSH", "RPUSH",
		"SADD", "SREM", "SCARD", "HSET", "HDEL", "HLEN", "HINCRBY", "ZCARD":
		return expectInt, true
	case "MSET":
		return expectStatus, true
	case "MGET", "LRANGE":
		return expectArray, true
	case "HGETALL":
		return expectHash, true
	case "SMEMBERS":
		return expectMembers, true
	case "CLIENT":
		if len(args) > 1 && strings.EqualFold(args[1], "REPLY") {
			return expectRefused, true
		}
		return expectAny, true
	case "PING":
		if len(args) == 1 {
			return expectPong, true
		}
		return expectBulk, true
	}
	return expectAny, false
}

// hasArg reports whether args holds word, in any case.
func hasArg(args []string, word string) bool {
	for _, a := range args {
		if strings.EqualFold(a, word) {
			return true
		}
	}
	return false
}

// commandName names a command in an error message, clipped: the name comes
// from the caller, but may be long.
func commandName(args []string) string {
	if len(args) == 0 {
		return "(empty command)"
	}
	name := args[0]
	if len(name) > 32 {
		name = name[:32] + "…"
	}
	return name
}
