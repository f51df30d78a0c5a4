// Command client-go-peer is client-go's side of the peers benchmark: the typed clientset
// (k8s.io/client-go/kubernetes) lists pods, decodes a watch of pods, or GETs one ConfigMap
// many times, and prints one JSON line (see bench/README.md).
//
// --format default leaves rest.Config.ContentType unset, so the typed clients use their own
// default (protobuf for built-in types, see bench/README.md); json and protobuf set it.
package main

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"

	"peers/internal/measure"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"
)

const program = "client-go-peer"

func main() {
	args := measure.Parse(program)
	config, err := clientcmd.BuildConfigFromFlags("", args.Kubeconfig)
	if err != nil {
		measure.Die(program, err)
	}
	// No client-side throttling (a QPS below zero turns the token bucket off).
	config.QPS = -1
	switch args.Format {
	case "json":
		config.ContentType = "application/json"
	case "protobuf":
		config.ContentType = "application/vnd.kubernetes.protobuf"
	}
	clientset, err := kubernetes.NewForConfig(config)
	if err != nil {
		measure.Die(program, err)
	}
	ctx := context.Background()

	clock := measure.Start()
	var objects int
	switch args.Workload {
	case "list":
		objects, err = list(ctx, clientset, args)
	case "watch":
		objects, err = watchPods(ctx, clientset, args)
	case "gets":
		objects, err = gets(ctx, clientset, args)
	}
	if err != nil {
		measure.Die(program, err)
	}
	clock.Report(measure.Result{Client: "client-go", Format: args.Format, Args: args, Objects: objects})
}

// list is one LIST of the namespace's pods, whole (no limit).
func list(ctx context.Context, cs *kubernetes.Clientset, args measure.Args) (int, error) {
	pods, err := cs.CoreV1().Pods(args.Namespace).List(ctx, metav1.ListOptions{})
	if err != nil {
		return 0, err
	}
	return len(pods.Items), nil
}

// watchPods decodes every event of one watch until the server ends it, counting ADDED pods.
func watchPods(ctx context.Context, cs *kubernetes.Clientset, args measure.Args) (int, error) {
	w, err := cs.CoreV1().Pods(args.Namespace).Watch(ctx, metav1.ListOptions{ResourceVersion: "0"})
	if err != nil {
		return 0, err
	}
	defer w.Stop()
	added := 0
	for event := range w.ResultChan() {
		if event.Type != watch.Added {
			return added, fmt.Errorf("event %d: %s (%v)", added+1, event.Type, event.Object)
		}
		pod, ok := event.Object.(*corev1.Pod)
		if !ok || pod.Name == "" {
			return added, fmt.Errorf("event %d: not a named pod: %T", added+1, event.Object)
		}
		added++
	}
	return added, nil
}

// gets GETs one ConfigMap args.Requests times, args.Concurrency at once.
func gets(ctx context.Context, cs *kubernetes.Clientset, args measure.Args) (int, error) {
	client := cs.CoreV1().ConfigMaps(args.Namespace)
	var next, done atomic.Int64
	var firstErr error
	var once sync.Once
	var wg sync.WaitGroup
	for range args.Concurrency {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for next.Add(1) <= int64(args.Requests) {
				cm, err := client.Get(ctx, args.Name, metav1.GetOptions{})
				if err == nil && cm.Name != args.Name {
					err = fmt.Errorf("got %q instead of %q", cm.Name, args.Name)
				}
				if err != nil {
					once.Do(func() { firstErr = err })
					return
				}
				done.Add(1)
			}
		}()
	}
	wg.Wait()
	return int(done.Load()), firstErr
}
