"""Capture files in, link layers off: frames numbered as Wireshark numbers them.

Takes a pcap or pcapng file (gzip'd or not, a path, bytes or a stream, standard input), or a live
network interface, and hands out, frame by frame, the TCP segment each one carries (addresses,
ports, sequence numbers, flags, payload) with its frame number and time. ``reader`` reads the file
formats, ``live`` an interface (through scapy's packet socket, with clock ticks while it is
quiet), ``packet`` peels the link layers, tunnels and IP down to TCP for both. ``rewrite`` copies a
capture as pcapng with comments on chosen frames and key material embedded (``--annotate``),
``pcapng_blocks`` builds its blocks; ``chain`` reads the files of a rotation set (a list of sources)
one after the other as one capture.
"""
