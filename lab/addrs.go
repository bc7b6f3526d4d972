package lab

import (
	"fmt"
	"math/rand/v2"
	"net"
	"strconv"
	"sync"
)

// hostAllocator hands out node addresses. Without distinct hosts every node
// is on 127.0.0.1 with its own free port. With them, nodes get consecutive
// addresses in a random 127.a.b.0/24 block (random so that concurrent test
// binaries rarely meet) and share one client port, as real nodes share 6379.
type hostAllocator struct {
	distinct bool

	mu   sync.Mutex
	a, b byte // the current 127.a.b.0/24 block
	next int  // the last host number handed out in the block
	port int  // the shared client port; 0 until the first node
}

func newHostAllocator(distinct bool) *hostAllocator {
	h := &hostAllocator{distinct: distinct}
	h.newBlock()
	return h
}

func (h *hostAllocator) newBlock() {
	h.a, h.b, h.next = byte(1+rand.IntN(254)), byte(rand.IntN(256)), 0
}

// addr returns a host, client port and cluster bus port that are free now.
func (h *hostAllocator) addr() (host string, port, bus int, err error) {
	if !h.distinct {
		host = "127.0.0.1"
		if port, err = freePort(host); err != nil {
			return "", 0, 0, err
		}
		bus, err = freePortExcept(host, port)
		return host, port, bus, err
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	for range 64 {
		if h.next >= 254 {
			h.newBlock()
		}
		h.next++
		host = net.IPv4(127, h.a, h.b, byte(h.next)).String()
		if h.port == 0 {
			if h.port, err = freePort(host); err != nil {
				return "", 0, 0, err
			}
		} else if !portFree(host, h.port) {
			continue // taken on this address; the next address may have it free
		}
		if bus, err = freePortExcept(host, h.port); err != nil {
			return "", 0, 0, err
		}
		return host, h.port, bus, nil
	}
	return "", 0, 0, fmt.Errorf("lab: no 127.x address has port %d free", h.port)
}

func portFree(host string, port int) bool {
	l, err := net.Listen("tcp", net.JoinHostPort(host, strconv.Itoa(port)))
	if err != nil {
		return false
	}
	_ = l.Close()
	return true
}

func freePortExcept(host string, not int) (int, error) {
	for {
		p, err := freePort(host)
		if err != nil || p != not {
			return p, err
		}
	}
}
