// peer.go: the lab's Go TLS server and client (crypto/tls from the Go standard library only).
//
//	peer server -listen 127.0.0.1:P -cert CHAIN -key KEY [-alpn a,b] [-min 1.2] [-max 1.3]
//	            [-mode http|truncate] [-keylog F]
//	peer client -connect 127.0.0.1:P -sni NAME -cafile ROOT [-alpn a,b] [-max 1.2]
//	            [-keylog F] [-path /]
//
// The server answers one HTTP/1.1 request per connection: "http" with a small page and a
// close_notify (tls.Conn.Close), "truncate" with a Content-Length of 20000, 3000 bytes of body
// and then a close of the TCP socket underneath (FIN, no close_notify). It serves for at most
// 30 seconds. The client fetches one path and prints the status line, or "error: ..." and
// exits 1. Both write an NSS key log when -keylog is given.
package main

import (
	"bufio"
	"context"
	"crypto/tls"
	"crypto/x509"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"time"
)

var versions = map[string]uint16{"1.0": tls.VersionTLS10, "1.1": tls.VersionTLS11,
	"1.2": tls.VersionTLS12, "1.3": tls.VersionTLS13}

func keylog(path string) io.Writer {
	if path == "" {
		return nil
	}
	f, err := os.OpenFile(path, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		fmt.Fprintln(os.Stderr, "keylog:", err)
		os.Exit(2)
	}
	return f
}

func protos(s string) []string {
	if s == "" {
		return nil
	}
	return strings.Split(s, ",")
}

func server(args []string) {
	fs := flag.NewFlagSet("server", flag.ExitOnError)
	listen := fs.String("listen", "127.0.0.1:8443", "")
	cert := fs.String("cert", "", "")
	key := fs.String("key", "", "")
	alpn := fs.String("alpn", "", "")
	minV := fs.String("min", "1.2", "")
	maxV := fs.String("max", "1.3", "")
	mode := fs.String("mode", "http", "")
	kl := fs.String("keylog", "", "")
	fs.Parse(args)
	pair, err := tls.LoadX509KeyPair(*cert, *key)
	if err != nil {
		fmt.Println("load:", err)
		os.Exit(2)
	}
	cfg := &tls.Config{Certificates: []tls.Certificate{pair}, NextProtos: protos(*alpn),
		MinVersion: versions[*minV], MaxVersion: versions[*maxV], KeyLogWriter: keylog(*kl)}
	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		fmt.Println("listen:", err)
		os.Exit(2)
	}
	fmt.Printf("go server (%s) listening on %s\n", *mode, *listen)
	deadline := time.Now().Add(30 * time.Second)
	ln.(*net.TCPListener).SetDeadline(deadline)
	for {
		raw, err := ln.Accept()
		if err != nil {
			return
		}
		go serve(raw, cfg, *mode)
	}
}

func serve(raw net.Conn, cfg *tls.Config, mode string) {
	raw.SetDeadline(time.Now().Add(10 * time.Second))
	conn := tls.Server(raw, cfg)
	if err := conn.Handshake(); err != nil {
		fmt.Printf("%s: handshake error: %v\n", raw.RemoteAddr(), err)
		raw.Close()
		return
	}
	st := conn.ConnectionState()
	req, err := bufio.NewReader(conn).ReadString('\n')
	if err != nil {
		fmt.Printf("%s: read error: %v\n", raw.RemoteAddr(), err)
		conn.Close()
		return
	}
	fmt.Printf("%s: %s alpn=%q request %q\n", raw.RemoteAddr(), tls.CipherSuiteName(st.CipherSuite),
		st.NegotiatedProtocol, strings.TrimSpace(req))
	time.Sleep(50 * time.Millisecond) // the rest of the request headers
	if mode == "truncate" {
		fmt.Fprintf(conn, "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 20000\r\n\r\n")
		conn.Write([]byte(strings.Repeat("x", 3000)))
		time.Sleep(100 * time.Millisecond)
		fmt.Printf("%s: sent 3000 of 20000 bytes, closing the TCP socket without close_notify\n",
			raw.RemoteAddr())
		raw.Close()
		return
	}
	body := "<html><body>TLS lab (Go)</body></html>\n"
	fmt.Fprintf(conn, "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: %d\r\nConnection: close\r\n\r\n%s",
		len(body), body)
	conn.Close()
}

func client(args []string) {
	fs := flag.NewFlagSet("client", flag.ExitOnError)
	connect := fs.String("connect", "127.0.0.1:8443", "")
	sni := fs.String("sni", "www.lab.test", "")
	cafile := fs.String("cafile", "", "")
	alpn := fs.String("alpn", "", "")
	maxV := fs.String("max", "1.3", "")
	minV := fs.String("min", "1.2", "")
	kl := fs.String("keylog", "", "")
	path := fs.String("path", "/", "")
	fs.Parse(args)
	pool := x509.NewCertPool()
	if pem, err := os.ReadFile(*cafile); err == nil {
		pool.AppendCertsFromPEM(pem)
	}
	cfg := &tls.Config{RootCAs: pool, NextProtos: protos(*alpn),
		MinVersion: versions[*minV], MaxVersion: versions[*maxV], KeyLogWriter: keylog(*kl)}
	// net/http as a Go program would use it, dialling 127.0.0.1 for the lab's host name.
	dialer := &net.Dialer{Timeout: 5 * time.Second}
	tr := &http.Transport{TLSClientConfig: cfg, DisableKeepAlives: true,
		DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
			return dialer.DialContext(ctx, network, *connect)
		}}
	hc := &http.Client{Transport: tr, Timeout: 5 * time.Second}
	_, port, _ := net.SplitHostPort(*connect)
	resp, err := hc.Get("https://" + net.JoinHostPort(*sni, port) + *path)
	if err != nil {
		fmt.Fprintln(os.Stderr, "error:", err)
		os.Exit(1)
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	fmt.Printf("%s %s: %s (%d body bytes)\n", map[uint16]string{tls.VersionTLS12: "TLSv1.2",
		tls.VersionTLS13: "TLSv1.3"}[resp.TLS.Version], tls.CipherSuiteName(resp.TLS.CipherSuite),
		resp.Status, len(body))
	if err != nil {
		fmt.Fprintln(os.Stderr, "error:", err)
		os.Exit(1)
	}
}

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: peer server|client ...")
		os.Exit(2)
	}
	switch os.Args[1] {
	case "server":
		server(os.Args[2:])
	case "client":
		client(os.Args[2:])
	default:
		os.Exit(2)
	}
}
