// Command replay serves captured API responses from memory, so that client runs measure the
// clients and not kube-apiserver or etcd. It listens with TLS on loopback (HTTP/2 by ALPN, or
// HTTP/1.1, as kube-apiserver does) with a certificate of its own, and answers:
//
//	GET /api/v1/namespaces/NS/pods               the captured LIST (list.json or list.pb)
//	GET /api/v1/namespaces/NS/pods?watch=true    the captured watch frames (watch.json or
//	                                             watch.pb), REPEAT times over, then ends
//
// in the format the Accept header prefers: the first media type it lists that the server knows
// (application/vnd.kubernetes.protobuf or application/json; */* and no Accept mean JSON).
// Requests must carry the bearer token of the kubeconfig it writes. Bodies are sent as captured,
// without compression, whatever Accept-Encoding says.
//
// usage: replay --dir DIR --namespace NS --kubeconfig OUT [--repeat 10] [--log FILE] [--ca FILE] [--http1-only]
//
// It writes OUT (a kubeconfig with its CA and the token) once it listens; it runs until killed.
package main

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/pem"
	"flag"
	"fmt"
	"log"
	"math/big"
	"mime"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"
)

const (
	mediaJSON = "application/json"
	mediaPB   = "application/vnd.kubernetes.protobuf"
	token     = "replay-dummy-token"
)

type server struct {
	path   string
	list   map[string][]byte // by media type
	watch  map[string][]byte
	repeat int
	logMu  sync.Mutex
	log    *log.Logger
}

func main() {
	dir := flag.String("dir", "", "directory with list.json, list.pb, watch.json, watch.pb (required)")
	namespace := flag.String("namespace", "bench-pods", "the namespace in the served path")
	kubeconfig := flag.String("kubeconfig", "", "where to write the kubeconfig for this server (required)")
	repeat := flag.Int("repeat", 10, "how many times a watch sends the captured frames")
	logFile := flag.String("log", "", "a line per request goes here (default: stderr)")
	caFile := flag.String("ca", "", "also write the CA certificate (PEM) here")
	http1Only := flag.Bool("http1-only", false, "offer HTTP/1.1 only (no HTTP/2 by ALPN)")
	flag.Parse()
	if *dir == "" || *kubeconfig == "" || *repeat < 1 {
		fmt.Fprintln(os.Stderr, "usage: replay --dir DIR --namespace NS --kubeconfig OUT [--repeat N] [--log FILE]")
		os.Exit(2)
	}
	logOut := os.Stderr
	if *logFile != "" {
		f, err := os.OpenFile(*logFile, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
		if err != nil {
			log.Fatalf("replay: %v", err)
		}
		logOut = f
	}
	s := &server{
		path:   "/api/v1/namespaces/" + *namespace + "/pods",
		list:   map[string][]byte{},
		watch:  map[string][]byte{},
		repeat: *repeat,
		log:    log.New(logOut, "", 0),
	}
	for media, ext := range map[string]string{mediaJSON: "json", mediaPB: "pb"} {
		var err error
		if s.list[media], err = os.ReadFile(filepath.Join(*dir, "list."+ext)); err != nil {
			log.Fatalf("replay: %v", err)
		}
		if s.watch[media], err = os.ReadFile(filepath.Join(*dir, "watch."+ext)); err != nil {
			log.Fatalf("replay: %v", err)
		}
	}

	caPEM, cert, err := certificates()
	if err != nil {
		log.Fatalf("replay: certificates: %v", err)
	}
	listener, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		log.Fatalf("replay: %v", err)
	}
	srv := &http.Server{
		Handler:           s,
		TLSConfig:         &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12},
		ReadHeaderTimeout: 30 * time.Second,
	}
	if *http1Only {
		// A non-nil, empty TLSNextProto turns HTTP/2 off (net/http's documented way).
		srv.TLSNextProto = map[string]func(*http.Server, *tls.Conn, http.Handler){}
	}
	host := "https://" + listener.Addr().String()
	if *caFile != "" {
		if err := os.WriteFile(*caFile, caPEM, 0o644); err != nil {
			log.Fatalf("replay: %v", err)
		}
	}
	if err := writeKubeconfig(*kubeconfig, host, caPEM); err != nil {
		log.Fatalf("replay: %v", err)
	}
	fmt.Fprintf(os.Stderr, "replay: serving %s%s (kubeconfig %s)\n", host, s.path, *kubeconfig)
	// ServeTLS offers h2 and http/1.1 by ALPN (unless --http1-only).
	log.Fatalf("replay: %v", srv.ServeTLS(listener, "", ""))
}

// negotiate picks the response's media type from an Accept header.
func negotiate(accept string) (string, bool) {
	if strings.TrimSpace(accept) == "" {
		return mediaJSON, true
	}
	for _, clause := range strings.Split(accept, ",") {
		mt, params, err := mime.ParseMediaType(strings.TrimSpace(clause))
		if err != nil {
			continue
		}
		if q, ok := params["q"]; ok {
			if v, err := strconv.ParseFloat(q, 64); err == nil && v == 0 {
				continue
			}
		}
		switch mt {
		case mediaJSON, mediaPB:
			return mt, true
		case "*/*", "application/*":
			return mediaJSON, true
		}
	}
	return "", false
}

func (s *server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	status, media := s.route(r)
	watch := r.URL.Query().Get("watch")
	watch = map[bool]string{true: "watch", false: "list"}[watch == "true" || watch == "1"]
	// Logged before the response is written, so the line is there once the client has read it.
	s.logMu.Lock()
	s.log.Printf("%s %s %s %s status=%d kind=%s media=%q accept=%q accept_encoding=%q user_agent=%q",
		time.Now().UTC().Format(time.RFC3339Nano), r.Proto, r.Method, r.URL.RequestURI(), status, watch, media,
		r.Header.Get("Accept"), r.Header.Get("Accept-Encoding"), r.UserAgent())
	s.logMu.Unlock()
	if status != http.StatusOK {
		http.Error(w, http.StatusText(status), status)
		return
	}
	if watch == "list" {
		body := s.list[media]
		w.Header().Set("Content-Type", media)
		w.Header().Set("Content-Length", strconv.Itoa(len(body)))
		_, _ = w.Write(body)
		return
	}
	frames := s.watch[media]
	w.Header().Set("Content-Type", media+";stream=watch")
	w.Header().Set("Cache-Control", "no-cache, private")
	w.WriteHeader(http.StatusOK)
	flusher, _ := w.(http.Flusher)
	for range s.repeat {
		if _, err := w.Write(frames); err != nil {
			return // the client went away
		}
		if flusher != nil {
			flusher.Flush()
		}
	}
}

// route checks the request and picks the media type of the answer.
func (s *server) route(r *http.Request) (status int, media string) {
	if r.Header.Get("Authorization") != "Bearer "+token {
		return http.StatusUnauthorized, ""
	}
	if r.Method != http.MethodGet || r.URL.Path != s.path {
		return http.StatusNotFound, ""
	}
	media, ok := negotiate(r.Header.Get("Accept"))
	if !ok {
		return http.StatusNotAcceptable, ""
	}
	return http.StatusOK, media
}

// certificates makes a CA and a serving certificate for 127.0.0.1 signed by it (a separate CA:
// rustls refuses a CA certificate as a server's own).
func certificates() (caPEM []byte, serving tls.Certificate, err error) {
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, serving, err
	}
	now := time.Now()
	caTemplate := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "replay-ca"},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.Add(7 * 24 * time.Hour),
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTemplate, caTemplate, &caKey.PublicKey, caKey)
	if err != nil {
		return nil, serving, err
	}
	caCert, err := x509.ParseCertificate(caDER)
	if err != nil {
		return nil, serving, err
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, serving, err
	}
	template := &x509.Certificate{
		SerialNumber:          big.NewInt(2),
		Subject:               pkix.Name{CommonName: "replay"},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.Add(7 * 24 * time.Hour),
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageDigitalSignature,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		IPAddresses:           []net.IP{net.IPv4(127, 0, 0, 1)},
		DNSNames:              []string{"localhost"},
	}
	der, err := x509.CreateCertificate(rand.Reader, template, caCert, &key.PublicKey, caKey)
	if err != nil {
		return nil, serving, err
	}
	serving = tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caDER}), serving, nil
}

func writeKubeconfig(path, host string, caPEM []byte) error {
	config := fmt.Sprintf(`apiVersion: v1
kind: Config
clusters:
- name: replay
  cluster:
    server: %s
    certificate-authority-data: %s
users:
- name: replay
  user:
    token: %s
contexts:
- name: replay
  context:
    cluster: replay
    user: replay
    namespace: default
current-context: replay
`, host, base64.StdEncoding.EncodeToString(caPEM), token)
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, []byte(config), 0o600); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}
