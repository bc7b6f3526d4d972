package lab

import (
	"errors"
	"sync/atomic"
	"testing"
)

func TestInParallel(t *testing.T) {
	var running, most, calls atomic.Int32
	boom := errors.New("boom")
	err := inParallel(100, func(i int) error {
		calls.Add(1)
		n := running.Add(1)
		defer running.Add(-1)
		for {
			m := most.Load()
			if n <= m || most.CompareAndSwap(m, n) {
				break
			}
		}
		if i == 7 || i == 42 {
			return boom
		}
		return nil
	})
	if calls.Load() != 100 {
		t.Errorf("fn ran %d times, want 100", calls.Load())
	}
	if most.Load() > maxParallelCalls {
		t.Errorf("%d calls at once, want at most %d", most.Load(), maxParallelCalls)
	}
	if !errors.Is(err, boom) {
		t.Errorf("err = %v, want the calls' errors joined", err)
	}
	if err := inParallel(0, func(int) error { return boom }); err != nil {
		t.Errorf("no calls: err = %v", err)
	}
}
