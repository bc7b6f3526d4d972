//go:build linux

package lab

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"
)

// TestRemoveStaleNet plays a crashed run: a namespace and a link named for a
// process that no longer exists must be removed by the next run, and this
// process's own must not.
func TestRemoveStaleNet(t *testing.T) {
	ip := requireNetAdmin(t)
	dead := exec.Command("true")
	if err := dead.Run(); err != nil {
		t.Fatal(err)
	}
	pid := dead.Process.Pid
	staleNS := fmt.Sprintf("%s-%d-1", netPrefix, pid)
	staleLink := fmt.Sprintf("%s%db1", netPrefix, pid)
	ownLink := fmt.Sprintf("%s%db99", netPrefix, os.Getpid())
	for _, args := range [][]string{
		{"netns", "add", staleNS},
		{"link", "add", staleLink, "type", "bridge"},
		{"link", "add", ownLink, "type", "bridge"},
	} {
		if err := runIP(ip, args...); err != nil {
			t.Fatal(err)
		}
	}
	t.Cleanup(func() {
		_ = runIP(ip, "netns", "del", staleNS)
		_ = runIP(ip, "link", "del", staleLink)
		_ = runIP(ip, "link", "del", ownLink)
	})

	removeStaleNet(ip)

	if netnsExists(t, ip, staleNS) {
		t.Errorf("namespace %s of dead pid %d survived", staleNS, pid)
	}
	if runIP(ip, "link", "show", staleLink) == nil {
		t.Errorf("link %s of dead pid %d survived", staleLink, pid)
	}
	if runIP(ip, "link", "show", ownLink) != nil {
		t.Errorf("link %s of this process was removed", ownLink)
	}
}

// TestNetNamespacesCloseRemovesEverything checks that Close leaves no
// namespace or link of the cluster behind.
func TestNetNamespacesCloseRemovesEverything(t *testing.T) {
	skipIfShort(t)
	ip := requireNetAdmin(t)
	c := StartClusterT(t, ClusterOptions{Shards: 1, NetNamespaces: true})
	bridge := c.net.bridge
	var names, ends []string
	for _, e := range c.net.nodes {
		names = append(names, e.ns)
		ends = append(ends, e.veth)
	}
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	if runIP(ip, "link", "show", bridge) == nil {
		t.Errorf("bridge %s survived Close", bridge)
	}
	for _, ns := range names {
		if netnsExists(t, ip, ns) {
			t.Errorf("namespace %s survived Close", ns)
		}
	}
	// The pairs' root ends were plugged into the bridge; none may remain.
	for _, e := range ends {
		if runIP(ip, "link", "show", e) == nil {
			t.Errorf("veth %s survived Close", e)
		}
	}
}

// requireNetAdmin skips the test unless this process can make namespaces,
// and returns the ip binary.
func requireNetAdmin(t *testing.T) string {
	t.Helper()
	l, err := newNetLab()
	if errors.Is(err, ErrNetNamespacesUnavailable) {
		t.Skipf("%v", err)
	}
	if err != nil {
		t.Fatal(err)
	}
	if err := l.close(); err != nil {
		t.Fatal(err)
	}
	return l.ip
}

func netnsExists(t *testing.T, ip, name string) bool {
	t.Helper()
	out, err := exec.Command(ip, "netns", "list").Output()
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(out), "\n") {
		if f := strings.Fields(line); len(f) > 0 && f[0] == name {
			return true
		}
	}
	return false
}
