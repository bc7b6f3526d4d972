package keel

import "context"

// HyperLogLogs: approximate counts of distinct elements, in at most 12 KB
// per key (a standard error of 0.81%).

// PFAdd builds PFADD key element…: add elements (converted as Do converts
// arguments) to the HyperLogLog at key, creating it if missing; with no
// elements, only create it. Its result says whether the estimate changed
// (or the key was created).
func PFAdd(key string, elements ...any) Cmd[bool] {
	args, err := appendArgs(append(make([]string, 0, 2+len(elements)), "PFADD", key), elements)
	if err != nil {
		return failedCmd[bool]("PFADD", err)
	}
	return argsCmd(toBool, args)
}

// PFAdd adds elements to a HyperLogLog; see PFAdd, the command.
func (c *Client) PFAdd(ctx context.Context, key string, elements ...any) (bool, error) {
	return exec(ctx, c, PFAdd(key, elements...))
}

// PFCount builds PFCOUNT key…: its result is the approximate number of
// distinct elements added to the HyperLogLogs at keys (of their union when
// there are several), 0 for missing keys. The keys must be in one slot (use
// a hash tag), or it fails with ErrCrossSlot. No keys is ErrArgument.
func PFCount(keys ...string) Cmd[int64] {
	if len(keys) == 0 {
		return failedCmd[int64]("PFCOUNT", errNoKeys)
	}
	return argsCmd(toInt64, append([]string{"PFCOUNT"}, keys...))
}

// PFCount estimates the distinct elements of HyperLogLogs; see PFCount, the
// command.
func (c *Client) PFCount(ctx context.Context, keys ...string) (int64, error) {
	return exec(ctx, c, PFCount(keys...))
}

// PFMerge builds PFMERGE dest source…: store at dest the union of the
// HyperLogLogs at dest and sources. dest and sources must be in one slot,
// or it fails with ErrCrossSlot.
func PFMerge(dest string, sources ...string) Cmd[struct{}] {
	return argsCmd(toStatus, append([]string{"PFMERGE", dest}, sources...))
}

// PFMerge merges HyperLogLogs into dest; see PFMerge, the command.
func (c *Client) PFMerge(ctx context.Context, dest string, sources ...string) error {
	_, err := exec(ctx, c, PFMerge(dest, sources...))
	return err
}
