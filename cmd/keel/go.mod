module github.com/keel-go/keel/cmd/keel

go 1.25

require (
	github.com/keel-go/keel v0.0.0
	go.uber.org/goleak v1.3.0
)

replace github.com/keel-go/keel => ../..
