// Peer.java: the lab's Java (JSSE, the JDK's own TLS stack) server and client, JDK classes only.
// Run as a single source file (java lab/peers/Peer.java ...), no build step.
//
//   java Peer.java server --port P --cert CHAIN.pem --key KEY.pem [--protocols TLSv1.3,...]
//        [--client-auth need|want --client-ca CA.pem] [--sni www.lab.test] [--alpn a,b]
//        [--ciphers A,B]
//   java Peer.java client --port P --host www.lab.test --cafile ROOT.pem [--protocols ...]
//        [--cert C.pem --key K.pem] [--alpn a,b] [--ciphers A,B]
//
// The client checks the server's name as HttpsURLConnection does (endpoint identification
// "HTTPS" in the trust manager, so a mismatch fails inside the handshake), sends one
// HTTP/1.1 GET, prints the status line (read up to the end of the head, then closes with
// close_notify), or "error: <exception chain>" and exits 1. The server
// answers every connection with a small HTTP/1.1 page and prints "error: ..." for each failed
// handshake; --sni refuses any other server name (SNIMatcher, as an SNI-strict server would).
// JSSE writes no key log (the JDK has no SSLKEYLOGFILE support).
import java.io.*;
import java.net.*;
import java.nio.charset.StandardCharsets;
import java.nio.file.*;
import java.security.*;
import java.security.cert.*;
import java.security.spec.PKCS8EncodedKeySpec;
import java.util.*;
import javax.net.ssl.*;

public class Peer {
    static Map<String, String> opts(String[] args) {
        Map<String, String> m = new HashMap<>();
        for (int i = 1; i + 1 < args.length; i += 2) m.put(args[i].replaceFirst("^--", ""), args[i + 1]);
        return m;
    }

    static List<X509Certificate> certs(String path) throws Exception {
        CertificateFactory cf = CertificateFactory.getInstance("X.509");
        List<X509Certificate> out = new ArrayList<>();
        try (InputStream in = new FileInputStream(path)) {
            for (java.security.cert.Certificate c : cf.generateCertificates(in)) out.add((X509Certificate) c);
        }
        return out;
    }

    static PrivateKey key(String path, String algorithm) throws Exception {
        String pem = Files.readString(Path.of(path));
        String b64 = pem.replaceAll("-----[A-Z ]+-----", "").replaceAll("\\s", "");
        return KeyFactory.getInstance(algorithm).generatePrivate(
            new PKCS8EncodedKeySpec(Base64.getDecoder().decode(b64)));
    }

    static SSLContext context(Map<String, String> o, String trustFile) throws Exception {
        KeyManager[] kms = null;
        if (o.containsKey("cert")) {
            List<X509Certificate> chain = certs(o.get("cert"));
            String alg = chain.get(0).getPublicKey().getAlgorithm();
            KeyStore ks = KeyStore.getInstance("PKCS12");
            ks.load(null, null);
            ks.setKeyEntry("me", key(o.get("key"), alg), new char[0], chain.toArray(new X509Certificate[0]));
            KeyManagerFactory kmf = KeyManagerFactory.getInstance("PKIX");
            kmf.init(ks, new char[0]);
            kms = kmf.getKeyManagers();
        }
        TrustManager[] tms = null;
        if (trustFile != null) {
            KeyStore ts = KeyStore.getInstance("PKCS12");
            ts.load(null, null);
            int i = 0;
            for (X509Certificate c : certs(trustFile)) ts.setCertificateEntry("ca" + i++, c);
            TrustManagerFactory tmf = TrustManagerFactory.getInstance("PKIX");
            tmf.init(ts);
            tms = tmf.getTrustManagers();
        }
        SSLContext ctx = SSLContext.getInstance("TLS");
        ctx.init(kms, tms, null);
        return ctx;
    }

    static void common(SSLParameters p, Map<String, String> o) {
        if (o.containsKey("protocols")) p.setProtocols(o.get("protocols").split(","));
        if (o.containsKey("ciphers")) p.setCipherSuites(o.get("ciphers").split(","));
        if (o.containsKey("alpn")) p.setApplicationProtocols(o.get("alpn").split(","));
    }

    static String chain(Throwable e) {
        StringBuilder sb = new StringBuilder();
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (sb.length() > 0) sb.append(" <- caused by ");
            sb.append(t.getClass().getName()).append(": ").append(t.getMessage());
        }
        return sb.toString();
    }

    static void client(Map<String, String> o) throws Exception {
        String host = o.getOrDefault("host", "www.lab.test");
        SSLSocketFactory f = context(o, o.get("cafile")).getSocketFactory();
        try (Socket raw = new Socket()) {
            raw.connect(new InetSocketAddress("127.0.0.1", Integer.parseInt(o.get("port"))), 5000);
            raw.setSoTimeout(5000);
            SSLSocket s = (SSLSocket) f.createSocket(raw, host, raw.getPort(), true);
            SSLParameters p = s.getSSLParameters();
            p.setServerNames(List.of(new SNIHostName(host)));
            p.setEndpointIdentificationAlgorithm("HTTPS");
            common(p, o);
            s.setSSLParameters(p);
            s.startHandshake();
            System.out.println("handshake: " + s.getSession().getProtocol() + " "
                + s.getSession().getCipherSuite() + " alpn=" + s.getApplicationProtocol());
            OutputStream out = s.getOutputStream();
            out.write(("GET / HTTP/1.1\r\nHost: " + host + "\r\nConnection: close\r\n\r\n")
                .getBytes(StandardCharsets.US_ASCII));
            out.flush();
            BufferedReader in = new BufferedReader(new InputStreamReader(s.getInputStream(),
                StandardCharsets.ISO_8859_1));
            System.out.println(in.readLine());
            String line;  // the head only: a client that checks the status and hangs up
            while ((line = in.readLine()) != null && !line.isEmpty()) { }
            s.close();
        } catch (Exception e) {
            System.out.println("error: " + chain(e));
            System.exit(1);
        }
    }

    static void server(Map<String, String> o) throws Exception {
        SSLContext ctx = context(o, o.get("client-ca"));
        SSLServerSocket ss = (SSLServerSocket) ctx.getServerSocketFactory().createServerSocket();
        ss.setReuseAddress(true);
        ss.bind(new InetSocketAddress("127.0.0.1", Integer.parseInt(o.get("port"))));
        SSLParameters p = ss.getSSLParameters();
        common(p, o);
        String auth = o.getOrDefault("client-auth", "none");
        if (auth.equals("need")) p.setNeedClientAuth(true);
        if (auth.equals("want")) p.setWantClientAuth(true);
        if (o.containsKey("sni"))
            p.setSNIMatchers(List.of(SNIHostName.createSNIMatcher(java.util.regex.Pattern.quote(o.get("sni")))));
        ss.setSSLParameters(p);
        System.out.println("listening on " + o.get("port"));
        System.out.flush();
        while (true) {
            try (SSLSocket s = (SSLSocket) ss.accept()) {
                s.setSoTimeout(10000);
                try {
                    s.startHandshake();
                    BufferedReader in = new BufferedReader(new InputStreamReader(s.getInputStream(),
                        StandardCharsets.ISO_8859_1));
                    String line;
                    while ((line = in.readLine()) != null && !line.isEmpty()) { }
                    String body = "TLS lab (Java JSSE)\n";
                    s.getOutputStream().write(("HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n"
                        + "Content-Length: " + body.length() + "\r\nConnection: close\r\n\r\n" + body)
                        .getBytes(StandardCharsets.US_ASCII));
                    s.getOutputStream().flush();
                    System.out.println("served " + s.getSession().getProtocol() + " "
                        + s.getSession().getCipherSuite());
                } catch (Exception e) {
                    System.out.println("error: " + chain(e));
                }
                System.out.flush();
            }
        }
    }

    public static void main(String[] args) throws Exception {
        Map<String, String> o = opts(args);
        if (args.length > 0 && args[0].equals("server")) server(o); else client(o);
    }
}
