package keel

import (
	"fmt"
	"time"

	"github.com/keel-go/keel/resp"
)

// Conversions of stream replies. Both protocols are handled: where RESP3
// sends a map (XREAD's streams, XINFO's fields), RESP2 sends an array, of
// pairs (XREAD) or of keys and values alternating (XINFO).

// eachField calls set with each key and value of a RESP3 map or a RESP2
// flat array, stopping at the first error. Keys are compared as sent, so an
// unknown key (a newer server's) is for set to skip.
func eachField(v Value, set func(key string, val Value) error) error {
	kv, err := v.Pairs()
	if err != nil {
		return err
	}
	for i := 0; i < len(kv); i += 2 {
		if err := set(kv[i].Str, kv[i+1]); err != nil {
			return err
		}
	}
	return nil
}

// toMessage converts one stream entry: [id, [field, value, …]], the fields
// null for a pending entry whose message was deleted.
func toMessage(v Value) (XMessage, error) {
	if v.Kind != resp.KindArray || len(v.Elems) != 2 {
		return XMessage{}, fmt.Errorf("%w: want [id fields], got %s", resp.ErrType, v)
	}
	id, err := v.Elems[0].Text()
	if err != nil {
		return XMessage{}, err
	}
	m := XMessage{ID: id}
	if v.Elems[1].IsNull() {
		m.Deleted = true
		return m, nil
	}
	fv, err := v.Elems[1].Pairs()
	if err != nil {
		return XMessage{}, err
	}
	m.Fields = make([]XField, len(fv)/2)
	for i := range m.Fields {
		if m.Fields[i].Name, err = fv[2*i].Text(); err != nil {
			return XMessage{}, err
		}
		if m.Fields[i].Value, err = fv[2*i+1].Text(); err != nil {
			return XMessage{}, err
		}
	}
	return m, nil
}

// messages converts an array of stream entries.
func messages(v Value) ([]XMessage, error) { return resp.ConvertElems(v, toMessage) }

// toMessages is the parse of XRANGE, XREVRANGE and XCLAIM.
func toMessages(v Value, err error) ([]XMessage, error) {
	if err != nil {
		return nil, err
	}
	return messages(v)
}

// toStreams is the parse of XREAD and XREADGROUP: RESP3 sends a map of
// stream name to entries, RESP2 an array of [name, entries] pairs; null
// (nothing to read) is an empty result.
func toStreams(v Value, err error) ([]XStream, error) {
	if err != nil {
		return nil, err
	}
	if v.IsNull() {
		return nil, nil
	}
	pairs, err := v.Pairs() // name, entries, name, entries…
	if err != nil {
		return nil, err
	}
	out := make([]XStream, len(pairs)/2)
	for i := range out {
		if out[i].Stream, err = pairs[2*i].Text(); err != nil {
			return nil, err
		}
		if out[i].Messages, err = messages(pairs[2*i+1]); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// toAutoClaim is the parse of XAUTOCLAIM: [next, entries, deleted IDs]
// (Redis 6.2 sends no deleted IDs).
func toAutoClaim(v Value, err error) (XAutoClaimResult, error) {
	var r XAutoClaimResult
	if err != nil {
		return r, err
	}
	elems, err := v.Slice()
	if err != nil {
		return r, err
	}
	if len(elems) != 2 && len(elems) != 3 {
		return r, fmt.Errorf("%w: XAUTOCLAIM reply of %d elements, want 2 or 3", resp.ErrType, len(elems))
	}
	if r.Next, err = elems[0].Text(); err != nil {
		return r, err
	}
	if r.Messages, err = messages(elems[1]); err != nil {
		return r, err
	}
	if len(elems) == 3 {
		if r.Deleted, err = elems[2].Strings(); err != nil {
			return r, err
		}
	}
	return r, nil
}

// toPendingSummary is the parse of XPENDING key group: [count, lowest ID,
// highest ID, [[consumer, count], …]], the last three null when nothing is
// pending.
func toPendingSummary(v Value, err error) (XPendingSummary, error) {
	var s XPendingSummary
	if err != nil {
		return s, err
	}
	elems, err := v.Slice()
	if err != nil {
		return s, err
	}
	if len(elems) != 4 {
		return s, fmt.Errorf("%w: XPENDING reply of %d elements, want 4", resp.ErrType, len(elems))
	}
	if s.Count, err = elems[0].Int64(); err != nil {
		return s, err
	}
	if s.Count == 0 {
		return s, nil
	}
	if s.Lowest, err = elems[1].Text(); err != nil {
		return s, err
	}
	if s.Highest, err = elems[2].Text(); err != nil {
		return s, err
	}
	consumers, err := elems[3].Pairs() // [consumer count] pairs
	if err != nil {
		return s, err
	}
	s.Consumers = make(map[string]int64, len(consumers)/2)
	for i := 0; i < len(consumers); i += 2 {
		name, err := consumers[i].Text()
		if err != nil {
			return s, err
		}
		if s.Consumers[name], err = consumers[i+1].Int64(); err != nil {
			return s, err
		}
	}
	return s, nil
}

// toPendingEntries is the parse of XPENDING's extended form: an array of
// [id, consumer, idle ms, deliveries].
func toPendingEntries(v Value, err error) ([]XPendingEntry, error) {
	if err != nil {
		return nil, err
	}
	return resp.ConvertElems(v, toPendingEntry)
}

func toPendingEntry(e Value) (XPendingEntry, error) {
	var p XPendingEntry
	if e.Kind != resp.KindArray || len(e.Elems) != 4 {
		return p, fmt.Errorf("%w: want [id consumer idle deliveries], got %s", resp.ErrType, e)
	}
	var err error
	if p.ID, err = e.Elems[0].Text(); err != nil {
		return p, err
	}
	if p.Consumer, err = e.Elems[1].Text(); err != nil {
		return p, err
	}
	if p.Idle, err = toMs(e.Elems[2]); err != nil {
		return p, err
	}
	p.Deliveries, err = e.Elems[3].Int64()
	return p, err
}

// toMs converts an integer number of milliseconds.
func toMs(v Value) (time.Duration, error) {
	ms, err := v.Int64()
	return time.Duration(ms) * time.Millisecond, err
}

// orUnknown returns an integer field that the server sends as null when it
// does not know it, as -1.
func orUnknown(v Value) (int64, error) {
	if v.IsNull() {
		return -1, nil
	}
	return v.Int64()
}

// optionalMessage converts XINFO STREAM's first-entry or last-entry, null
// for an empty stream.
func optionalMessage(v Value) (*XMessage, error) {
	if v.IsNull() {
		return nil, nil
	}
	m, err := toMessage(v)
	if err != nil {
		return nil, err
	}
	return &m, nil
}

// toInfoStream is the parse of XINFO STREAM. Fields keel does not know (a
// newer server's) are skipped.
func toInfoStream(v Value, err error) (XStreamInfo, error) {
	var s XStreamInfo
	if err != nil {
		return s, err
	}
	err = eachField(v, func(key string, val Value) (err error) {
		switch key {
		case "length":
			s.Length, err = val.Int64()
		case "radix-tree-keys":
			s.RadixTreeKeys, err = val.Int64()
		case "radix-tree-nodes":
			s.RadixTreeNodes, err = val.Int64()
		case "groups":
			s.Groups, err = val.Int64()
		case "last-generated-id":
			s.LastGeneratedID, err = val.Text()
		case "max-deleted-entry-id":
			s.MaxDeletedEntryID, err = val.Text()
		case "entries-added":
			s.EntriesAdded, err = val.Int64()
		case "recorded-first-entry-id":
			s.RecordedFirstEntryID, err = val.Text()
		case "first-entry":
			s.FirstEntry, err = optionalMessage(val)
		case "last-entry":
			s.LastEntry, err = optionalMessage(val)
		}
		return err
	})
	return s, err
}

// toInfoGroups is the parse of XINFO GROUPS: an array of maps (RESP3) or of
// flat arrays (RESP2).
func toInfoGroups(v Value, err error) ([]XGroupInfo, error) {
	if err != nil {
		return nil, err
	}
	return resp.ConvertElems(v, func(e Value) (g XGroupInfo, err error) {
		err = eachField(e, func(key string, val Value) (err error) {
			switch key {
			case "name":
				g.Name, err = val.Text()
			case "consumers":
				g.Consumers, err = val.Int64()
			case "pending":
				g.Pending, err = val.Int64()
			case "last-delivered-id":
				g.LastDeliveredID, err = val.Text()
			case "entries-read":
				g.EntriesRead, err = orUnknown(val)
			case "lag":
				g.Lag, err = orUnknown(val)
			}
			return err
		})
		return g, err
	})
}

// toInfoConsumers is the parse of XINFO CONSUMERS, shaped like XINFO GROUPS.
func toInfoConsumers(v Value, err error) ([]XConsumerInfo, error) {
	if err != nil {
		return nil, err
	}
	return resp.ConvertElems(v, func(e Value) (c XConsumerInfo, err error) {
		err = eachField(e, func(key string, val Value) (err error) {
			switch key {
			case "name":
				c.Name, err = val.Text()
			case "pending":
				c.Pending, err = val.Int64()
			case "idle":
				c.Idle, err = toMs(val)
			}
			return err
		})
		return c, err
	})
}
