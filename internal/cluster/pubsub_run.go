package cluster

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/keel-go/keel/internal/conn"
	"github.com/keel-go/keel/resp"
)

// subState is a Subscriber's state, owned by its run goroutine.
type subState struct {
	want      map[string]struct{} // names the caller asked for
	where     map[string]*subLink // wanted names sent on a link (confirmed or not)
	confirmed map[string]bool     // wanted names the server confirmed on their link
	lost      map[string]subLoss  // wanted names whose service was lost, until restored
	links     map[string]*subLink // by node address
	dialing   map[string]bool
	dialAfter map[string]time.Time // a failed dial's backoff, per node
	dialFails map[string]int
	waiters   []*subWaiter
	// holdUntil delays sending subscriptions again after an error reply
	// (MOVED, CLUSTERDOWN…); failures sets the backoff.
	holdUntil time.Time
	failures  int
	// unsubscribedBy holds, for a sharded channel the server unsubscribed,
	// the node that did and when, until the channel is placed again.
	unsubscribedBy map[string]serverUnsub
	asking         map[string]bool // nodes asked who serves the slots they unsubscribed
}

type subLoss struct {
	at    time.Time
	cause string
}

// serverUnsub is a server's unsubscription of a sharded channel: which node
// sent it, and when.
type serverUnsub struct {
	addr string
	at   time.Time
}

// unsubscribedHold is how long a sharded channel the server unsubscribed
// waits for a topology that names another node for its slot before it is
// subscribed on the same node again.
//
// A node unsubscribes a channel when the slot leaves its shard, and when
// it is demoted by a failover; keel's topology may not show it yet. That
// node knows the slot's new owner: keel asks it (askOwners), as a MOVED
// would tell, and triggers a refresh. Subscribed again there, a demoted
// primary (now a replica, which accepts SSUBSCRIBE) receives nothing from
// the new primary until the new primary learns that it follows it; and
// when keel then moves the channel to the new primary, a message published
// just before can arrive from both (each node of a shard gets a SPUBLISH
// over the cluster bus at its own pace).
var unsubscribedHold = 2 * time.Second

// subWaiter is a caller waiting for confirmations: keys are "+name" for a
// subscription, "-name" for an unsubscription.
type subWaiter struct {
	ctx  context.Context // the caller's: nobody waits once it ended
	keys map[string]struct{}
	done chan error
}

func (st *subState) init() {
	st.want = map[string]struct{}{}
	st.where = map[string]*subLink{}
	st.confirmed = map[string]bool{}
	st.lost = map[string]subLoss{}
	st.unsubscribedBy = map[string]serverUnsub{}
	st.asking = map[string]bool{}
	st.links = map[string]*subLink{}
	st.dialing = map[string]bool{}
	st.dialAfter = map[string]time.Time{}
	st.dialFails = map[string]int{}
}

// run is the Subscriber's goroutine: it places the wanted names on links,
// and puts them back after every loss, until Close.
func (s *Subscriber) run() {
	defer s.wg.Done()
	defer s.shutdown()
	var tick <-chan time.Time
	if s.ping > 0 {
		t := time.NewTicker(s.ping / 2)
		defer t.Stop()
		tick = t.C
	}
	retry := time.NewTimer(time.Hour)
	defer retry.Stop()
	for {
		changed, suspected := s.e.changedChan(), s.e.suspectedChan()
		s.dropAbandoned()
		wait := s.reconcile()
		retry.Reset(wait)
		select {
		case <-s.ctx.Done():
			return
		case r := <-s.reqs:
			if r.add {
				s.add(r)
			} else {
				s.remove(r)
			}
		case n := <-s.notes:
			s.handle(n)
		case <-changed:
		case <-suspected:
			s.dropSuspects()
		case <-tick:
			s.pingIdle()
		case <-retry.C:
		}
	}
}

// shutdown closes every link; callers waiting learn ErrClosed from the
// Subscriber's context.
func (s *Subscriber) shutdown() {
	for _, l := range s.st.links {
		l.close()
	}
	s.st.links = nil
}

func (s *Subscriber) add(r subRequest) {
	st := &s.st
	w := &subWaiter{ctx: r.ctx, keys: map[string]struct{}{}, done: r.done}
	for _, n := range r.names {
		st.want[n] = struct{}{}
		if !st.confirmed[n] {
			w.keys["+"+n] = struct{}{}
		}
	}
	s.wait(w)
}

func (s *Subscriber) remove(r subRequest) {
	st := &s.st
	w := &subWaiter{ctx: r.ctx, keys: map[string]struct{}{}, done: r.done}
	byLink := map[*subLink][]string{}
	for _, n := range r.names {
		if _, ok := st.want[n]; !ok {
			continue // not subscribed: nothing to do, as Redis
		}
		delete(st.want, n)
		delete(st.lost, n)
		delete(st.unsubscribedBy, n)
		s.resolve("+"+n, fmt.Errorf("%w: %s", ErrUnsubscribed, n))
		if l := st.where[n]; l != nil {
			delete(st.where, n)
			delete(st.confirmed, n)
			l.unplace(n)
			if !slices.Contains(byLink[l], n) {
				byLink[l] = append(byLink[l], n)
				w.keys["-"+n] = struct{}{}
			}
		}
	}
	s.wait(w)
	for l, names := range byLink {
		s.unsubscribe(l, names)
	}
}

// wait completes w at once when it has nothing to wait for, or keeps it.
func (s *Subscriber) wait(w *subWaiter) {
	if len(w.keys) == 0 {
		w.done <- nil
		return
	}
	s.st.waiters = append(s.st.waiters, w)
}

// dropAbandoned forgets the waiters whose caller's context ended: their
// caller returned, and a node that never comes back would keep them.
func (s *Subscriber) dropAbandoned() {
	s.st.waiters = slices.DeleteFunc(s.st.waiters, func(w *subWaiter) bool { return w.ctx.Err() != nil })
}

// resolve removes key from every waiter: one left with nothing to wait for
// gets nil; err, when set, fails the waiters that had key.
func (s *Subscriber) resolve(key string, err error) {
	ws := s.st.waiters[:0]
	for _, w := range s.st.waiters {
		if _, ok := w.keys[key]; ok {
			delete(w.keys, key)
			if err != nil {
				w.done <- err
				continue
			}
			if len(w.keys) == 0 {
				w.done <- nil
				continue
			}
		}
		ws = append(ws, w)
	}
	s.st.waiters = ws
}

// unsubscribe sends the unsubscribe command for names on l, one per slot
// for sharded channels (a command's channels must share a slot).
func (s *Subscriber) unsubscribe(l *subLink, names []string) {
	_, unsub := s.kind.verbs()
	s.sendGrouped(l, unsub, names)
}

// sendGrouped sends verb for names on l: one command, or one per slot for
// sharded channels.
func (s *Subscriber) sendGrouped(l *subLink, verb string, names []string) {
	groups := [][]string{names}
	if s.kind == SubSharded {
		bySlot := map[int][]string{}
		for _, n := range names {
			bySlot[Slot(n)] = append(bySlot[Slot(n)], n)
		}
		groups = groups[:0]
		for _, g := range bySlot {
			groups = append(groups, g)
		}
	}
	for _, g := range groups {
		args := append([]string{verb}, g...)
		if err := l.send(strings.ToLower(verb), args, g); err != nil {
			return // the reader reports the failure
		}
	}
}

// target returns the node a name belongs on: the owner of its slot for a
// sharded channel, the link already open or a random healthy node
// otherwise. "" means none is known now.
func (s *Subscriber) target(name string, t *Topology) string {
	if s.kind == SubSharded {
		if sh, ok := t.ShardFor(Slot(name)); ok {
			return sh.Primary.Addr
		}
		return ""
	}
	for addr := range s.st.links {
		return addr // channels and patterns share the one link
	}
	for addr := range s.st.dialing {
		return addr
	}
	return s.pickNode(t)
}

// pickNode picks a random node for channels or patterns, healthy and out of
// dial backoff if possible.
func (s *Subscriber) pickNode(t *Topology) string {
	now := time.Now()
	all := t.Addrs()
	rand.Shuffle(len(all), func(i, j int) { all[i], all[j] = all[j], all[i] })
	var fallback string
	for _, a := range all {
		if now.Before(s.st.dialAfter[a]) {
			continue
		}
		if !s.e.isSuspect(a) {
			return a
		}
		if fallback == "" {
			fallback = a
		}
	}
	return fallback
}

// reconcile moves names that belong elsewhere, places the unplaced ones and
// closes links left with nothing. It returns when to try again.
//
// A link stays while its node is a member of the cluster (Topology.Member),
// even one that serves no slot: moving a subscription that still works
// loses the messages published while it moves, and may deliver some twice.
// Each node receives a PUBLISH over a cluster bus link of its own, at its
// own pace, so the node a subscription moves to may deliver, after the
// SUBSCRIBE, messages the old node had already delivered. Sharded channels
// still follow their slots (followSlots).
func (s *Subscriber) reconcile() time.Duration {
	st := &s.st
	t := s.e.topo.Load()
	now := time.Now()
	for addr, l := range st.links {
		if !t.Member(addr) {
			s.dropLink(l, "node "+addr+" left the cluster")
		}
	}
	if s.kind == SubSharded {
		s.followSlots(t)
	}
	wait := s.place(t, now)
	for _, l := range st.links {
		if len(l.names) == 0 && len(l.pendingCmds()) == 0 {
			s.dropLink(l, "")
		}
	}
	return wait
}

// place sends the wanted names not yet on a link to their node, dialling it
// if needed, and returns when to try again. A sharded channel the server
// unsubscribed goes back to the node that did only once unsubscribedHold
// has passed (see there).
func (s *Subscriber) place(t *Topology, now time.Time) time.Duration {
	st := &s.st
	wait := time.Hour
	if now.Before(st.holdUntil) {
		return st.holdUntil.Sub(now)
	}
	groups := map[string][]string{}
	home := "" // channels and patterns: one node for all, picked once
	for n := range st.want {
		if st.where[n] != nil {
			continue
		}
		var addr string
		switch {
		case s.kind == SubSharded:
			addr = s.target(n, t)
		case home == "":
			home = s.target(n, t)
			addr = home
		default:
			addr = home
		}
		if addr == "" {
			wait = min(wait, maxBackoff) // no owner known yet: the topology will tell
			continue
		}
		if u, ok := st.unsubscribedBy[n]; ok {
			if left := unsubscribedHold - now.Sub(u.at); addr == u.addr && left > 0 {
				wait = min(wait, left) // a new topology wakes the run loop sooner
				continue
			}
			delete(st.unsubscribedBy, n)
		}
		groups[addr] = append(groups[addr], n)
	}
	for addr, names := range groups {
		l := st.links[addr]
		if l == nil {
			if after := st.dialAfter[addr]; now.Before(after) {
				wait = min(wait, after.Sub(now))
			} else if !st.dialing[addr] {
				s.dial(addr)
			}
			continue
		}
		sub, _ := s.kind.verbs()
		for _, n := range names {
			st.where[n] = l
		}
		l.place(names...)
		s.sendGrouped(l, sub, names)
	}
	return wait
}

// followSlots moves sharded channels whose slot now has another owner.
func (s *Subscriber) followSlots(t *Topology) {
	st := &s.st
	moved := map[*subLink][]string{}
	for n, l := range st.where {
		if owner := s.target(n, t); owner != "" && owner != l.addr {
			moved[l] = append(moved[l], n)
			s.unplace(n, "slot moved to "+owner)
		}
	}
	for l, names := range moved {
		s.unsubscribe(l, names)
	}
}

// unplace marks a wanted name as no longer served. A subscription the
// server had confirmed is lost, dated now unless an earlier loss is still
// being restored; one never confirmed was never served, and its
// confirmation will not be a re-subscription.
func (s *Subscriber) unplace(n, cause string) {
	st := &s.st
	if l := st.where[n]; l != nil {
		l.unplace(n)
	}
	delete(st.where, n)
	served := st.confirmed[n]
	delete(st.confirmed, n)
	if _, ok := st.want[n]; ok && served && cause != "" {
		if _, already := st.lost[n]; !already {
			st.lost[n] = subLoss{at: time.Now(), cause: cause}
		}
	}
}

// dropLink closes l; its names wait to be placed again, lost for cause.
// Taken off l first, they get nothing more from it, whatever its reader
// still holds. Unsubscriptions pending on it are done: the connection is
// gone.
func (s *Subscriber) dropLink(l *subLink, cause string) {
	st := &s.st
	if st.links[l.addr] != l {
		return
	}
	delete(st.links, l.addr)
	for n := range l.names {
		s.unplace(n, cause)
	}
	l.close()
	for _, c := range l.pendingCmds() {
		if isUnsub(c.verb) {
			for _, n := range c.names {
				s.resolve("-"+n, nil)
			}
		}
	}
}

func isUnsub(verb string) bool { return strings.Contains(verb, "unsubscribe") }

// dropSuspects closes links to nodes that became suspect after the link was
// made (a link dialled since is the node's second chance).
func (s *Subscriber) dropSuspects() {
	for addr, l := range s.st.links {
		if since, ok := s.e.suspectSince(addr); ok && since.After(l.made) {
			s.dropLink(l, "node "+addr+" suspect")
		}
	}
}

// dial opens a link to addr on a goroutine of its own.
func (s *Subscriber) dial(addr string) {
	s.st.dialing[addr] = true
	opts := s.e.connOptions(s.e.opts.Conn, addr)
	opts.ReadOnly = false
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		raw, err := conn.DialRaw(s.ctx, addr, opts)
		s.e.stats.dials.Add(1)
		if err != nil {
			s.e.stats.dialFailures.Add(1)
		}
		s.note(subNote{kind: noteDialed, addr: addr, raw: raw, err: err})
	}()
}

// pingIdle sends PING on links idle for half the ping interval: a link
// is found dead when its PING goes unanswered for the health timeout.
func (s *Subscriber) pingIdle() {
	for _, l := range s.st.links {
		if l.idle(s.ping / 2) {
			l.ping()
		}
	}
}

// handle applies a note from a link or a dial.
func (s *Subscriber) handle(n subNote) {
	st := &s.st
	switch {
	case n.kind == noteDialed:
		s.dialed(n)
		return
	case n.kind == noteOwners:
		s.learnOwners(n)
		return
	case n.kind == noteConfirmed && isUnsub(n.verb):
		// Whatever became of the link since: the reader took the command
		// off it, so a link left empty may already be closed.
		s.resolve("-"+n.name, nil)
		return
	case n.kind == noteFailed && isUnsub(n.cmd.verb):
		for _, name := range n.cmd.names {
			s.resolve("-"+name, nil)
		}
		return
	}
	l := n.link
	if st.links[l.addr] != l {
		return // news from a link already dropped
	}
	switch n.kind {
	case noteDead:
		cause := "connection lost: " + n.err.Error()
		switch {
		case errors.Is(n.err, resp.ErrTooLarge):
			cause = "a message over the reply limits"
		case errors.Is(n.err, os.ErrDeadlineExceeded):
			cause = "no reply to PING within the health timeout"
			s.e.suspect(l.addr, conn.ErrHealthTimeout)
		default:
			s.e.trigger("subscriber connection to " + l.addr + " lost")
		}
		s.dropLink(l, cause)
	case noteServerUnsub:
		if st.where[n.name] == l {
			s.unplace(n.name, "server unsubscribed the channel (its slot migrated, or a failover)")
			st.unsubscribedBy[n.name] = serverUnsub{addr: l.addr, at: time.Now()}
			s.askOwners(l.addr)
			s.e.trigger("SUNSUBSCRIBE from " + l.addr)
		}
	case noteConfirmed:
		s.confirmed(l, n)
	case noteFailed:
		s.failed(l, n.cmd, n.err)
	}
}

// askOwners asks addr, which unsubscribed sharded channels, who serves
// what (CLUSTER SHARDS), on a goroutine of its own; one question per node
// at a time. The refresh the SUNSUBSCRIBE triggers may come later (they are
// spaced) and ask nodes that have not yet heard of the change.
func (s *Subscriber) askOwners(addr string) {
	if s.st.asking[addr] {
		return
	}
	s.st.asking[addr] = true
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		ctx, cancel := context.WithTimeout(s.ctx, s.e.opts.RefreshTimeout)
		v, err := s.e.queryView(ctx, addr)
		cancel()
		s.note(subNote{kind: noteOwners, addr: addr, claims: v.Claims, err: err})
	}()
}

// learnOwners patches the topology, as a MOVED from that node would, with
// the owner it names for the slot of each channel it unsubscribed that is
// still waiting to be placed.
func (s *Subscriber) learnOwners(n subNote) {
	st := &s.st
	delete(st.asking, n.addr)
	if n.err != nil {
		return // the refresh will tell
	}
	for name, u := range st.unsubscribedBy {
		if u.addr != n.addr || st.where[name] != nil {
			continue
		}
		slot := Slot(name)
		for _, c := range n.claims {
			if c.Start <= slot && slot <= c.End && c.Shard.Primary.Addr != n.addr {
				s.e.patchSlot(slot, c.Shard.Primary.Addr)
			}
		}
	}
}

// dialed takes a new connection into use, or backs off after a failed dial.
func (s *Subscriber) dialed(n subNote) {
	st := &s.st
	delete(st.dialing, n.addr)
	if n.err != nil {
		st.dialFails[n.addr]++
		backoff := min(minBackoff<<min(st.dialFails[n.addr]-1, 10), maxBackoff)
		st.dialAfter[n.addr] = time.Now().Add(backoff)
		s.e.trigger("subscriber dial to " + n.addr + " failed")
		return
	}
	delete(st.dialFails, n.addr)
	delete(st.dialAfter, n.addr)
	if st.links[n.addr] != nil {
		_ = n.raw.Close()
		return
	}
	l := newSubLink(s, n.addr, n.raw)
	st.links[n.addr] = l
	s.wg.Add(1)
	go l.read()
	// reconcile sends the subscriptions, or closes the link if nothing
	// belongs on it any more.
}

// confirmed records one name's confirmation, and reports a restoration
// once its link has no subscription left pending.
func (s *Subscriber) confirmed(l *subLink, n subNote) {
	st := &s.st
	if st.where[n.name] == l {
		st.confirmed[n.name] = true
		s.resolve("+"+n.name, nil)
		if loss, ok := st.lost[n.name]; ok {
			delete(st.lost, n.name)
			if l.gapFrom.IsZero() || loss.at.Before(l.gapFrom) {
				l.gapFrom, l.gapCause = loss.at, loss.cause
			}
		}
	}
	if n.cmd == nil {
		return
	}
	st.failures = 0
	if !n.more && !l.gapFrom.IsZero() {
		s.e.emit(Event{Kind: Resubscribed, Node: l.addr, Gap: time.Since(l.gapFrom), Cause: l.gapCause})
		s.e.opts.Logger.Info("keel: resubscribed", "node", l.addr, "gap", time.Since(l.gapFrom), "cause", l.gapCause)
		l.gapFrom, l.gapCause = time.Time{}, ""
	}
}

// failed handles an error reply to a command: a redirect or a passing
// refusal sends the names again after a backoff; any other error fails them.
func (s *Subscriber) failed(l *subLink, cmd *subCmd, err error) {
	st := &s.st
	re, action := replyAction(err)
	retry := action != final
	if action == redirect && re.Code == "MOVED" {
		if slot, addr, ok := re.Redirect(); ok {
			s.e.moved(slot, redirectAddr(addr, l.addr))
		}
	}
	if retry {
		// The first retry goes at once (a MOVED names the new owner), the
		// next ones back off.
		st.failures++
		if st.failures > 1 {
			st.holdUntil = time.Now().Add(min(minBackoff<<min(st.failures-2, 10), maxBackoff))
		}
	}
	for _, n := range cmd.names {
		if st.where[n] != l {
			continue
		}
		if retry {
			s.unplace(n, fmt.Sprintf("%s answered %v", l.addr, err))
			continue
		}
		// Refused for good (NOPERM…): the caller waiting learns why; a
		// refusal while restoring is logged, as nobody waits for it.
		s.e.opts.Logger.Warn("keel: subscription refused", "node", l.addr, "name", n, "err", err)
		s.unplace(n, "")
		delete(st.want, n)
		delete(st.lost, n)
		s.resolve("+"+n, fmt.Errorf("keel: %s %s: %w", strings.ToUpper(cmd.verb), n, err))
	}
}
