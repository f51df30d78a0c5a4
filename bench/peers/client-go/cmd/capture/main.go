// Command capture records what the replay server serves, from a real kube-apiserver: the pod
// LIST of a namespace, whole (no limit), as JSON and as protobuf, and the first COUNT events of
// a WATCH from resourceVersion=0 (an ADDED event per existing pod) in both formats, the frames
// exactly as sent (JSON: one event per line; protobuf: 4-byte big-endian length, then the frame).
// It also makes sure the ConfigMap of the gets workload exists.
//
// usage: capture --kubeconfig PATH --namespace NS --expect COUNT --out DIR [--configmap NAME]
//
// Files written in DIR: list.json, list.pb, watch.json, watch.pb. One JSON line on stdout says
// their sizes and the server's version.
package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"

	"peers/internal/measure"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
)

const (
	program   = "capture"
	mediaJSON = "application/json"
	mediaPB   = "application/vnd.kubernetes.protobuf"
)

// protobufMagic starts every protobuf-encoded Kubernetes object (the envelope around runtime.Unknown).
var protobufMagic = []byte{0x6b, 0x38, 0x73, 0x00}

type capturer struct {
	http      *http.Client
	host      string
	namespace string
	count     int
	out       string
}

func main() {
	kubeconfig := flag.String("kubeconfig", "", "kubeconfig of the real API server (required)")
	namespace := flag.String("namespace", "bench-pods", "namespace holding the pods")
	count := flag.Int("expect", -1, "pods in the namespace (required)")
	out := flag.String("out", "", "directory for the captured files (required)")
	configMap := flag.String("configmap", "bench-small", "the ConfigMap the gets workload reads")
	flag.Parse()
	if *kubeconfig == "" || *out == "" || *count < 1 {
		fmt.Fprintln(os.Stderr, "usage: capture --kubeconfig PATH --namespace NS --expect COUNT --out DIR [--configmap NAME]")
		os.Exit(2)
	}
	if err := run(*kubeconfig, *namespace, *count, *out, *configMap); err != nil {
		measure.Die(program, err)
	}
}

func run(kubeconfig, namespace string, count int, out, configMap string) error {
	config, err := clientcmd.BuildConfigFromFlags("", kubeconfig)
	if err != nil {
		return err
	}
	config.QPS = -1
	// Bodies as the server sends them without compression: what the replay server serves.
	config.DisableCompression = true
	clientset, err := kubernetes.NewForConfig(config)
	if err != nil {
		return err
	}
	if err := ensureConfigMap(clientset, namespace, configMap); err != nil {
		return err
	}
	version, err := clientset.Discovery().ServerVersion()
	if err != nil {
		return err
	}
	httpClient, err := rest.HTTPClientFor(config)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(out, 0o755); err != nil {
		return err
	}
	c := capturer{http: httpClient, host: strings.TrimSuffix(config.Host, "/"), namespace: namespace, count: count, out: out}
	summary := map[string]any{"pods": count, "server_version": version.GitVersion}
	for _, f := range []struct{ name, media string }{{"json", mediaJSON}, {"pb", mediaPB}} {
		size, err := c.list(f.name, f.media)
		if err != nil {
			return fmt.Errorf("list (%s): %w", f.media, err)
		}
		summary["list_"+f.name+"_bytes"] = size
		size, err = c.watch(f.name, f.media)
		if err != nil {
			return fmt.Errorf("watch (%s): %w", f.media, err)
		}
		summary["watch_"+f.name+"_bytes"] = size
	}
	line, err := json.Marshal(summary)
	if err != nil {
		return err
	}
	fmt.Println(string(line))
	return nil
}

// ensureConfigMap creates the small ConfigMap of the gets workload unless it exists.
func ensureConfigMap(cs *kubernetes.Clientset, namespace, name string) error {
	cm := &corev1.ConfigMap{
		ObjectMeta: metav1.ObjectMeta{Name: name, Labels: map[string]string{"app.kubernetes.io/part-of": "bench"}},
		Data: map[string]string{
			"log-level":       "info",
			"feature-flags":   "checkout-v2,fast-search",
			"timeout-seconds": "30",
			"endpoint":        "http://otel-collector.observability.svc.cluster.local:4317",
		},
	}
	_, err := cs.CoreV1().ConfigMaps(namespace).Create(context.Background(), cm, metav1.CreateOptions{})
	if apierrors.IsAlreadyExists(err) {
		return nil
	}
	return err
}

func (c capturer) get(query url.Values, accept string) (*http.Response, error) {
	u := fmt.Sprintf("%s/api/v1/namespaces/%s/pods?%s", c.host, url.PathEscape(c.namespace), query.Encode())
	req, err := http.NewRequest(http.MethodGet, u, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Accept", accept)
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		body, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
		_ = resp.Body.Close()
		return nil, fmt.Errorf("%s: %s", resp.Status, body)
	}
	if mt, _, err := mime.ParseMediaType(resp.Header.Get("Content-Type")); err != nil || mt != accept {
		_ = resp.Body.Close()
		return nil, fmt.Errorf("asked for %s, got Content-Type %q", accept, resp.Header.Get("Content-Type"))
	}
	return resp, nil
}

// list saves the whole LIST and checks that it decodes to COUNT pods.
func (c capturer) list(name, accept string) (int, error) {
	resp, err := c.get(url.Values{}, accept)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return 0, err
	}
	obj, _, err := scheme.Codecs.UniversalDeserializer().Decode(body, nil, nil)
	if err != nil {
		return 0, err
	}
	pods, ok := obj.(*corev1.PodList)
	if !ok {
		return 0, fmt.Errorf("decoded a %T, not a PodList", obj)
	}
	if len(pods.Items) != c.count || pods.Continue != "" {
		return 0, fmt.Errorf("the list holds %d pods (continue %q), expected %d", len(pods.Items), pods.Continue, c.count)
	}
	return len(body), os.WriteFile(filepath.Join(c.out, "list."+name), body, 0o644)
}

// watch saves the first COUNT frames of a watch from resourceVersion=0, checking each is ADDED.
func (c capturer) watch(name, accept string) (int, error) {
	resp, err := c.get(url.Values{"watch": {"1"}, "resourceVersion": {"0"}, "timeoutSeconds": {"600"}}, accept)
	if err != nil {
		return 0, err
	}
	// Closing the body ends the watch once the frames are read.
	defer resp.Body.Close()
	r := bufio.NewReaderSize(resp.Body, 1<<20)
	var captured bytes.Buffer
	for i := range c.count {
		var frame []byte
		var eventType string
		if accept == mediaJSON {
			frame, err = r.ReadBytes('\n')
			if err != nil {
				return 0, fmt.Errorf("event %d: %w", i+1, err)
			}
			var event struct{ Type string }
			if err := json.Unmarshal(frame, &event); err != nil {
				return 0, fmt.Errorf("event %d: %w", i+1, err)
			}
			eventType = event.Type
		} else {
			var prefix [4]byte
			if _, err := io.ReadFull(r, prefix[:]); err != nil {
				return 0, fmt.Errorf("event %d: %w", i+1, err)
			}
			frame = make([]byte, 4+binary.BigEndian.Uint32(prefix[:]))
			copy(frame, prefix[:])
			if _, err := io.ReadFull(r, frame[4:]); err != nil {
				return 0, fmt.Errorf("event %d: %w", i+1, err)
			}
			if eventType, err = protobufEventType(frame[4:]); err != nil {
				return 0, fmt.Errorf("event %d: %w", i+1, err)
			}
		}
		if eventType != "ADDED" {
			return 0, fmt.Errorf("event %d is %s, not ADDED: was the namespace changing?", i+1, eventType)
		}
		captured.Write(frame)
	}
	return captured.Len(), os.WriteFile(filepath.Join(c.out, "watch."+name), captured.Bytes(), 0o644)
}

// protobufEventType reads the type of a protobuf watch frame: a metav1.WatchEvent as is (the
// stream's frames carry no envelope), whose object is an enveloped (magic + runtime.Unknown) pod.
func protobufEventType(frame []byte) (string, error) {
	var event metav1.WatchEvent
	if err := event.Unmarshal(frame); err != nil {
		return "", err
	}
	if !bytes.HasPrefix(event.Object.Raw, protobufMagic) {
		return "", errors.New("the event's object lacks the protobuf magic")
	}
	var unknown runtime.Unknown
	if err := unknown.Unmarshal(event.Object.Raw[len(protobufMagic):]); err != nil {
		return "", err
	}
	if unknown.Kind != "Pod" {
		return "", fmt.Errorf("the event carries a %q, not a Pod", unknown.Kind)
	}
	return event.Type, nil
}
