// Command etcd is the etcd server, built from go.etcd.io/etcd/server/v3 inside the
// control plane's wrapper module so it shares kube-apiserver's module graph.
package main

import (
	"os"

	"go.etcd.io/etcd/server/v3/etcdmain"
)

func main() {
	etcdmain.Main(os.Args)
}
