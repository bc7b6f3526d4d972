package cluster_test

import (
	"bytes"
	"fmt"
	"slices"
	"testing"

	"github.com/keel-go/keel/internal/cluster"
	"github.com/keel-go/keel/internal/resptest"
	"github.com/keel-go/keel/resp"
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

// bigReply is the CLUSTER SHARDS reply of a 30×1 cluster as Redis 7 sends
// it in RESP3, encoded, and that cluster's shards as resptest describes them.
func bigReply() ([]byte, resptest.Topology) {
	var view resptest.Topology
	view.Epoch = 30
	for i := range 30 {
		view.Shards = append(view.Shards, resptest.Shard{
			Slots:    [][2]int{{i * cluster.SlotCount / 30, (i+1)*cluster.SlotCount/30 - 1}},
			Primary:  fmt.Sprintf("10.0.0.%d:7000", i+1),
			Replicas: []string{fmt.Sprintf("10.0.1.%d:7000", i+1)},
		})
	}
	return resp.AppendValue(nil, resptest.ShardsReply(view)), view
}

// BenchmarkTopology30x1 measures what a refresh costs a client of a 30×1
// cluster: decoding and parsing one node's CLUSTER SHARDS reply, merging
// three nodes' views into a topology, and comparing it with the one in use
// (install), when nothing changed and after a failover.
func BenchmarkTopology30x1(b *testing.B) {
	raw, _ := bigReply()
	parse := func(b *testing.B) []cluster.Claim {
		v, err := resp.NewReader(bytes.NewReader(raw), resp.Limits{}).Read()
		if err != nil {
			b.Fatal(err)
		}
		claims, err := cluster.ParseShards(v, "10.0.0.1:7000", false)
		if err != nil {
			b.Fatal(err)
		}
		return claims
	}
	b.Run("parse", func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(int64(len(raw)))
		for b.Loop() {
			parse(b)
		}
	})
	claims := parse(b)
	views := make([]cluster.View, 3)
	for i := range views {
		views[i] = cluster.View{From: claims[i].Shard.Primary.Addr, Epoch: 30, Claims: claims}
	}
	b.Run("merge", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			cluster.Merge(views...)
		}
	})
	cur := cluster.Merge(views...)
	b.Run("compare-unchanged", func(b *testing.B) {
		next := cluster.Merge(views...)
		b.ReportAllocs()
		for b.Loop() {
			if !cluster.Compare(cur, next).Empty() {
				b.Fatal("topologies differ")
			}
		}
	})
	b.Run("compare-failover", func(b *testing.B) {
		failed := slices.Clone(claims)
		failed[0].Shard = cluster.Shard{Primary: claims[0].Shard.Replicas[0]}
		next := cluster.Merge(cluster.View{Epoch: 31, Claims: failed})
		b.ReportAllocs()
		for b.Loop() {
			if cluster.Compare(cur, next).Empty() {
				b.Fatal("no difference")
			}
		}
	})
}
