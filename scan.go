package keel

import (
	"context"
	"fmt"
	"iter"
	"strconv"

	"github.com/keel-go/keel/internal/cluster"
	"github.com/keel-go/keel/resp"
)

// ScanOptions are the options of Scan, HScan, SScan and ZScan. The zero
// value scans everything with the server's defaults.
type ScanOptions struct {
	// Match returns only the elements matching this glob-style pattern
	// (MATCH). The server filters after reading a step's elements, so a
	// selective pattern makes steps return few elements, not fewer steps.
	// Default "": every element.
	Match string
	// Count is how many elements each step should look at, a hint the
	// server may exceed (COUNT). Larger counts make fewer round trips; each
	// step blocks its node for longer. Default 0: the server's, 10.
	// Negative counts are refused with ErrArgument.
	Count int64
	// Type returns only keys of this Redis type, such as "string", "hash"
	// or "zset" (TYPE). Scan only: the others refuse it with ErrArgument.
	// Default "": every type.
	Type string
}

// args returns the options as the arguments that follow a cursor.
func (o ScanOptions) args(name string) ([]string, error) {
	if o.Count < 0 {
		return nil, commandError(name, fmt.Errorf("%w: negative Count %d", ErrArgument, o.Count))
	}
	if o.Type != "" && name != "SCAN" {
		return nil, commandError(name, fmt.Errorf("%w: Type is only for Scan", ErrArgument))
	}
	var args []string
	if o.Match != "" {
		args = append(args, "MATCH", o.Match)
	}
	if o.Count > 0 {
		args = append(args, "COUNT", formatInt(o.Count))
	}
	if o.Type != "" {
		args = append(args, "TYPE", o.Type)
	}
	return args, nil
}

// Scan iterates over the keys of the whole cluster (SCAN, on every shard):
//
//	for key, err := range client.Scan(ctx, keel.ScanOptions{Match: "user:*", Count: 1000}) {
//		if err != nil {
//			return err
//		}
//		…
//	}
//
// It keeps one cursor per shard and scans the shards one after another,
// each on its primary whatever Options.ReadPolicy says: a replica may lag,
// and a primary's cursor stays valid for as long as it is primary. An error
// is yielded once, with an empty key, and ends the iteration; breaking out
// of the loop stops the scan at once. Each range over the result scans
// anew.
//
// What it guarantees is SCAN's own, per shard: a key present during the
// whole scan is returned at least once, and keys may come more than once.
// That holds across a failover: a cursor means something only on the
// process that made it, so when a shard's primary changes (or its
// connection is lost), that shard is scanned again from the start on its
// new primary, returning its keys again. It does not hold for keys whose
// slot moves to another shard during the scan (a slot migration or
// resharding): such a key may arrive on a shard already scanned, and be
// missed. Keys added or deleted during the scan may or may not be returned.
func (c *Client) Scan(ctx context.Context, opts ScanOptions) iter.Seq2[string, error] {
	return func(yield func(string, error) bool) {
		args, err := opts.args("SCAN")
		if err != nil {
			yield("", err)
			return
		}
		for _, s := range c.e.ShardScans(args...) {
			if !scanAll(ctx, c, s, yield) {
				return
			}
		}
	}
}

// scanAll runs s to its end, yielding each element as a string, and reports
// whether the iteration should go on.
func scanAll(ctx context.Context, c *Client, s *cluster.Scan, yield func(string, error) bool) bool {
	for !s.Done() {
		elems, err := c.e.ScanNext(ctx, s)
		if err != nil {
			yield("", err)
			return false
		}
		for _, e := range elems {
			str, err := e.Text()
			if err != nil {
				yield("", err)
				return false
			}
			if !yield(str, nil) {
				return false
			}
		}
	}
	return true
}

// HashField is a field of a hash and its value.
type HashField struct {
	Field string
	Value string
}

// HScan iterates over the fields and values of the hash at key (HSCAN); a
// missing key yields nothing. Its guarantees and errors are those of Scan for
// one shard: a field present during the whole scan comes at least once, and
// when the key's primary changes mid-scan the scan starts again on the new
// one, repeating fields.
func (c *Client) HScan(ctx context.Context, key string, opts ScanOptions) iter.Seq2[HashField, error] {
	return func(yield func(HashField, error) bool) {
		scanPairs(ctx, c, "HSCAN", key, opts, yield, func(field, value string) (HashField, error) {
			return HashField{Field: field, Value: value}, nil
		})
	}
}

// SScan iterates over the members of the set at key (SSCAN); a missing key
// yields nothing. Its guarantees and errors are those of HScan.
func (c *Client) SScan(ctx context.Context, key string, opts ScanOptions) iter.Seq2[string, error] {
	return func(yield func(string, error) bool) {
		scanKey(ctx, c, "SSCAN", key, opts, yield)
	}
}

// ZScan iterates over the members of the sorted set at key with their scores
// (ZSCAN), in no particular order; a missing key yields nothing. Its
// guarantees and errors are those of HScan.
func (c *Client) ZScan(ctx context.Context, key string, opts ScanOptions) iter.Seq2[Z, error] {
	return func(yield func(Z, error) bool) {
		scanPairs(ctx, c, "ZSCAN", key, opts, yield, func(member, score string) (Z, error) {
			f, err := strconv.ParseFloat(score, 64)
			if err != nil {
				return Z{}, fmt.Errorf("%w: ZSCAN score %q is not a number", resp.ErrType, score)
			}
			return Z{Member: member, Score: f}, nil
		})
	}
}

// scanPairs runs scanKey and yields its elements two by two, as pair
// converts them: fields and values, or members and scores.
func scanPairs[T any](ctx context.Context, c *Client, name, key string, opts ScanOptions, yield func(T, error) bool, pair func(a, b string) (T, error)) {
	var first string
	odd := false
	scanKey(ctx, c, name, key, opts, func(s string, err error) bool {
		if err != nil {
			var zero T
			return yield(zero, err)
		}
		if odd = !odd; odd {
			first = s
			return true
		}
		v, err := pair(first, s)
		if err != nil {
			yield(v, err)
			return false
		}
		return yield(v, nil)
	})
}

// scanKey runs the scan command name over the collection at key, yielding
// each element of the replies in turn: members, or fields and values (or
// members and scores) alternating, as the server sends them.
func scanKey(ctx context.Context, c *Client, name, key string, opts ScanOptions, yield func(string, error) bool) {
	args, err := opts.args(name)
	if err != nil {
		yield("", err)
		return
	}
	scanAll(ctx, c, cluster.KeyScan(name, key, args...), yield)
}
