package cluster_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/keel-go/keel/internal/cluster"
)

func BenchmarkSlot(b *testing.B) {
	for _, bc := range []struct{ name, key string }{
		{"short", "foo"},
		{"hashtag", "{user1000}.following"},
		{"64B", strings.Repeat("k", 64)},
	} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(bc.key)))
			for b.Loop() {
				cluster.Slot(bc.key)
			}
		})
	}
}

// benchViews is three nodes' views of a three-shard cluster with replicas;
// the views disagree a little, as during a migration.
func benchViews() []cluster.View {
	shards := make([]cluster.Shard, 3)
	for i := range shards {
		shards[i] = topoShard(fmt.Sprintf("10.0.0.%d:7000", i+1),
			fmt.Sprintf("10.0.1.%d:7000", i+1), fmt.Sprintf("10.0.2.%d:7000", i+1))
	}
	views := make([]cluster.View, 3)
	for v := range views {
		cut := 5461 + v*10 // the views disagree about a few slots
		views[v] = cluster.View{
			From:  shards[v].Primary.Addr,
			Epoch: int64(10 + v%2),
			Claims: []cluster.Claim{
				topoClaim(0, cut-1, shards[0]),
				topoClaim(cut, 10922, shards[1]),
				topoClaim(10923, 16383, shards[2]),
			},
		}
	}
	return views
}

func BenchmarkMerge(b *testing.B) {
	views := benchViews()
	b.ReportAllocs()
	for b.Loop() {
		cluster.Merge(views...)
	}
}

func BenchmarkWithSlot(b *testing.B) {
	topo := cluster.Merge(benchViews()...)
	addrs := []string{topo.Shards[0].Primary.Addr, topo.Shards[1].Primary.Addr, topo.Shards[2].Primary.Addr}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		topo.WithSlot(i&(cluster.SlotCount-1), addrs[i%len(addrs)])
		i++
	}
}
