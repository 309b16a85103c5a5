package main

import (
	"fmt"
	"log"
	"net"
	"net/http"
	"net/http/httputil"
	_ "net/http/pprof"
	"net/url"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/edgeauth/edgeauth/hostdemo/edge"
)

// listenAndPrint listens on a free 127.0.0.1 port, prints the address for edgebench to
// read, and serves h until SIGTERM.
func listenAndPrint(srv *http.Server) error {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	fmt.Println(ln.Addr().String())
	stop := make(chan os.Signal, 1)
	signal.Notify(stop, syscall.SIGTERM, os.Interrupt)
	go func() { <-stop; srv.Close() }()
	if err := srv.Serve(ln); err != http.ErrServerClosed {
		return err
	}
	return nil
}

// serveUpstream is the tiny app: 200 with a short body, whatever the request.
func serveUpstream() error {
	body := []byte("hello from the app\n")
	return listenAndPrint(&http.Server{
		Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "text/plain; charset=utf-8")
			w.Write(body)
		}),
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       60 * time.Second,
	})
}

// serveBare is the baseline: httputil.ReverseProxy to upstream with hostdemo's
// transport settings and server timeouts (hostdemo/main.go, proxyTo and run), and
// nothing else. With pooled, it also lends its copy buffers from a pool as hostdemo's
// proxy does: the same proxy as hostdemo's without the gate.
func serveBare(upstream string, pooled bool) error {
	u, err := url.Parse(upstream)
	if err != nil || u.Host == "" {
		return fmt.Errorf("-upstream %q is not an absolute URL", upstream)
	}
	p := httputil.NewSingleHostReverseProxy(u)
	p.Transport = &http.Transport{
		DialContext:           (&net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		TLSHandshakeTimeout:   10 * time.Second,
		ResponseHeaderTimeout: 30 * time.Second,
		ExpectContinueTimeout: time.Second,
		IdleConnTimeout:       90 * time.Second,
		MaxIdleConnsPerHost:   64,
		ForceAttemptHTTP2:     true,
	}
	p.ErrorLog = log.New(os.Stderr, "", log.LstdFlags)
	if addr := os.Getenv("EDGEBENCH_PPROF"); addr != "" {
		go http.ListenAndServe(addr, nil) // net/http/pprof, for -cpuprofile
	}
	if pooled {
		p.BufferPool = &edge.BufferPool{} // the type hostdemo's proxies use
	}
	return listenAndPrint(&http.Server{
		Handler:           p,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       60 * time.Second,
		MaxHeaderBytes:    64 << 10,
	})
}
