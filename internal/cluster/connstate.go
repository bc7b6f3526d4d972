package cluster

import (
	"fmt"
	"strings"
)

// connStateKind groups the commands that change the state of the connection
// they are sent on by what to use instead; 0 is an ordinary command.
type connStateKind uint8

const (
	connStateNone    connStateKind = iota
	connStateTx                    // MULTI, EXEC, DISCARD
	connStateWatch                 // WATCH, UNWATCH
	connStateSelect                // SELECT
	connStateClient                // CLIENT REPLY, TRACKING, SETNAME, …
	connStateMonitor               // MONITOR
	connStateManaged               // RESET, HELLO, AUTH, QUIT, READONLY, READWRITE, ASKING
	connStatePubSub                // SUBSCRIBE and its family
)

// connStateHints say what to use instead, per kind.
var connStateHints = [...]string{
	connStateTx:      "use Client.Tx (MULTI…EXEC sent as one batch) or Client.Watch",
	connStateWatch:   "use Client.Watch (optimistic locking on a connection of its own)",
	connStateSelect:  "a cluster has only database 0; outside a cluster, name the database in a seed URL (redis://host:port/3)",
	connStateClient:  "it would change the connection every goroutine shares; set Options.ClientName for the name",
	connStateMonitor: "it takes over the connection; run it from redis-cli",
	connStateManaged: "keel manages the connection itself: set Options.Username/Password, Options.ReadPolicy; use Client.Close",
	connStatePubSub:  "Pub/Sub needs a connection of its own: use Client.Subscribe, PSubscribe or SSubscribe",
}

// clientStateSubcommands are the CLIENT subcommands that change the
// connection they are sent on. The others (LIST, INFO, ID, KILL, GETNAME,
// PAUSE, …) only read it or act on other connections.
var clientStateSubcommands = [...]string{
	"REPLY", "TRACKING", "CACHING", "NO-EVICT", "NO-TOUCH", "SETNAME", "SETINFO",
}

// ConnStateError returns an error matching ErrConnState, naming what to use
// instead, when the command in args would change the state of the
// connection it is sent on (MULTI, SELECT, CLIENT REPLY, SUBSCRIBE, …):
// keel's connections are shared by every goroutine. Otherwise it returns
// nil, without allocating.
func ConnStateError(cmd *Command, args []string) error {
	if cmd.connState == connStateNone {
		return nil
	}
	name := cmd.Name
	if cmd.connState == connStateClient {
		if len(args) < 2 || !isClientStateSubcommand(args[1]) {
			return nil
		}
		name += " " + strings.ToUpper(args[1])
	}
	return fmt.Errorf("%w: %s: %s", ErrConnState, name, connStateHints[cmd.connState])
}

func isClientStateSubcommand(sub string) bool {
	for _, s := range clientStateSubcommands {
		if equalUpper(s, sub) {
			return true
		}
	}
	return false
}

// refusal returns why keel will not send the command in args where only
// shared (or watch) connections are at hand — a pipeline, a transaction, a
// Node — (ErrConnState or ErrBlocking), or nil. An ordinary command costs
// two field tests.
func refusal(cmd *Command, args []string) error {
	if err := ConnStateError(cmd, args); err != nil {
		return err
	}
	if IsBlocking(*cmd, args) {
		return blockingRefusal(cmd.Name)
	}
	return nil
}

// blockingRefusal is the error of a blocking command where it cannot run.
func blockingRefusal(name string) error {
	if isWait(name) {
		return fmt.Errorf("%w: %s counts the writes of the connection it runs on, which a shared or blocking connection makes meaningless: run it on a Watch, after writing through the same Watch", ErrBlocking, name)
	}
	return fmt.Errorf("%w: %s: run it on its own (a Client method, keel.Run or Client.Do), not in a pipeline, a transaction or on a Node", ErrBlocking, name)
}

// isWait reports WAIT and WAITAOF, which wait for the replication of the
// writes made on their own connection.
func isWait(name string) bool { return name == "WAIT" || name == "WAITAOF" }
