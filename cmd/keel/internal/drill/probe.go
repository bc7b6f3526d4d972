package drill

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"time"

	"github.com/keel-go/keel/cmd/keel/internal/drill/report"
	"github.com/keel-go/keel/lab"
)

// The probes a scenario can run (see [Scenario.Probes]).
const (
	// ProbeSubscribe: a SUBSCRIBE subscriber, fed with PUBLISH.
	ProbeSubscribe = "subscribe"
	// ProbeSSubscribe: an SSUBSCRIBE subscriber, fed with SPUBLISH.
	ProbeSSubscribe = "ssubscribe"
	// ProbeBLPop: a BLPOP consumer of a list, fed with RPUSH.
	ProbeBLPop = "blpop"
	// ProbeXReadGroup: an XREADGROUP BLOCK consumer of a stream, fed with
	// XADD; it acknowledges (XACK) what it read.
	ProbeXReadGroup = "xreadgroup"
)

var knownProbes = map[string]bool{ProbeSubscribe: true, ProbeSSubscribe: true, ProbeBLPop: true, ProbeXReadGroup: true}

// stores reports whether the probe's items wait in the cluster until
// consumed (a list, a stream), unlike Pub/Sub messages.
func stores(probe string) bool { return probe == ProbeBLPop || probe == ProbeXReadGroup }

// The consumer loops' settings, the same for every client.
const (
	// consumerBlock is each BLPOP's timeout and each XREADGROUP's BLOCK.
	consumerBlock = time.Second
	// consumerSlack is added to consumerBlock for the call's own deadline.
	consumerSlack = 3 * time.Second
	// consumerGroup and consumerName are the XREADGROUP consumer's.
	consumerGroup = "drill"
	consumerName  = "drill-1"
	// xreadCount is XREADGROUP's COUNT.
	xreadCount = 100
)

// RetryPause is how long a subscriber or consumer loop pauses after an
// error before its next call, the same for every client.
const RetryPause = 10 * time.Millisecond

var errNoOwner = errors.New("drill: no node serves the probe's slot")

// Receipt is one message or item a probe received.
type Receipt struct {
	Seq int64
	// At is when it was received, as an offset from the run's start.
	At time.Duration
}

// probe is one subscriber or consumer of a run, with its feeder.
type probe struct {
	kind   string
	feed   *feeder
	client Client
	start  time.Time

	err error // the probe could not run

	receiving   context.CancelFunc
	received    <-chan struct{} // closed when the receiving side has ended
	stopFeeding func()

	mu       sync.Mutex
	receipts []Receipt
	errs     int
	lastErr  error
}

func (p *probe) receive(payload string) {
	at := time.Since(p.start)
	seq, err := strconv.ParseInt(payload, 10, 64)
	p.mu.Lock()
	defer p.mu.Unlock()
	if err != nil {
		p.errs++
		p.lastErr = fmt.Errorf("unexpected payload %q", payload)
		return
	}
	p.receipts = append(p.receipts, Receipt{seq, at})
}

func (p *probe) failed(err error) {
	p.mu.Lock()
	p.errs++
	p.lastErr = err
	p.mu.Unlock()
}

// lastReceipt is when the probe last received something; -1 for never.
func (p *probe) lastReceipt() time.Duration {
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.receipts) == 0 {
		return -1
	}
	return p.receipts[len(p.receipts)-1].At
}

// startProbes starts the scenario's probes on the run's client: first the
// subscriber or consumer, then its feeder, which sends to the node the
// watcher last saw serve the slot of the shard the probes use (shard 0: the
// one steps act on by default). A probe that cannot run keeps its error.
func (rc *runCore) startProbes(ctx context.Context, kinds []string, w *lab.Watcher) {
	if len(kinds) == 0 {
		return
	}
	slots := rc.env.slots
	tag := lab.SlotTag(slots[0])
	// PUBLISH goes to another shard's node: a message published on any node
	// reaches every node, and that one is left alone by the steps.
	other := slots[min(1, len(slots)-1)]
	for _, kind := range kinds {
		slot := slots[0]
		if kind == ProbeSubscribe {
			slot = other
		}
		p := &probe{kind: kind, client: rc.client, start: rc.started}
		p.feed = &feeder{target: rc.env.target, probe: kind, start: rc.started,
			key:   runPrefix(rc.scenario, rc.driver.Name(), rc.seq) + ":{" + tag + "}:" + kind,
			owner: func() string { return servingNode(w.Events(), slot) }, conns: map[string]*lab.Conn{}}
		rc.probes = append(rc.probes, p)
		if p.err = p.feed.setup(ctx); p.err != nil {
			p.feed.close()
			continue
		}
		if p.err = p.startReceiving(ctx); p.err != nil {
			p.feed.close()
			continue
		}
		feedCtx, cancel := context.WithCancel(ctx)
		done := make(chan struct{})
		go func() { defer close(done); p.feed.run(feedCtx) }()
		p.stopFeeding = func() { cancel(); <-done }
	}
}

// startReceiving starts the subscriber or consumer loop on the client.
func (p *probe) startReceiving(ctx context.Context) error {
	ctx, cancel := context.WithCancel(ctx)
	p.receiving = cancel
	switch p.kind {
	case ProbeSubscribe, ProbeSSubscribe:
		s, ok := p.client.(Subscriber)
		if !ok {
			cancel()
			return errors.New("the client does not support Pub/Sub")
		}
		done, err := s.Subscribe(ctx, p.feed.key, p.kind == ProbeSSubscribe, p.receive, p.failed)
		if err != nil {
			cancel()
			return fmt.Errorf("subscribing: %w", err)
		}
		p.received = done
		return nil
	}
	c, ok := p.client.(Consumer)
	if !ok {
		cancel()
		return errors.New("the client does not support blocking consumers")
	}
	done := make(chan struct{})
	p.received = done
	go func() {
		defer close(done)
		if p.kind == ProbeBLPop {
			p.consumeList(ctx, c)
		} else {
			p.consumeStream(ctx, c)
		}
	}()
	return nil
}

// consumeList is the BLPOP consumer loop: pop, record, again; after an
// error, pause RetryPause and go on.
func (p *probe) consumeList(ctx context.Context, c Consumer) {
	for ctx.Err() == nil {
		cctx, cancel := context.WithTimeout(ctx, consumerBlock+consumerSlack)
		v, found, err := c.BLPop(cctx, p.feed.key, consumerBlock)
		cancel()
		switch {
		case err != nil && ctx.Err() != nil:
			return
		case err != nil:
			p.failed(err)
			sleep(ctx, RetryPause)
		case found:
			p.receive(v)
		}
	}
}

// consumeStream is the XREADGROUP consumer loop: read new entries, record
// them, acknowledge them; after an error, pause RetryPause and go on. It
// does not claim pending entries: one whose delivery was lost stays pending
// and counts as lost.
func (p *probe) consumeStream(ctx context.Context, c Consumer) {
	for ctx.Err() == nil {
		cctx, cancel := context.WithTimeout(ctx, consumerBlock+consumerSlack)
		entries, err := c.XReadGroup(cctx, p.feed.key, consumerGroup, consumerName, xreadCount, consumerBlock)
		cancel()
		if err != nil {
			if ctx.Err() != nil {
				return
			}
			p.failed(err)
			sleep(ctx, RetryPause)
			continue
		}
		if len(entries) == 0 {
			continue
		}
		ids := make([]string, len(entries))
		for i, e := range entries {
			p.receive(e.Value)
			ids[i] = e.ID
		}
		actx, cancel := context.WithTimeout(ctx, consumerSlack)
		if err := c.XAck(actx, p.feed.key, consumerGroup, ids...); err != nil && ctx.Err() == nil {
			p.failed(fmt.Errorf("XACK: %w", err))
		}
		cancel()
	}
}

// probeDrain bounds the wait, after the feeders stop, for the consumers to
// take what is left; they stop early once everything acknowledged arrived,
// or nothing arrived for probeIdle.
const (
	probeDrain = 5 * time.Second
	probeIdle  = time.Second
	// pubsubDrain is how long subscribers get for messages in flight.
	pubsubDrain = 200 * time.Millisecond
)

// stopProbes stops the feeders, lets the consumers drain, stops them, and
// returns, per probe, what it sent, received and left.
func (rc *runCore) stopProbes(ctx context.Context) {
	for _, p := range rc.probes {
		if p.stopFeeding != nil {
			p.stopFeeding()
		}
	}
	deadline := time.Now().Add(probeDrain)
	for _, p := range rc.probes {
		if p.err != nil {
			continue
		}
		if !stores(p.kind) {
			sleep(ctx, pubsubDrain)
			continue
		}
		for time.Now().Before(deadline) && !p.drained() && sleep(ctx, 20*time.Millisecond) == nil {
		}
	}
	for _, p := range rc.probes {
		if p.err != nil {
			continue
		}
		p.receiving()
		select {
		case <-p.received:
		case <-time.After(10 * time.Second):
			p.failed(errors.New("the subscriber or consumer did not stop within 10s of its context ending"))
		}
	}
}

// drained reports whether the consumer received every acknowledged item, or
// received nothing for probeIdle.
func (p *probe) drained() bool {
	last := p.lastReceipt()
	if last >= 0 && time.Since(p.start)-last >= probeIdle {
		return true
	}
	got := map[int64]bool{}
	p.mu.Lock()
	for _, r := range p.receipts {
		got[r.Seq] = true
	}
	p.mu.Unlock()
	for _, s := range p.feed.items() {
		if s.Acked && !got[s.Seq] {
			return false
		}
	}
	return true
}

// probeFigures analyses every probe, after stopProbes, reading what is left
// in lists with the feeder's own connections and deleting the probes' keys.
func (rc *runCore) probeFigures(ctx context.Context, duration time.Duration) []report.Delivery {
	var out []report.Delivery
	served := servedAgain(rc.markers, 0)
	for _, p := range rc.probes {
		if p.err != nil {
			out = append(out, report.Delivery{Probe: p.kind, Error: p.err.Error(), ServedAgainMS: -1, GapMS: -1})
			continue
		}
		left, err := p.feed.left(ctx)
		p.feed.close()
		if err != nil {
			rc.log.Warn("reading what the consumer left", "probe", p.kind, "err", err)
		}
		p.mu.Lock()
		in := DeliveryInput{Probe: p.kind, Sent: p.feed.items(), Received: append([]Receipt(nil), p.receipts...),
			Left: left, ServedAgain: served, End: duration, Errors: p.errs}
		lastErr := p.lastErr
		p.mu.Unlock()
		if lastErr != nil {
			rc.log.Info("probe error", "probe", p.kind, "client", rc.driver.Name(), "errors", in.Errors, "last", lastErr)
		}
		out = append(out, AnalyzeDelivery(in))
	}
	return out
}

// servingNode returns the node the watcher last saw serve slot, or "" when
// its latest event says no node does.
func servingNode(events []lab.WatchEvent, slot int) string {
	for i := len(events) - 1; i >= 0; i-- {
		e := events[i]
		if e.Slot != slot {
			continue
		}
		switch e.Kind {
		case "served":
			return e.Node
		case "unserved":
			return ""
		}
	}
	return ""
}
