#!/usr/bin/env python3
"""Writes a ~50,000-line haproxy.cfg: 1,000 backends x 20 servers, 2,000 host ACLs."""
import sys

out = sys.stdout
w = out.write
w("global\n    maxconn 50000\n    log 127.0.0.1 local2\n\n")
w("defaults\n    mode http\n    log global\n    option httplog\n    option dontlognull\n"
  "    timeout connect 5s\n    timeout client 30s\n    timeout server 30s\n\n")
w("frontend www\n    bind 127.0.0.1:18080\n")
for i in range(2000):
    w(f"    acl host_{i} hdr(host) -i site{i}.example.com www.site{i}.example.com\n")
for i in range(2000):
    w(f"    use_backend be_{i % 1000} if host_{i}\n")
w("    default_backend be_0\n\n")
for b in range(1000):
    w(f"backend be_{b}\n    balance roundrobin\n    option httpchk GET /health\n"
      f"    default-server inter 2s fall 3 rise 2\n")
    for r in range(16):
        w(f"    http-request set-header X-Backend-{r} be_{b}\n")
    for s in range(20):
        w(f"    server s{s} 10.{b // 250}.{b % 250}.{s + 1}:8080 check weight {s + 1} maxconn 100\n")
    for r in range(5):
        w(f"    http-response del-header X-Internal-{r}\n")
    w("\n")
