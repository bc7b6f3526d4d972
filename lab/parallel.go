package lab

import (
	"errors"
	"sync"
)

// maxParallelCalls bounds how many management calls lab makes at once, so a
// large cluster's start-up checks do not open one connection per node at
// the same instant on a small machine.
const maxParallelCalls = 16

// inParallel runs fn for 0..n-1, at most maxParallelCalls at a time, and
// returns every error, joined. A cluster of dozens of nodes starts and
// settles in a fraction of the time a node-after-node loop takes.
func inParallel(n int, fn func(i int) error) error {
	errs := make([]error, n)
	sem := make(chan struct{}, maxParallelCalls)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			errs[i] = fn(i)
		}()
	}
	wg.Wait()
	return errors.Join(errs...)
}
