// A kube-apiserver that starts and never becomes ready: it takes any flags, serves
// nothing and waits to be stopped. Packed as an apiserver image, it is the release a
// Cluster upgrade must roll back: its pods run, and their readiness probe never passes.
package main

import (
	"fmt"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	fmt.Fprintf(os.Stderr, "never-ready: started with %d flags; serving nothing until stopped\n", len(os.Args)-1)
	stop := make(chan os.Signal, 1)
	signal.Notify(stop, syscall.SIGTERM, syscall.SIGINT)
	fmt.Fprintf(os.Stderr, "never-ready: %v, exiting\n", <-stop)
}
