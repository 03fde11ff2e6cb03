// peer.js: the lab's Node.js TLS server and client (node:tls only, no packages).
//
//   node peer.js server --port P --cert CHAIN --key KEY [--alpn a,b] [--min TLSv1.2]
//                       [--max TLSv1.3] [--groups X448] [--ciphers S] [--keylog F]
//   node peer.js client --port P --cafile ROOT [--sni www.lab.test] [--alpn a,b]
//                       [--min TLSv1.2] [--max TLSv1.3] [--groups P-256] [--ciphers S]
//                       [--keylog F] [--path /]
//
// The server answers each HTTP request with a small page and ends the TLS stream (end():
// close_notify, then FIN); it stops by itself after 30 s. The client fetches one path and
// prints the status line, or "error: CODE message" and exits 1. Node checks the server
// certificate only after the handshake, and on a failure destroys the socket: a FIN with no
// alert. Both write an NSS key log with --keylog (the 'keylog' event).
'use strict';
const tls = require('node:tls');
const fs = require('node:fs');

function opts(argv) {
  const o = {};
  for (let i = 0; i < argv.length; i += 2) o[argv[i].replace(/^--/, '')] = argv[i + 1];
  return o;
}

function common(o) {
  const c = {};
  if (o.alpn) c.ALPNProtocols = o.alpn.split(',');
  if (o.min) c.minVersion = o.min;
  if (o.max) c.maxVersion = o.max;
  if (o.groups) c.ecdhCurve = o.groups;
  if (o.ciphers) c.ciphers = o.ciphers;
  return c;
}

function keylogTo(emitter, path) {
  if (path) emitter.on('keylog', (line) => fs.appendFileSync(path, line));
}

function server(o) {
  const c = Object.assign(common(o), { cert: fs.readFileSync(o.cert), key: fs.readFileSync(o.key) });
  const srv = tls.createServer(c, (sock) => {
    sock.once('data', (req) => {
      console.log(`${sock.remoteAddress}:${sock.remotePort} ${sock.getProtocol()} ${sock.getCipher().name} alpn=${sock.alpnProtocol} ${JSON.stringify(req.toString().split('\r\n')[0])}`);
      const body = '<html><body>TLS lab (Node)</body></html>\n';
      sock.end(`HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: ${body.length}\r\nConnection: close\r\n\r\n${body}`);
    });
    sock.on('error', (e) => console.log(`connection error: ${e.code} ${e.message}`));
  });
  keylogTo(srv, o.keylog);
  srv.on('tlsClientError', (e, sock) => console.log(`tlsClientError: ${e.code} ${e.message.trim()}`));
  srv.listen(Number(o.port), o.host || '127.0.0.1', () => console.log(`node server listening on ${o.port}`));
  setTimeout(() => process.exit(0), 30000).unref();
  setTimeout(() => srv.close(), 30000);
}

function client(o) {
  const c = Object.assign(common(o), {
    host: o.host || '127.0.0.1', port: Number(o.port), servername: o.sni || 'www.lab.test',
    ca: fs.readFileSync(o.cafile),
  });
  const sock = tls.connect(c, () => {
    sock.write(`GET ${o.path || '/'} HTTP/1.1\r\nHost: ${c.servername}\r\nConnection: close\r\n\r\n`);
  });
  keylogTo(sock, o.keylog);
  let data = '';
  sock.setTimeout(5000, () => { console.error('error: ETIMEDOUT no answer within 5 s'); process.exit(1); });
  sock.on('data', (d) => { data += d.toString(); });
  sock.on('end', () => {
    console.log(`${sock.getProtocol()} ${sock.getCipher() && sock.getCipher().name}: ${data.split('\r\n')[0]}`);
    process.exit(0);
  });
  sock.on('error', (e) => { console.error(`error: ${e.code} ${e.message.trim()}`); process.exit(1); });
}

const [mode, ...rest] = process.argv.slice(2);
if (mode === 'server') server(opts(rest));
else if (mode === 'client') client(opts(rest));
else { console.error('usage: node peer.js server|client ...'); process.exit(2); }
