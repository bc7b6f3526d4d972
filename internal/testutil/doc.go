// Package testutil holds the helpers that the tests of several keel packages
// share: a TestMain that checks for leaked goroutines and skips the examples
// on a machine without redis-server ([Main]), a lab cluster started once per
// test binary ([SharedCluster]), polling with a deadline ([WaitFor]), a
// context that ends with the test ([Context]), the -short skip of slow tests
// ([SkipIfShort]), a resolver answering from a table ([Resolver]) and the
// concurrent SET/GET benchmark ([BenchSetGet]).
//
// Only _test.go files import it. lab's own in-package tests cannot (this
// package imports lab), so they keep their few helpers to themselves.
package testutil
