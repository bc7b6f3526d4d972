package lab

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"
)

// MigrateOptions tunes [Cluster.MigrateSlots]. The zero value moves 100 keys
// per MIGRATE without pausing.
type MigrateOptions struct {
	// BatchSize is the number of keys moved by one MIGRATE. Default 100.
	BatchSize int
	// Pause is slept between batches, to stretch the migration so that
	// clients meet ASK and TRYAGAIN redirections. Default 0: no pause.
	Pause time.Duration
}

// defaultBatchSize is MigrateOptions.BatchSize's default.
const defaultBatchSize = 100

// migrateTimeout is MIGRATE's own I/O timeout towards the target, kept
// under callTimeout so that a failing MIGRATE reports its own error.
const migrateTimeout = "1000" // milliseconds

// MigrateSlots moves slots from one primary to another with the real
// resharding protocol, one slot after another, as redis-cli --cluster
// reshard does: CLUSTER SETSLOT <s> IMPORTING on to, SETSLOT <s> MIGRATING
// on from, then CLUSTER GETKEYSINSLOT and MIGRATE ... KEYS in batches until
// the slot is empty, then SETSLOT <s> NODE <to> on to, on from and on every
// other running primary.
//
// from and to must be distinct running primaries and from must serve every
// slot given. While a slot moves, the keys already moved make from answer
// ASK, and multi-key commands spanning both sides get TRYAGAIN.
//
// The Step has Action "migrate" and a Detail such as "slots 0-99
// node1→node2"; it is Done when every running node gives the slots to to and
// [Cluster.WaitStable] succeeds. ctx bounds the whole migration; without a
// deadline, moving keys is unbounded and the final wait takes up to 30 s.
// On error the Step has no Done time and the slot being moved may be left
// half-migrated: [Cluster.FinishMigrations] completes it.
func (c *Cluster) MigrateSlots(ctx context.Context, slots []int, from, to *Node, opts MigrateOptions) (Step, error) {
	slots = slices.Clone(slots)
	slices.Sort(slots)
	slots = slices.Compact(slots)
	step := Step{Action: "migrate", Began: time.Now()}
	if opts.BatchSize == 0 {
		opts.BatchSize = defaultBatchSize
	}
	err := c.checkMigration(ctx, slots, from, to, opts)
	if err != nil {
		return step, err
	}
	step.Detail = fmt.Sprintf("slots %s %s→%s", slotList(slots), from.Name(), to.Name())

	m := &slotMover{c: c, from: from, to: to, opts: opts}
	if m.others, err = c.otherPrimaries(ctx, from, to); err != nil {
		return step, err
	}
	for _, s := range slots {
		if err := m.move(ctx, s); err != nil {
			return step, fmt.Errorf("lab: migrate slot %d: %w", s, err)
		}
	}

	if err := c.waitOwned(ctx, slots, to); err != nil {
		return step, err
	}
	step.Done = time.Now()
	return step, nil
}

// waitOwned waits until every running node gives the slots to owner and the
// cluster is stable, for up to 30 s when ctx has no deadline.
func (c *Cluster) waitOwned(ctx context.Context, slots []int, owner *Node) error {
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, stableTimeout)
		defer cancel()
	}
	err := c.pollAll(ctx, "every node to give the slots to "+owner.name, func() error {
		return c.eachView(ctx, func(n *Node, view View) error {
			owners := view.Owners()
			for _, s := range slots {
				if owners[s] != owner.ID() {
					return fmt.Errorf("%s does not give slot %d to %s yet", n, s, owner)
				}
			}
			return nil
		})
	})
	if err != nil {
		return err
	}
	return c.WaitStable(ctx)
}

// checkMigration rejects arguments the protocol would trip over halfway.
func (c *Cluster) checkMigration(ctx context.Context, slots []int, from, to *Node, opts MigrateOptions) error {
	switch {
	case len(slots) == 0:
		return errors.New("lab: MigrateSlots: no slots given")
	case slots[0] < 0 || slots[len(slots)-1] > 16383:
		return fmt.Errorf("lab: MigrateSlots: slots must be within 0..16383, got %s", slotList(slots))
	case from == nil || to == nil:
		return errors.New("lab: MigrateSlots: from and to must be nodes")
	case from == to:
		return fmt.Errorf("lab: MigrateSlots: from and to are both %s", from)
	case opts.BatchSize < 0 || opts.Pause < 0:
		return fmt.Errorf("lab: MigrateSlots: BatchSize %d and Pause %v must not be negative", opts.BatchSize, opts.Pause)
	}
	for _, n := range []*Node{from, to} {
		if !slices.Contains(c.Nodes(), n) {
			return fmt.Errorf("lab: MigrateSlots: %s is not a member of the cluster", n)
		}
		if !n.Running() {
			return fmt.Errorf("lab: MigrateSlots: %s is not running", n)
		}
	}
	// Each node's own view is the authority on its role and slots.
	toView, err := to.clusterNodes(ctx)
	if err != nil {
		return err
	}
	if self, ok := toView.Self(); !ok || !self.IsPrimary() {
		return fmt.Errorf("lab: MigrateSlots: %s is not a primary", to)
	}
	fromView, err := from.clusterNodes(ctx)
	if err != nil {
		return err
	}
	self, ok := fromView.Self()
	if !ok || !self.IsPrimary() {
		return fmt.Errorf("lab: MigrateSlots: %s is not a primary", from)
	}
	for _, s := range slots {
		if !slices.ContainsFunc(self.Slots, func(r SlotRange) bool { return r.Contains(s) }) {
			return fmt.Errorf("lab: MigrateSlots: %s does not serve slot %d", from, s)
		}
	}
	return nil
}

// otherPrimaries returns the running primaries other than from and to: the
// nodes told of each slot's new owner after from and to.
func (c *Cluster) otherPrimaries(ctx context.Context, from, to *Node) ([]*Node, error) {
	var out []*Node
	for _, n := range c.Nodes() {
		if n == from || n == to || !n.Running() {
			continue
		}
		view, err := n.clusterNodes(ctx)
		if err != nil {
			return nil, err
		}
		if self, ok := view.Self(); ok && self.IsPrimary() {
			out = append(out, n)
		}
	}
	return out, nil
}

// slotMover moves slots, one at a time, from one primary to another.
type slotMover struct {
	c        *Cluster
	from, to *Node
	others   []*Node // the other running primaries
	opts     MigrateOptions
	batches  int // MIGRATE commands sent so far
}

// move moves one slot.
func (m *slotMover) move(ctx context.Context, s int) error {
	slot := strconv.Itoa(s)
	if _, err := m.to.call(ctx, "CLUSTER", "SETSLOT", slot, "IMPORTING", m.from.ID()); err != nil {
		return err
	}
	if _, err := m.from.call(ctx, "CLUSTER", "SETSLOT", slot, "MIGRATING", m.to.ID()); err != nil {
		return err
	}
	for {
		reply, err := m.from.call(ctx, "CLUSTER", "GETKEYSINSLOT", slot, strconv.Itoa(m.opts.BatchSize))
		if err != nil {
			return err
		}
		keys, _ := reply.([]any)
		if len(keys) == 0 {
			break
		}
		if err := m.migrate(ctx, keys); err != nil {
			return err
		}
	}
	return m.assign(ctx, s)
}

// assign gives slot s to the target: the target first, so that it serves
// the slot before the source starts sending clients there with MOVED; then
// the source; then the others, which would otherwise only learn it through
// gossip.
func (m *slotMover) assign(ctx context.Context, s int) error {
	assign := []string{"CLUSTER", "SETSLOT", strconv.Itoa(s), "NODE", m.to.ID()}
	for _, n := range append([]*Node{m.to, m.from}, m.others...) {
		if _, err := n.call(ctx, assign...); err != nil {
			return err
		}
	}
	return nil
}

// migrate moves one batch of keys with MIGRATE, after the pause unless it is
// the first batch of the migration.
func (m *slotMover) migrate(ctx context.Context, keys []any) error {
	if m.batches > 0 && m.opts.Pause > 0 {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(m.opts.Pause):
		}
	}
	m.batches++
	args := []string{"MIGRATE", m.to.host, strconv.Itoa(m.to.port), "", "0", migrateTimeout}
	if pw := m.c.opts.Password; pw != "" {
		args = append(args, "AUTH", pw)
	}
	args = append(args, "KEYS")
	for _, k := range keys {
		key, ok := k.(string)
		if !ok {
			return fmt.Errorf("GETKEYSINSLOT: want string keys, got %T", k)
		}
		args = append(args, key)
	}
	_, err := m.from.call(ctx, args...)
	return err
}

// FinishMigrations completes every slot migration left open in the cluster,
// such as the slot a [Cluster.MigrateSlots] was moving when it failed (a
// call that got no reply in time, a node failed over halfway). Redis never
// closes a slot by itself, and the cluster is not stable while one is open
// ([Cluster.WaitStable]). Each open slot is moved, keys and all, from the
// primary serving it to the primary importing it, or else to the node it is
// migrating to (to that node's primary if it was failed over since), as
// MigrateSlots moves a slot. It tries again until no running primary
// imports or migrates a slot, or ctx ends (default 30 s when it has no
// deadline).
func (c *Cluster) FinishMigrations(ctx context.Context) error {
	ctx, cancel := withDefaultTimeout(ctx)
	defer cancel()
	return c.pollAll(ctx, "every slot migration to be finished", func() error {
		return c.finishMigrations(ctx)
	})
}

// finishMigrations moves the slots that the running primaries' own views
// show open to where they were going. It returns nil when none is open.
func (c *Cluster) finishMigrations(ctx context.Context) error {
	selves := map[*Node]NodeInfo{} // every running node's own line
	var primaries []*Node
	err := c.eachView(ctx, func(n *Node, view View) error {
		self, ok := view.Self()
		if !ok {
			return fmt.Errorf("%s: no myself line in CLUSTER NODES", n)
		}
		selves[n] = self
		if self.IsPrimary() {
			primaries = append(primaries, n)
		}
		return nil
	})
	if err != nil {
		return err
	}
	// Where each open slot goes. A primary that was failed over while
	// importing forgot the migration (its successor holds the keys moved
	// so far); the source still migrating names it.
	dest := map[int]*Node{}
	for _, n := range primaries {
		for _, s := range selves[n].Importing {
			dest[s] = n
		}
	}
	for _, n := range primaries {
		for s, id := range selves[n].migratingTo {
			if dest[s] != nil {
				continue
			}
			to := c.NodeByID(id)
			if to != nil && !selves[to].IsPrimary() {
				to = c.NodeByID(selves[to].PrimaryID)
			}
			if to == nil || !selves[to].IsPrimary() {
				return fmt.Errorf("%s migrates slot %d to %s, which has no running primary", n, s, id)
			}
			dest[s] = to
		}
	}
	if len(dest) == 0 {
		return nil
	}
	for _, s := range slices.Sorted(maps.Keys(dest)) {
		if err := c.finishSlot(ctx, s, dest[s], primaries, selves); err != nil {
			return fmt.Errorf("lab: finish the migration of slot %d: %w", s, err)
		}
	}
	return fmt.Errorf("finished the migration of slots %s; checking that none is left open", slotList(slices.Sorted(maps.Keys(dest))))
}

// finishSlot moves open slot s from the primary serving it to to, or, if to
// serves it already, tells the other primaries.
func (c *Cluster) finishSlot(ctx context.Context, s int, to *Node, primaries []*Node, selves map[*Node]NodeInfo) error {
	m := &slotMover{c: c, to: to, opts: MigrateOptions{BatchSize: defaultBatchSize}}
	for _, n := range primaries {
		if !slices.ContainsFunc(selves[n].Slots, func(r SlotRange) bool { return r.Contains(s) }) {
			continue
		}
		if m.from != nil {
			return fmt.Errorf("both %s and %s serve it", m.from, n) // a failover under way
		}
		m.from = n
	}
	if m.from == nil {
		return errors.New("no running primary serves it")
	}
	for _, n := range primaries {
		if n != m.from && n != to {
			m.others = append(m.others, n)
		}
	}
	if m.from == to {
		return m.assign(ctx, s)
	}
	// The target may have lost track of the slot's owner (it ignores
	// claims to a slot it imports, and drops the slots of a primary that
	// was failed over), and would refuse the keys: CLUSTERDOWN Hash slot
	// not served. It is told first.
	if _, err := to.call(ctx, "CLUSTER", "SETSLOT", strconv.Itoa(s), "NODE", m.from.ID()); err != nil {
		return err
	}
	return m.move(ctx, s)
}

// slotList writes sorted, distinct slots as ranges: "0-99,200".
func slotList(slots []int) string {
	var parts []string
	for i := 0; i < len(slots); {
		j := i
		for j+1 < len(slots) && slots[j+1] == slots[j]+1 {
			j++
		}
		parts = append(parts, SlotRange{slots[i], slots[j]}.String())
		i = j + 1
	}
	return strings.Join(parts, ",")
}
