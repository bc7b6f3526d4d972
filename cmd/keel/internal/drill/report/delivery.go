package report

// Delivery are the figures of one subscriber or consumer of a run: an
// independent publisher (or producer) sent sequence-numbered messages (or
// items) at a fixed rate while the client under test received them.
type Delivery struct {
	// Probe is what received: "subscribe" (SUBSCRIBE), "ssubscribe"
	// (SSUBSCRIBE), "blpop" (a BLPOP consumer) or "xreadgroup" (an
	// XREADGROUP BLOCK consumer).
	Probe string `json:"probe"`
	// Error is set when the probe could not run (e.g. the client does not
	// support it); the figures are then empty.
	Error string `json:"error,omitempty"`
	// ServedAgainMS is when the cluster served the probe's shard again after
	// the first step on it: its first served marker after the step that
	// names a node other than the one serving before (a failover, a
	// migration), or else its first served marker after an unserved one. An
	// offset from the run's start; -1 when there is none.
	ServedAgainMS float64 `json:"served_again_ms"`
	// GapMS is the time from ServedAgainMS to the first message or item
	// received at or after it: the delivery gap the client added. -1 when
	// ServedAgainMS is -1.
	GapMS float64 `json:"gap_ms"`
	// Recovered is false when nothing was received after ServedAgainMS
	// before the run ended; GapMS is then a lower bound.
	Recovered bool `json:"recovered"`
	// Sent counts the messages or items the server acknowledged to the
	// publisher or producer.
	Sent int `json:"sent"`
	// Received counts the distinct messages or items received. It may
	// exceed Sent: a send whose acknowledgement the feeder did not get in
	// time may still have been delivered.
	Received int `json:"received"`
	// Missed (Pub/Sub only) counts acknowledged messages published after
	// the first one received that were never received. Pub/Sub stores
	// nothing, so a message published while a subscription is being
	// restored is gone: informative, not a fault.
	Missed int `json:"missed"`
	// Lost (consumers only) counts acknowledged items never consumed and
	// not left undelivered at the end (in the list; in the stream after the
	// group's last-delivered ID): popped, or delivered to the group, without
	// the consumer getting them; or lost by the cluster's asynchronous
	// replication in a forced failover.
	Lost int `json:"lost"`
	// Duplicates counts receipts of a message or item already received.
	Duplicates int `json:"duplicates"`
	// Errors counts errors the client returned to the subscriber or
	// consumer loop.
	Errors int `json:"errors"`
}
