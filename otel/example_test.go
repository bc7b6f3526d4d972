package keelotel_test

import (
	"context"
	"fmt"
	"time"

	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/keel-go/keel"
	"github.com/keel-go/keel/lab"
	keelotel "github.com/keel-go/keel/otel"
)

func Example() {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cluster, err := lab.StartCluster(ctx, lab.ClusterOptions{Shards: 3})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer cluster.Close()

	// Providers with in-memory exporters; a service would pass its own, or
	// leave Options empty for the global ones.
	spans := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(spans))
	reader := sdkmetric.NewManualReader()
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
	defer tp.Shutdown(ctx)
	defer mp.Shutdown(ctx)

	tel, err := keelotel.New(keelotel.Options{TracerProvider: tp, MeterProvider: mp})
	if err != nil {
		fmt.Println(err)
		return
	}
	opts := keel.Options{Seeds: cluster.Addrs()}
	tel.Instrument(&opts)
	client, err := keel.New(ctx, opts)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer client.Close()

	_ = client.Set(ctx, "greeting", "hello")
	_, _ = client.Get(ctx, "greeting")
	client.Pipeline().Do("GET", "a").Do("GET", "b").Exec(ctx)

	for _, s := range spans.Ended() {
		fmt.Println("span", s.Name())
	}
	var rm metricdata.ResourceMetrics
	_ = reader.Collect(ctx, &rm)
	for _, m := range rm.ScopeMetrics[0].Metrics {
		if h, ok := m.Data.(metricdata.Histogram[float64]); ok && m.Name == "db.client.operation.duration" {
			var n uint64
			for _, p := range h.DataPoints {
				n += p.Count
			}
			fmt.Println(m.Name, n, "measurements")
		}
	}
	// Output:
	// span SET
	// span GET
	// span PIPELINE
	// db.client.operation.duration 3 measurements
}
