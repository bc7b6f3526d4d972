package drill

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/keel-go/keel/lab"
)

// movedSlots are the slots a migrate step moved, from one primary to another.
type movedSlots struct {
	slots    []int
	from, to *lab.Node
	shard    int
}

// migrateBack moves the slots of the latest migrate step back to the node
// they came from.
func (s *stepper) migrateBack(ctx context.Context) error {
	m := s.moved
	if m == nil {
		return fmt.Errorf("drill: migrate-back but no earlier step migrated slots")
	}
	s.moved = nil
	return s.record(m.shard, func() (lab.Step, error) {
		return s.c.MigrateSlots(ctx, m.slots, m.to, m.from, lab.MigrateOptions{})
	})
}

// waitStable waits until the cluster has settled (lab's WaitStable): every
// running node healthy in every other's view, every replica in sync.
func (s *stepper) waitStable(ctx context.Context, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	if err := s.c.WaitStable(ctx); err != nil {
		return fmt.Errorf("drill: wait-stable: %w", err)
	}
	return nil
}

// recover brings the cluster back after a step failed, within timeout: it
// finishes the slot migration a failed migrate or migrate-back left open
// (a node that answered too late or was failed over halfway, as on a loaded
// machine), which Redis never closes by itself, so the cluster could not
// settle; then it waits until the cluster has settled.
func (s *stepper) recover(ctx context.Context, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	if err := s.c.FinishMigrations(ctx); err != nil {
		return fmt.Errorf("drill: finish open slot migrations: %w", err)
	}
	return s.waitStable(ctx, timeout)
}

// waitFailedOver waits until the node of the latest step that named one
// serves no slot as a primary in the view of a node that answers: its
// replica took over.
func (s *stepper) waitFailedOver(ctx context.Context, timeout time.Duration) error {
	if s.last == nil {
		return fmt.Errorf("drill: wait-failed-over but no earlier step named a node")
	}
	deadline := time.Now().Add(timeout)
	for {
		top, err := s.c.Topology(ctx)
		if err == nil && !slices.ContainsFunc(top.Shards, func(sh lab.Shard) bool { return sh.Primary == s.last }) {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("drill: %v still serves slots %v after the fault", s.last, timeout)
		}
		if err := sleep(ctx, 20*time.Millisecond); err != nil {
			return err
		}
	}
}
