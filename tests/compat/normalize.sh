#!/usr/bin/env bash
# Normalises haproxy output for comparison: pids become (PID), and the two
# banner values (version, executable path) become VERSION and EXE.
sed -E 's/^(\[[A-Z]+\] +)\([0-9]+\)/\1(PID)/; s/(haproxy version is ).*/\1VERSION/; s/(path to executable is ).*/\1EXE/'
