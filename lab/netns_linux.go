//go:build linux

package lab

import (
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// netSeq numbers the namespaces and veth pairs this process creates, across
// clusters, so that their names never repeat within the process.
var netSeq atomic.Int64

// netLab is the network a cluster with NetNamespaces runs on: a bridge in
// the root namespace holding 10.213.K.1/24 and, per node, a namespace whose
// eth0 (10.213.K.n/24) is one end of a veth pair plugged into the bridge.
type netLab struct {
	ip     string // the ip binary
	bridge string // "klab<pid>b<seq>"
	block  int    // K in 10.213.K.0/24
	tc     string // the tc binary when the kernel has netem; "" without

	mu    sync.Mutex
	next  int                // the last host number handed out
	nodes map[string]*netEnd // by address
}

// netEnd is one node's namespace.
type netEnd struct {
	ns   string // "klab-<pid>-<seq>"
	veth string // root side, "klab<pid>v<seq>"
	ip   string
	mac  string
	down bool // partitioned

	delay time.Duration // added to what the node sends
	loss  float64       // percent of its packets dropped (netem only)
	relay *delayRelay   // in front of the client port without netem
}

// newNetLab checks that namespaces can be made, removes what crashed earlier
// runs left behind, and creates the cluster's bridge on a free /24 block.
func newNetLab() (*netLab, error) {
	if os.Geteuid() != 0 {
		return nil, fmt.Errorf("%w: not running as root", ErrNetNamespacesUnavailable)
	}
	ip, err := exec.LookPath("ip")
	if err != nil {
		return nil, fmt.Errorf("%w: no ip binary (iproute2): %v", ErrNetNamespacesUnavailable, err)
	}
	l := &netLab{ip: ip, nodes: map[string]*netEnd{}}
	removeStaleNet(ip)

	// The lock keeps two processes from choosing the same block.
	unlock, err := lockFile(filepath.Join(os.TempDir(), "keel-lab-netns.lock"))
	if err != nil {
		return nil, err
	}
	defer unlock()
	if err := checkNoClash(ip); err != nil {
		return nil, err
	}
	if l.block, err = freeBlock(ip); err != nil {
		return nil, err
	}
	l.bridge = fmt.Sprintf("%s%db%d", netPrefix, os.Getpid(), netSeq.Add(1))
	if err := l.run("link", "add", l.bridge, "type", "bridge"); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrNetNamespacesUnavailable, err)
	}
	if err := l.run("addr", "add", l.addr(1)+"/24", "dev", l.bridge); err != nil {
		l.close()
		return nil, err
	}
	if err := l.run("link", "set", l.bridge, "up"); err != nil {
		l.close()
		return nil, err
	}
	// Root without CAP_SYS_ADMIN (some containers) makes links but no
	// namespaces: find out now, not at the first node.
	probe := fmt.Sprintf("%s-%d-probe%d", netPrefix, os.Getpid(), netSeq.Add(1))
	if err := l.run("netns", "add", probe); err != nil {
		l.close()
		return nil, fmt.Errorf("%w: %v", ErrNetNamespacesUnavailable, err)
	}
	_ = l.run("netns", "del", probe)
	l.tc = probeNetem(l.bridge)
	return l, nil
}

// probeNetem returns the tc binary if a netem qdisc can be added here
// (tried on dev, lab's own bridge), or "".
func probeNetem(dev string) string {
	tc, err := exec.LookPath("tc")
	if err != nil {
		return ""
	}
	if runIP(tc, "qdisc", "add", "dev", dev, "root", "netem", "delay", "0ms") != nil {
		return ""
	}
	_ = runIP(tc, "qdisc", "del", "dev", dev, "root")
	return tc
}

// relayed reports whether nodes' client ports go through a delayRelay:
// latency without netem.
func (l *netLab) relayed() bool { return l.tc == "" }

func (l *netLab) addr(host int) string { return fmt.Sprintf("%s.%d.%d", netBlock16, l.block, host) }

func (l *netLab) run(args ...string) error { return runIP(l.ip, args...) }

func runIP(ip string, args ...string) error {
	out, err := exec.Command(ip, args...).CombinedOutput()
	if err != nil {
		return fmt.Errorf("lab: ip %s: %v: %s", strings.Join(args, " "), err, strings.TrimSpace(string(out)))
	}
	return nil
}

// addNode creates a namespace for one node and returns its address and the
// namespace's name.
func (l *netLab) addNode() (ip, ns string, err error) {
	l.mu.Lock()
	l.next++
	host := l.next + 1 // .1 is the bridge
	l.mu.Unlock()
	if host > 254 {
		return "", "", errors.New("lab: no address left in the cluster's /24 block")
	}
	seq := netSeq.Add(1)
	e := &netEnd{
		ns:   fmt.Sprintf("%s-%d-%d", netPrefix, os.Getpid(), seq),
		veth: fmt.Sprintf("%s%dv%d", netPrefix, os.Getpid(), seq),
		ip:   l.addr(host),
		mac:  fmt.Sprintf("02:6b:6c:%02x:%02x:%02x", l.block, host, seq%256),
	}
	steps := [][]string{
		{"netns", "add", e.ns},
		{"-n", e.ns, "link", "set", "lo", "up"},
		{"link", "add", e.veth, "type", "veth", "peer", "name", "eth0", "address", e.mac, "netns", e.ns},
		{"link", "set", e.veth, "master", l.bridge, "up"},
		{"-n", e.ns, "addr", "add", e.ip + "/24", "dev", "eth0"},
		{"-n", e.ns, "link", "set", "eth0", "up"},
	}
	for _, s := range steps {
		if err := l.run(s...); err != nil {
			_ = l.run("netns", "del", e.ns)
			return "", "", err
		}
	}
	if l.relayed() {
		ln, err := listenInNamespace(e.ns, net.JoinHostPort(e.ip, strconv.Itoa(netPort)))
		if err != nil {
			_ = l.run("netns", "del", e.ns)
			return "", "", err
		}
		e.relay = startDelayRelay(ln, net.JoinHostPort(e.ip, strconv.Itoa(netRelayedPort)))
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, o := range l.nodes {
		if o.down {
			// As partition does for the nodes there before it: the new
			// node's packets to o vanish instead of failing on ARP.
			_ = l.run("-n", e.ns, "neigh", "replace", o.ip, "lladdr", o.mac, "dev", "eth0", "nud", "permanent")
		}
	}
	l.nodes[e.ip] = e
	return e.ip, e.ns, nil
}

// partition cuts ip off: its eth0 goes down, so nothing leaves it, and the
// bridge no longer delivers to it. Every other party gets a permanent
// neighbour entry for it first, so that nobody's ARP fails (which would
// answer dials with "no route to host"): packets to it just vanish.
func (l *netLab) partition(ip string) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	e, ok := l.nodes[ip]
	if !ok {
		return fmt.Errorf("lab: %s is not in a lab namespace", ip)
	}
	if e.down {
		return nil
	}
	if err := l.run("neigh", "replace", e.ip, "lladdr", e.mac, "dev", l.bridge, "nud", "permanent"); err != nil {
		return err
	}
	for _, o := range l.nodes {
		if o != e {
			if err := l.run("-n", o.ns, "neigh", "replace", e.ip, "lladdr", e.mac, "dev", "eth0", "nud", "permanent"); err != nil {
				return err
			}
		}
	}
	if err := l.run("-n", e.ns, "link", "set", "eth0", "down"); err != nil {
		return err
	}
	e.down = true
	return nil
}

// heal undoes partition: eth0 comes back up with its route, and the
// permanent neighbour entries go, so addresses are learnt again.
func (l *netLab) heal(ip string) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	e, ok := l.nodes[ip]
	if !ok {
		return fmt.Errorf("lab: %s is not in a lab namespace", ip)
	}
	if !e.down {
		return nil
	}
	if err := l.run("-n", e.ns, "link", "set", "eth0", "up"); err != nil {
		return err
	}
	e.down = false
	_ = l.run("neigh", "del", e.ip, "dev", l.bridge)
	for _, o := range l.nodes {
		if o != e {
			_ = l.run("-n", o.ns, "neigh", "del", e.ip, "dev", "eth0")
		}
	}
	return nil
}

// close deletes every namespace (which deletes its veth pair) and the
// bridge. The processes in the namespaces must have been stopped.
func (l *netLab) close() error {
	l.mu.Lock()
	ends := l.nodes
	l.nodes = map[string]*netEnd{}
	l.mu.Unlock()
	var errs []error
	for _, e := range ends {
		if e.relay != nil {
			_ = e.relay.close()
		}
		// Deleting the root end removes the pair at once; a deleted
		// namespace only takes its links along once the kernel gets to it.
		if err := l.run("link", "del", e.veth); err != nil {
			errs = append(errs, err)
		}
		if err := l.run("netns", "del", e.ns); err != nil {
			errs = append(errs, err)
		}
	}
	if err := l.run("link", "del", l.bridge); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// shape sets what the node at ip suffers: delay added to every packet it
// sends (netem) or to every reply through its relay, and, with netem only,
// loss percent of its packets dropped.
func (l *netLab) shape(ip string, delay time.Duration, loss float64) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	e, ok := l.nodes[ip]
	if !ok {
		return fmt.Errorf("lab: %s is not in a lab namespace", ip)
	}
	if l.tc == "" {
		if loss > 0 {
			return ErrNetemUnavailable
		}
		e.relay.setDelay(delay)
		e.delay = delay
		return nil
	}
	if delay == 0 && loss == 0 {
		_ = runIP(l.tc, "-n", e.ns, "qdisc", "del", "dev", "eth0", "root")
	} else {
		args := []string{"-n", e.ns, "qdisc", "replace", "dev", "eth0", "root", "netem",
			"delay", strconv.FormatInt(delay.Microseconds(), 10) + "us"}
		if loss > 0 {
			args = append(args, "loss", strconv.FormatFloat(loss, 'f', -1, 64)+"%")
		}
		if err := runIP(l.tc, args...); err != nil {
			return err
		}
	}
	e.delay, e.loss = delay, loss
	return nil
}

// shaping returns the delay and loss last set on the node at ip.
func (l *netLab) shaping(ip string) (time.Duration, float64) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if e, ok := l.nodes[ip]; ok {
		return e.delay, e.loss
	}
	return 0, 0
}

// listenInNamespace opens a TCP listener on addr inside namespace ns: the
// socket belongs to the namespace it was made in, so it is made on a thread
// moved into ns for the purpose, and moved back.
func listenInNamespace(ns, addr string) (net.Listener, error) {
	type result struct {
		ln  net.Listener
		err error
	}
	out := make(chan result, 1)
	go func() {
		runtime.LockOSThread()
		self, err := os.Open("/proc/thread-self/ns/net")
		if err != nil {
			runtime.UnlockOSThread()
			out <- result{nil, fmt.Errorf("lab: own namespace: %w", err)}
			return
		}
		defer self.Close()
		target, err := os.Open(filepath.Join("/run/netns", ns))
		if err != nil {
			runtime.UnlockOSThread()
			out <- result{nil, fmt.Errorf("lab: namespace %s: %w", ns, err)}
			return
		}
		defer target.Close()
		if err := setns(target); err != nil {
			runtime.UnlockOSThread()
			out <- result{nil, err}
			return
		}
		ln, lerr := net.Listen("tcp", addr)
		if err := setns(self); err != nil {
			// The thread is stuck in ns: leave it locked, so that it ends
			// with this goroutine instead of running others there.
			if ln != nil {
				ln.Close()
			}
			out <- result{nil, err}
			return
		}
		runtime.UnlockOSThread()
		out <- result{ln, lerr}
	}()
	r := <-out
	return r.ln, r.err
}

// sysSetns is setns(2)'s number, which package syscall does not export.
var sysSetns = map[string]uintptr{
	"amd64": 308, "arm64": 268, "riscv64": 268, "loong64": 268,
	"386": 346, "arm": 375, "ppc64": 350, "ppc64le": 350, "s390x": 339,
}[runtime.GOARCH]

func setns(f *os.File) error {
	if sysSetns == 0 {
		return fmt.Errorf("lab: setns: syscall number unknown on %s", runtime.GOARCH)
	}
	if _, _, errno := syscall.RawSyscall(sysSetns, f.Fd(), syscall.CLONE_NEWNET, 0); errno != 0 {
		return fmt.Errorf("lab: setns: %w", errno)
	}
	return nil
}

// removeStaleNet deletes the namespaces and links of lab processes that no
// longer run (a crashed or killed test), recognised by their name: the lab
// prefix and the pid of the process that made them.
func removeStaleNet(ip string) {
	if out, err := exec.Command(ip, "netns", "list").Output(); err == nil {
		for _, line := range strings.Split(string(out), "\n") {
			name, _, _ := strings.Cut(strings.TrimSpace(line), " ")
			rest, ok := strings.CutPrefix(name, netPrefix+"-")
			if !ok {
				continue
			}
			pid, _, _ := strings.Cut(rest, "-")
			if stalePid(pid) {
				_ = runIP(ip, "netns", "del", name)
			}
		}
	}
	if out, err := exec.Command(ip, "-o", "link", "show").Output(); err == nil {
		for _, line := range strings.Split(string(out), "\n") {
			fields := strings.Fields(line)
			if len(fields) < 2 {
				continue
			}
			name, _, _ := strings.Cut(strings.TrimSuffix(fields[1], ":"), "@")
			rest, ok := strings.CutPrefix(name, netPrefix)
			if !ok {
				continue
			}
			pid := rest[:len(rest)-len(strings.TrimLeft(rest, "0123456789"))]
			if stalePid(pid) {
				_ = runIP(ip, "link", "del", name)
			}
		}
	}
}

// stalePid reports whether pid is a number naming no running process other
// than this one.
func stalePid(s string) bool {
	pid, err := strconv.Atoi(s)
	if err != nil || pid <= 0 || pid == os.Getpid() {
		return false
	}
	return errors.Is(syscall.Kill(pid, 0), syscall.ESRCH)
}

// checkNoClash refuses to run when something that is not lab's routes
// into 10.213.0.0/16 in the root namespace: lab would shadow a real network.
func checkNoClash(ip string) error {
	out, err := exec.Command(ip, "-4", "-o", "route", "show", "table", "all").Output()
	if err != nil {
		return fmt.Errorf("%w: ip route: %v", ErrNetNamespacesUnavailable, err)
	}
	for _, line := range strings.Split(string(out), "\n") {
		f := strings.Fields(line)
		if len(f) == 0 {
			continue
		}
		dst := f[0]
		if dst == "local" || dst == "broadcast" {
			if len(f) < 2 {
				continue
			}
			dst = f[1]
		}
		if !strings.HasPrefix(dst, netBlock16+".") {
			continue
		}
		dev := ""
		for i := 0; i+1 < len(f); i++ {
			if f[i] == "dev" {
				dev = f[i+1]
			}
		}
		if !strings.HasPrefix(dev, netPrefix) {
			return fmt.Errorf("lab: %s.0.0/16, the block lab gives its namespaces, is already routed here (%q); lab will not shadow it", netBlock16, strings.TrimSpace(line))
		}
	}
	return nil
}

// freeBlock returns a K such that no interface holds an address in
// 10.213.K.0/24.
func freeBlock(ip string) (int, error) {
	out, err := exec.Command(ip, "-4", "-o", "addr", "show").Output()
	if err != nil {
		return 0, fmt.Errorf("lab: ip addr: %w", err)
	}
	used := map[int]bool{}
	for _, f := range strings.Fields(string(out)) {
		rest, ok := strings.CutPrefix(f, netBlock16+".")
		if !ok {
			continue
		}
		k, _, _ := strings.Cut(rest, ".")
		if n, err := strconv.Atoi(k); err == nil {
			used[n] = true
		}
	}
	for k := 1; k < 255; k++ {
		if !used[k] {
			return k, nil
		}
	}
	return 0, fmt.Errorf("lab: every /24 of %s.0.0/16 is in use", netBlock16)
}

// lockFile takes an exclusive flock on path, creating it.
func lockFile(path string) (unlock func(), err error) {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return nil, fmt.Errorf("lab: lock %s: %w", path, err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX); err != nil {
		f.Close()
		return nil, fmt.Errorf("lab: lock %s: %w", path, err)
	}
	return func() {
		_ = syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
		f.Close()
	}, nil
}

// inNamespace prefixes a command line so that it runs in namespace ns
// ("ip netns exec" execs bin: the process is bin's, signals reach it).
func inNamespace(ns, bin string, args []string) (string, []string) {
	if ns == "" {
		return bin, args
	}
	ip, err := exec.LookPath("ip")
	if err != nil {
		ip = "ip"
	}
	return ip, append([]string{"netns", "exec", ns, bin}, args...)
}
