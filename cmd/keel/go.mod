module github.com/keel-go/keel/cmd/keel

go 1.25

require github.com/keel-go/keel v0.0.0

replace github.com/keel-go/keel => ../..
