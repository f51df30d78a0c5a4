// Package measure is what the Go programs of the peers benchmark share: the command line of a
// client run, the clock and CPU time of its measured part, and the one JSON line it prints.
package measure

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// Args is the command line every client binary of the benchmark takes.
type Args struct {
	Kubeconfig  string
	Namespace   string
	Workload    string // list, watch or gets
	Format      string // default, json or protobuf
	Expect      int
	Name        string // the object of the gets workload
	Requests    int    // GETs in the gets workload
	Concurrency int    // GETs in flight at once
}

// Parse reads the command line; it exits with status 2 on a mistake.
func Parse(program string) Args {
	var a Args
	fs := flag.NewFlagSet(program, flag.ExitOnError)
	fs.StringVar(&a.Kubeconfig, "kubeconfig", "", "kubeconfig of the server to measure against (required)")
	fs.StringVar(&a.Namespace, "namespace", "bench-pods", "namespace")
	fs.StringVar(&a.Workload, "workload", "", "list, watch or gets (required)")
	fs.StringVar(&a.Format, "format", "default", "default, json or protobuf")
	fs.IntVar(&a.Expect, "expect", -1, "objects (list), ADDED events (watch) or GETs (gets) the run must see")
	fs.StringVar(&a.Name, "name", "bench-small", "the ConfigMap the gets workload reads")
	fs.IntVar(&a.Requests, "requests", 10000, "GETs in the gets workload")
	fs.IntVar(&a.Concurrency, "concurrency", 32, "GETs in flight at once in the gets workload")
	_ = fs.Parse(os.Args[1:])
	fail := func(msg string) {
		fmt.Fprintf(os.Stderr, "%s: %s\n", program, msg)
		fs.Usage()
		os.Exit(2)
	}
	if fs.NArg() > 0 {
		fail("unexpected argument " + fs.Arg(0))
	}
	if a.Kubeconfig == "" {
		fail("--kubeconfig is required")
	}
	switch a.Workload {
	case "list", "watch", "gets":
	default:
		fail("--workload must be list, watch or gets")
	}
	switch a.Format {
	case "default", "json", "protobuf":
	default:
		fail("--format must be default, json or protobuf")
	}
	if a.Requests < 1 || a.Concurrency < 1 {
		fail("--requests and --concurrency must be positive")
	}
	return a
}

// Clock is the start of the measured part: wall clock and the process's CPU time.
type Clock struct {
	wall time.Time
	cpu  time.Duration
}

// cpuTime is user + system time of the whole process so far (getrusage RUSAGE_SELF).
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// Start starts the clock of the measured part.
func Start() Clock { return Clock{wall: time.Now(), cpu: cpuTime()} }

// Result is what a run reports besides its clock.
type Result struct {
	Client string
	Format string // the format the run used (default resolved to what it means)
	Args   Args
	// Objects: pods listed (list), ADDED events decoded (watch), GETs answered (gets).
	Objects int
}

// peakRSS is VmHWM from /proc/self/status in bytes (0 if unreadable).
func peakRSS() int64 {
	status, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(status), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kib, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 10, 64)
			if err == nil {
				return kib * 1024
			}
		}
	}
	return 0
}

// Report stops the clock, checks --expect and prints the run's JSON line on stdout. It exits
// with status 1 if the run did not see the expected count.
func (c Clock) Report(r Result) {
	wall := time.Since(c.wall).Seconds()
	cpu := (cpuTime() - c.cpu).Seconds()
	line := map[string]any{
		"client":         r.Client,
		"format":         r.Format,
		"workload":       r.Args.Workload,
		"objects":        r.Objects,
		"wall_seconds":   round(wall, 4),
		"cpu_seconds":    round(cpu, 4),
		"peak_rss_bytes": peakRSS(),
	}
	if r.Args.Workload == "gets" {
		line["concurrency"] = r.Args.Concurrency
		line["gets_per_second"] = round(float64(r.Objects)/wall, 1)
	}
	out, err := json.Marshal(line)
	if err != nil {
		Die(r.Client, err)
	}
	fmt.Println(string(out))
	if r.Args.Expect >= 0 && r.Objects != r.Args.Expect {
		Die(r.Client, fmt.Errorf("expected %d, saw %d", r.Args.Expect, r.Objects))
	}
}

func round(v float64, digits int) float64 {
	p, _ := strconv.ParseFloat(strconv.FormatFloat(v, 'f', digits, 64), 64)
	return p
}

// Die prints the error and exits with status 1.
func Die(program string, err error) {
	fmt.Fprintf(os.Stderr, "%s: %v\n", program, err)
	os.Exit(1)
}
