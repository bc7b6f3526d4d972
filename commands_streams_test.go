package keel_test

import (
	"errors"
	"reflect"
	"testing"
	"time"

	"github.com/keel-go/keel"
	"github.com/keel-go/keel/resp"
)

func fields(fv ...string) []keel.XField {
	out := make([]keel.XField, 0, len(fv)/2)
	for i := 0; i < len(fv); i += 2 {
		out = append(out, keel.XField{Name: fv[i], Value: fv[i+1]})
	}
	return out
}

func ids(msgs []keel.XMessage) []string {
	out := make([]string, len(msgs))
	for i, m := range msgs {
		out[i] = m.ID
	}
	return out
}

func TestStreamCommands(t *testing.T) {
	c, ctx, k := cmdEnv(t)
	s := k("s")

	n, err := c.XLen(ctx, s)
	eq(t, "XLen(missing)", n, err, 0)
	_, err = c.XAdd(ctx, keel.XAddArgs{Stream: s, NoMkStream: true, Values: []any{"f", "v"}})
	wantNil(t, "XAdd(NoMkStream, missing)", err)
	n, err = c.XLen(ctx, s)
	eq(t, "XLen after refused XAdd", n, err, 0)

	// Explicit IDs; fields keep their order and may repeat; values convert.
	id, err := c.XAdd(ctx, keel.XAddArgs{Stream: s, ID: "1-1", Values: []any{"b", 2, "a", []byte("x"), "b", true}})
	eq(t, "XAdd(1-1)", id, err, "1-1")
	for i := 2; i <= 5; i++ {
		id, err = c.XAdd(ctx, keel.XAddArgs{Stream: s, ID: string(rune('0'+i)) + "-0", Values: []any{"n", i}})
		eq(t, "XAdd", id, err, string(rune('0'+i))+"-0")
	}
	_, err = c.XAdd(ctx, keel.XAddArgs{Stream: s, ID: "1-0", Values: []any{"f", "v"}})
	wantServerError(t, "XAdd(ID too small)", err, resp.ErrGeneric)
	auto, err := c.XAdd(ctx, keel.XAddArgs{Stream: s, NoMkStream: true, Values: []any{"n", 6}})
	must(t, err)
	if auto == "" {
		t.Error("XAdd(auto) returned no ID")
	}

	all, err := c.XRange(ctx, s, "-", "+")
	eqSlice(t, "XRange IDs", ids(all), err, []string{"1-1", "2-0", "3-0", "4-0", "5-0", auto})
	if len(all) > 0 && !reflect.DeepEqual(all[0].Fields, fields("b", "2", "a", "x", "b", "1")) {
		t.Errorf("XRange[0] fields = %v", all[0].Fields)
	}
	got, err := c.XRangeCount(ctx, s, "(2-0", "+", 2)
	eqSlice(t, "XRangeCount", ids(got), err, []string{"3-0", "4-0"})
	got, err = c.XRevRange(ctx, s, "4-0", "2-0")
	eqSlice(t, "XRevRange", ids(got), err, []string{"4-0", "3-0", "2-0"})
	got, err = c.XRevRangeCount(ctx, s, "+", "-", 1)
	eqSlice(t, "XRevRangeCount", ids(got), err, []string{auto})
	got, err = c.XRange(ctx, k("missing"), "-", "+")
	eqSlice(t, "XRange(missing)", ids(got), err, []string{})

	n, err = c.XDel(ctx, s, "2-0", "9-0")
	eq(t, "XDel", n, err, 1)

	// Trimming: MINID then MAXLEN, exact; approximate trims on a small
	// stream evict nothing (whole nodes only).
	n, err = c.XTrimMinID(ctx, s, "4-0", keel.XTrimOptions{})
	eq(t, "XTrimMinID", n, err, 2) // 1-1 and 3-0
	n, err = c.XTrimMaxLen(ctx, s, 10, keel.XTrimOptions{Approx: true, Limit: 100})
	eq(t, "XTrimMaxLen(~, nothing to do)", n, err, 0)
	n, err = c.XTrimMaxLen(ctx, s, 2, keel.XTrimOptions{})
	eq(t, "XTrimMaxLen", n, err, 1)
	got, err = c.XRange(ctx, s, "-", "+")
	eqSlice(t, "XRange after trims", ids(got), err, []string{"5-0", auto})
	// XADD trims too: the new entry counts.
	id, err = c.XAdd(ctx, keel.XAddArgs{Stream: s, MaxLen: 2, Values: []any{"n", 7}})
	must(t, err)
	got, err = c.XRange(ctx, s, "-", "+")
	eqSlice(t, "XRange after XAdd MAXLEN", ids(got), err, []string{auto, id})
	_, err = c.XAdd(ctx, keel.XAddArgs{Stream: s, ID: "999999999999999-0", MinID: "999999999999999-0", Values: []any{"n", 8}})
	must(t, err)
	n, err = c.XLen(ctx, s)
	eq(t, "XLen after XAdd MINID", n, err, 1)

	// XREAD, without blocking; a stream with nothing after the ID is left out.
	a, b := "{"+k("r")+"}a", "{"+k("r")+"}b"
	_, err = c.XAdd(ctx, keel.XAddArgs{Stream: a, ID: "1-0", Values: []any{"f", "a1"}})
	must(t, err)
	_, err = c.XAdd(ctx, keel.XAddArgs{Stream: b, ID: "1-0", Values: []any{"f", "b1"}})
	must(t, err)
	streams, err := c.XRead(ctx, keel.XReadArgs{Streams: []string{a, b}, IDs: []string{"0", "1-0"}})
	want := []keel.XStream{{Stream: a, Messages: []keel.XMessage{{ID: "1-0", Fields: fields("f", "a1")}}}}
	if err != nil || !reflect.DeepEqual(streams, want) {
		t.Errorf("XRead = %+v, %v; want %+v", streams, err, want)
	}
	streams, err = c.XRead(ctx, keel.XReadArgs{Streams: []string{a, b}, IDs: []string{"$", "$"}})
	if err != nil || len(streams) != 0 {
		t.Errorf("XRead(nothing new) = %+v, %v; want none", streams, err)
	}
	if _, err := c.XRead(ctx, keel.XReadArgs{Streams: []string{a, s}, IDs: []string{"0", "0"}}); !errors.Is(err, keel.ErrCrossSlot) {
		t.Errorf("XRead across slots: err = %v, want ErrCrossSlot", err)
	}
	// With BLOCK, through Do, it waits on a connection of its own: nothing new is nil.
	if v, err := c.Do(ctx, "XREAD", "BLOCK", 10, "STREAMS", a, "$"); err != nil || !v.IsNull() {
		t.Errorf("XREAD BLOCK 10 (nothing new) = %v, %v; want null", v, err)
	}
}

// TestStreamConsumerGroup runs a consumer group through its life: create
// with MKSTREAM, read, pending, acknowledge, claim, inspect, tear down.
func TestStreamConsumerGroup(t *testing.T) {
	c, ctx, k := cmdEnv(t)
	s := k("jobs")

	if err := c.XGroupCreate(ctx, s, "g", "$"); err == nil {
		t.Error("XGroupCreate(missing stream, no MKSTREAM): no error")
	}
	must(t, c.XGroupCreateWith(ctx, s, "g", "$", keel.XGroupCreateOptions{MkStream: true}))
	if err := c.XGroupCreate(ctx, s, "g", "$"); !errors.Is(err, keel.ErrBusyGroup) {
		t.Errorf("XGroupCreate(existing): err = %v, want ErrBusyGroup", err)
	}
	must(t, c.XGroupCreateWith(ctx, s, "late", "0", keel.XGroupCreateOptions{EntriesRead: 1}))
	n, err := c.XLen(ctx, s)
	eq(t, "XLen(MKSTREAM)", n, err, 0)

	var added []string
	for _, job := range []string{"a", "b", "c", "d"} {
		id, err := c.XAdd(ctx, keel.XAddArgs{Stream: s, Values: []any{"job", job}})
		must(t, err)
		added = append(added, id)
	}

	ok, err := c.XGroupCreateConsumer(ctx, s, "g", "alice")
	eq(t, "XGroupCreateConsumer", ok, err, true)
	ok, err = c.XGroupCreateConsumer(ctx, s, "g", "alice")
	eq(t, "XGroupCreateConsumer(again)", ok, err, false)

	// alice reads two, bob the other two; then nothing is left to deliver.
	read := func(consumer string, count int64) []keel.XMessage {
		t.Helper()
		streams, err := c.XReadGroup(ctx, keel.XReadGroupArgs{Group: "g", Consumer: consumer, Streams: []string{s}, Count: count})
		must(t, err)
		if len(streams) == 0 {
			return nil
		}
		if len(streams) != 1 || streams[0].Stream != s {
			t.Fatalf("XReadGroup = %+v, want the one stream", streams)
		}
		return streams[0].Messages
	}
	msgs := read("alice", 2)
	eqSlice(t, "XReadGroup(alice)", ids(msgs), nil, added[:2])
	if v, _ := msgs[0].Get("job"); v != "a" {
		t.Errorf("first job = %q, want a", v)
	}
	eqSlice(t, "XReadGroup(bob)", ids(read("bob", 0)), nil, added[2:])
	eqSlice(t, "XReadGroup(nothing new)", ids(read("carol", 0)), nil, []string{})

	sum, err := c.XPending(ctx, s, "g")
	want := keel.XPendingSummary{Count: 4, Lowest: added[0], Highest: added[3], Consumers: map[string]int64{"alice": 2, "bob": 2}}
	if err != nil || !reflect.DeepEqual(sum, want) {
		t.Errorf("XPending = %+v, %v; want %+v", sum, err, want)
	}
	pend, err := c.XPendingExt(ctx, s, "g", keel.XPendingArgs{Count: 10, Consumer: "bob"})
	must(t, err)
	if len(pend) != 2 || pend[0].ID != added[2] || pend[0].Consumer != "bob" || pend[0].Deliveries != 1 || pend[0].Idle < 0 {
		t.Errorf("XPendingExt(bob) = %+v", pend)
	}
	pend, err = c.XPendingExt(ctx, s, "g", keel.XPendingArgs{Count: 10, MinIdle: time.Hour})
	if err != nil || len(pend) != 0 {
		t.Errorf("XPendingExt(idle 1h) = %+v, %v; want none", pend, err)
	}

	n, err = c.XAck(ctx, s, "g", added[0], added[0], "0-1")
	eq(t, "XAck", n, err, 1)
	n, err = c.XAck(ctx, s, "g", added[0])
	eq(t, "XAck(again)", n, err, 0)

	// alice re-reads her history: only the unacknowledged one.
	streams, err := c.XReadGroup(ctx, keel.XReadGroupArgs{Group: "g", Consumer: "alice", Streams: []string{s}, IDs: []string{"0"}})
	if err != nil || len(streams) != 1 {
		t.Fatalf("XReadGroup(history) = %+v, %v", streams, err)
	}
	eqSlice(t, "XReadGroup(history)", ids(streams[0].Messages), nil, added[1:2])

	// A deleted message still pending shows as Deleted in the history,
	// and XAUTOCLAIM reports it and drops it.
	_, err = c.XDel(ctx, s, added[1])
	must(t, err)
	streams, err = c.XReadGroup(ctx, keel.XReadGroupArgs{Group: "g", Consumer: "alice", Streams: []string{s}, IDs: []string{"0"}})
	if err != nil || len(streams) != 1 || len(streams[0].Messages) != 1 || !streams[0].Messages[0].Deleted {
		t.Errorf("XReadGroup(history, deleted) = %+v, %v; want one Deleted entry", streams, err)
	}
	claim, err := c.XAutoClaim(ctx, s, keel.XAutoClaimArgs{Group: "g", Consumer: "carol", Count: 10})
	must(t, err)
	if claim.Next != "0-0" || !reflect.DeepEqual(ids(claim.Messages), added[2:]) || !reflect.DeepEqual(claim.Deleted, added[1:2]) {
		t.Errorf("XAutoClaim = %+v; want bob's two claimed and %s deleted", claim, added[1])
	}
	if len(claim.Messages) == 2 && !reflect.DeepEqual(claim.Messages[1].Fields, fields("job", "d")) {
		t.Errorf("XAutoClaim fields = %v", claim.Messages[1].Fields)
	}
	// XCLAIM back to bob (min idle 0).
	msgs, err = c.XClaim(ctx, s, "g", "bob", 0, added[3])
	eqSlice(t, "XClaim", ids(msgs), err, added[3:])

	info, err := c.XInfoStream(ctx, s)
	must(t, err)
	if info.Length != 3 || info.Groups != 2 || info.LastGeneratedID != added[3] || info.EntriesAdded != 4 ||
		info.FirstEntry == nil || info.FirstEntry.ID != added[0] || info.LastEntry == nil || info.LastEntry.ID != added[3] {
		t.Errorf("XInfoStream = %+v", info)
	}
	groups, err := c.XInfoGroups(ctx, s)
	must(t, err)
	if len(groups) != 2 || groups[0].Name != "g" || groups[0].Consumers != 3 || groups[0].Pending != 2 ||
		groups[0].LastDeliveredID != added[3] || groups[1].Name != "late" || groups[1].Pending != 0 {
		t.Errorf("XInfoGroups = %+v", groups)
	}
	consumers, err := c.XInfoConsumers(ctx, s, "g")
	must(t, err)
	pending := map[string]int64{}
	for _, cs := range consumers {
		pending[cs.Name] = cs.Pending
		if cs.Idle < 0 {
			t.Errorf("consumer %s idle %v", cs.Name, cs.Idle)
		}
	}
	if !reflect.DeepEqual(pending, map[string]int64{"alice": 0, "bob": 1, "carol": 1}) {
		t.Errorf("XInfoConsumers pending = %v", pending)
	}

	n, err = c.XGroupDelConsumer(ctx, s, "g", "carol")
	eq(t, "XGroupDelConsumer", n, err, 1)
	must(t, c.XGroupSetID(ctx, s, "g", "0"))
	eqSlice(t, "XReadGroup after SETID 0", ids(read("dave", 0)), nil, []string{added[0], added[2], added[3]})
	ok, err = c.XGroupDestroy(ctx, s, "g")
	eq(t, "XGroupDestroy", ok, err, true)
	ok, err = c.XGroupDestroy(ctx, s, "g")
	eq(t, "XGroupDestroy(again)", ok, err, false)
	_, err = c.XReadGroup(ctx, keel.XReadGroupArgs{Group: "g", Consumer: "alice", Streams: []string{s}})
	if !errors.Is(err, keel.ErrNoGroup) {
		t.Errorf("XReadGroup(destroyed group): err = %v, want ErrNoGroup", err)
	}
	_, err = c.XPending(ctx, s, "g")
	if !errors.Is(err, keel.ErrNoGroup) {
		t.Errorf("XPending(destroyed group): err = %v, want ErrNoGroup", err)
	}
}

// TestNewCommandsBadInput checks the client methods refuse bad input with
// ErrArgument and send nothing, and that wrong types get the server's
// WRONGTYPE.
func TestNewCommandsBadInput(t *testing.T) {
	c, ctx, k := cmdEnv(t)
	str := k("str")
	must(t, c.Set(ctx, str, "v"))

	for name, call := range map[string]func() error{
		"XAdd nil value": func() error {
			_, err := c.XAdd(ctx, keel.XAddArgs{Stream: k("s"), Values: []any{"f", nil}})
			return err
		},
		"XAdd no values": func() error { _, err := c.XAdd(ctx, keel.XAddArgs{Stream: k("s")}); return err },
		"XAdd Limit exact": func() error {
			_, err := c.XAdd(ctx, keel.XAddArgs{Stream: k("s"), MaxLen: 1, Limit: 5, Values: []any{"f", 1}})
			return err
		},
		"XReadGroup no keys":  func() error { _, err := c.XReadGroup(ctx, keel.XReadGroupArgs{Group: "g", Consumer: "c"}); return err },
		"XRead IDs":           func() error { _, err := c.XRead(ctx, keel.XReadArgs{Streams: []string{k("s")}}); return err },
		"XAck no IDs":         func() error { _, err := c.XAck(ctx, k("s"), "g"); return err },
		"PFCount no keys":     func() error { _, err := c.PFCount(ctx); return err },
		"PFAdd duration":      func() error { _, err := c.PFAdd(ctx, k("h"), time.Second); return err },
		"BitOpOr no keys":     func() error { _, err := c.BitOpOr(ctx, k("d")); return err },
		"SetBit 2":            func() error { _, err := c.SetBit(ctx, k("b"), 0, 2); return err },
		"BitField bad type":   func() error { _, err := c.BitField(ctx, k("b"), keel.BitFieldGet("u99", 0)); return err },
		"GeoAdd none":         func() error { _, err := c.GeoAdd(ctx, k("g")); return err },
		"GeoSearch no shape":  func() error { _, err := c.GeoSearch(ctx, k("g"), keel.GeoSearchQuery{FromMember: "m"}); return err },
		"GeoDist bad unit":    func() error { _, err := c.GeoDist(ctx, k("g"), "a", "b", "au"); return err },
		"XPendingExt count 0": func() error { _, err := c.XPendingExt(ctx, k("s"), "g", keel.XPendingArgs{}); return err },
	} {
		if err := call(); !errors.Is(err, keel.ErrArgument) {
			t.Errorf("%s: err = %v, want ErrArgument", name, err)
		}
	}
	n, err := c.Exists(ctx, k("s"), k("h"), k("d"), k("b"), k("g"))
	eq(t, "Exists after refused commands", n, err, 0)

	for name, call := range map[string]func() error{
		"XAdd":   func() error { _, err := c.XAdd(ctx, keel.XAddArgs{Stream: str, Values: []any{"f", 1}}); return err },
		"XRange": func() error { _, err := c.XRange(ctx, str, "-", "+"); return err },
		"XReadGroup": func() error {
			_, err := c.XReadGroup(ctx, keel.XReadGroupArgs{Group: "g", Consumer: "c", Streams: []string{str}})
			return err
		},
		"XInfo":   func() error { _, err := c.XInfoStream(ctx, str); return err },
		"PFAdd":   func() error { _, err := c.PFAdd(ctx, str, "x"); return err },
		"PFCount": func() error { _, err := c.PFCount(ctx, str); return err },
		"GeoAdd": func() error {
			_, err := c.GeoAdd(ctx, str, keel.GeoLocation{Name: "a", Longitude: 1, Latitude: 1})
			return err
		},
		"GeoSearch": func() error {
			_, err := c.GeoSearch(ctx, str, keel.GeoSearchQuery{Longitude: 1, Latitude: 1, Radius: 1})
			return err
		},
	} {
		err := call()
		wantServerError(t, name+"(string)", err, resp.ErrWrongType)
	}
	list := k("list")
	_, err = c.RPush(ctx, list, "x")
	must(t, err)
	for name, call := range map[string]func() error{
		"SetBit":   func() error { _, err := c.SetBit(ctx, list, 0, 1); return err },
		"BitCount": func() error { _, err := c.BitCount(ctx, list); return err },
		"BitField": func() error { _, err := c.BitField(ctx, list, keel.BitFieldGet("u8", 0)); return err },
	} {
		wantServerError(t, name+"(list)", call(), resp.ErrWrongType)
	}
}

// TestNewCommandsInPipeline queues typed stream, bitmap, HLL and geo
// commands and reads their Futures.
func TestNewCommandsInPipeline(t *testing.T) {
	c, ctx, k := cmdEnv(t)
	tag := "{" + k("p") + "}"
	s, h, g, b := tag+"s", tag+"h", tag+"g", tag+"b"

	p := c.Pipeline()
	add := keel.Queue(p, keel.XAdd(keel.XAddArgs{Stream: s, ID: "1-0", Values: []any{"f", "v"}}))
	bad := keel.Queue(p, keel.XAdd(keel.XAddArgs{Stream: s}))
	rng := keel.Queue(p, keel.XRange(s, "-", "+"))
	pf := keel.Queue(p, keel.PFAdd(h, "a", "b", "c"))
	cnt := keel.Queue(p, keel.PFCount(h))
	geo := keel.Queue(p, keel.GeoAdd(g, keel.GeoLocation{Name: "x", Longitude: 2, Latitude: 48}))
	pos := keel.Queue(p, keel.GeoPos(g, "x", "nope"))
	bf := keel.Queue(p, keel.BitField(b, keel.BitFieldSet("u8", 0, 255), keel.BitFieldGet("u4", 0)))
	if _, err := add.Result(); !errors.Is(err, keel.ErrNotRun) {
		t.Errorf("Future before Exec: err = %v, want ErrNotRun", err)
	}
	results := p.Exec(ctx)
	if len(results) != 8 {
		t.Fatalf("Exec returned %d results, want 8", len(results))
	}

	id, err := add.Result()
	eq(t, "XAdd future", id, err, "1-0")
	if err := bad.Err(); !errors.Is(err, keel.ErrArgument) {
		t.Errorf("bad XAdd future: err = %v, want ErrArgument", err)
	}
	msgs, err := rng.Result()
	if err != nil || !reflect.DeepEqual(msgs, []keel.XMessage{{ID: "1-0", Fields: fields("f", "v")}}) {
		t.Errorf("XRange future = %+v, %v", msgs, err)
	}
	changed, err := pf.Result()
	eq(t, "PFAdd future", changed, err, true)
	n, err := cnt.Result()
	eq(t, "PFCount future", n, err, 3)
	n, err = geo.Result()
	eq(t, "GeoAdd future", n, err, 1)
	ps, err := pos.Result()
	if err != nil || len(ps) != 2 || !ps[0].Valid || ps[1].Valid || abs(ps[0].Longitude-2) > 1e-4 || abs(ps[0].Latitude-48) > 1e-4 {
		t.Errorf("GeoPos future = %+v, %v", ps, err)
	}
	vals, err := bf.Result()
	if err != nil || !reflect.DeepEqual(vals, []keel.BitFieldValue{{Value: 0, Valid: true}, {Value: 15, Valid: true}}) {
		t.Errorf("BitField future = %+v, %v", vals, err)
	}
}

func abs(f float64) float64 {
	if f < 0 {
		return -f
	}
	return f
}
