package drill

import (
	"bytes"
	"runtime"
	"strings"
	"time"
)

// goroutineSet maps each running goroutine's id to the function that
// created it.
type goroutineSet map[string]string

func goroutines() goroutineSet {
	buf := make([]byte, 1<<20)
	for {
		n := runtime.Stack(buf, true)
		if n < len(buf) {
			buf = buf[:n]
			break
		}
		buf = make([]byte, 2*len(buf))
	}
	set := make(goroutineSet)
	for _, g := range bytes.Split(buf, []byte("\n\n")) {
		text := string(g)
		id, _, _ := strings.Cut(strings.TrimPrefix(text, "goroutine "), " ")
		creator := ""
		if i := strings.LastIndex(text, "created by "); i >= 0 {
			creator, _, _ = strings.Cut(text[i+len("created by "):], "\n")
		}
		set[id] = creator
	}
	return set
}

// leftSince counts goroutines running now that were not in before and were
// not started by the drill or the lab themselves (the lab's process
// waiters and watcher): what the client under test left behind. It waits up
// to settle for them to end, since a closed client's goroutines may need a
// moment to return.
func leftSince(before goroutineSet, settle time.Duration) int {
	deadline := time.Now().Add(settle)
	for {
		n := 0
		for id, creator := range goroutines() {
			if _, ok := before[id]; ok || ours(creator) {
				continue
			}
			n++
		}
		if n == 0 || time.Now().After(deadline) {
			return n
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func ours(creator string) bool {
	for _, p := range []string{"github.com/keel-go/keel/lab.", "github.com/keel-go/keel/cmd/keel/internal/drill.", "os/exec.", "os/signal."} {
		if strings.HasPrefix(creator, p) {
			return true
		}
	}
	return false
}
