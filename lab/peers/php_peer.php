<?php
// A TLS client and server in PHP's stream sockets (ext/openssl; the sixth wide lab, lab/wide6.py).
//   php php_peer.php client --port P --cafile F [--host NAME] [--connect ADDR] [--method M]
//                           [--cert F --key F]
//   php php_peer.php server --port P --cert FULLCHAIN --key F [--method M] [--client-ca F]
// --host is the peer_name checked against the certificate (and sent as SNI); without it PHP
// uses the address it connects to. Methods: tls12, tls13 (STREAM_CRYPTO_METHOD_TLSv1_x_*).
// The client sends a GET and prints the status line; the server answers each connection with
// a small HTTP page. No key log (PHP's openssl extension has none).
// Every warning PHP raises (the openssl extension says why a handshake failed in several) is
// printed as it comes: on stderr for the client, on stdout (the server's log) for the server.
set_error_handler(function (int $no, string $msg): bool {
    global $mode;
    fwrite($mode === "client" ? STDERR : STDOUT, "warning: $msg\n");
    return true;
});
function opts(array $argv): array {
    $o = [];
    for ($i = 0; $i + 1 < count($argv); $i += 2) { $o[substr($argv[$i], 2)] = $argv[$i + 1]; }
    return $o;
}
function method(?string $m, bool $server): int {
    $side = $server ? "SERVER" : "CLIENT";
    $map = ["tls12" => "TLSv1_2", "tls13" => "TLSv1_3"];
    if ($m === null) { return $server ? STREAM_CRYPTO_METHOD_TLS_SERVER : STREAM_CRYPTO_METHOD_TLS_CLIENT; }
    return constant("STREAM_CRYPTO_METHOD_" . $map[$m] . "_" . $side);
}
function client(array $o): int {
    $ssl = ["verify_peer" => true, "verify_peer_name" => true, "cafile" => $o["cafile"],
            "crypto_method" => method($o["method"] ?? null, false)];
    if (isset($o["host"])) { $ssl["peer_name"] = $o["host"]; }
    if (isset($o["cert"])) { $ssl["local_cert"] = $o["cert"]; $ssl["local_pk"] = $o["key"]; }
    $addr = $o["connect"] ?? "127.0.0.1";
    $ctx = stream_context_create(["ssl" => $ssl]);
    $s = stream_socket_client("tls://$addr:{$o['port']}", $errno, $errstr, 5,
                               STREAM_CLIENT_CONNECT, $ctx);
    if ($s === false) {
        fwrite(STDERR, "error: [$errno] $errstr\n");
        return 1;
    }
    $host = $o["host"] ?? $addr;
    fwrite($s, "GET / HTTP/1.1\r\nHost: $host\r\nConnection: close\r\n\r\n");
    $answer = stream_get_contents($s);
    echo strtok($answer === false ? "" : $answer, "\r\n"), "\n";
    fclose($s);
    return 0;
}
function server(array $o): int {
    $ssl = ["local_cert" => $o["cert"], "local_pk" => $o["key"],
            "crypto_method" => method($o["method"] ?? null, true)];
    if (isset($o["client-ca"])) {
        $ssl += ["verify_peer" => true, "cafile" => $o["client-ca"], "allow_self_signed" => false];
    } else {
        $ssl["verify_peer"] = false;
    }
    $ctx = stream_context_create(["ssl" => $ssl]);
    $srv = stream_socket_server("tls://127.0.0.1:{$o['port']}", $errno, $errstr,
                                STREAM_SERVER_BIND | STREAM_SERVER_LISTEN, $ctx);
    if ($srv === false) { fwrite(STDERR, "error: $errstr\n"); return 1; }
    echo "listening on {$o['port']}\n";
    while (true) {
        $c = stream_socket_accept($srv, 3600);
        if ($c === false) { continue; }
        fgets($c);
        fwrite($c, "HTTP/1.1 200 OK\r\nContent-Length: 13\r\nConnection: close\r\n\r\nTLS lab php\r\n");
        fclose($c);
    }
}
$mode = $argv[1] ?? "";
$o = opts(array_slice($argv, 2));
exit($mode === "client" ? client($o) : server($o));
