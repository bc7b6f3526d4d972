package drill

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"sync"
	"time"

	"github.com/keel-go/keel/cmd/keel/internal/drill/report"
	"github.com/keel-go/keel/lab"
)

// Sentinel-group actions: a step of a [Scenario.Sentinel] scenario.
const (
	// ActionSentinelSwitchover asks a sentinel for a graceful failover
	// (SENTINEL FAILOVER; [lab.SentinelGroup.Switchover]).
	ActionSentinelSwitchover = "sentinel-switchover"
	// ActionSentinelKillPrimary kills the primary (SIGKILL); the sentinels
	// fail it over ([lab.SentinelGroup.KillPrimary]).
	ActionSentinelKillPrimary = "sentinel-kill-primary"
	// ActionSentinelKillSentinel kills the first sentinel (SIGKILL), the one
	// a client that asks its sentinels in order talks to.
	ActionSentinelKillSentinel = "sentinel-kill-sentinel"
)

// sentinelActions are the actions of a Sentinel scenario.
var sentinelActions = map[string]bool{ActionSentinelSwitchover: true, ActionSentinelKillPrimary: true, ActionSentinelKillSentinel: true}

// sentinelSwitchTimeout bounds the wait for +switch-master after the lab
// has seen the new primary.
const sentinelSwitchTimeout = 15 * time.Second

// SentinelScenarios returns the Sentinel-group scenarios: one primary, one
// replica and three sentinels (down-after 1s), failed over gracefully or by
// killing the primary, or losing a sentinel. Every client is given the
// sentinels and the master name. `keel drill -scenarios sentinel` runs them
// all; each can be named alone too.
func SentinelScenarios() []Scenario {
	return []Scenario{
		{Name: "sentinel-switchover", Sentinel: true,
			Description: "Sentinel group: SENTINEL FAILOVER promotes the replica, the switch is announced (+switch-master), the old primary is made a replica at once (writes it acknowledged between the promotion and the announcement are lost by the group)",
			Steps:       []Step{{Action: ActionSentinelSwitchover}}},
		{Name: "sentinel-kill-primary", Sentinel: true,
			Description: "Sentinel group: the primary is killed (SIGKILL); the sentinels find it down after 1s and promote the replica (writes the primary acknowledged but had not yet replicated are lost by the group)",
			Steps:       []Step{{Action: ActionSentinelKillPrimary}}},
		{Name: "sentinel-kill-sentinel", Sentinel: true,
			Description: "Sentinel group: the first sentinel is killed (SIGKILL) under load; the primary does not change",
			Steps:       []Step{{Action: ActionSentinelKillSentinel}}},
	}
}

// runSentinelInLab runs one driver through one Sentinel scenario on a fresh
// group it starts and closes (see runGroupInLab).
func runSentinelInLab(ctx context.Context, opts Options, sc Scenario, d Driver, seq int, loadStopped func()) report.Run {
	return runGroupInLab(ctx, opts, sc, d, seq, loadStopped, func(ctx context.Context) (groupLab, error) {
		g, err := lab.StartSentinelGroup(ctx, lab.SentinelOptions{Replicas: 1, Binary: opts.Cluster.Binary})
		if err != nil {
			return nil, err
		}
		return sentinelLab{g}, nil
	})
}

// sentinelLab is a Sentinel group as a groupLab. A failover stops the
// group's serving when it begins; the group serves again when the switch is
// announced: the first +switch-master any sentinel publishes (the drill
// subscribes to all of them), once the announced primary has taken a write.
// Losing a sentinel does not stop the serving.
type sentinelLab struct{ g *lab.SentinelGroup }

func (s sentinelLab) target() Target {
	return Target{Seeds: s.g.Sentinels(), SentinelMaster: s.g.Master()}
}

func (s sentinelLab) primary(ctx context.Context) (string, error) {
	p, err := s.g.Primary(ctx)
	if err != nil {
		return "", err
	}
	return p.Addr(), nil
}

func (s sentinelLab) Close() error { return s.g.Close() }

func (s sentinelLab) do(ctx context.Context, st Step) (groupStep, error) {
	var gs groupStep
	var err error
	if st.Action == ActionSentinelKillSentinel {
		gs.Step, err = s.g.KillSentinel(0)
		return gs, err
	}
	w, err := watchSwitches(ctx, s.g.Sentinels(), s.g.Master())
	if err != nil {
		return gs, err
	}
	defer w.close()
	gs.unserved = true
	switch st.Action {
	case ActionSentinelSwitchover:
		gs.Step, err = s.g.Switchover(ctx)
	case ActionSentinelKillPrimary:
		var old *lab.Server
		if old, err = s.g.Primary(ctx); err != nil {
			return gs, err
		}
		exitedAt := watchExit(old)
		gs.Step, err = s.g.KillPrimary(ctx)
		gs.lossUntil = exitedAt()
	default:
		return gs, fmt.Errorf("drill: action %q is not for a Sentinel group", st.Action)
	}
	if err != nil {
		return gs, err
	}
	at, addr, err := w.first(ctx, sentinelSwitchTimeout)
	if err != nil {
		return gs, err
	}
	if st.Action == ActionSentinelSwitchover {
		// Until the switch is announced no client can know of it: writes
		// the old primary acknowledged until then are the group's to lose.
		// After it, a client that still writes there is late.
		gs.lossUntil = at
	}
	if err := confirmPrimary(ctx, addr); err != nil {
		return gs, err
	}
	gs.served, gs.servedBy = at, addr
	return gs, nil
}

// confirmPrimary checks that the server at addr takes a write, on a
// connection of its own.
func confirmPrimary(ctx context.Context, addr string) error {
	c, err := lab.Target{}.Dial(ctx, addr, 2*time.Second)
	if err != nil {
		return fmt.Errorf("drill: confirming the new primary %s: %w", addr, err)
	}
	defer c.Close()
	if _, err := c.Do(2*time.Second, "SET", "drill:served-probe", "1"); err != nil {
		return fmt.Errorf("drill: the new primary %s refused a write: %w", addr, err)
	}
	return nil
}

// switchWatch is subscribed to +switch-master on every sentinel and keeps
// the first announcement of its master's switch.
type switchWatch struct {
	master string
	conns  []*lab.Conn
	wg     sync.WaitGroup

	once sync.Once
	seen chan struct{} // closed at the first announcement
	at   time.Time
	addr string // the new primary
}

// watchSwitches subscribes to +switch-master on each sentinel; it returns
// once every subscription is confirmed. Close it with close.
func watchSwitches(ctx context.Context, sentinels []string, master string) (*switchWatch, error) {
	w := &switchWatch{master: master, seen: make(chan struct{})}
	for _, addr := range sentinels {
		c, err := lab.Target{}.Dial(ctx, addr, 2*time.Second)
		if err == nil {
			_, err = c.Do(2*time.Second, "SUBSCRIBE", "+switch-master")
			if err != nil {
				c.Close()
			}
		}
		if err != nil {
			w.close()
			return nil, fmt.Errorf("drill: subscribing to +switch-master on %s: %w", addr, err)
		}
		w.conns = append(w.conns, c)
		w.wg.Add(1)
		go w.read(c)
	}
	return w, nil
}

// read keeps the first announcement of the master's switch, until the
// connection is closed.
func (w *switchWatch) read(c *lab.Conn) {
	defer w.wg.Done()
	for {
		v, err := c.Receive(time.Minute)
		if err != nil {
			return
		}
		now := time.Now()
		// ["message", "+switch-master", "<master> <old ip> <old port> <new ip> <new port>"]
		m, _ := v.([]any)
		if len(m) != 3 || m[0] != "message" {
			continue
		}
		payload, _ := m[2].(string)
		f := strings.Fields(payload)
		if len(f) != 5 || f[0] != w.master {
			continue
		}
		w.once.Do(func() {
			w.at, w.addr = now, net.JoinHostPort(f[3], f[4])
			close(w.seen)
		})
	}
}

// first waits, at most timeout, for the first announcement and returns when
// it came and the new primary it named.
func (w *switchWatch) first(ctx context.Context, timeout time.Duration) (time.Time, string, error) {
	select {
	case <-w.seen:
		return w.at, w.addr, nil
	case <-time.After(timeout):
		return time.Time{}, "", errors.New("drill: no sentinel announced +switch-master")
	case <-ctx.Done():
		return time.Time{}, "", ctx.Err()
	}
}

// close ends the subscriptions and waits for their readers.
func (w *switchWatch) close() {
	for _, c := range w.conns {
		c.Close()
	}
	w.wg.Wait()
}
