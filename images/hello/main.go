// hello is the demo and test workload of a local-provider node: a small HTTP server, and a client
// mode so that a test can reach it from inside an image that has no shell and no curl:
//
//	hello                 # serve on :8080 (PORT overrides): GET / names the pod, /healthz says ok
//	hello get URL         # GET URL, print the body; exit 1 unless the answer is 2xx
package main

import (
	"fmt"
	"io"
	"log"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"
)

// version is set by hack/node-images.sh (-X main.version=<image tag>) so that an answer says
// which build of the image is running.
var version = "dev"

func main() {
	if len(os.Args) > 1 {
		switch os.Args[1] {
		case "get":
			if len(os.Args) != 3 {
				fmt.Fprintln(os.Stderr, "usage: hello get URL")
				os.Exit(2)
			}
			os.Exit(get(os.Args[2]))
		case "-v", "version":
			fmt.Println(version)
			return
		default:
			fmt.Fprintf(os.Stderr, "usage: hello [get URL | version]\nunknown argument %q\n", os.Args[1])
			os.Exit(2)
		}
	}
	serve()
}

func serve() {
	port := os.Getenv("PORT")
	if port == "" {
		port = "8080"
	}
	// Stdout, not stderr: it is what `kubectl logs` shows first, and what a reader expects there.
	logger := log.New(os.Stdout, "", log.LstdFlags|log.LUTC)
	pod := os.Getenv("HOSTNAME")
	if pod == "" {
		pod, _ = os.Hostname()
	}

	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, _ *http.Request) {
		fmt.Fprintf(w, "hello from %s (clusterforge hello %s)\n", pod, version)
	})
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		fmt.Fprintln(w, "ok")
	})
	server := &http.Server{
		Addr:              ":" + port,
		Handler:           logRequests(logger, mux),
		ReadHeaderTimeout: 10 * time.Second,
	}

	// As a container's pid 1, SIGTERM has no default action: without this the pod would only end
	// when the kubelet's grace period runs out and it sends SIGKILL.
	stop := make(chan os.Signal, 1)
	signal.Notify(stop, syscall.SIGTERM, syscall.SIGINT)
	go func() {
		<-stop
		logger.Printf("stopping")
		_ = server.Close()
	}()

	logger.Printf("hello %s listening on :%s as %s", version, port, pod)
	if err := server.ListenAndServe(); err != nil && err != http.ErrServerClosed {
		logger.Printf("%v", err)
		os.Exit(1)
	}
}

// statusWriter keeps the status code a handler sent, for the request log.
type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	w.status = code
	w.ResponseWriter.WriteHeader(code)
}

func logRequests(logger *log.Logger, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		sw := &statusWriter{ResponseWriter: w, status: http.StatusOK}
		next.ServeHTTP(sw, r)
		logger.Printf("%s %s %s %d", r.RemoteAddr, r.Method, r.URL.RequestURI(), sw.status)
	})
}

func get(url string) int {
	client := &http.Client{Timeout: 10 * time.Second}
	resp, err := client.Get(url)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer resp.Body.Close()
	if _, err := io.Copy(os.Stdout, resp.Body); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		fmt.Fprintf(os.Stderr, "%s: %s\n", url, resp.Status)
		return 1
	}
	return 0
}
