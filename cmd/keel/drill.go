package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/keel-go/keel/cmd/keel/internal/drill"
	"github.com/keel-go/keel/cmd/keel/internal/drill/report"
	"github.com/keel-go/keel/cmd/keel/internal/peers"
)

// errAudit marks a drill that completed but found a client losing
// acknowledged data or running a write twice: main exits with status 3.
var errAudit = errors.New("a client lost acknowledged writes or duplicated INCRs")

// drillFlags are the flags "keel drill" and "keel drill watch" share.
type drillFlags struct {
	clients  string
	rate     int
	timeout  time.Duration
	bucket   time.Duration
	duration time.Duration
	jsonPath string
	htmlPath string
	quiet    bool
	failOn   string
}

func (f *drillFlags) register(fs *flag.FlagSet, clientsDefault string) {
	fs.StringVar(&f.clients, "clients", clientsDefault, `clients to test, comma-separated, or "all": `+strings.Join(driverIDs(), ", "))
	fs.IntVar(&f.rate, "rate", 2000, "requests per second per client, open loop")
	fs.DurationVar(&f.timeout, "timeout", time.Second, "each request's own deadline")
	fs.DurationVar(&f.bucket, "bucket", 100*time.Millisecond, "timeline bucket width")
	fs.StringVar(&f.jsonPath, "json", "drill-report.json", `JSON report path ("" for none)`)
	fs.StringVar(&f.htmlPath, "html", "drill-report.html", `HTML report path ("" for none)`)
	fs.BoolVar(&f.quiet, "quiet", false, "no live progress line: one plain line per run")
	fs.StringVar(&f.failOn, "fail-on-loss", "keel", `clients whose lost or duplicated writes fail the run (exit status 3), comma-separated, "all" or "none"; the others' are reported only`)
}

// allDrivers are every client the drill can test: keel, then the peers.
func allDrivers() []drill.Driver {
	return append([]drill.Driver{drill.KeelDriver{}}, peers.Drivers()...)
}

// driverID is a driver's name as the -clients flag spells it:
// "go-redis (tuned)" is go-redis-tuned.
func driverID(d drill.Driver) string { return clientID(d.Name()) }

// clientID spells a client's name as the -clients flag does.
func clientID(name string) string {
	var b strings.Builder
	dash := false
	for _, r := range strings.ToLower(name) {
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' {
			if dash && b.Len() > 0 {
				b.WriteByte('-')
			}
			b.WriteRune(r)
			dash = false
		} else {
			dash = true
		}
	}
	return b.String()
}

func driverIDs() []string {
	var ids []string
	for _, d := range allDrivers() {
		ids = append(ids, driverID(d))
	}
	return ids
}

func selectDrivers(list string) ([]drill.Driver, error) {
	all := allDrivers()
	if list == "all" || list == "" {
		return all, nil
	}
	var out []drill.Driver
	for _, id := range strings.Split(list, ",") {
		id = strings.TrimSpace(id)
		found := false
		for _, d := range all {
			if driverID(d) == id {
				out, found = append(out, d), true
			}
		}
		if !found {
			return nil, fmt.Errorf("unknown client %q (have: %s)", id, strings.Join(driverIDs(), ", "))
		}
	}
	return out, nil
}

// scenarioGroup is a set of scenarios outside the default suite that
// -scenarios names as a whole.
type scenarioGroup struct {
	name      string
	heading   string // -list's heading, up to an open parenthesis
	scenarios func() []drill.Scenario
}

var scenarioGroups = []scenarioGroup{
	{"delivery", "Pub/Sub and consumer scenarios (", drill.DeliveryScenarios},
	{"repl", "replication-group scenarios (", drill.ReplicationScenarios},
	{"sentinel", "Sentinel-group scenarios (", drill.SentinelScenarios},
	{"net", "network-fault scenarios, nodes in network namespaces (Linux, root; ", drill.NetworkScenarios},
}

func selectScenarios(list, file string) ([]drill.Scenario, error) {
	suite := drill.DefaultScenarios()
	available := slices.Clone(suite)
	for _, g := range scenarioGroups {
		available = append(available, g.scenarios()...)
	}
	if file != "" {
		f, err := os.Open(file)
		if err != nil {
			return nil, err
		}
		defer f.Close()
		own, err := drill.ReadScenarios(f)
		if err != nil {
			return nil, err
		}
		if list == "" {
			return own, nil
		}
		available = append(available, own...)
		suite = append(suite, own...)
	}
	if list == "" || list == "all" {
		return suite, nil
	}
	var out []drill.Scenario
	for _, name := range strings.Split(list, ",") {
		name = strings.TrimSpace(name)
		if i := slices.IndexFunc(scenarioGroups, func(g scenarioGroup) bool { return g.name == name }); i >= 0 {
			out = append(out, scenarioGroups[i].scenarios()...)
			continue
		}
		found := false
		for _, sc := range available {
			if sc.Name == name {
				out, found = append(out, sc), true
			}
		}
		if !found {
			var names []string
			for _, sc := range available {
				names = append(names, sc.Name)
			}
			return nil, fmt.Errorf("unknown scenario %q (have: %s)", name, strings.Join(names, ", "))
		}
	}
	return out, nil
}

// runDrill implements "keel drill" (and dispatches "keel drill watch").
func runDrill(ctx context.Context, stdout, stderr io.Writer, args []string) error {
	if len(args) > 0 && args[0] == "watch" {
		return runWatch(ctx, stdout, stderr, args[1:])
	}
	if len(args) > 0 && args[0] == "soak" {
		return runSoak(ctx, stdout, stderr, args[1:])
	}
	var f drillFlags
	var scenarios, scenarioFile string
	var list bool
	var shape drill.ClusterShape
	fs := flag.NewFlagSet("drill", flag.ContinueOnError)
	fs.SetOutput(stderr)
	f.register(fs, "all")
	fs.StringVar(&scenarios, "scenarios", "", `scenarios to run, comma-separated (default: the whole default suite; see -list); "delivery" names every Pub/Sub and consumer scenario, "repl" every replication-group one, "sentinel" every Sentinel-group one, "net" every network-fault one (Linux, root)`)
	fs.StringVar(&scenarioFile, "scenario-file", "", "JSON file of your own scenarios (see docs/drill-scenarios.md); run alone unless -scenarios names some")
	fs.BoolVar(&list, "list", false, "list the scenarios and clients, then exit")
	fs.IntVar(&shape.Shards, "shards", 3, "primaries in the local cluster")
	fs.IntVar(&shape.Replicas, "replicas", 1, "replicas per primary")
	fs.DurationVar(&shape.NodeTimeout, "node-timeout", time.Second, "cluster-node-timeout")
	fs.BoolVar(&shape.TLS, "tls", false, "run the local cluster over TLS only (clients, bus, replication), every client with the same TLS configuration")
	fs.DurationVar(&f.duration, "duration", 30*time.Second, "longest a run waits, after its last step, for the client to recover (go-redis with default options needs about 60s after a killed primary)")
	fs.Usage = func() {
		fmt.Fprint(stderr, "usage: keel drill [flags]\n       keel drill watch -seeds host:port[,...] [flags]\n\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	scs, err := selectScenarios(scenarios, scenarioFile)
	if err != nil {
		return err
	}
	drivers, err := selectDrivers(f.clients)
	if err != nil {
		return err
	}
	if list {
		return printList(stdout, scs)
	}
	if shape.Replicas == 0 {
		shape.Replicas = -1 // ClusterShape's zero value means its default, 1
	}
	if f.duration > 0 {
		for i := range scs {
			scs[i].MaxTail = drill.Duration(f.duration)
		}
	}
	pr := newProgress(stderr, f.quiet)
	rep, err := drill.RunSuite(ctx, drill.Options{Scenarios: scs, Drivers: drivers, Cluster: shape,
		Workload: drill.Workload{Rate: f.rate, Timeout: f.timeout}, Bucket: f.bucket, Progress: pr.update})
	pr.clear()
	return conclude(stdout, rep, err, f)
}

func printList(w io.Writer, scs []drill.Scenario) error {
	fmt.Fprintln(w, "scenarios:")
	for _, sc := range scs {
		fmt.Fprintf(w, "  %-20s %s\n", sc.Name, sc.Description)
	}
	for _, g := range scenarioGroups {
		fmt.Fprintf(w, "%s-scenarios %s runs them all):\n", g.heading, g.name)
		for _, sc := range g.scenarios() {
			fmt.Fprintf(w, "  %-26s %s\n", sc.Name, sc.Description)
		}
	}
	fmt.Fprintln(w, "clients:")
	for _, d := range allDrivers() {
		fmt.Fprintf(w, "  %-20s %s\n", driverID(d), d.Describe())
	}
	return nil
}

// conclude writes whatever the drill measured, even when it was cut short
// (runErr), then judges the audit.
func conclude(stdout io.Writer, rep report.Report, runErr error, f drillFlags) error {
	if err := writeReports(stdout, rep, f); err != nil {
		return err
	}
	if runErr != nil {
		return runErr
	}
	reported, failing := auditVerdict(rep, f.failOn)
	if reported != "" {
		fmt.Fprintf(stdout, "audit (reported, not failing the run; see -fail-on-loss):\n  %s\n", reported)
	}
	return failing
}

// writeReports prints the summary table and writes the JSON and HTML files.
func writeReports(stdout io.Writer, rep report.Report, f drillFlags) error {
	if len(rep.Runs) == 0 {
		return nil
	}
	if err := report.WriteText(stdout, rep); err != nil {
		return err
	}
	for _, out := range []struct {
		path  string
		write func(io.Writer, report.Report) error
	}{{f.jsonPath, report.WriteJSON}, {f.htmlPath, report.WriteHTML}} {
		if out.path == "" {
			continue
		}
		if err := writeFile(out.path, func(w io.Writer) error { return out.write(w, rep) }); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "wrote %s\n", out.path)
	}
	return nil
}

func writeFile(path string, write func(io.Writer) error) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := write(f); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// auditVerdict judges the runs that lost acknowledged data or duplicated a
// write: those of the clients failOn names ("all", "none", or IDs
// comma-separated) fail the drill; the others are returned as a report.
func auditVerdict(rep report.Report, failOn string) (reported string, failing error) {
	var bad, noted []string
	for _, r := range rep.Runs {
		fig := r.Figures
		twice := consumedTwice(r)
		if fig.LostWrites+fig.LostIncrs+fig.DuplicateIncrs+twice == 0 {
			continue
		}
		line := fmt.Sprintf("%s/%s: %d lost writes, %d lost INCRs, %d duplicated INCRs",
			r.Scenario, r.Client, fig.LostWrites, fig.LostIncrs, fig.DuplicateIncrs)
		if twice > 0 {
			line += fmt.Sprintf(", %d items consumed twice", twice)
		}
		if failsOnLoss(failOn, r.Client) {
			bad = append(bad, line)
		} else {
			noted = append(noted, line)
		}
	}
	reported = strings.Join(noted, "\n  ")
	if len(bad) == 0 {
		return reported, nil
	}
	return reported, fmt.Errorf("%w:\n  %s", errAudit, strings.Join(bad, "\n  "))
}

// consumedTwice counts the items a run's consumers (BLPOP, XREADGROUP)
// received more than once. Lost items and Pub/Sub figures are not judged:
// a forced failover may lose writes the replica had not received, and
// Pub/Sub stores nothing.
func consumedTwice(r report.Run) int {
	n := 0
	for _, d := range r.Delivery {
		if d.Probe == drill.ProbeBLPop || d.Probe == drill.ProbeXReadGroup {
			n += d.Duplicates
		}
	}
	return n
}

// failsOnLoss reports whether -fail-on-loss list names the client.
func failsOnLoss(list, client string) bool {
	switch list {
	case "all":
		return true
	case "none", "":
		return false
	}
	id := clientID(client)
	for _, want := range strings.Split(list, ",") {
		if strings.TrimSpace(want) == id {
			return true
		}
	}
	return false
}
