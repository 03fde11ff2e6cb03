"""Capture files in, link layers off: frames numbered as Wireshark numbers them.

Takes a pcap or pcapng file (gzip'd or not, a path, bytes or a stream, standard input) and hands
out, frame by frame, the TCP segment each one carries (addresses, ports, sequence numbers, flags,
payload) with its frame number and time. ``reader`` reads the file formats, ``packet`` peels the
link layers, tunnels and IP down to TCP; ``chain`` reads the files of a rotation set (a list
of sources) one after the other as one capture.
"""
