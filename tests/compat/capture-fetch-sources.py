#!/usr/bin/env python3
"""Captures, from the real HAProxy 2.6, the source name each sample fetch
needs ('HTTP request headers', ...) as 2.6 prints it when the fetch is used
where it gives nothing. Writes cfg-parser/src/fetch-sources-2.6.tsv.
Run from the repository root with haproxy 2.6 on PATH."""
import os, re, subprocess, sys, tempfile
t=open('cfg-parser/src/samples.rs').read()
rows=re.findall(r'name: "([^"]+)",\s*args: "([^"]*)",\s*out: "[^"]*",\s*usable: "([^"]+)"',t)
dummy={'string':'ABCD','integer':'1','IPv4 address':'1.2.3.4','IPv6 address':'::1','backend':'b','frontend':'f','server':'b/s','table':'b','user list':'u'}
head="""userlist u
  user a insecure-password b
defaults
  mode http
  timeout client 1s
  timeout server 1s
  timeout connect 1s
"""
out={}
for n,a,u in rows:
    args=''
    m=re.match(r'\(([^\[\)]*)',a)
    if m and m.group(1):
        args='('+','.join(dummy[x] for x in m.group(1).split(','))+')'
    if n.startswith('internal.htx_blk'): args='(head)'
    f=n+args
    stages=[(3,'frontend','http-request set-header x %%[%s]'),(16,'frontend','http-response set-header x %%[%s]'),(7,'backend','http-request set-header x %%[%s]'),(12,'backend','http-response set-header x %%[%s]'),(0,'frontend','tcp-request connection set-var(sess.x) %s'),(2,'frontend','tcp-request content set-var(sess.x) %s'),(11,'backend','tcp-response content set-var(sess.x) %s')]
    for col,kind,rule in stages:
        if u[col]=='.': break
    else:
        continue
    fe = "frontend f\n  bind 127.0.0.1:9999\n" + ("  "+rule%f+"\n" if kind=='frontend' else "") + "  default_backend b\n"
    be = "backend b\n  stick-table type ip size 1\n" + ("  "+rule%f+"\n" if kind=='backend' else "") + "  server s 127.0.0.1:80\n"
    cfg=os.path.join(tempfile.gettempdir(),'fetch-source.cfg')
    open(cfg,'w').write(head+fe+be)
    r=subprocess.run(['haproxy','-c','-f',cfg],stdout=subprocess.PIPE,stderr=subprocess.STDOUT,text=True).stdout
    m=re.search(r"needs '([^']*)' which is not available|extracts information from '([^']*)', none",r)
    if m: out[n]=m.group(1) or m.group(2)
    else: print("NO", n, f, col, [l for l in r.splitlines() if 'ALERT' in l][:1], file=sys.stderr)
with open('cfg-parser/src/fetch-sources-2.6.tsv','w') as f:
    for n in sorted(out): f.write(f"{n}\t{out[n]}\n")
