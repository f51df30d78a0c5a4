// Command client-go-informer is client-go's side of bench/informer-memory: one shared informer
// from client-go's SharedInformerFactory on the pods of a namespace, over the typed clientset
// with client-go's defaults (protobuf for built-in types) and no client-side throttling. It
// waits for the initial sync, lets the process settle, and prints heap and RSS as one JSON
// line with the fields the Rust binaries print (see bench/README.md).
//
// Heap figures come from the Go runtime after forced collections (runtime.ReadMemStats):
// HeapAlloc, the bytes of live heap objects, each rounded up to its size class, and
// Mallocs-Frees, the live objects. The Rust binaries count bytes requested from malloc, so the
// two are close but not the same measure; bench/README.md says where they differ.
//
// The initial list follows client-go's feature gate WatchListClient, on by default in v0.37
// (a streaming list: one WATCH with sendInitialEvents=true). --initial-list sets the gate
// through the environment variable client-go reads it from, KUBE_FEATURE_WatchListClient,
// before client-go first looks at its gates. The informer's requests are counted on their way
// out, and initial_list reports what the informer did (client-go falls back to a LIST when a
// streaming list fails).
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"math"
	"net/http"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	corev1 "k8s.io/api/core/v1"
	clientfeatures "k8s.io/client-go/features"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/tools/clientcmd"
)

const (
	program = "client-go-informer"
	// The environment variable client-go's feature gates read WatchListClient from.
	watchListEnv = "KUBE_FEATURE_WatchListClient"
	// How long the informer may take to sync before the run fails.
	syncTimeout = 10 * time.Minute
)

// args is the command line, the same as the Rust binaries'.
type args struct {
	kubeconfig        string
	namespace         string
	dropManagedFields bool
	expect            int // -1: no check
	settle            time.Duration
	initialList       string // "", paged or streaming
}

func parseArgs() args {
	var a args
	var settleMs int
	fs := flag.NewFlagSet(program, flag.ExitOnError)
	fs.StringVar(&a.kubeconfig, "kubeconfig", "", "kubeconfig of the cluster (required)")
	fs.StringVar(&a.namespace, "namespace", "bench-pods", "namespace whose pods the informer caches")
	fs.BoolVar(&a.dropManagedFields, "drop-managed-fields", false, "clear metadata.managedFields before objects are stored")
	fs.IntVar(&a.expect, "expect", -1, "fail unless the synced cache holds exactly this many pods")
	fs.IntVar(&settleMs, "settle-ms", 1500, "how long to wait after the sync before measuring")
	fs.StringVar(&a.initialList, "initial-list", "", "paged or streaming (default: client-go's, from its WatchListClient gate)")
	_ = fs.Parse(os.Args[1:])
	fail := func(msg string) {
		fmt.Fprintf(os.Stderr, "%s: %s\n", program, msg)
		fs.Usage()
		os.Exit(2)
	}
	if fs.NArg() > 0 {
		fail("unexpected argument " + fs.Arg(0))
	}
	if a.kubeconfig == "" {
		fail("--kubeconfig is required")
	}
	switch a.initialList {
	case "", "paged", "streaming":
	default:
		fail("bad --initial-list " + a.initialList)
	}
	if settleMs < 0 {
		fail("bad --settle-ms " + strconv.Itoa(settleMs))
	}
	a.settle = time.Duration(settleMs) * time.Millisecond
	return a
}

func die(err error) {
	fmt.Fprintf(os.Stderr, "%s: %v\n", program, err)
	os.Exit(1)
}

// podRequests counts the pod requests that leave the client: LISTs (each page is one),
// streaming lists (WATCH with sendInitialEvents=true) and plain WATCHes.
type podRequests struct {
	next                       http.RoundTripper
	lists, watchLists, watches atomic.Int64
}

func (c *podRequests) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.Method == http.MethodGet && strings.HasSuffix(req.URL.Path, "/pods") {
		q := req.URL.Query()
		switch {
		case q.Get("watch") != "true" && q.Get("watch") != "1":
			c.lists.Add(1)
		case q.Get("sendInitialEvents") == "true":
			c.watchLists.Add(1)
		default:
			c.watches.Add(1)
		}
	}
	return c.next.RoundTrip(req)
}

// heap is the live Go heap after two forced collections: bytes of live objects (size-class
// rounded) and live objects.
type heap struct{ bytes, objects int64 }

func heapNow() heap {
	runtime.GC()
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return heap{bytes: int64(m.HeapAlloc), objects: int64(m.Mallocs - m.Frees)}
}

// procStatusBytes is a field of /proc/self/status in bytes (VmRSS, VmHWM); 0 where there is none.
func procStatusBytes(field string) int64 {
	status, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for line := range strings.Lines(string(status)) {
		rest, ok := strings.CutPrefix(line, field+":")
		if !ok {
			continue
		}
		kib, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 10, 64)
		if err != nil {
			return 0
		}
		return kib * 1024
	}
	return 0
}

// result is the run's JSON line; the fields the Rust binaries print, then the request counts.
type result struct {
	Client            string  `json:"client"`
	ManagedFields     string  `json:"managed_fields"`
	InitialList       string  `json:"initial_list"`
	Pods              int     `json:"pods"`
	HeapBytes         int64   `json:"heap_bytes"`
	Allocations       int64   `json:"allocations"`
	HeapPerPod        float64 `json:"heap_per_pod"`
	AllocationsPerPod float64 `json:"allocations_per_pod"`
	RSSBefore         int64   `json:"rss_before"`
	RSSAfterSync      int64   `json:"rss_after_sync"`
	PeakRSS           int64   `json:"peak_rss"`
	SyncSeconds       float64 `json:"sync_seconds"`
	ListRequests      int64   `json:"list_requests"`
	WatchListRequests int64   `json:"watch_list_requests"`
}

func main() {
	a := parseArgs()
	// Before anything of client-go reads its feature gates: they are read once, on first use.
	switch a.initialList {
	case "paged":
		_ = os.Setenv(watchListEnv, "false")
	case "streaming":
		_ = os.Setenv(watchListEnv, "true")
	}

	config, err := clientcmd.BuildConfigFromFlags("", a.kubeconfig)
	if err != nil {
		die(err)
	}
	// No client-side throttling (a QPS below zero turns the token bucket off), so that it cannot
	// stretch the sync; the informer makes only a few requests anyway.
	config.QPS = -1
	requests := &podRequests{}
	config.Wrap(func(rt http.RoundTripper) http.RoundTripper {
		requests.next = rt
		return requests
	})
	clientset, err := kubernetes.NewForConfig(config)
	if err != nil {
		die(err)
	}
	streaming := clientfeatures.FeatureGates().Enabled(clientfeatures.WatchListClient)
	if a.initialList != "" && streaming != (a.initialList == "streaming") {
		die(fmt.Errorf("--initial-list %s: client-go's WatchListClient gate stayed %t (%s is read once, on first use)",
			a.initialList, streaming, watchListEnv))
	}

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	before := heapNow()
	rssBefore := procStatusBytes("VmRSS")
	started := time.Now()

	factory := informers.NewSharedInformerFactoryWithOptions(clientset, 0, informers.WithNamespace(a.namespace))
	informer := factory.Core().V1().Pods().Informer()
	if a.dropManagedFields {
		err := informer.SetTransform(func(obj any) (any, error) {
			if pod, ok := obj.(*corev1.Pod); ok {
				pod.ManagedFields = nil
			}
			return obj, nil
		})
		if err != nil {
			die(err)
		}
	}
	factory.Start(ctx.Done())
	syncCtx, syncCancel := context.WithTimeout(ctx, syncTimeout)
	synced := cache.WaitFor(syncCtx, "", informer.HasSyncedChecker())
	syncCancel()
	if !synced {
		die(fmt.Errorf("the informer did not sync within %v", syncTimeout))
	}
	sync := time.Since(started)
	lists, watchLists := requests.lists.Load(), requests.watchLists.Load()
	initialList := "streaming"
	if lists > 0 {
		initialList = "paged"
	}
	if streaming && lists > 0 {
		fmt.Fprintf(os.Stderr, "%s: the streaming list failed, client-go fell back to LIST\n", program)
	}
	time.Sleep(a.settle)

	after := heapNow()
	pods := len(informer.GetStore().ListKeys())
	perPod := func(v int64) float64 {
		if pods == 0 {
			return 0
		}
		return float64(v) / float64(pods)
	}
	managedFields := "kept"
	if a.dropManagedFields {
		managedFields = "dropped"
	}
	line, err := json.Marshal(result{
		Client:            "client-go",
		ManagedFields:     managedFields,
		InitialList:       initialList,
		Pods:              pods,
		HeapBytes:         after.bytes - before.bytes,
		Allocations:       after.objects - before.objects,
		HeapPerPod:        math.Round(perPod(after.bytes - before.bytes)),
		AllocationsPerPod: math.Round(perPod(after.objects-before.objects)*10) / 10,
		RSSBefore:         rssBefore,
		RSSAfterSync:      procStatusBytes("VmRSS"),
		PeakRSS:           procStatusBytes("VmHWM"),
		SyncSeconds:       math.Round(sync.Seconds()*1000) / 1000,
		ListRequests:      lists,
		WatchListRequests: watchLists,
	})
	if err != nil {
		die(err)
	}
	fmt.Println(string(line))
	cancel()
	factory.Shutdown()
	if a.expect >= 0 && pods != a.expect {
		fmt.Fprintf(os.Stderr, "%s: the cache holds %d pods, expected %d\n", program, pods, a.expect)
		os.Exit(1)
	}
}
