# A TLS client and server in Ruby's openssl library (the sixth wide lab, lab/wide6.py).
#   ruby ruby_peer.rb client --port P --host NAME --cafile F [--connect ADDR] [--min V] [--max V]
#                            [--ciphers C] [--cert F --key F]
#   ruby ruby_peer.rb server --port P --cert FULLCHAIN --key F [--min V] [--max V]
#                            [--ciphers C] [--client-ca F]
# Versions: TLS1, TLS1_1, TLS1_2, TLS1_3. The client checks the chain and the host name
# inside the handshake (verify_hostname, as Net::HTTP does) and sends a GET; the server answers
# each connection with a small HTTP page. No key log (Ruby 3.1's openssl has no keylog hook).
require "openssl"
require "socket"

def opts(argv)
  h = {}
  argv.each_slice(2) { |k, v| h[k.sub(/\A--/, "")] = v }
  h
end

def versions(ctx, o)
  ctx.min_version = OpenSSL::SSL.const_get("#{o['min']}_VERSION") if o["min"]
  ctx.max_version = OpenSSL::SSL.const_get("#{o['max']}_VERSION") if o["max"]
  ctx.ciphers = o["ciphers"] if o["ciphers"]
end

def client(o)
  ctx = OpenSSL::SSL::SSLContext.new
  ctx.verify_mode = OpenSSL::SSL::VERIFY_PEER
  ctx.verify_hostname = true
  ctx.ca_file = o["cafile"]
  versions(ctx, o)
  if o["cert"]
    ctx.cert = OpenSSL::X509::Certificate.new(File.read(o["cert"]))
    ctx.key = OpenSSL::PKey.read(File.read(o["key"]))
  end
  tcp = TCPSocket.new(o["connect"] || "127.0.0.1", o["port"].to_i)
  ssl = OpenSSL::SSL::SSLSocket.new(tcp, ctx)
  ssl.hostname = o["host"]
  ssl.sync_close = true
  ssl.connect
  ssl.write("GET / HTTP/1.1\r\nHost: #{o['host']}\r\nConnection: close\r\n\r\n")
  data = ssl.read
  puts "#{ssl.ssl_version} #{data.lines.first}"
  ssl.close
  0
rescue StandardError => e
  warn "error: #{e.class}: #{e.message}"
  1
end

def server(o)
  ctx = OpenSSL::SSL::SSLContext.new
  pems = File.read(o["cert"]).scan(/-----BEGIN CERTIFICATE-----.+?-----END CERTIFICATE-----/m)
  certs = pems.map { |p| OpenSSL::X509::Certificate.new(p) }
  ctx.add_certificate(certs[0], OpenSSL::PKey.read(File.read(o["key"])), certs[1..])
  versions(ctx, o)
  if o["client-ca"]
    ctx.ca_file = o["client-ca"]
    ctx.verify_mode = OpenSSL::SSL::VERIFY_PEER | OpenSSL::SSL::VERIFY_FAIL_IF_NO_PEER_CERT
  end
  tcp = TCPServer.new("127.0.0.1", o["port"].to_i)
  $stdout.sync = true
  puts "listening on #{o['port']}"
  loop do
    sock = tcp.accept
    ssl = OpenSSL::SSL::SSLSocket.new(sock, ctx)
    ssl.sync_close = true
    begin
      ssl.accept
      ssl.gets("\r\n\r\n")
      ssl.write("HTTP/1.1 200 OK\r\nContent-Length: 14\r\nConnection: close\r\n\r\nTLS lab ruby\r\n")
      ssl.close
    rescue StandardError => e
      puts "error: #{e.class}: #{e.message}"
      sock.close unless sock.closed?
    end
  end
end

mode = ARGV.shift
exit(mode == "client" ? client(opts(ARGV)) : server(opts(ARGV)))
