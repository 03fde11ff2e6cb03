//! rustls-peer: the lab's rustls server and client (rustls 0.20, Debian's librust-rustls-dev).
//!
//!   rustls-peer server --port P --cert CHAIN.pem --key KEY.pem [--versions 1.2,1.3]
//!               [--client-ca CA.pem] [--alpn a,b]
//!   rustls-peer client --port P --host www.lab.test --cafile ROOT.pem [--versions 1.2,1.3]
//!               [--cert C.pem --key K.pem] [--alpn a,b]
//!
//! The server answers every connection with a small HTTP/1.1 page and close_notify, and
//! prints "error: ..." for a failed handshake; --client-ca requires a client certificate
//! from that CA. The client verifies chain and name (webpki), sends one GET, prints the status
//! line, or "error: ..." and exits 1. Both write the key log named by SSLKEYLOGFILE.
use std::collections::HashMap;
use std::fs::File;
use std::io::{BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::Arc;

fn opts(args: &[String]) -> HashMap<String, String> {
    args.chunks(2)
        .filter(|c| c.len() == 2)
        .map(|c| (c[0].trim_start_matches("--").to_string(), c[1].clone()))
        .collect()
}

fn certs(path: &str) -> Vec<rustls::Certificate> {
    let mut r = BufReader::new(File::open(path).expect("certificate file"));
    rustls_pemfile::certs(&mut r).expect("PEM certificates").into_iter().map(rustls::Certificate).collect()
}

fn key(path: &str) -> rustls::PrivateKey {
    let mut r = BufReader::new(File::open(path).expect("key file"));
    let mut keys = rustls_pemfile::pkcs8_private_keys(&mut r).expect("PKCS#8 key");
    rustls::PrivateKey(keys.remove(0))
}

fn versions(o: &HashMap<String, String>) -> Vec<&'static rustls::SupportedProtocolVersion> {
    let v = o.get("versions").map(String::as_str).unwrap_or("1.2,1.3");
    v.split(',')
        .map(|x| if x == "1.2" { &rustls::version::TLS12 } else { &rustls::version::TLS13 })
        .collect()
}

fn alpn(o: &HashMap<String, String>) -> Vec<Vec<u8>> {
    o.get("alpn").map(|a| a.split(',').map(|p| p.as_bytes().to_vec()).collect()).unwrap_or_default()
}

fn roots(path: &str) -> rustls::RootCertStore {
    let mut store = rustls::RootCertStore::empty();
    for c in certs(path) {
        store.add(&c).expect("a CA certificate");
    }
    store
}

fn server(o: HashMap<String, String>) {
    let builder = rustls::ServerConfig::builder()
        .with_safe_default_cipher_suites()
        .with_safe_default_kx_groups()
        .with_protocol_versions(&versions(&o))
        .expect("protocol versions");
    let builder = match o.get("client-ca") {
        Some(ca) => builder.with_client_cert_verifier(
            rustls::server::AllowAnyAuthenticatedClient::new(roots(ca))),
        None => builder.with_no_client_auth(),
    };
    let mut cfg = builder.with_single_cert(certs(&o["cert"]), key(&o["key"])).expect("server certificate");
    cfg.alpn_protocols = alpn(&o);
    cfg.key_log = Arc::new(rustls::KeyLogFile::new());
    let cfg = Arc::new(cfg);
    let listener = TcpListener::bind(("127.0.0.1", o["port"].parse::<u16>().unwrap())).expect("bind");
    println!("listening");
    for sock in listener.incoming() {
        let sock = match sock { Ok(s) => s, Err(_) => continue };
        let conn = rustls::ServerConnection::new(cfg.clone()).expect("connection");
        let mut tls = rustls::StreamOwned::new(conn, sock);
        let mut buf = [0u8; 4096];
        let mut head = Vec::new();
        let result = loop {
            match tls.read(&mut buf) {
                Ok(0) => break Err("connection closed before a request".to_string()),
                Ok(n) => {
                    head.extend_from_slice(&buf[..n]);
                    if head.windows(4).any(|w| w == b"\r\n\r\n") { break Ok(()); }
                }
                Err(e) => break Err(e.to_string()),
            }
        };
        match result {
            Ok(()) => {
                let body = "TLS lab (rustls)\n";
                let resp = format!("HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{}", body.len(), body);
                let _ = tls.write_all(resp.as_bytes());
                tls.conn.send_close_notify();
                let _ = tls.flush();
                println!("served {:?}", tls.conn.protocol_version());
            }
            Err(e) => println!("error: {}", e),
        }
    }
}

fn client(o: HashMap<String, String>) {
    let builder = rustls::ClientConfig::builder()
        .with_safe_default_cipher_suites()
        .with_safe_default_kx_groups()
        .with_protocol_versions(&versions(&o))
        .expect("protocol versions")
        .with_root_certificates(roots(&o["cafile"]));
    let mut cfg = match o.get("cert") {
        Some(c) => builder.with_single_cert(certs(c), key(&o["key"])).expect("client certificate"),
        None => builder.with_no_client_auth(),
    };
    cfg.alpn_protocols = alpn(&o);
    cfg.key_log = Arc::new(rustls::KeyLogFile::new());
    let host = o.get("host").cloned().unwrap_or_else(|| "www.lab.test".to_string());
    let name = rustls::ServerName::try_from(host.as_str()).expect("server name");
    let conn = rustls::ClientConnection::new(Arc::new(cfg), name).expect("connection");
    let sock = TcpStream::connect(("127.0.0.1", o["port"].parse::<u16>().unwrap())).expect("connect");
    sock.set_read_timeout(Some(std::time::Duration::from_secs(5))).unwrap();
    let mut tls = rustls::StreamOwned::new(conn, sock);
    let req = format!("GET / HTTP/1.1\r\nHost: {}\r\nConnection: close\r\n\r\n", host);
    let mut resp = Vec::new();
    let r = tls.write_all(req.as_bytes()).and_then(|_| tls.read_to_end(&mut resp));
    match r {
        Ok(_) => {
            let text = String::from_utf8_lossy(&resp);
            println!("{}", text.lines().next().unwrap_or(""));
        }
        Err(e) => {
            println!("error: {}", e);
            std::process::exit(1);
        }
    }
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let o = opts(&args[2..]);
    if args.get(1).map(String::as_str) == Some("server") { server(o) } else { client(o) }
}
