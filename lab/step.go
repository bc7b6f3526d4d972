package lab

import "time"

// Step records one action taken on the cluster: when it began and when its
// effect was observed. The drill uses steps as markers on its timelines.
type Step struct {
	// Action names what was done: "kill", "pause", "resume", "restart",
	// "failover", "failover-force", "failover-takeover", "replace",
	// "migrate", "restart-all".
	Action string
	// Node is the address of the node acted on; empty for cluster-wide actions.
	Node string
	// Detail says more, such as the new node of a replacement or the slots
	// of a migration.
	Detail string
	// Began is when the action started, e.g. the moment SIGKILL was sent.
	Began time.Time
	// Done is when the action had taken effect, as its method defines.
	Done time.Time
}

// Took returns how long the action took to take effect.
func (s Step) Took() time.Duration { return s.Done.Sub(s.Began) }
