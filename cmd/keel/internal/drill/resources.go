package drill

import (
	"math"
	"runtime"
	"strings"
	"sync"
	"time"

	"github.com/keel-go/keel/cmd/keel/internal/drill/report"
)

// soakProfileRate is runtime.MemProfileRate during a soak: one sample per
// 16 KiB allocated on average, fine enough to follow a client's heap of a
// few hundred KiB (the default, 512 KiB, is too coarse for that; at 64 KiB
// such a heap may leave no sample at all).
const soakProfileRate = 16 << 10

// soakProfiling sets soakProfileRate when scs hold a soak, before any client
// opens (the rate applies to allocations made after it is set), and returns
// what restores the rate.
func soakProfiling(scs []Scenario) (restore func()) {
	for _, sc := range scs {
		if sc.Soak != nil {
			old := runtime.MemProfileRate
			runtime.MemProfileRate = soakProfileRate
			return func() { runtime.MemProfileRate = old }
		}
	}
	return func() {}
}

// resourceSampler samples, every few seconds, the drill process's
// goroutines (other than the workload's requests in flight), the heap in
// use the client's own code allocated, and the whole heap in use.
type resourceSampler struct {
	inflight func() int64

	mu                       sync.Mutex
	goroutines, client, heap []int64

	stop func()
}

// startResourceSampler samples every every, from the first tick after
// delay, until stop, which takes a last sample.
func startResourceSampler(delay, every time.Duration, inflight func() int64) *resourceSampler {
	s := &resourceSampler{inflight: inflight}
	begin := time.Now()
	stop := ticker(every, func() {
		if time.Since(begin) >= delay {
			s.sample()
		}
	})
	s.stop = func() { stop(); s.sample() }
	return s
}

func (s *resourceSampler) sample() {
	g := int64(runtime.NumGoroutine()) - s.inflight()
	// The heap profile describes the heap as of the last completed garbage
	// collection: without one since the client opened (a client that
	// allocates little, in a process that allocates little, can go seconds
	// without), the first sample would find none of the client's memory.
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	client := clientHeapBytes()
	s.mu.Lock()
	s.goroutines = append(s.goroutines, g)
	s.client = append(s.client, client)
	s.heap = append(s.heap, int64(ms.HeapInuse))
	s.mu.Unlock()
}

// Growth allowances: the last sample may exceed the first by this much
// before the series is flagged. A client's goroutines and buffers vary
// with the connections a fault leaves open for a while; a leak grows with
// every fault and outgrows these within minutes.
const (
	goroutineAllowance  = 10
	clientHeapAllowance = 4 << 20
)

// figures summarises the samples into the soak report's series.
func (s *resourceSampler) figures(out *report.Soak) {
	s.mu.Lock()
	defer s.mu.Unlock()
	out.Goroutines = series(s.goroutines, goroutineAllowance)
	out.ClientHeap = series(s.client, clientHeapAllowance)
	out.Heap = series(s.heap, math.MaxInt64)
}

// series summarises samples; Grew when the last exceeds the first by more
// than allowance plus half the first.
func series(samples []int64, allowance int64) report.Series {
	if len(samples) == 0 {
		return report.Series{}
	}
	out := report.Series{Samples: len(samples), First: samples[0], Last: samples[len(samples)-1]}
	for _, v := range samples {
		out.Max = max(out.Max, v)
	}
	if allowance < math.MaxInt64 {
		out.Grew = out.Last > out.First+out.First/2+allowance
	}
	return out
}

// clientHeapBytes estimates the heap in use that the client's own code
// allocated, from the runtime's heap profile (as of the latest garbage
// collection): the records whose allocating stack passes through client
// code, scaled for sampling as pprof does.
func clientHeapBytes() int64 {
	var recs []runtime.MemProfileRecord
	n, _ := runtime.MemProfile(nil, false)
	for {
		recs = make([]runtime.MemProfileRecord, n+64)
		var ok bool
		if n, ok = runtime.MemProfile(recs, false); ok {
			recs = recs[:n]
			break
		}
	}
	rate := float64(runtime.MemProfileRate)
	var total float64
	funcs := make(map[uintptr]bool)
	for i := range recs {
		r := &recs[i]
		objects, bytes := r.InUseObjects(), r.InUseBytes()
		if objects <= 0 || !clientStack(r.Stack(), funcs) {
			continue
		}
		size := float64(bytes) / float64(objects)
		total += float64(bytes) / (1 - math.Exp(-size/rate))
	}
	return int64(total)
}

// clientStack reports whether a stack passes through client code; known
// caches the answer per program counter.
func clientStack(stack []uintptr, known map[uintptr]bool) bool {
	for _, pc := range stack {
		is, ok := known[pc]
		if !ok {
			frames := runtime.CallersFrames([]uintptr{pc})
			for {
				f, more := frames.Next()
				is = is || clientCode(f.Function)
				if !more {
					break
				}
			}
			known[pc] = is
		}
		if is {
			return true
		}
	}
	return false
}

// clientCode reports whether a function belongs to a client under test:
// keel's library (not its tool or lab), go-redis or rueidis.
func clientCode(fn string) bool {
	const keel = "github.com/keel-go/keel"
	switch {
	case strings.HasPrefix(fn, "github.com/redis/"):
		return true
	case strings.HasPrefix(fn, keel+"/cmd/"), strings.HasPrefix(fn, keel+"/lab"):
		return false
	}
	return strings.HasPrefix(fn, keel+".") || strings.HasPrefix(fn, keel+"/")
}
