// kstatus reads one Kubernetes object as JSON on stdin and prints what sigs.k8s.io/cli-utils'
// kstatus computes for it (the library behind Flux's health checks and `kubectl wait`-like
// tools): the status on the first line, the message on the second.
package main

import (
	"fmt"
	"io"
	"os"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/cli-utils/pkg/kstatus/status"
)

func main() {
	in, err := io.ReadAll(os.Stdin)
	if err != nil {
		fail("reading stdin: %v", err)
	}
	// UnmarshalJSON keeps whole numbers as int64, as the API machinery does (kstatus reads
	// metadata.generation as one); encoding/json alone would give float64.
	obj := &unstructured.Unstructured{}
	if err := obj.UnmarshalJSON(in); err != nil {
		fail("stdin is not a Kubernetes object: %v", err)
	}
	res, err := status.Compute(obj)
	if err != nil {
		fail("kstatus: %v", err)
	}
	fmt.Printf("%s\n%s\n", res.Status, res.Message)
}

func fail(format string, args ...any) {
	fmt.Fprintf(os.Stderr, format+"\n", args...)
	os.Exit(1)
}
