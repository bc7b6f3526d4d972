package bench

import (
	"context"
	"fmt"
	"io"
	"runtime"
	"strconv"
)

// Memory is what clients of one library hold at rest, measured by opening
// many of them in this process (see measureMemory).
type Memory struct {
	Client  string `json:"client"`
	Clients int    `json:"clients"` // opened together
	// IdleBytesPerClient is the growth of the live heap (HeapAlloc after a
	// GC) from before the clients were opened to just after, ÷ Clients:
	// what a client holds once New (or its equivalent) has returned.
	IdleBytesPerClient float64 `json:"idle_bytes_per_client"`
	// UsedBytesPerClient is the same after every client has sent a GET to
	// every primary, so that each holds the connections and buffers of use.
	UsedBytesPerClient float64 `json:"used_bytes_per_client"`
	// ConnsPerClient is the growth of the servers' connected_clients (INFO
	// clients, summed over the nodes) after use, ÷ Clients.
	ConnsPerClient float64 `json:"conns_per_client"`
	// BytesPerConn is UsedBytesPerClient ÷ ConnsPerClient: a client's heap
	// per connection it keeps.
	BytesPerConn float64 `json:"bytes_per_conn"`
	// HeapUnderLoad is the HeapInUse of the client's row in LoadCell (GET
	// at the largest goroutine count run), 0 when that cell was not run.
	HeapUnderLoad int64  `json:"heap_under_load_bytes,omitempty"`
	LoadCell      string `json:"load_cell,omitempty"`
	Error         string `json:"error,omitempty"`
}

// DefaultMemoryClients is how many clients of each library the memory
// measurement opens.
const DefaultMemoryClients = 50

// liveHeap returns the bytes of live heap objects after a full collection.
func liveHeap() uint64 {
	runtime.GC()
	runtime.GC() // the first may leave finalizer-held objects for the second
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}

// connectedClients returns the connections the nodes at addrs serve, summed.
func connectedClients(ctx context.Context, addrs []string) (int, error) {
	total := 0
	for _, a := range addrs {
		info, err := bulkCommand(ctx, a, "INFO", "clients")
		if err != nil {
			return 0, err
		}
		n, err := strconv.Atoi(infoField(info, "connected_clients"))
		if err != nil {
			return 0, fmt.Errorf("INFO clients of %s: connected_clients: %w", a, err)
		}
		total += n
	}
	return total, nil
}

// measureMemory opens n clients of the library called name on the cluster
// whose every node is in seeds, and measures them (see Memory). probe are
// populated keys; n GETs of them, spread over the slots, reach every
// primary.
func measureMemory(ctx context.Context, name string, seeds []string, n int, probe []string) Memory {
	m := Memory{Client: name, Clients: n}
	fail := func(err error) Memory {
		m.Error = err.Error()
		return m
	}
	conns0, err := connectedClients(ctx, seeds)
	if err != nil {
		return fail(err)
	}
	heap0 := liveHeap()
	clients := make([]Client, 0, n)
	defer func() {
		for _, c := range clients {
			_ = c.Close()
		}
	}()
	for range n {
		c, err := Open(ctx, name, seeds)
		if err != nil {
			return fail(err)
		}
		clients = append(clients, c)
	}
	heap1 := liveHeap()
	for _, c := range clients {
		for _, k := range probe {
			if err := c.Get(ctx, k); err != nil {
				return fail(fmt.Errorf("%s: GET %s: %w", name, k, err))
			}
		}
	}
	heap2 := liveHeap()
	conns2, err := connectedClients(ctx, seeds)
	if err != nil {
		return fail(err)
	}
	m.IdleBytesPerClient = perClient(heap1, heap0, n)
	m.UsedBytesPerClient = perClient(heap2, heap0, n)
	m.ConnsPerClient = float64(conns2-conns0) / float64(n)
	if m.ConnsPerClient > 0 {
		m.BytesPerConn = m.UsedBytesPerClient / m.ConnsPerClient
	}
	runtime.KeepAlive(clients)
	return m
}

func perClient(after, before uint64, n int) float64 {
	if after < before {
		return 0
	}
	return float64(after-before) / float64(n)
}

// fillHeapUnderLoad copies into mem the heap of each client's GET row at
// the largest goroutine count in rows.
func fillHeapUnderLoad(mem []Memory, rows []Row) {
	g := 0
	for _, r := range rows {
		if r.Workload == Get {
			g = max(g, r.Goroutines)
		}
	}
	for i := range mem {
		for _, r := range rows {
			if r.Workload == Get && r.Goroutines == g && r.Client == mem[i].Client {
				mem[i].HeapUnderLoad = r.HeapInUse
				mem[i].LoadCell = fmt.Sprintf("%s g=%d", Get, g)
			}
		}
	}
}

// WriteMemory writes mem as a table.
func WriteMemory(w io.Writer, mem []Memory) error {
	fmt.Fprintln(w, "memory (live heap after GC, clients opened together in this process):")
	t := table{left: []bool{true}}
	t.add("client", "clients", "B/client idle", "B/client used", "conns/client", "B/conn", "heap under load")
	for _, m := range mem {
		if m.Error != "" {
			t.add(m.Client, strconv.Itoa(m.Clients), "error: "+m.Error)
			continue
		}
		load := "-"
		if m.LoadCell != "" {
			load = FormatMiB(m.HeapUnderLoad) + " (" + m.LoadCell + ")"
		}
		t.add(m.Client, strconv.Itoa(m.Clients), FormatBytes(m.IdleBytesPerClient), FormatBytes(m.UsedBytesPerClient),
			strconv.FormatFloat(m.ConnsPerClient, 'f', 1, 64), FormatBytes(m.BytesPerConn), load)
	}
	if err := t.write(w); err != nil {
		return err
	}
	_, err := fmt.Fprintln(w, "idle: after New (go-redis: after one PING); used: after a GET to every primary; B/conn: used ÷ conns/client;\n"+
		"conns: growth of the servers' connected_clients; heap under load: the heap column of that row.")
	return err
}
