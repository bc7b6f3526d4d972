package resp_test

import (
	"strconv"
	"strings"
	"testing"

	"github.com/keel-go/keel/resp"
)

// loopReader returns data over and over, like a connection on which the same
// replies keep arriving. It never ends.
type loopReader struct {
	data []byte
	off  int
}

func (l *loopReader) Read(p []byte) (int, error) {
	n := 0
	for n < len(p) {
		c := copy(p[n:], l.data[l.off:])
		n += c
		l.off = (l.off + c) % len(l.data)
	}
	return n, nil
}

// typicalReplies are the replies of a small, typical pipeline.
var typicalReplies = []struct{ name, enc string }{
	{"OK", "+OK\r\n"},
	{"Integer", ":123\r\n"},
	{"Bulk5", "$5\r\nhello\r\n"},
	{"Array10", string(resp.AppendCommand(nil, strings.Fields("member:00 member:01 member:02 member:03 member:04 member:05 member:06 member:07 member:08 member:09")))},
	{"Bulk1K", "$1024\r\n" + strings.Repeat("0123456789abcdef", 64) + "\r\n"},
	{"Null", "_\r\n"},
	{"Map2", "%2\r\n+server\r\n+redis\r\n+proto\r\n:3\r\n"},
}

func benchmarkRead(b *testing.B, replies []string) {
	// Many copies in one buffer, so the bufio.Reader's refills fall at every
	// point of the values, as they would on a connection.
	var one strings.Builder
	for _, r := range replies {
		one.WriteString(r)
	}
	data := []byte(strings.Repeat(one.String(), max(1, 64<<10/one.Len())))
	r := resp.NewReader(&loopReader{data: data}, resp.Limits{})
	b.SetBytes(int64(one.Len()))
	b.ReportAllocs()
	for b.Loop() {
		for range replies {
			if _, err := r.Read(); err != nil {
				b.Fatal(err)
			}
		}
	}
}

func BenchmarkRead(b *testing.B) {
	var all []string
	for _, tr := range typicalReplies {
		b.Run(tr.name, func(b *testing.B) { benchmarkRead(b, []string{tr.enc}) })
		all = append(all, tr.enc)
	}
	// One op reads each of the replies above once.
	b.Run("Mixed", func(b *testing.B) { benchmarkRead(b, all) })
}

// BenchmarkReadLargeBulk reads values of the sizes keel bench's large
// workloads get: their allocation, not their parsing, is most of the cost.
func BenchmarkReadLargeBulk(b *testing.B) {
	for _, n := range []int{16 << 10, 1 << 20} {
		value := "$" + strconv.Itoa(n) + "\r\n" + strings.Repeat("v", n) + "\r\n"
		b.Run(strconv.Itoa(n>>10)+"KiB", func(b *testing.B) { benchmarkRead(b, []string{value}) })
	}
}

func BenchmarkAppendCommand(b *testing.B) {
	commands := []struct {
		name string
		args []string
	}{
		{"SET", []string{"SET", "key:0001", "0123456789abcdef"}},
		{"GET", []string{"GET", "key"}},
	}
	for _, c := range commands {
		b.Run(c.name, func(b *testing.B) {
			buf := make([]byte, 0, 64)
			b.SetBytes(int64(len(resp.AppendCommand(nil, c.args))))
			b.ReportAllocs()
			for b.Loop() {
				buf = resp.AppendCommand(buf[:0], c.args)
			}
		})
	}
	b.Run("Pipeline100", func(b *testing.B) {
		// A pipeline of 100 SETs encoded into one reused buffer.
		args := []string{"SET", "key:0001", "0123456789abcdef"}
		buf := make([]byte, 0, 8<<10)
		b.SetBytes(int64(100 * len(resp.AppendCommand(nil, args))))
		b.ReportAllocs()
		for b.Loop() {
			buf = buf[:0]
			for range 100 {
				buf = resp.AppendCommand(buf, args)
			}
		}
	})
}

func BenchmarkAppendValue(b *testing.B) {
	v := array(bulk("message"), bulk("channel"), bulk(strings.Repeat("x", 64)), integer(42),
		rmap(simple("k"), double(1.5)))
	buf := make([]byte, 0, 512)
	b.ReportAllocs()
	for b.Loop() {
		buf = resp.AppendValue(buf[:0], v)
	}
}
