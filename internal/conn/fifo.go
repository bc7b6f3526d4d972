package conn

// fifo is a growable ring of requests awaiting replies, in the order they
// were written. It is not safe for concurrent use; Conn guards it with mu.
type fifo struct {
	buf  []*request
	head int
	n    int
}

func (f *fifo) len() int { return f.n }

// peek returns the oldest request without removing it, or nil.
func (f *fifo) peek() *request {
	if f.n == 0 {
		return nil
	}
	return f.buf[f.head]
}

// at returns the i-th oldest request; i < len().
func (f *fifo) at(i int) *request { return f.buf[(f.head+i)%len(f.buf)] }

// set replaces the i-th oldest request; i < len().
func (f *fifo) set(i int, r *request) { f.buf[(f.head+i)%len(f.buf)] = r }

func (f *fifo) push(r *request) {
	if f.n == len(f.buf) {
		grown := make([]*request, max(16, 2*len(f.buf)))
		for i := 0; i < f.n; i++ {
			grown[i] = f.buf[(f.head+i)%len(f.buf)]
		}
		f.buf, f.head = grown, 0
	}
	f.buf[(f.head+f.n)%len(f.buf)] = r
	f.n++
}

func (f *fifo) pop() *request {
	if f.n == 0 {
		return nil
	}
	r := f.buf[f.head]
	f.buf[f.head] = nil
	f.head = (f.head + 1) % len(f.buf)
	f.n--
	return r
}

// drain removes and returns every request, oldest first.
func (f *fifo) drain() []*request {
	out := make([]*request, 0, f.n)
	for r := f.pop(); r != nil; r = f.pop() {
		out = append(out, r)
	}
	return out
}
