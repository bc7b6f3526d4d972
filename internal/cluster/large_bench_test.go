package cluster_test

import (
	"fmt"
	"testing"

	"github.com/keel-go/keel/internal/cluster"
)

// bigShards is a cluster of n primaries with one replica each.
func bigShards(n int) []cluster.Shard {
	shards := make([]cluster.Shard, n)
	for i := range shards {
		shards[i] = topoShard(fmt.Sprintf("10.0.0.%d:7000", i+1), fmt.Sprintf("10.0.1.%d:7000", i+1))
	}
	return shards
}

// bigTopology is a 30-primary × 1-replica topology with the slots split
// evenly, as lab.StartCluster makes it.
func bigTopology() *cluster.Topology {
	shards := bigShards(30)
	v := cluster.View{From: shards[0].Primary.Addr, Epoch: 30}
	for i, sh := range shards {
		v.Claims = append(v.Claims, topoClaim(i*cluster.SlotCount/len(shards), (i+1)*cluster.SlotCount/len(shards)-1, sh))
	}
	return cluster.Merge(v)
}

// BenchmarkMovedStorm is what one MOVED costs a client of a 30×1 cluster
// while 1,000 slots migrate from the first primary to the second: each op
// applies one MOVED to the topology the previous one produced, as
// Engine.moved does.
func BenchmarkMovedStorm(b *testing.B) {
	base := bigTopology()
	to := base.Shards[1].Primary.Addr
	b.ReportAllocs()
	topo, i := base, 0
	for b.Loop() {
		if i == 1000 {
			topo, i = base, 0
		}
		topo = topo.WithSlot(i, to)
		i++
	}
}
