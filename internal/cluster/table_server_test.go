package cluster

import (
	"context"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// sampleOverrides are calls for commands whose layout the generic builder
// (sampleArgs) does not cover: keys after a keyword or a subcommand, an
// optional STORE destination, arguments that must parse.
var sampleOverrides = map[string][]string{
	"XREAD":                {"XREAD", "COUNT", "1", "STREAMS", "s1", "s2", "0", "0"},
	"XREADGROUP":           {"XREADGROUP", "GROUP", "g", "c", "COUNT", "1", "STREAMS", "s1", "s2", ">", ">"},
	"OBJECT":               {"OBJECT", "ENCODING", "k"},
	"MEMORY":               {"MEMORY", "USAGE", "k"},
	"XINFO":                {"XINFO", "STREAM", "k"},
	"XGROUP":               {"XGROUP", "CREATE", "k", "g", "$"},
	"SORT":                 {"SORT", "k", "LIMIT", "0", "1", "STORE", "d"},
	"GEORADIUS":            {"GEORADIUS", "k", "1", "2", "3", "m", "STORE", "d"},
	"GEORADIUSBYMEMBER":    {"GEORADIUSBYMEMBER", "k", "m", "3", "m", "STOREDIST", "d"},
	"GEORADIUS_RO":         {"GEORADIUS_RO", "k", "1", "2", "3", "m"},
	"GEORADIUSBYMEMBER_RO": {"GEORADIUSBYMEMBER_RO", "k", "m", "3", "m"},
	"LMPOP":                {"LMPOP", "2", "a", "b", "LEFT"},
	"BLMPOP":               {"BLMPOP", "0", "2", "a", "b", "LEFT"},
	"ZMPOP":                {"ZMPOP", "2", "a", "b", "MIN"},
	"BZMPOP":               {"BZMPOP", "0", "2", "a", "b", "MIN"},
	"BLMOVE":               {"BLMOVE", "a", "b", "LEFT", "RIGHT", "0"},
	"LMOVE":                {"LMOVE", "a", "b", "LEFT", "RIGHT"},
	"BITOP":                {"BITOP", "AND", "d", "a", "b"},
	"XADD":                 {"XADD", "k", "*", "f", "v"},
	"SET":                  {"SET", "k", "v", "EX", "10"},
}

// notComparable are table entries COMMAND GETKEYS cannot check.
var notComparable = map[string]string{
	// keel routes shard channels like keys, as the cluster does; to the
	// server they are not keys.
	"SPUBLISH":     "shard channel",
	"PUBLISH":      "channel routed by its slot, so that one channel's messages keep their order",
	"SSUBSCRIBE":   "shard channel",
	"SUNSUBSCRIBE": "shard channel",
}

// incompleteSpecs are commands whose key specs do not find every key (the
// server then runs code of its own): SORT … STORE d.
var incompleteSpecs = map[string]bool{"SORT": true}

// sampleArgs builds a call of cmd from its key layout in the table, with
// arity arguments at least (the server's arity: negative is a minimum).
// ok is false when the layout needs an override.
func sampleArgs(cmd Command, arity int) (args []string, ok bool) {
	if cmd.KeysAfter != "" || cmd.storeFrom != 0 || cmd.flags&flagSubcommand != 0 {
		return nil, false
	}
	args = []string{cmd.Name}
	if cmd.FirstKey > 0 {
		for len(args) < cmd.FirstKey {
			args = append(args, "x")
		}
		step := max(cmd.KeyStep, 1)
		groups := 2
		if cmd.LastKey >= 0 {
			groups = (cmd.LastKey-cmd.FirstKey)/step + 1
		}
		for g := range groups {
			args = append(args, "k"+strconv.Itoa(g))
			for range step - 1 {
				args = append(args, "v")
			}
		}
		for i := cmd.LastKey; i < -1; i++ {
			args = append(args, "0") // arguments after the last key (BLPOP's timeout)
		}
	}
	if cmd.NumKeysAt > 0 {
		for len(args) < cmd.NumKeysAt {
			args = append(args, "x")
		}
		args = append(args, "2", "n0", "n1")
	}
	// At least one argument: COMMAND GETKEYS wants one even where the
	// command takes any number (PING, INFO).
	for len(args) < max(arity, -arity, 2) {
		args = append(args, "0")
	}
	return args, true
}

// TestTableAgreesWithServer compares, for every command of keel's table the
// server knows, the keys keel finds in a representative call with those
// COMMAND GETKEYS finds in it.
func TestTableAgreesWithServer(t *testing.T) {
	e := newLabEngine(t, labCluster(t), Options{})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var compared, keyless int
	skipped := map[string]string{}
	for _, cmd := range commands {
		v, err := e.Do(ctx, "COMMAND", "INFO", cmd.Name)
		if err != nil {
			t.Fatalf("COMMAND INFO %s: %v", cmd.Name, err)
		}
		info, err := parseCommandInfo(v)
		if err != nil {
			t.Fatalf("COMMAND INFO %s: %v", cmd.Name, err)
		}
		if !info.known {
			skipped[cmd.Name] = "unknown to this server"
			continue
		}
		if why, ok := notComparable[cmd.Name]; ok {
			skipped[cmd.Name] = why
			continue
		}
		arity, _ := v.Elems[0].Elems[1].Int64()
		if arity == 1 {
			// Nothing but the name: keyless, and COMMAND GETKEYS refuses it.
			if cmd.FirstKey > 0 || cmd.NumKeysAt > 0 {
				t.Errorf("%s: takes no arguments, but keel has keys for it", cmd.Name)
			}
			keyless++
			continue
		}
		args, ok := sampleOverrides[cmd.Name]
		if !ok {
			if args, ok = sampleArgs(cmd, int(arity)); !ok {
				t.Errorf("%s: its key layout needs an entry in sampleOverrides", cmd.Name)
				continue
			}
		}
		if len(info.subs) > 0 && cmd.FirstKey == 0 {
			// A keyless container (CLIENT, CONFIG…): GETKEYS wants a
			// subcommand.
			args = []string{cmd.Name, "HELP"}
		}
		want, err := Keys(cmd, args)
		if err != nil {
			t.Errorf("Keys(%q): %v", args, err)
			continue
		}
		reply, err := e.Do(ctx, append([]string{"COMMAND", "GETKEYS"}, args...)...)
		if err != nil {
			if strings.Contains(err.Error(), "no key arguments") {
				if want != nil {
					t.Errorf("%q: keel finds keys %q, the server none", args, want)
				}
				keyless++
				continue
			}
			t.Errorf("COMMAND GETKEYS %q: %v", args, err)
			continue
		}
		got, err := reply.Strings()
		if err != nil {
			t.Fatalf("COMMAND GETKEYS %q: %v", args, err)
		}
		if !slices.Equal(got, want) {
			t.Errorf("%q: keel finds keys %q, the server %q", args, want, got)
		}
		// The same call routed by the server's own key specs, as for a
		// command missing from the table.
		learned, _ := Keys(info.command(Command{Name: cmd.Name}, args), args)
		if !slices.Equal(learned, got) && !incompleteSpecs[cmd.Name] {
			t.Errorf("%q: the key specs find keys %q, the server %q", args, learned, got)
		}
		compared++
	}
	t.Logf("%d commands' keys compared, %d keyless on both sides, %d skipped: %v", compared, keyless, len(skipped), skipped)
	if compared < 100 {
		t.Errorf("only %d commands compared", compared)
	}
}
