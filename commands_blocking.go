package keel

import (
	"fmt"
	"strconv"
	"time"

	"github.com/keel-go/keel/resp"
)

// Blocking commands run on connections of their own (see
// Options.BlockingConnsPerNode for the outcome rules); their timeout is a
// time.Duration where 0 blocks with no limit, as Redis's 0 does.

// BlockForever, as XReadArgs.Block or XReadGroupArgs.Block, blocks until an
// entry arrives (BLOCK 0). The list and sorted-set pops block forever with a
// timeout of 0, as Redis's do.
const BlockForever time.Duration = -1

// formatTimeout formats a blocking pop's timeout as Redis's seconds, with
// millisecond precision; a positive timeout under a millisecond is one
// millisecond, not 0, which would block forever. A negative timeout is
// ErrArgument.
func formatTimeout(d time.Duration) (string, error) {
	switch {
	case d < 0:
		return "", fmt.Errorf("%w: timeout %v is negative (0 blocks with no limit)", ErrArgument, d)
	case d > 0 && d < time.Millisecond:
		d = time.Millisecond
	}
	return strconv.FormatFloat(float64(d.Milliseconds())/1000, 'f', -1, 64), nil
}

// blockArg formats an XREAD/XREADGROUP Block field: "" for no BLOCK.
func blockArg(d time.Duration) (string, error) {
	switch {
	case d == 0:
		return "", nil
	case d == BlockForever:
		return "0", nil
	case d < 0:
		return "", fmt.Errorf("%w: Block %v is negative (BlockForever blocks with no limit)", ErrArgument, d)
	}
	return formatMs(d), nil
}

// keysTimeoutCmd builds NAME key… timeout (BLPOP, BRPOP, BZPOPMIN, BZPOPMAX).
func keysTimeoutCmd[T any](parse func(Value, error) (T, error), name string, timeout time.Duration, keys []string) Cmd[T] {
	if len(keys) == 0 {
		return failedCmd[T](name, errNoKeys)
	}
	t, err := formatTimeout(timeout)
	if err != nil {
		return failedCmd[T](name, err)
	}
	args := make([]string, 0, len(keys)+2)
	args = append(append(append(args, name), keys...), t)
	return argsCmd(parse, args)
}

// timeoutMPopArgs builds NAME timeout numkeys key… end COUNT count (BLMPOP, BZMPOP).
func timeoutMPopArgs(name string, timeout time.Duration, keys []string, end string, count int64) ([]string, error) {
	t, err := formatTimeout(timeout)
	if err != nil {
		return nil, err
	}
	args, err := mpopArgs(name, keys, end, count)
	if err != nil {
		return nil, err
	}
	// mpopArgs built NAME numkeys …: the timeout goes after the name.
	args = append(args[:1], append([]string{t}, args[1:]...)...)
	return args, nil
}

// Wait builds WAIT numreplicas timeout: wait until numReplicas replicas
// acknowledged the writes made before it on the same connection, or the
// timeout passes; its result is how many did. It counts the writes of its
// own connection, so keel runs it only on a Watch, after writes through the
// same Watch: elsewhere (Client.Do, a Client method, a pipeline) it fails
// with ErrBlocking. The timeout must be positive and at most half of
// Options.HealthTimeout, which bounds the Watch's connection.
func Wait(numReplicas int64, timeout time.Duration) Cmd[int64] {
	if numReplicas < 0 || timeout <= 0 {
		return failedCmd[int64]("WAIT", fmt.Errorf("%w: numReplicas %d, timeout %v (want >= 0 and > 0)", ErrArgument, numReplicas, timeout))
	}
	return newCmd(toInt64, "WAIT", formatInt(numReplicas), formatMs(timeout))
}

// WaitAOF builds WAITAOF numlocal numreplicas timeout (Redis 7.2): wait
// until the writes made before it on the same connection are fsynced to the
// AOF of the local node (numLocal 1) and of numReplicas replicas; its result
// is how many local and replica AOFs did. It runs where Wait runs.
func WaitAOF(numLocal, numReplicas int64, timeout time.Duration) Cmd[[2]int64] {
	if numLocal < 0 || numLocal > 1 || numReplicas < 0 || timeout <= 0 {
		return failedCmd[[2]int64]("WAITAOF", fmt.Errorf("%w: numLocal %d, numReplicas %d, timeout %v (want 0 or 1, >= 0, > 0)", ErrArgument, numLocal, numReplicas, timeout))
	}
	return newCmd(toInt64Pair, "WAITAOF", formatInt(numLocal), formatInt(numReplicas), formatMs(timeout))
}

// toInt64Pair converts WAITAOF's reply.
func toInt64Pair(v Value, err error) ([2]int64, error) {
	ns, err := toInt64s(v, err)
	if err != nil {
		return [2]int64{}, err
	}
	if len(ns) != 2 {
		return [2]int64{}, fmt.Errorf("%w: want 2 integers, got %d", resp.ErrType, len(ns))
	}
	return [2]int64{ns[0], ns[1]}, nil
}
