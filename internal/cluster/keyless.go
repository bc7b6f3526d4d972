package cluster

import (
	"errors"
	"strings"
)

// ErrNeedsNode is returned for a keyless command whose answer belongs to one
// node (INFO, CONFIG, CLIENT, SLOWLOG…): sending it to a random primary
// would answer for a node the caller did not choose.
var ErrNeedsNode = errors.New("keel: the command answers for one node: run it on a chosen node (Client.Node(addr).Do) or on each (ForEachPrimary, ForEachNode)")

// keylessKind says what a command without keys means on a cluster.
type keylessKind uint8

const (
	// anyNode: every node gives the same answer (PING, TIME, CLUSTER
	// NODES…), or keel does not know the command: a random primary.
	anyNode keylessKind = iota
	// perNode: the answer is one node's; refused with ErrNeedsNode.
	perNode
	// bySlot: a CLUSTER subcommand about a slot (KEYSLOT,
	// COUNTKEYSINSLOT, GETKEYSINSLOT), sent to the slot's primary.
	bySlot
	// The rest are sent to every primary and their replies merged:
	fanSum    // integers summed (DBSIZE)
	fanConcat // arrays concatenated (KEYS)
	fanAllOK  // OK when every primary said OK (FLUSHALL, SCRIPT FLUSH…)
	fanSame   // the one reply every primary gave (SCRIPT LOAD's SHA)
	fanAnd    // arrays of 0/1 ANDed position by position (SCRIPT EXISTS)
)

// keylessRule is what keel does with one keyless command.
type keylessRule struct {
	kind keylessKind
	// idempotent: a fanned-out part whose outcome is unknown may be sent
	// again to its node.
	idempotent bool
}

var (
	ruleSum     = keylessRule{fanSum, true}
	ruleConcat  = keylessRule{fanConcat, true}
	ruleAllOK   = keylessRule{fanAllOK, true}
	ruleAllOnce = keylessRule{fanAllOK, false} // a repeat fails (FUNCTION DELETE of a deleted library)
	ruleSame    = keylessRule{fanSame, true}
	ruleAnd     = keylessRule{fanAnd, true}
	ruleNode    = keylessRule{kind: perNode}
	ruleAny     = keylessRule{kind: anyNode}
	ruleSlot    = keylessRule{kind: bySlot}
)

// keylessRules maps command names to their rule; a name missing is anyNode.
var keylessRules = map[string]keylessRule{
	"SCAN":         ruleNode, // a cursor belongs to the node that made it (Client.Scan walks every shard)
	"DBSIZE":       ruleSum,
	"KEYS":         ruleConcat,
	"FLUSHALL":     ruleAllOK,
	"FLUSHDB":      ruleAllOK,
	"INFO":         ruleNode,
	"CONFIG":       ruleNode,
	"CLIENT":       ruleNode,
	"MEMORY":       ruleNode, // MEMORY USAGE key has a key and is routed by it
	"LATENCY":      ruleNode,
	"SLOWLOG":      ruleNode,
	"DEBUG":        ruleNode,
	"LASTSAVE":     ruleNode,
	"BGSAVE":       ruleNode,
	"SAVE":         ruleNode,
	"BGREWRITEAOF": ruleNode,
	"ROLE":         ruleNode,
	"MODULE":       ruleNode,
	"ACL":          ruleNode, // ACL rules, like the log, live on each node
	"SHUTDOWN":     ruleNode,
	"FAILOVER":     ruleNode,
	"REPLICAOF":    ruleNode,
	"SLAVEOF":      ruleNode,
	"SWAPDB":       ruleNode,
}

// subRules refine a command by its subcommand; "" is the rule for any
// subcommand not listed.
var subRules = map[string]map[string]keylessRule{
	"CLUSTER": {
		"":     ruleNode, // MYID, LINKS, FAILOVER, SETSLOT, COUNT-FAILURE-REPORTS…
		"INFO": ruleAny, "NODES": ruleAny, "SHARDS": ruleAny, "SLOTS": ruleAny,
		"REPLICAS": ruleAny, "SLAVES": ruleAny, "HELP": ruleAny,
		"KEYSLOT": ruleSlot, "COUNTKEYSINSLOT": ruleSlot, "GETKEYSINSLOT": ruleSlot,
	},
	"SCRIPT": {
		"":       ruleNode, // KILL, DEBUG
		"LOAD":   ruleSame,
		"EXISTS": ruleAnd,
		"FLUSH":  ruleAllOK,
		"HELP":   ruleAny,
	},
	"FUNCTION": {
		"":        ruleNode,         // KILL, LIST, DUMP, STATS: one node's view
		"LOAD":    {fanSame, false}, // without REPLACE a repeat fails
		"DELETE":  ruleAllOnce,
		"FLUSH":   ruleAllOK,
		"RESTORE": ruleAllOnce,
		"HELP":    ruleAny,
	},
}

// keylessRuleFor returns the rule of the keyless command in args; name is
// its upper-case name.
func keylessRuleFor(name string, args []string) keylessRule {
	if subs, ok := subRules[name]; ok {
		if len(args) < 2 {
			return ruleAny // the server explains what is missing
		}
		if r, ok := subs[strings.ToUpper(args[1])]; ok {
			return r
		}
		return subs[""]
	}
	return keylessRules[name] // the zero rule is anyNode
}
