//go:build !linux

package lab

import (
	"fmt"
	"time"
)

// netLab is unavailable off Linux.
type netLab struct{}

func newNetLab() (*netLab, error) {
	return nil, fmt.Errorf("%w: network namespaces need Linux", ErrNetNamespacesUnavailable)
}

func (l *netLab) addNode() (ip, ns string, err error) { return "", "", ErrNetNamespacesUnavailable }
func (l *netLab) partition(ip string) error           { return ErrNetNamespacesUnavailable }
func (l *netLab) heal(ip string) error                { return ErrNetNamespacesUnavailable }
func (l *netLab) close() error                        { return nil }

func inNamespace(ns, bin string, args []string) (string, []string) { return bin, args }

func (l *netLab) relayed() bool { return false }

func (l *netLab) shape(ip string, delay time.Duration, loss float64) error {
	return ErrNetNamespacesUnavailable
}

func (l *netLab) shaping(ip string) (time.Duration, float64) { return 0, 0 }
