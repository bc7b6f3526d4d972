package keel

// cmdQueue holds the commands of a Pipeline or a Tx until Exec: their
// arguments back to back in one slice, so queueing allocates little, and
// what Exec needs to hand each command its result.
type cmdQueue struct {
	args   []string   // every queued command's arguments, back to back
	ends   []int      // where each command's arguments end in args
	errs   []error    // per command, why it cannot be sent; nil while none failed to build
	typed  []resolver // per command, its Future; nil while none is typed
	cmds   [][]string // Exec's view of the commands, kept for reuse
	failed int        // how many commands failed to build
}

// maxKeptArgs bounds the argument storage a queue keeps after Exec for its
// next batch; a larger one, grown for a burst, is dropped.
const maxKeptArgs = 1 << 16

// do adds a command given as Client.Do takes it, converting its arguments
// straight into args (Command would allocate a slice for them). An argument
// that cannot be converted fails that command, recorded in errs and worded
// as Command words it.
func (q *cmdQueue) do(args []any) {
	start := len(q.args)
	var err error
	if len(args) == 0 {
		err = commandError("command", errEmptyCommand)
	} else if q.args, err = appendArgs(q.args, args); err != nil {
		err = commandError(firstArg(q.args[start:]), err)
		q.args = q.args[:start]
	}
	q.ends = append(q.ends, len(q.args))
	q.grow(err, nil)
}

// queue adds a built command; it makes *Pipeline and *Tx Queuers.
func (q *cmdQueue) queue(args []string, err error, r resolver) {
	if err == nil {
		q.args = append(q.args, args...)
	}
	q.ends = append(q.ends, len(q.args))
	q.grow(err, r)
}

// grow records the last command's build error and Future, keeping the two
// slices nil while no command needs them.
func (q *cmdQueue) grow(err error, r resolver) {
	n := len(q.ends)
	if err != nil || q.errs != nil {
		if q.errs == nil {
			q.errs = make([]error, n-1, n)
		}
		q.errs = append(q.errs, err)
		if err != nil {
			q.failed++
		}
	}
	if r != nil || q.typed != nil {
		if q.typed == nil {
			q.typed = make([]resolver, n-1, n)
		}
		q.typed = append(q.typed, r)
	}
}

// built returns the commands that built, in order, as Exec sends them.
func (q *cmdQueue) built() [][]string {
	cmds := q.cmds[:0]
	start := 0
	for i, end := range q.ends {
		if q.errs == nil || q.errs[i] == nil {
			cmds = append(cmds, q.args[start:end:end])
		}
		start = end
	}
	q.cmds = cmds
	return cmds
}

// firstErr returns the first build error, nil when every command built.
func (q *cmdQueue) firstErr() error {
	for _, err := range q.errs {
		if err != nil {
			return err
		}
	}
	return nil
}

// spread places the results of the commands sent among the build errors of
// those that were not.
func (q *cmdQueue) spread(sent []Result) []Result {
	if q.failed == 0 {
		return sent
	}
	out := make([]Result, len(q.ends))
	j := 0
	for i, err := range q.errs {
		if err != nil {
			out[i].Err = err
			continue
		}
		out[i] = sent[j]
		j++
	}
	return out
}

// resolve sets the Futures from results, one per queued command.
func (q *cmdQueue) resolve(results []Result) {
	for i, r := range q.typed {
		if r != nil {
			r.resolve(results[i].Value, results[i].Err)
		}
	}
}

// reset empties the queue, keeping its storage unless a burst grew it.
// Nothing holds the commands once Exec returns: requests copy their args.
func (q *cmdQueue) reset() {
	clear(q.args) // the queue must not keep the caller's strings alive
	clear(q.cmds)
	if cap(q.args) > maxKeptArgs {
		q.args, q.ends, q.cmds = nil, nil, nil
	}
	q.args, q.ends, q.cmds = q.args[:0], q.ends[:0], q.cmds[:0]
	q.errs, q.typed, q.failed = nil, nil, 0
}
