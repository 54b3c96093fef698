// pause is the pod sandbox process of a local-provider node: the first process of every pod, it
// holds the pod's namespaces open until the kubelet stops the pod. As pid 1 of the pod's PID
// namespace (when the namespace is shared) it also inherits every orphan, so it reaps them: a
// zombie nobody waits for would otherwise hold a pid slot until the pod ends.
package main

import (
	"fmt"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	if len(os.Args) > 1 && os.Args[1] == "-v" {
		fmt.Println("clusterforge pause")
		return
	}
	// Buffered: a signal arriving while a reap is in progress must not be dropped. SIGCHLD signals
	// coalesce, so each one reaps every child that has exited, not just one.
	signals := make(chan os.Signal, 8)
	signal.Notify(signals, syscall.SIGTERM, syscall.SIGINT, syscall.SIGCHLD)
	for sig := range signals {
		if sig == syscall.SIGCHLD {
			reap()
			continue
		}
		// SIGTERM or SIGINT: the runtime is stopping the pod.
		os.Exit(0)
	}
}

// reap waits for every exited child without blocking; it stops when none is left to collect.
func reap() {
	for {
		var status syscall.WaitStatus
		pid, err := syscall.Wait4(-1, &status, syscall.WNOHANG, nil)
		if err == syscall.EINTR {
			continue
		}
		if pid <= 0 || err != nil {
			return
		}
	}
}
