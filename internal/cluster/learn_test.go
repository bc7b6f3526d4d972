package cluster

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// commandInfoCalls sums, over every primary, how often COMMAND INFO ran.
func commandInfoCalls(t *testing.T, ctx context.Context, e *Engine) int {
	t.Helper()
	re := regexp.MustCompile(`cmdstat_command\|info:calls=(\d+)`)
	total := 0
	for _, s := range onEveryPrimary(t, ctx, e, "INFO", "commandstats") {
		if m := re.FindStringSubmatch(s); m != nil {
			n, _ := strconv.Atoi(m[1])
			total += n
		}
	}
	return total
}

// keyPerShard returns a key, starting with prefix, in each shard's slots.
func keyPerShard(t *testing.T, e *Engine, prefix string) []string {
	t.Helper()
	topo := e.topo.Load()
	found := map[string]string{} // primary → key
	for i := 0; len(found) < len(topo.Shards) && i < 10000; i++ {
		k := prefix + strconv.Itoa(i)
		if sh, ok := topo.ShardFor(Slot(k)); ok && found[sh.Primary.Addr] == "" {
			found[sh.Primary.Addr] = k
		}
	}
	if len(found) != len(topo.Shards) || len(found) < 3 {
		t.Fatalf("keys for %d of %d shards", len(found), len(topo.Shards))
	}
	keys := make([]string, 0, len(found))
	for _, k := range found {
		keys = append(keys, k)
	}
	return keys
}

// unlistedKeyed is a keyed command of redis 7.0 that keel's table does not
// list: XSETID key last-id.
const unlistedKeyed = "XSETID"

// TestLearnedRouting runs a keyed command missing from keel's table on a
// key of every shard, from many goroutines at once: each lands on the
// slot's owner (no MOVED), and the engine asked COMMAND INFO once.
func TestLearnedRouting(t *testing.T) {
	if _, ok := Lookup(unlistedKeyed); ok {
		t.Fatalf("%s is in keel's table now: pick another command it does not list", unlistedKeyed)
	}
	e := newLabEngine(t, labCluster(t), Options{})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	keys := keyPerShard(t, e, "learn:"+strconv.FormatInt(time.Now().UnixNano(), 36)+":")
	for _, k := range keys {
		if _, err := e.Do(ctx, "XADD", k, "1-1", "f", "v"); err != nil {
			t.Fatal(err)
		}
	}
	asked := commandInfoCalls(t, ctx, e)
	moved := e.Stats().Moved

	var wg sync.WaitGroup
	errs := make(chan error, 10*len(keys))
	for g := range 10 {
		for _, k := range keys {
			wg.Add(1)
			go func() {
				defer wg.Done()
				name := unlistedKeyed
				if g%2 == 1 {
					name = strings.ToLower(name)
				}
				if _, err := e.Do(ctx, name, k, "5-5"); err != nil {
					errs <- err
				}
			}()
		}
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if got := e.Stats().Moved - moved; got != 0 {
		t.Errorf("%d MOVED redirects, want 0: the command did not go to the slot's owner", got)
	}
	if got := commandInfoCalls(t, ctx, e) - asked; got != 1 {
		t.Errorf("COMMAND INFO asked %d times, want once", got)
	}
	// In a pipeline too, with no further question.
	cmds := make([][]string, len(keys))
	for i, k := range keys {
		cmds[i] = []string{unlistedKeyed, k, "6-6"}
	}
	for i, r := range e.Pipeline(ctx, cmds) {
		if r.Err != nil {
			t.Errorf("pipeline %q: %v", cmds[i], r.Err)
		}
	}
	if got := e.Stats().Moved - moved; got != 0 {
		t.Errorf("%d MOVED redirects after the pipeline, want 0", got)
	}
	if got := commandInfoCalls(t, ctx, e) - asked; got != 1 {
		t.Errorf("COMMAND INFO asked %d times after the pipeline, want once", got)
	}

	// A name the server does not know either is sent, once learned as
	// such, for the server's own error.
	for range 2 {
		_, err := e.Do(ctx, "NOSUCHCMD", "k")
		if err == nil || !strings.Contains(err.Error(), "unknown command") {
			t.Errorf("NOSUCHCMD: %v, want the server's unknown command error", err)
		}
	}
	if got := commandInfoCalls(t, ctx, e) - asked; got != 2 {
		t.Errorf("COMMAND INFO asked %d times in all, want twice (XSETID, NOSUCHCMD)", got)
	}
}

// lockedBuffer is a log sink safe for the engine's goroutines.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// TestLearnDenied denies COMMAND INFO by ACL: commands keel does not know
// still run (sent to any primary, following MOVED), and the failure is
// logged once.
func TestLearnDenied(t *testing.T) {
	c := labCluster(t)
	var logs lockedBuffer
	e := newLabEngine(t, c, Options{Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	onEveryPrimary(t, ctx, e, "ACL", "SETUSER", "default", "-command|info")
	t.Cleanup(func() { onEveryPrimary(t, context.Background(), e, "ACL", "SETUSER", "default", "+command|info") })

	keys := keyPerShard(t, e, "denied:"+strconv.FormatInt(time.Now().UnixNano(), 36)+":")
	for _, k := range keys {
		if _, err := e.Do(ctx, "XADD", k, "1-1", "f", "v"); err != nil {
			t.Fatal(err)
		}
		if _, err := e.Do(ctx, unlistedKeyed, k, "5-5"); err != nil {
			t.Errorf("%s %s: %v", unlistedKeyed, k, err)
		}
	}
	// Sent to any primary, each followed at most one MOVED to the owner.
	if m := e.Stats().Moved; m > int64(len(keys)) {
		t.Errorf("%d MOVED redirects for %d commands, want at most one each", m, len(keys))
	}
	if n := strings.Count(logs.String(), "COMMAND INFO failed"); n != 1 {
		t.Errorf("COMMAND INFO failure logged %d times, want once:\n%s", n, logs.String())
	}
	if !strings.Contains(logs.String(), "NOPERM") {
		t.Errorf("log does not say why:\n%s", logs.String())
	}
}

// TestLearnContextEnds: a caller whose context ends while the engine asks
// gets its context's error, not a hang.
func TestLearnContextEnds(t *testing.T) {
	e := newLabEngine(t, labCluster(t), Options{})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := e.Do(ctx, "NOSUCHCMD2", "k"); !errors.Is(err, context.Canceled) {
		t.Errorf("Do with a cancelled context: %v, want context.Canceled", err)
	}
}
