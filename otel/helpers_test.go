package keelotel_test

import (
	"context"
	"testing"

	"go.opentelemetry.io/otel/attribute"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/keel-go/keel/internal/testutil"
	keelotel "github.com/keel-go/keel/otel"
)

func TestMain(m *testing.M) { testutil.Main(m) }

// sdk is a Telemetry wired to in-memory exporters.
type sdk struct {
	tel    *keelotel.Telemetry
	spans  *tracetest.SpanRecorder
	reader *sdkmetric.ManualReader
}

func newSDK(t *testing.T) *sdk {
	t.Helper()
	s := &sdk{spans: tracetest.NewSpanRecorder(), reader: sdkmetric.NewManualReader()}
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(s.spans))
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(s.reader))
	t.Cleanup(func() {
		_ = tp.Shutdown(context.Background())
		_ = mp.Shutdown(context.Background())
	})
	tel, err := keelotel.New(keelotel.Options{TracerProvider: tp, MeterProvider: mp})
	if err != nil {
		t.Fatal(err)
	}
	s.tel = tel
	return s
}

// metric returns the named metric's data, nil when it has none.
func (s *sdk) metric(t *testing.T, name string) metricdata.Aggregation {
	t.Helper()
	var rm metricdata.ResourceMetrics
	if err := s.reader.Collect(context.Background(), &rm); err != nil {
		t.Fatal(err)
	}
	for _, sm := range rm.ScopeMetrics {
		for _, m := range sm.Metrics {
			if m.Name == name {
				return m.Data
			}
		}
	}
	return nil
}

// has reports whether set holds every attribute of want.
func has(set attribute.Set, want ...attribute.KeyValue) bool {
	for _, kv := range want {
		if v, ok := set.Value(kv.Key); !ok || v != kv.Value {
			return false
		}
	}
	return true
}

// sum adds the counter points of name whose attributes hold want.
func (s *sdk) sum(t *testing.T, name string, want ...attribute.KeyValue) int64 {
	t.Helper()
	data, _ := s.metric(t, name).(metricdata.Sum[int64])
	var n int64
	for _, p := range data.DataPoints {
		if has(p.Attributes, want...) {
			n += p.Value
		}
	}
	return n
}

// histogram returns the points of histogram name whose attributes hold want.
func (s *sdk) histogram(t *testing.T, name string, want ...attribute.KeyValue) []metricdata.HistogramDataPoint[float64] {
	t.Helper()
	data, _ := s.metric(t, name).(metricdata.Histogram[float64])
	var out []metricdata.HistogramDataPoint[float64]
	for _, p := range data.DataPoints {
		if has(p.Attributes, want...) {
			out = append(out, p)
		}
	}
	return out
}

// spanAttr returns a span attribute's value.
func spanAttr(span sdktrace.ReadOnlySpan, key attribute.Key) (attribute.Value, bool) {
	for _, kv := range span.Attributes() {
		if kv.Key == key {
			return kv.Value, true
		}
	}
	return attribute.Value{}, false
}
