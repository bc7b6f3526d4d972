package bench

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/keel-go/keel/cmd/keel/internal/drill"
	"github.com/redis/go-redis/v9"
	"github.com/redis/rueidis"
)

// Machine describes where a report was measured.
type Machine struct {
	CPU        string            `json:"cpu"`
	Cores      int               `json:"cores"`
	GOMAXPROCS int               `json:"gomaxprocs"`
	Go         string            `json:"go"`
	OS         string            `json:"os"`
	Arch       string            `json:"arch"`
	Redis      string            `json:"redis"`
	Primaries  int               `json:"primaries"`
	Clients    map[string]string `json:"clients"` // name → version
	LoadStart  string            `json:"load_start"`
	LoadEnd    string            `json:"load_end"`
}

// DescribeMachine describes this machine and the cluster node at addr.
func DescribeMachine(ctx context.Context, addr string) Machine {
	m := Machine{
		CPU:        cpuModel(),
		Cores:      runtime.NumCPU(),
		GOMAXPROCS: runtime.GOMAXPROCS(0),
		Go:         runtime.Version(),
		OS:         runtime.GOOS,
		Arch:       runtime.GOARCH,
		Redis:      "unknown",
		Clients: map[string]string{
			Keel:    drill.ModuleVersion("github.com/keel-go/keel", ""),
			Rueidis: drill.ModuleVersion("github.com/redis/rueidis", rueidis.LibVer),
			GoRedis: drill.ModuleVersion("github.com/redis/go-redis/v9", redis.Version()),
		},
		LoadStart: loadAverage(),
	}
	if info, err := serverInfo(ctx, addr); err == nil {
		if v := infoField(info, "redis_version"); v != "" {
			m.Redis = v
		}
		if v := infoField(info, "redis_mode"); v != "" && v != "cluster" {
			m.Redis += " (" + v + ")"
		}
	}
	if info, err := clusterInfo(ctx, addr); err == nil {
		m.Primaries, _ = strconv.Atoi(infoField(info, "cluster_size"))
	}
	return m
}

// cpuModel returns the first "model name" of /proc/cpuinfo, or GOARCH.
func cpuModel() string {
	f, err := os.Open("/proc/cpuinfo")
	if err != nil {
		return runtime.GOARCH
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if k, v, ok := strings.Cut(sc.Text(), ":"); ok && strings.TrimSpace(k) == "model name" {
			return strings.TrimSpace(v)
		}
	}
	return runtime.GOARCH
}

// loadAverage returns the 1, 5 and 15 minute load averages from
// /proc/loadavg, or "unknown".
func loadAverage() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "unknown"
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "unknown"
	}
	return strings.Join(f[:3], " ")
}

// serverInfo returns INFO server of the node at addr.
func serverInfo(ctx context.Context, addr string) (string, error) {
	return bulkCommand(ctx, addr, "INFO", "server")
}

// clusterInfo returns CLUSTER INFO of the node at addr.
func clusterInfo(ctx context.Context, addr string) (string, error) {
	return bulkCommand(ctx, addr, "CLUSTER", "INFO")
}

// bulkCommand sends one command whose reply is a bulk string on a fresh
// connection, so describing the machine needs none of the clients.
func bulkCommand(ctx context.Context, addr string, args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	var d net.Dialer
	nc, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return "", err
	}
	defer nc.Close()
	if dl, ok := ctx.Deadline(); ok {
		_ = nc.SetDeadline(dl)
	}
	var b strings.Builder
	fmt.Fprintf(&b, "*%d\r\n", len(args))
	for _, a := range args {
		fmt.Fprintf(&b, "$%d\r\n%s\r\n", len(a), a)
	}
	if _, err := nc.Write([]byte(b.String())); err != nil {
		return "", err
	}
	r := bufio.NewReader(nc)
	line, err := r.ReadString('\n')
	if err != nil {
		return "", err
	}
	line = strings.TrimRight(line, "\r\n")
	if !strings.HasPrefix(line, "$") {
		return "", fmt.Errorf("%s: unexpected reply %q", strings.Join(args, " "), line)
	}
	n, err := strconv.Atoi(line[1:])
	if err != nil || n < 0 {
		return "", fmt.Errorf("%s: unexpected reply %q", strings.Join(args, " "), line)
	}
	buf := make([]byte, n)
	if _, err := io.ReadFull(r, buf); err != nil {
		return "", err
	}
	return string(buf), nil
}

// infoField returns the value of field in an INFO-style reply.
func infoField(info, field string) string {
	for _, line := range strings.Split(info, "\n") {
		if k, v, ok := strings.Cut(strings.TrimSpace(line), ":"); ok && k == field {
			return v
		}
	}
	return ""
}

// syscalls returns this process's read and write system calls so far
// (syscr and syscw of /proc/self/io: read(2)- and write(2)-family calls,
// which is how Go reads and writes TCP connections on Linux, failed ones
// and the runtime's eventfd wake-ups included), and false where that file
// does not exist.
func syscalls() (reads, writes uint64, ok bool) {
	b, err := os.ReadFile("/proc/self/io")
	if err != nil {
		return 0, 0, false
	}
	var gotR, gotW bool
	for _, line := range strings.Split(string(b), "\n") {
		k, v, _ := strings.Cut(line, ":")
		n, err := strconv.ParseUint(strings.TrimSpace(v), 10, 64)
		if err != nil {
			continue
		}
		switch k {
		case "syscr":
			reads, gotR = n, true
		case "syscw":
			writes, gotW = n, true
		}
	}
	return reads, writes, gotR && gotW
}
