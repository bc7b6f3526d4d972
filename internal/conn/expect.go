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
	// Inside MULTI every command is answered QUEUED, and EXEC with the
	// array of results, or null when a watched key changed.
	expectQueued = kinds(resp.KindSimpleString)
	expectExec   = kinds(resp.KindArray, resp.KindNull)
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

// frameTransaction corrects the expectations of a batch holding a
// transaction (MULTI … EXEC, possibly after ASKING): the commands MULTI
// queues are answered QUEUED, not with their usual replies, and EXEC with
// their results. Only a batch that begins with the transaction is checked,
// the way keel sends one, so other batches pay two comparisons.
func frameTransaction(reqs []*request) {
	start := 0
	if len(reqs) > 1 && isCommand(reqs[0].args, "ASKING") {
		start = 1
	}
	if !isCommand(reqs[start].args, "MULTI") {
		return
	}
	reqs[start].expect = expectStatus
	for _, r := range reqs[start+1:] {
		switch {
		case isCommand(r.args, "EXEC"):
			r.expect = expectExec
			return
		case isCommand(r.args, "DISCARD"):
			r.expect = expectStatus
			return
		}
		r.expect = queuedOr(r.expect)
	}
}

// queuedOr is what a command after MULTI can be answered with: QUEUED, or,
// if the server refused the MULTI (an ACL without it, say), the command's
// own reply, since it then ran on its own.
func queuedOr(e expect) expect {
	if e == expectAny || e == expectPong {
		return expectAny
	}
	return e | expectQueued
}

// isCommand reports whether args is the command name, in any case.
func isCommand(args []string, name string) bool {
	return len(args) > 0 && strings.EqualFold(args[0], name)
}
